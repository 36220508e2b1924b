# SPDX-License-Identifier: Apache-2.0
# Garbage collection and recovery (issue 8, items 1-5 and 8):
#  - `circuit gc` keeps an attachment another runtime made from the exported
#    conflist while its namespace lives, and releases it (one line) once the
#    namespace is gone;
#  - gc never touches another network's veth that an ADD is still making;
#  - a connect killed mid-way is taken over by the next connect, undone by
#    disconnect, rolled back by gc: one interface, one default route;
#  - CHECK/restore verify the default route the network promises even when
#    the cached result does not list it;
#  - a CNI DEL after `network delete` leaves no trace in the store;
#  - a bridge Circuit did not make for a network is never adopted.
# The "containers" are sleep processes in namespaces this test made.
C=$BIN/circuit
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; netns_wait $pid; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# plugin_conf CONFLIST INDEX: one plugin of a conflist, as a runtime feeds it.
plugin_conf() {
	python3 -c 'import json,sys
c=json.loads(sys.argv[1]); p=dict(c["plugins"][int(sys.argv[2])])
p["cniVersion"]=c["cniVersion"]; p["name"]=c["name"]; print(json.dumps(p))' "$1" "$2"
}
ifaces() { ip -n "$1" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -v '^lo$' | sort | tr '\n' ' '; }
defroutes() { ip -n "$1" route show default | wc -l; }

# ---- 1, 2: another runtime's attachment survives gc while it lives ----
$C network create n1 10.254.51.0/24 2>/dev/null
conf=$(plugin_conf "$($C network export n1)" 0)
mkns pod1
res=$(cni ADD $BIN/circuit-bridge pod1-id /run/netns/pod1 eth0 <<<"$conf")
podip=$(json_get "$res" 'd["ips"][0]["address"]')
ctr a; pa=$pid
$C network connect $pa n1 2>/dev/null
kill $pa; wait $pa 2>/dev/null || true
run $C gc
assert_eq 0 "$rc" "gc ($out)"
assert_eq "INFO[0000] released container pid-$pa from network n1 (process $pa is gone)" "$out" \
	"gc releases only Circuit's dead member"
assert_eq "$podip" "$(ip -n pod1 -o -4 addr show eth0 | awk '{print $4}')" "foreign address kept"
ip netns exec pod1 busybox ping -c1 -W2 10.254.51.1 >/dev/null || die "foreign attachment broken by gc"
run $C gc
assert_eq "INFO[0000] nothing to collect" "$out" "second gc"
ok "gc keeps a live attachment made by another runtime"

# Its namespace goes without a DEL: now it is provably dead.
ip netns del pod1
run $C gc
assert_eq 0 "$rc" "gc after the pod's namespace went ($out)"
assert_eq "INFO[0000] released $podip of container pod1-id from network n1 (its network namespace is gone)" \
	"$out" "gc names what it released"
[ -z "$(find "$CIRCUIT_STATE_DIR/ipam/n1/ids" -name 'pod1-id@*')" ] || die "pod1's allocation kept"
run $C gc
assert_eq "INFO[0000] nothing to collect" "$out" "gc after release"
ok "gc releases a dead foreign attachment and says so"

# ---- 4: gc leaves another network's ADD in progress alone ----
# An ADD creates its host veth detached and down, then enslaves it.
ip link add cv0123456789abc type veth peer name cvpeer-inprog
run $C gc
assert_eq 0 "$rc" "gc ($out)"
ip link show cv0123456789abc >/dev/null 2>&1 || die "gc deleted a veth it did not make"
ip link del cv0123456789abc
ok "gc never touches a veth another ADD is making"

# ---- 3: a connect killed mid-way ----
# A chain whose last plugin blocks while $tmp/block exists, so that the
# connect can be killed after circuit-bridge made eth0 (address, route).
mkdir -p "$tmp/plugins"
cat >"$tmp/plugins/slowpoke" <<'EOF'
#!/bin/sh
in=$(cat)
case $CNI_COMMAND in
ADD)	while [ -e "$BLOCK" ]; do sleep 0.05; done
	printf '%s' "$in" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["prevResult"]))';;
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.4.0","1.0.0","1.1.0"]}';;
esac
exit 0
EOF
chmod +x "$tmp/plugins/slowpoke"
cat >"$tmp/n3.conflist" <<'EOF'
{ "cniVersion": "1.1.0", "name": "n3", "plugins": [
  { "type": "circuit-bridge", "bridge": "c-n3", "isDefaultGateway": true,
    "ipam": { "type": "circuit-ipam", "subnet": "10.254.53.0/24" } },
  { "type": "slowpoke" } ] }
EOF
export BLOCK="$tmp/block" CIRCUIT_PLUGIN_PATH="$tmp/plugins:$BIN"
$C network create n3 --conflist "$tmp/n3.conflist" 2>/dev/null
ctr b; pb=$pid
# killed_connect PID: start a connect, kill -9 it once eth0 is configured.
killed_connect() {
	touch "$BLOCK"
	$C network connect "$1" n3 2>/dev/null & local cp=$!
	for _ in $(seq 100); do
		ip -n b route show default | has . && break
		sleep 0.05
	done
	kill -9 $cp; wait $cp 2>/dev/null || true
	rm -f "$BLOCK"
	assert_eq "eth0 " "$(ifaces b)" "killed connect left eth0"
}
killed_connect $pb
run $C network disconnect $pb n3
assert_eq 0 "$rc" "disconnect after a killed connect ($out)"
assert_eq "INFO[0000] disconnected container $pb from network n3" "$out" "disconnect message"
assert_eq "" "$(ifaces b)" "disconnect removed the orphan"
[ -z "$(ls "$CIRCUIT_STATE_DIR/ipam/n3/ids")" ] || die "disconnect left the address"
ok "disconnect removes what a killed connect made"

killed_connect $pb
run $C network connect $pb n3
assert_eq 0 "$rc" "connect after a killed connect ($out)"
assert_eq "eth0 " "$(ifaces b)" "exactly one interface on n3"
assert_eq 1 "$(defroutes b)" "one default route"
assert_eq 1 "$(ls "$CIRCUIT_STATE_DIR/ipam/n3/ids" | wc -l)" "one address on n3"
ip netns exec b busybox ping -c1 -W2 10.254.53.1 >/dev/null || die "b -> gateway"
run $C network disconnect $pb n3
ok "connect takes over what a killed connect made"

killed_connect $pb
run $C gc
assert_eq 0 "$rc" "gc after a killed connect ($out)"
assert_eq "INFO[0000] rolled back the unfinished connect of container pid-$pb to network n3" \
	"$out" "gc rolls back"
assert_eq "" "$(ifaces b)" "gc removed the orphan"
killed_connect $pb
run $C restore
assert_contains "$out" "rolled back the unfinished connect of container pid-$pb to network n3" \
	"restore rolls back"
assert_eq "" "$(ifaces b)" "restore removed the orphan"
unset BLOCK CIRCUIT_PLUGIN_PATH
ok "gc and restore roll back a killed connect"

# ---- 3: restore checks the default route the network promises ----
# d's default route belongs to another interface when it joins n1, so its
# cached result lists none; that interface goes: restore must notice.
ctr d; pd=$pid
ip -n d link add dummy0 type veth peer name dpeer
ip -n d link set dummy0 up; ip -n d link set dpeer up
ip -n d addr add 192.0.2.2/24 dev dummy0; ip -n d route add default via 192.0.2.1
$C network connect $pd n1 2>/dev/null
assert_eq "default via 192.0.2.1 dev dummy0" "$(ip -n d route show default | awk '{print $1, $2, $3, $4, $5}')" \
	"dummy0 keeps the default route"
ip -n d link del dummy0
run $C restore
assert_eq 0 "$rc" "restore ($out)"
assert_eq "INFO[0000] reattached container pid-$pd (pid $pd) to network n1" "$out" \
	"restore sees the missing default route"
assert_eq "default via 10.254.51.1 dev eth0" "$(ip -n d route show default | awk '{print $1, $2, $3, $4, $5}')" \
	"default route back"
run $C restore
assert_eq "INFO[0000] nothing to restore" "$out" "restore is idempotent"
ok "restore verifies the promised default route"

# ---- 5: a DEL after network delete leaves no trace ----
$C network create n4 10.254.54.0/24 2>/dev/null
list4=$($C network export n4)
mkns pod4
prev=""   # each plugin's result is the next one's prevResult, as a runtime chains them
for i in $(seq 0 $(($(json_get "$list4" 'len(d["plugins"])') - 1))); do
	pc=$(plugin_conf "$list4" $i)
	[ -z "$prev" ] || pc=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); c["prevResult"]=json.loads(sys.argv[2]); print(json.dumps(c))' "$pc" "$prev")
	prev=$(cni ADD $BIN/$(json_get "$list4" "d['plugins'][$i]['type']") pod4-id /run/netns/pod4 eth0 \
		<<<"$pc")
done
$C network delete n4 2>/dev/null
# Below the state directory only (its random name may hold "n4").
trace() { (cd "$CIRCUIT_STATE_DIR" && find . -path './*n4*' | sort); }
assert_eq "" "$(trace)" "network delete left state"
conf4=$(plugin_conf "$list4" 0)
cni DEL $BIN/circuit-bridge pod4-id /run/netns/pod4 eth0 <<<"$conf4" >/dev/null ||
	die "DEL after network delete failed"
cni DEL $BIN/circuit-bridge pod4-id "" eth0 <<<"$conf4" >/dev/null || die "DEL without netns failed"
assert_eq "" "$(trace)" "DEL after network delete re-created state"
ip netns del pod4
ok "a DEL after network delete leaves no trace"

# ---- 8: a bridge Circuit did not make for a network is never adopted ----
ip link add c-sandbox type bridge
run $C network create sandbox 10.254.55.0/24
assert_eq 1 "$rc" "create over a foreign bridge"
assert_eq "ERRO[0000] bridge c-sandbox already exists and Circuit did not make it for network sandbox (delete it, or import the chain that uses it with --conflist)" \
	"$out" "foreign bridge message"
run $C network inspect sandbox; assert_eq 1 "$rc" "no record left"
ip link show c-sandbox >/dev/null || die "foreign bridge removed"
ip link del c-sandbox
cat >"$tmp/lab.conflist" <<'EOF'
{ "cniVersion": "1.0.0", "name": "lab", "plugins": [
  { "type": "circuit-bridge", "bridge": "c-sandbox",
    "ipam": { "type": "circuit-ipam", "subnet": "10.254.56.0/24" } } ] }
EOF
$C network create lab --conflist "$tmp/lab.conflist" 2>/dev/null
run $C network create sandbox 10.254.55.0/24
assert_eq "ERRO[0000] bridge c-sandbox is already network lab's" "$out" "bridge named by another network"
ctr e; pe=$pid
$C network connect $pe lab 2>/dev/null
# Circuit's mark on a bridge it made is for one network only.
assert_eq "circuit:lab" "$(ip -d link show c-sandbox | sed -n 's/^ *alias //p')" "bridge alias"
$C network create sandbox2 10.254.57.0/24 2>/dev/null
assert_eq "circuit:sandbox2" "$(ip -d link show c-sandbox2 | sed -n 's/^ *alias //p')" "managed alias"
$C network delete sandbox2 2>/dev/null
ip link show c-sandbox2 >/dev/null 2>&1 && die "own bridge kept"
ip link show c-sandbox >/dev/null || die "lab's bridge removed"
ip netns exec e busybox ping -c1 -W2 10.254.56.1 >/dev/null || die "lab broken"
ok "a bridge is never adopted or deleted under another network"
