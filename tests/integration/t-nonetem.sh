# SPDX-License-Identifier: Apache-2.0
# A kernel without netem (this machine's): delay and loss fail cleanly with
# nothing half-applied, through the circuit-qos plugin (CNI error 103, no
# qdisc and no ifb left) and through `circuit network qos set --delay` (exit
# 1, the rate already in force stays, no netem qdisc).  On a kernel with
# netem there is nothing to test here, so the file skips; tests/vm/v-qos.sh
# tests netem itself.
# The probe asks the kernel, in this test's own namespace: a netem qdisc on lo.
if tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
	tc qdisc del dev lo root
	skip "this kernel has netem (tests/vm/v-qos.sh tests it)"
fi
C=$BIN/circuit QOS=$BIN/circuit-qos

# ---- circuit-qos after circuit-bridge -----------------------------------
mkns c1
br='{"cniVersion":"1.1.0","name":"qnet","type":"circuit-bridge",
     "ipam":{"type":"circuit-ipam","subnet":"10.98.0.0/24"}}'
r1=$(echo "$br" | cni ADD $BIN/circuit-bridge c1 /run/netns/c1 eth0)
cv1=$(json_get "$r1" '[i["name"] for i in d["interfaces"] if "sandbox" not in i and i["name"].startswith("cv")][0]')
conf=$(python3 -c 'import json,sys
c={"cniVersion":"1.1.0","name":"qnet","type":"circuit-qos","rate":5000,"delay":"50ms"}
c["prevResult"]=json.loads(sys.argv[1]); print(json.dumps(c))' "$r1")
expect_cni_error 103 "kernel has no netem qdisc: load module sch_netem (CONFIG_NET_SCH_NETEM); $cv1 was left without egress shaping" \
	ADD $QOS c1 /run/netns/c1 eth0 <<<"$conf"
q=$(tc qdisc show dev "$cv1")
if has 'htb|ingress|netem' <<<"$q"; then die "qdiscs left on $cv1: $q"; fi
[ -z "$(ip -o link show type ifb)" ] || die "ifb left: $(ip -o link show type ifb)"
echo "$br" | cni DEL $BIN/circuit-bridge c1 /run/netns/c1 eth0
ok "circuit-qos: delay fails with code 103, nothing applied"

# ---- circuit network qos set --delay ------------------------------------
run $C network create sandbox 10.254.1.0/24
assert_eq "0 INFO[0000] sandbox created" "$rc $out" "network create"
run $C network qos set --rate 5000 --ceiling 8mbit sandbox
assert_eq "0 INFO[0000] qos configured for sandbox" "$rc $out" "qos set --rate"
run $C network qos set --delay 50ms sandbox
assert_eq 1 "$rc" "qos set --delay: exit status (output: $out)"
assert_contains "$out" "ERRO[0000] " "qos set --delay"
assert_contains "$out" "kernel has no netem qdisc: load module sch_netem (CONFIG_NET_SCH_NETEM); the egress shaping already on c-sandbox was kept" "qos set --delay"
assert_contains "$(tc class show dev c-sandbox classid 1:10)" "rate 5Mbit ceil 8Mbit" "rate survives a failed delay"
if tc qdisc show dev c-sandbox | has netem; then die "netem half-applied"; fi
ok "network qos set --delay fails cleanly, the rate stays in force"
