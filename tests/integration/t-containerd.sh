# SPDX-License-Identifier: Apache-2.0
# End to end with Debian's containerd 1.6 and `ctr run --cni` on the conflist
# `circuit network export` prints (issue 12, item 5):
#   two busybox containers get addresses from circuit-ipam, eth0, a default
#   route via the gateway, and reach each other and the gateway;
#   ctr never sends DEL (not on `task kill`, `task rm` nor `container rm`):
#   the addresses stay reserved until `circuit gc` finds their network
#   namespaces gone and releases them, one line each;
#   the conflist at cniVersion 1.1.0 reproduces the original failure
#   (containerd's libcni cannot read the result), and what that failed ADD
#   left is reclaimed the same way.
# Everything containerd writes goes below a temp dir of this mount namespace:
# its own --root/--state/--address and config; /run (the shims' sockets are
# fixed at /run/containerd/s) and /opt (ctr's fixed /opt/cni/bin) are tmpfs
# mounts here, /etc/cni/net.d a bind mount of a temp dir.  The containers go
# below a cgroup of this test, removed at the end.
command -v containerd >/dev/null || die "containerd not installed"
command -v ctr >/dev/null || die "ctr not installed (containerd package)"
command -v runc >/dev/null || die "runc not installed"
[ -x /bin/busybox ] || die "busybox-static not installed"

T=$(mktemp -d /tmp/circuit-ctr.XXXXXX)
NET=ctrnet
SUBNET=10.254.81.0/24
GW=10.254.81.1
CG=circuit-ctr-$$
NS=circuit
cpid=""
mkdir -p "$T/net.d" "$T/rootfs/bin" "$T/root" "$T/state"
CTR="ctr --address $T/containerd.sock -n $NS"

# Our containerd's shims: shim processes given our address.  ("[c]" keeps
# the first grep from finding itself; the second reads only their files.)
shims() {
	local f
	# (grep exits 2 for a process that went meanwhile: look at its output)
	f=$(grep -l -a '[c]ontainerd-shim' /proc/[0-9]*/cmdline 2>/dev/null || true)
	[ -n "$f" ] || return 0
	grep -l -a -F -- "$T/containerd.sock" $f 2>/dev/null | sed 's|^/proc/||; s|/cmdline$||' || true
}
rm_cgroups() {
	local d _
	for _ in $(seq 20); do
		for d in $(find /sys/fs/cgroup/*/"$CG" -depth -type d 2>/dev/null); do
			rmdir "$d" 2>/dev/null || true
		done
		[ -z "$(ls -d /sys/fs/cgroup/*/"$CG" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}
cleanup() {
	local c p
	for c in $($CTR task ls -q 2>/dev/null); do $CTR task kill -s KILL "$c" >/dev/null 2>&1 || true; done
	sleep 0.2
	for c in $($CTR container ls -q 2>/dev/null); do
		$CTR task rm -f "$c" >/dev/null 2>&1 || true
		$CTR container rm "$c" >/dev/null 2>&1 || true
	done
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
	for p in $(shims); do kill "$p" 2>/dev/null || true; done
	rm_cgroups || true
	umount /etc/cni/net.d /opt 2>/dev/null || true
	umount -l /run 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# This mount namespace's own /run, /opt and /etc/cni/net.d.
mount -t tmpfs tmpfs /run
mkdir -p /run/netns /run/containerd
mount -t tmpfs tmpfs /opt
mkdir -p /opt/cni/bin
mount --bind "$T/net.d" /etc/cni/net.d
# What `make install` puts in CNI_BIN_DIR: links to the plugins.
for p in "$BIN"/circuit-*; do ln -s "$p" /opt/cni/bin/; done

cat >"$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$T/containerd.sock"
[ttrpc]
  address = "$T/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
EOF
containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
cpid=$!
for _ in $(seq 100); do [ -S "$T/containerd.sock" ] && $CTR version >/dev/null 2>&1 && break; sleep 0.1; done
$CTR version >/dev/null 2>&1 || die "containerd did not start: $(tail -5 "$T/containerd.log")"
ok "containerd $(containerd --version | awk '{print $3}') up on $T/containerd.sock"

cp /bin/busybox "$T/rootfs/bin/"
for x in sh sleep ping ip cat; do ln -s busybox "$T/rootfs/bin/$x"; done
mkdir -p "$T/rootfs/etc" "$T/rootfs/proc" "$T/rootfs/sys" "$T/rootfs/dev" "$T/rootfs/tmp"

# The network, and its conflist exactly as exported, where ctr reads it.
$BIN/circuit network create $NET $SUBNET 2>/dev/null
$BIN/circuit network export $NET >"$T/net.d/10-$NET.conflist"
assert_eq 1.0.0 "$(json_get "$(cat "$T/net.d/10-$NET.conflist")" 'd["cniVersion"]')" "exported version"

run_ctr() { # run_ctr ID: a detached busybox sleeping, with CNI
	local t0 t1
	t0=$(date +%s%N)
	$CTR run -d --null-io --cni --env PATH=/bin --cgroup "/$CG/$1" --rootfs "$T/rootfs" "$1" sleep 1000 \
		>"$T/run-$1.out" 2>&1 || return 1
	t1=$(date +%s%N)
	echo "MEASURE ctr run -d --cni $1 ms=$(( (t1 - t0) / 1000000 ))"
}
cexec() { local id=$1; shift; $CTR task exec --exec-id "x$RANDOM" "$id" "$@"; }
ips() { ls "$CIRCUIT_STATE_DIR/ipam/$NET/ips" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'; }

run_ctr c1 || die "ctr run c1: $(cat "$T/run-c1.out")"
run_ctr c2 || die "ctr run c2: $(cat "$T/run-c2.out")"
a1=$(cexec c1 ip -o -4 addr show eth0 | awk '{print $4}')
a2=$(cexec c2 ip -o -4 addr show eth0 | awk '{print $4}')
assert_eq "10.254.81.2/24 10.254.81.3/24" "$a1 $a2" "eth0 addresses"
assert_eq "10.254.81.2 10.254.81.3" "$(ips)" "circuit-ipam reservations"
# containerd's libcni names the attachment <namespace>-<id>.
assert_eq "$NS-c1" "$(head -1 "$CIRCUIT_STATE_DIR/ipam/$NET/ips/10.254.81.2")" "owner of 10.254.81.2"
assert_contains "$(cexec c1 ip route)" "default via $GW dev eth0" "default route in c1"
cexec c1 ping -c1 -W2 "${a2%/*}" >/dev/null || die "c1 cannot reach c2"
cexec c2 ping -c1 -W2 "${a1%/*}" >/dev/null || die "c2 cannot reach c1"
cexec c1 ping -c1 -W2 $GW >/dev/null || die "c1 cannot reach the gateway"
assert_eq 2 "$(ip -o link show master c-$NET | grep -c ' cv')" "ports on c-$NET"
assert_eq 2 "$(shims | wc -l)" "shims of our containerd"
ok "ctr run --cni: c1=$a1 c2=$a2, default route via $GW, they reach each other and the gateway"

# ctr sends no DEL: the reservation outlives the container...
p1=$($CTR task ls | awk '$1 == "c1" {print $2}')
$CTR task kill -s KILL c1
for _ in $(seq 50); do [ -e /proc/$p1 ] || break; sleep 0.1; done
$CTR task rm c1 >/dev/null
$CTR container rm c1
assert_eq "10.254.81.2 10.254.81.3" "$(ips)" "reservations after ctr removed c1"
# ... until circuit gc sees its namespace gone.
out=$($BIN/circuit gc 2>&1 | norm_time)
assert_eq "INFO[0000] released 10.254.81.2/24 of container $NS-c1 from network $NET (its network namespace is gone)" \
	"$out" "gc after ctr removed c1"
assert_eq "10.254.81.3" "$(ips)" "reservations after gc"
assert_eq 1 "$(ip -o link show master c-$NET | grep -c ' cv')" "ports after gc"
cexec c2 ping -c1 -W2 $GW >/dev/null || die "c2 lost the gateway"
out=$($BIN/circuit gc 2>&1 | norm_time)
assert_eq "INFO[0000] nothing to collect" "$out" "gc while c2 runs"
ok "ctr sends no DEL; circuit gc released c1's address once its namespace was gone, kept c2's"

# The original failure: at 1.1.0 containerd 1.6 cannot read the result; the
# plugins made the attachment, ctr fails and (no DEL) leaves it; gc reclaims.
$BIN/circuit network export $NET --cni-version 1.1.0 >"$T/net.d/10-$NET.conflist"
if run_ctr c3; then die "ctr run --cni at 1.1.0 succeeded: containerd reads 1.1.0 now?"; fi
assert_contains "$(cat "$T/run-c3.out")" 'unsupported CNI result version "1.1.0"' "ctr's error at 1.1.0"
p3=$($CTR task ls | awk '$1 == "c3" {print $2}')
[ -z "$p3" ] || $CTR task kill -s KILL c3 >/dev/null 2>&1 || true
$CTR task rm -f c3 >/dev/null 2>&1 || true
$CTR container rm c3 >/dev/null 2>&1 || true
left=$(ips)
case $left in "10.254.81.3 "*) ;; *) die "the failed ADD reserved nothing? ($left)";; esac
for _ in $(seq 50); do [ -n "$p3" ] && [ -e /proc/$p3 ] || break; sleep 0.1; done
out=$($BIN/circuit gc 2>&1 | norm_time)
assert_contains "$out" "of container $NS-c3 from network $NET (its network namespace is gone)" "gc after the failed run"
assert_eq "10.254.81.3" "$(ips)" "reservations after gc"
ok "at 1.1.0: ctr fails as in issue 12 ($(grep -o 'unsupported CNI result version "1.1.0"' "$T/run-c3.out")); gc reclaims what it left"

$BIN/circuit network export $NET >"$T/net.d/10-$NET.conflist"
$CTR task kill -s KILL c2
sleep 0.3
$CTR task rm -f c2 >/dev/null 2>&1 || true
$CTR container rm c2
$BIN/circuit gc >/dev/null 2>&1
assert_eq "" "$(ips)" "reservations at the end"
$BIN/circuit network delete $NET 2>/dev/null
assert_eq "" "$(ip -o link show | awk -F': ' '{print $2}' | grep -E '^(cv|c-)' || true)" "links left"
kill "$cpid"; wait "$cpid" 2>/dev/null || true; cpid=""
for _ in $(seq 30); do [ -z "$(shims)" ] && break; sleep 0.1; done
assert_eq "" "$(shims)" "shims left running"
rm_cgroups || die "cgroups left: $(ls -d /sys/fs/cgroup/*/"$CG")"
ok "all removed: no reservation, no link, containerd and its shims stopped, cgroup $CG gone"
