# SPDX-License-Identifier: Apache-2.0
# lib/sandbox against the kernel and in the real executables: each profile
# refuses what its executable never needs (a TCP socket in circuit-ipam,
# exec in a plugin that never delegates, mount, namespaces, other netlink
# families) and the executables run under their filter once the input is
# parsed.  A probe built here applies a profile and tries calls; as a
# delegate it reports the filter it inherited.

# A sanitizer build runs unfiltered by default and its runtime needs calls
# (ptrace for LeakSanitizer) no profile allows: the filters are tested on
# the plain build, which `make check` runs.
[ -z "$SANITIZE" ] || skip "a $SANITIZE sanitizer build runs without seccomp filters"
work=$(mktemp -d /tmp/circuit-seccomp.XXXXXX)
trap 'rm -rf "$work"' EXIT
P=$work/seccomp-probe
probe_cc "$P" "$SRCDIR/tests/integration/seccomp-probe.c"
ok "probe built"

# outcome LINES CALL -> "ok" or the errno name the probe printed
outcome() { awk -v c="$2" '$1 == c { print $2 }' <<<"$1"; }
expect_calls() {  # expect_calls WHAT LINES CALL=WANT...
	local what=$1 lines=$2 kv; shift 2
	for kv in "$@"; do
		assert_eq "${kv#*=}" "$(outcome "$lines" "${kv%%=*}")" "$what: ${kv%%=*}"
	done
}

# ---- the profiles, applied by the library the executables use ----------
for p in circuit-ipam circuit-bridge circuit-qos circuit-lb circuit-portmap circuit; do
	echo "profile $p: $("$P" list $p | wc -l) calls, with exec $("$P" list $p exec | wc -l)"
done
always="socket-packet=EPERM socket-netlink-audit=EPERM mount=EPERM unshare-net=EPERM ptrace=EPERM store-write=ok"
out=$("$P" try circuit-ipam)
expect_calls circuit-ipam "$out" $always socket-inet-stream=EPERM socket-inet6-dgram=EPERM \
	socket-netlink-route=EPERM setns-net=EPERM fork=EPERM execve=EPERM
ok "circuit-ipam: no socket (TCP refused), no setns, no exec"
for p in circuit-bridge circuit-qos circuit-portmap; do
	out=$("$P" try $p)
	expect_calls $p "$out" $always socket-inet-stream=EPERM socket-netlink-route=ok \
		socket-netlink-generic=EPERM setns-net=ok fork=EPERM execve=EPERM
done
out=$("$P" try circuit-lb)
expect_calls circuit-lb "$out" $always socket-inet-stream=EPERM socket-netlink-generic=ok \
	fork=EPERM execve=EPERM
ok "circuit-bridge, -qos, -lb, -portmap without a delegate: netlink, setns, no exec, no TCP"
for p in circuit-bridge circuit; do
	out=$("$P" try $p exec)
	expect_calls "$p exec" "$out" $always socket-netlink-route=ok fork=ok execve=ok
done
ok "exec where a delegate is run; mount, namespaces, ptrace still refused"
out=$(CIRCUIT_SECCOMP=log "$P" try circuit-ipam)
expect_calls "log mode" "$out" socket-inet-stream=ok mount=EPERM ptrace=EPERM
out=$(CIRCUIT_SECCOMP=off "$P" try circuit-ipam)
expect_calls "off" "$out" socket-inet-stream=ok ptrace=ESRCH
ok "CIRCUIT_SECCOMP=log allows and logs, the hard-deny list still holds; off"

# ---- the executables ---------------------------------------------------
# circuit-ipam holds its filter while it waits for the network's lock.
ipam='{"cniVersion":"1.0.0","name":"scnet","type":"sc","ipam":{"type":"circuit-ipam","subnet":"10.98.0.0/24"}}'
mkns c1
echo "$ipam" | cni ADD $BIN/circuit-ipam c0 /run/netns/c1 eth9 >/dev/null
lock=$CIRCUIT_STATE_DIR/ipam/scnet/lock
[ -f "$lock" ] || die "no ipam lock at $lock"
exec 8<>"$lock"; flock 8
# (fd 8 closed in the plugin: a copy of the locked description would hold it)
CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=/run/netns/c1 CNI_IFNAME=eth0 \
	$BIN/circuit-ipam <<<"$ipam" >"$work/ipam.out" 8>&- &
ipid=$!
for _ in $(seq 100); do
	grep -q "^Seccomp:.*2" /proc/$ipid/status 2>/dev/null && break
	sleep 0.05
done
status=$(cat /proc/$ipid/status)
exec 8>&-
wait $ipid || die "circuit-ipam ADD failed: $(cat "$work/ipam.out")"
assert_contains "$status" "NoNewPrivs:	1" "circuit-ipam no_new_privs"
assert_contains "$status" "Seccomp:	2" "circuit-ipam filter mode"
assert_contains "$status" "Seccomp_filters:	1" "circuit-ipam filters"
assert_eq "10.98.0.3/24" "$(json_get "$(cat "$work/ipam.out")" 'd["ips"][0]["address"]')" "address"
ok "circuit-ipam runs under one filter once its input is parsed"

# circuit-bridge delegating IPAM: the delegate inherits bridge's filter.
mkdir "$work/path"; cp "$P" "$work/path/sc-ipam"
export PROBE_OUT=$work/delegate.out
conf='{"cniVersion":"1.0.0","name":"scbr","type":"circuit-bridge","ipam":{"type":"sc-ipam"}}'
mkns c2
r=$(echo "$conf" | CNI_PATH=$work/path cni ADD $BIN/circuit-bridge c2 /run/netns/c2 eth0)
assert_eq "10.98.0.50/24" "$(ip -n c2 -o -4 addr show eth0 | awk '{print $4}')" "delegated address"
d=$(cat "$PROBE_OUT")
assert_contains "$d" "Seccomp_filters:	1" "delegate inherits one filter"
expect_calls delegate "$d" mount=EPERM unshare-net=EPERM ptrace=EPERM socket-packet=EPERM \
	socket-netlink-audit=EPERM
echo "$conf" | CNI_PATH=$work/path cni DEL $BIN/circuit-bridge c2 /run/netns/c2 eth0
ok "circuit-bridge execs a delegate IPAM under its filter"

# Through circuit: a chain with a foreign plugin runs it under circuit's
# filter, stacked under its own when it is one of Circuit's plugins.
: >"$PROBE_OUT"
cat >"$work/chain.conflist" <<JSON
{ "cniVersion": "1.0.0", "name": "scchain",
  "plugins": [ { "type": "circuit-bridge", "ipam": { "type": "circuit-ipam", "subnet": "10.98.1.0/24" } },
               { "type": "sc-chained" } ] }
JSON
cp "$P" "$work/path/sc-chained"
ip netns exec c1 sleep 600 & sp=$!
sleep 0.1
CIRCUIT_PLUGIN_PATH=$work/path:$BIN $BIN/circuit network create scchain --conflist "$work/chain.conflist" 2>/dev/null
CIRCUIT_PLUGIN_PATH=$work/path:$BIN $BIN/circuit network connect $sp scchain 2>/dev/null ||
	die "connect through a chain with a delegate"
d=$(cat "$PROBE_OUT")
assert_contains "$d" "Seccomp_filters:	1" "chained plugin inherits circuit's filter"
expect_calls "circuit delegate" "$d" mount=EPERM unshare-net=EPERM ptrace=EPERM
CIRCUIT_PLUGIN_PATH=$work/path:$BIN CIRCUIT_EXEC_PLUGINS=1 $BIN/circuit network disconnect $sp scchain 2>/dev/null ||
	die "an executed circuit-bridge stacks its filter under circuit's"
CIRCUIT_PLUGIN_PATH=$work/path:$BIN $BIN/circuit network delete scchain 2>/dev/null
kill $sp
ok "circuit runs a chain's plugins under its filter"

# A typo in CIRCUIT_SECCOMP is an error, not a silent default.
export CIRCUIT_SECCOMP=of
expect_cni_error 4 "CIRCUIT_SECCOMP=of: want enforce, log or off" ADD \
	$BIN/circuit-ipam c3 /run/netns/c1 eth0 <<<"$ipam"
run_rc=0; $BIN/circuit network ls >/dev/null 2>"$work/err" || run_rc=$?
unset CIRCUIT_SECCOMP
assert_eq 1 "$run_rc" "circuit with a bad CIRCUIT_SECCOMP"
assert_contains "$(cat "$work/err")" "CIRCUIT_SECCOMP=of" "circuit error"
ok "bad CIRCUIT_SECCOMP refused"
