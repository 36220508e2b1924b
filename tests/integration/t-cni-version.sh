# SPDX-License-Identifier: Apache-2.0
# cniVersion (issue 12, item 1):
#  - generated conflists say 1.0.0 (Debian 12's podman 4.3 and containerd
#    1.6 reject 1.1.0 results); `network create --cni-version` and
#    `network export --cni-version` choose another; the chain works at
#    0.3.1, 0.4.0 and 1.0.0 through connect, restore and disconnect;
#  - `circuit gc` collects a 1.0.0 network as it does a 1.1.0 one: the
#    managed network's dead foreign attachment by its own sweep, an imported
#    chain's through CNI GC run at 1.1.0 on Circuit's own plugins;
#  - a plugin asked for a result version it cannot give fails with code 1
#    and leaves nothing behind: Circuit's four plugins at 1.2.0 and 0.2.0,
#    circuit-bridge whose delegated IPAM (the reference host-local, which
#    stops at 1.0.0) refuses 1.1.0 on a network's first ADD (the bridge it
#    made goes too), and `circuit network connect` whose chain has a plugin
#    (the reference portmap) that refuses 1.1.0 after circuit-bridge made the
#    attachment.
C=$BIN/circuit
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; netns_wait $pid; }
ver() { json_get "$1" 'd["cniVersion"]'; }
plugin_conf() {
	python3 -c 'import json,sys
c=json.loads(sys.argv[1]); p=dict(c["plugins"][int(sys.argv[2])])
p["cniVersion"]=c["cniVersion"]; p["name"]=c["name"]; print(json.dumps(p))' "$1" "$2"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# q CMD...: run a command whose INFO line does not matter; fail with its words.
q() { "$@" 2>"$tmp/err" || die "$*: $(cat "$tmp/err")"; }

# ---- what create writes, what export prints ----
q $C network create v10 10.254.61.0/24
stored=$($C network export v10)
assert_eq 1.0.0 "$(ver "$stored")" "default cniVersion"
# One python3 for all five (it takes seconds to start on a loaded machine).
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do $C network export v10 --cni-version $v >"$tmp/x-$v"; done
python3 - "$stored" "$tmp"/x-* <<'EOF' || die "export --cni-version"
import json, sys
want = json.loads(sys.argv[1]); del want["cniVersion"]
for f in sys.argv[2:]:
    got = json.load(open(f)); v = got.pop("cniVersion")
    assert f.endswith("x-" + v), (f, v)
    assert got == want, (f, got, want)
EOF
assert_eq "$stored" "$($C network export v10)" "export --cni-version changes nothing stored"
run $C network export v10 --cni-version 1.2.0
assert_eq 2 "$rc" "export --cni-version 1.2.0"
assert_contains "$out" 'ERRO[0000] invalid --cni-version "1.2.0" (0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)' "message"
run $C network create bad 10.254.62.0/24 --cni-version 0.2.0
assert_eq 2 "$rc" "create --cni-version 0.2.0"
run $C network inspect bad; assert_eq 1 "$rc" "no network bad"
ok "conflists default to 1.0.0; export --cni-version re-emits the same chain"

# ---- the chain at each version: connect, restore (CHECK), disconnect ----
n=63
for v in 0.3.1 0.4.0 1.0.0; do
	net=v${v//./}
	q $C network create $net 10.254.$n.0/24 --cni-version $v
	assert_eq $v "$(ver "$($C network export $net)")" "$net stored version"
	ctr c$net; p=$pid
	q $C network connect $p $net
	ip netns exec c$net busybox ping -c1 -W2 10.254.$n.1 >/dev/null || die "$net: no gateway"
	assert_contains "$(ip -n c$net route show default)" "via 10.254.$n.1" "$net default route"
	res=$(json_get "$(cat "$CIRCUIT_STATE_DIR/networks/$net/members/pid-$p")" 'json.dumps(d["result"])')
	assert_eq $v "$(ver "$res")" "$net cached result version"
	run $C restore
	assert_eq "0 INFO[0000] nothing to restore" "$rc $out" "$net restore"
	q $C network disconnect $p $net
	assert_eq "" "$(ip -n c$net -o link show | grep -v ' lo:' || true)" "$net: interface left"
	assert_eq "" "$(ls "$CIRCUIT_STATE_DIR/ipam/$net/ids")" "$net: allocation left"
	kill $p; wait $p 2>/dev/null || true
	q $C network delete $net
	n=$((n + 1))
done
# An imported chain takes --cni-version too.
cat >"$tmp/lab.conflist" <<'EOF'
{ "cniVersion": "1.1.0", "name": "x", "plugins": [
  { "type": "circuit-bridge", "bridge": "c-lab10",
    "ipam": { "type": "circuit-ipam", "subnet": "10.254.66.0/24" } } ] }
EOF
q $C network create lab10 --conflist "$tmp/lab.conflist" --cni-version 1.0.0
assert_eq 1.0.0 "$(ver "$($C network export lab10)")" "imported chain at --cni-version"
ok "connect, restore and disconnect at 0.3.1, 0.4.0 and 1.0.0"

# ---- gc of 1.0.0 networks ----
# Managed: an attachment another runtime made from the exported conflist,
# whose namespace went without a DEL, is released by gc's own sweep.
conf=$(plugin_conf "$stored" 0)
mkns pod1
res=$(cni ADD $BIN/circuit-bridge pod1-id /run/netns/pod1 eth0 <<<"$conf")
assert_eq 1.0.0 "$(ver "$res")" "result version"
ip1=$(json_get "$res" 'd["ips"][0]["address"]')
ip netns del pod1
run $C gc
assert_eq "0 INFO[0000] released $ip1 of container pod1-id from network v10 (its network namespace is gone)" \
	"$rc $out" "gc of a managed 1.0.0 network"
# Imported (no sweep of its own): CNI GC at 1.1.0 on Circuit's plugins
# releases the dead attachment, keeps the live one and Circuit's member.
conf=$(plugin_conf "$($C network export lab10)" 0)
mkns pod2; mkns pod3
cni ADD $BIN/circuit-bridge pod2-id /run/netns/pod2 eth0 <<<"$conf" >/dev/null
cni ADD $BIN/circuit-bridge pod3-id /run/netns/pod3 eth0 <<<"$conf" >/dev/null
ctr m; pm=$pid
q $C network connect $pm lab10
ids=$CIRCUIT_STATE_DIR/ipam/lab10/ids
assert_eq "pid-$pm@eth0 pod2-id@eth0 pod3-id@eth0" "$(ls "$ids" | sort | tr '\n' ' ' | sed 's/ $//')" "allocations"
ip netns del pod2
run $C gc
assert_eq 0 "$rc" "gc of an imported 1.0.0 network ($out)"
assert_eq "pid-$pm@eth0 pod3-id@eth0" "$(ls "$ids" | sort | tr '\n' ' ' | sed 's/ $//')" "allocations after gc"
ip netns exec pod3 busybox ping -c1 -W2 10.254.66.1 >/dev/null || die "live foreign attachment broken"
ip netns exec m busybox ping -c1 -W2 10.254.66.1 >/dev/null || die "member broken"
assert_eq 1.0.0 "$(ver "$($C network export lab10)")" "gc changed nothing stored"
cni DEL $BIN/circuit-bridge pod3-id /run/netns/pod3 eth0 <<<"$conf" >/dev/null
ip netns del pod3
q $C network disconnect $pm lab10
ok "gc collects 1.0.0 networks: managed by its sweep, imported by CNI GC at 1.1.0"

# ---- a version a plugin cannot give: code 1, nothing left ----
mkns x
before=$(snapshot)
for v in 1.2.0 0.2.0; do
	expect_cni_error 1 "incompatible CNI versions" ADD $BIN/circuit-bridge xid /run/netns/x eth0 \
		<<<"{\"cniVersion\":\"$v\",\"name\":\"fresh\",\"type\":\"circuit-bridge\",\"ipam\":{\"type\":\"circuit-ipam\",\"subnet\":\"10.254.67.0/24\"}}"
	expect_cni_error 1 "incompatible CNI versions" ADD $BIN/circuit-ipam xid /run/netns/x eth0 \
		<<<"{\"cniVersion\":\"$v\",\"name\":\"fresh\",\"type\":\"circuit-bridge\",\"ipam\":{\"type\":\"circuit-ipam\",\"subnet\":\"10.254.67.0/24\"}}"
	expect_cni_error 1 "incompatible CNI versions" ADD $BIN/circuit-qos xid /run/netns/x eth0 \
		<<<"{\"cniVersion\":\"$v\",\"name\":\"fresh\",\"type\":\"circuit-qos\",\"rate\":1000}"
	expect_cni_error 1 "incompatible CNI versions" ADD $BIN/circuit-lb xid /run/netns/x eth0 \
		<<<"{\"cniVersion\":\"$v\",\"name\":\"fresh\",\"type\":\"circuit-lb\",\"services\":[]}"
	expect_cni_error 1 "incompatible CNI versions" ADD $BIN/circuit-portmap xid /run/netns/x eth0 \
		<<<"{\"cniVersion\":\"$v\",\"name\":\"fresh\",\"type\":\"circuit-portmap\",\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":7,\"containerPort\":7}]}}"
done
assert_eq "$before" "$(snapshot)" "state after refused versions"
[ ! -e "$CIRCUIT_STATE_DIR/ipam/fresh" ] || die "ipam state made for a refused version"

# A delegated IPAM that cannot give the version, on the network's first ADD.
hl="{\"cniVersion\":\"1.1.0\",\"name\":\"hl\",\"type\":\"circuit-bridge\",\"bridge\":\"c-hl\",\"isDefaultGateway\":true,\"ipMasq\":true,\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.254.68.0/24\",\"dataDir\":\"$tmp/hl\"}}"
expect_cni_error 1 "ipam \"host-local\": incompatible CNI versions" ADD $BIN/circuit-bridge xid /run/netns/x eth0 <<<"$hl"
assert_eq "$before" "$(snapshot)" "state after the delegate refused 1.1.0"
ip link show c-hl >/dev/null 2>&1 && die "bridge c-hl left"
assert_eq "" "$(ls -A "$tmp/hl" 2>/dev/null)" "host-local state"
# The same config at 1.0.0 works: only the version was wrong.
res=$(cni ADD $BIN/circuit-bridge xid /run/netns/x eth0 <<<"${hl/1.1.0/1.0.0}")
assert_eq "1.0.0 10.254.68.2/24" "$(json_get "$res" 'd["cniVersion"] + " " + d["ips"][0]["address"]')" "ADD at 1.0.0"
cni DEL $BIN/circuit-bridge xid /run/netns/x eth0 <<<"${hl/1.1.0/1.0.0}"
ip link del c-hl
ok "circuit-bridge: a delegate's code 1 is ours, its veth and new bridge gone"

# A chain with a plugin that stops at 1.0.0, run by circuit: rolled back.
cat >"$tmp/pm.conflist" <<'EOF'
{ "cniVersion": "1.1.0", "name": "pm", "plugins": [
  { "type": "circuit-bridge", "bridge": "c-pm", "isDefaultGateway": true, "ipMasq": true,
    "ipam": { "type": "circuit-ipam", "subnet": "10.254.69.0/24" } },
  { "type": "portmap", "capabilities": { "portMappings": true } } ] }
EOF
q $C network create pm --conflist "$tmp/pm.conflist"
# The network's own state, which its first ADD makes and its members share:
# the bridge with the gateway, circuit-ipam's allocation cursor (last-*).
ip link add c-pm type bridge; ip link set c-pm up; ip addr add 10.254.69.1/24 dev c-pm
ctr y; py=$pid
snap() { snapshot | grep -v '/last-[0-9]*$'; }
before=$(snap)
run $C network connect $py pm
assert_eq 1 "$rc" "connect on a chain portmap cannot run at 1.1.0 ($out)"
assert_contains "$out" "portmap ADD: incompatible CNI versions" "connect message"
assert_eq "$before" "$(snap)" "state after the failed connect"
run $C network inspect pm
assert_eq "[]" "$(json_get "$out" 'json.dumps(d["members"])')" "members after the failed connect"
# Exported at 1.0.0 the same chain runs (portmap accepts it).
q $C network delete pm
ip link del c-pm
sed -i 's/"1.1.0"/"1.0.0"/' "$tmp/pm.conflist"
q $C network create pm --conflist "$tmp/pm.conflist"
q $C network connect $py pm
ip netns exec y busybox ping -c1 -W2 10.254.69.1 >/dev/null || die "pm at 1.0.0: no gateway"
q $C network disconnect $py pm
ok "circuit network connect: a plugin's code 1 rolls the whole chain back"
