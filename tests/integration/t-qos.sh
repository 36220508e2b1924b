# SPDX-License-Identifier: Apache-2.0
# circuit-qos, the chained CNI plugin: after circuit-bridge and after the
# reference bridge, the flat keys, per-direction objects and the bandwidth
# capability (runtimeConfig), iperf3 through the shaped link in both
# directions, CHECK, DEL (nothing left: no ifb, no qdisc), GC of orphaned
# ifbs, bad configs rejected with nothing applied.  tc and ip are witnesses.
# Delay and loss: on a kernel without netem they fail cleanly (t-nonetem.sh);
# tests/vm/v-qos.sh measures them on a kernel with netem.

command -v iperf3 >/dev/null || die "iperf3 not installed"
[ -x /usr/lib/cni/bridge ] || die "containernetworking-plugins not installed"
work=$(mktemp -d /tmp/circuit-qos.XXXXXX)
cleanup() {
	for p in "$work"/*.pid; do [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

QOS=$BIN/circuit-qos
# qos_conf JSON-FRAGMENT [PREVRESULT]: a circuit-qos config with prevResult
qos_conf() {
	python3 -c 'import json,sys
c={"cniVersion":"1.1.0","name":sys.argv[1],"type":"circuit-qos"}
c.update(json.loads(sys.argv[2]))
if len(sys.argv) > 3 and sys.argv[3]: c["prevResult"]=json.loads(sys.argv[3])
print(json.dumps(c))' "$@"
}
above() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$@"; }

# iperf3 server in namespace $1 on address $2
serve() {
	local ex="ip netns exec $1"
	[ "$1" = host ] && ex=""
	$ex iperf3 -s -D -B "$2" --pidfile "$work/$1.pid" >/dev/null
	for _ in $(seq 50); do [ -s "$work/$1.pid" ] && break; sleep 0.1; done
	sleep 0.3
}
# mbps CLIENT-NS SERVER-ADDR [-R]: TCP goodput in Mbit/s
mbps() {
	local out
	out=$(timeout 20 ip netns exec "$1" iperf3 -c "$2" -t 3 -O 1 ${3:-} -J) || die "iperf3 $* failed"
	python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e6))' <<<"$out"
}
host_veth() { json_get "$1" '[i["name"] for i in d["interfaces"] if "sandbox" not in i and i["name"].startswith(sys.argv[3])][0]' "$2"; }
ifb_of() { # the ifb name cir_name_ifb gives (hashed for 15-byte names)
	python3 -c 'import sys
n=sys.argv[1].encode()
if len(n)+3 < 16: print("cq-"+sys.argv[1])
else:
    h=0xcbf29ce484222325
    for b in n: h=((h^b)*0x100000001b3)&0xffffffffffffffff
    print("cq_%s%06x" % (sys.argv[1][:6], h & 0xffffff))' "$1"
}
no_leftovers() { # DEV: no Circuit qdisc on DEV (if it exists), no ifb at all
	local q
	if ip link show "$1" >/dev/null 2>&1; then
		q=$(tc qdisc show dev "$1")
		if grep -qE 'htb|ingress|netem' <<<"$q"; then die "qdiscs left on $1: $q"; fi
	fi
	[ -z "$(ip -o link show type ifb)" ] || die "ifb left: $(ip -o link show type ifb)"
}

# ---- after circuit-bridge ----------------------------------------------
mkns c1; mkns c2
br='{"cniVersion":"1.1.0","name":"qnet","type":"circuit-bridge",
     "ipam":{"type":"circuit-ipam","subnet":"10.98.0.0/24"}}'
r1=$(echo "$br" | cni ADD $BIN/circuit-bridge c1 /run/netns/c1 eth0)
r2=$(echo "$br" | cni ADD $BIN/circuit-bridge c2 /run/netns/c2 eth0)
cv1=$(python3 -c 'import json,sys; print([i["name"] for i in json.loads(sys.argv[1])["interfaces"] if "sandbox" not in i and i["name"].startswith("cv")][0])' "$r1")
ifb1=$(ifb_of "$cv1")
ip1=$(json_get "$r1" 'd["ips"][0]["address"].split("/")[0]')
ip2=$(json_get "$r2" 'd["ips"][0]["address"].split("/")[0]')
serve c2 "$ip2"
base_out=$(mbps c1 "$ip2"); base_in=$(mbps c1 "$ip2" -R)
echo "MEASURE qos baseline out_mbit=$base_out in_mbit=$base_in"

conf=$(qos_conf qnet '{"rate":10000}' "$r1")
out=$(echo "$conf" | cni ADD $QOS c1 /run/netns/c1 eth0)
assert_eq "$(json_get "$r1" 'json.dumps(d["interfaces"],sort_keys=True)' 2>/dev/null || python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["interfaces"],sort_keys=True))' "$r1")" \
	"$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["interfaces"],sort_keys=True))' "$out")" "ADD passes prevResult through"
assert_eq "$(json_get "$r1" 'd["ips"][0]["address"]')" "$(json_get "$out" 'd["ips"][0]["address"]')" "ips passed through"
assert_contains "$(tc class show dev "$cv1")" "class htb 1:10 parent 1:1 prio 0 rate 10Mbit ceil 10Mbit" "egress of $cv1"
assert_contains "$(tc class show dev "$ifb1")" "class htb 1:10 parent 1:1 prio 0 rate 10Mbit ceil 10Mbit" "ifb $ifb1"
assert_contains "$(tc filter show dev "$cv1" ingress)" "mirred (Egress Redirect to device $ifb1) stolen" "redirect"
got_in=$(best_rate 10 "" mbps c1 "$ip2" -R); got_out=$(best_rate 10 "" mbps c1 "$ip2")
echo "MEASURE qos circuit-bridge configured_mbit=10 into_container_mbit=$got_in out_of_container_mbit=$got_out"
shaped "$got_in" 10 || die "into the container: $got_in Mbit/s for 10"
shaped "$got_out" 10 || die "out of the container: $got_out Mbit/s for 10"
echo "$conf" | cni CHECK $QOS c1 /run/netns/c1 eth0 || die "CHECK after ADD"
# ADD again (runtime retry) replaces, no EEXIST
echo "$conf" | cni ADD $QOS c1 /run/netns/c1 eth0 >/dev/null
assert_eq 1 "$(tc qdisc show dev "$cv1" | grep -c 'htb 1: root')" "one root after re-ADD"
ok "circuit-bridge + circuit-qos: 10 Mbit/s both ways"

# Per-direction objects: 20 in, 5 out; CHECK spots the drift.
conf=$(qos_conf qnet '{"rate":"1mbit","ingress":{"rate":"20mbit"},"egress":{"rate":5000,"ceiling":"6mbit"}}' "$r1")
echo "$conf" | cni ADD $QOS c1 /run/netns/c1 eth0 >/dev/null
assert_contains "$(tc class show dev "$cv1")" "rate 20Mbit ceil 20Mbit" "ingress object"
assert_contains "$(tc class show dev "$ifb1")" "rate 5Mbit ceil 6Mbit" "egress object"
got_in=$(best_rate 20 "" mbps c1 "$ip2" -R); got_out=$(best_rate 6 5 mbps c1 "$ip2")
echo "MEASURE qos per-direction configured_in_mbit=20 measured_in_mbit=$got_in configured_out_mbit=5 ceil_out_mbit=6 measured_out_mbit=$got_out"
shaped "$got_in" 20 || die "into the container: $got_in Mbit/s for 20"
shaped "$got_out" 6 5 || die "out of the container: $got_out Mbit/s for rate 5 ceil 6"
echo "$conf" | cni CHECK $QOS c1 /run/netns/c1 eth0 || die "CHECK per-direction"
tc qdisc del dev "$cv1" root
expect_cni_error 104 "into the container: want rate 20mbit" CHECK $QOS c1 /run/netns/c1 eth0 <<<"$conf"
ok "per-direction settings; CHECK fails when the kernel drifted"

# DEL removes everything, twice; then the link is gone and DEL still works.
echo "$conf" | cni DEL $QOS c1 /run/netns/c1 eth0
echo "$conf" | cni DEL $QOS c1 /run/netns/c1 eth0
no_leftovers "$cv1"
got=$(mbps c1 "$ip2" -R)
echo "MEASURE qos after_del_mbit=$got"
above "$got" 300 || die "after DEL only $got Mbit/s"
echo "$br" | cni DEL $BIN/circuit-bridge c1 /run/netns/c1 eth0
echo "$conf" | cni DEL $QOS c1 /run/netns/c1 eth0
# DEL without prevResult (0.3.x runtimes): Circuit's veth name
qos_conf qnet '{"rate":1000}' | cni DEL $QOS c1 /run/netns/c1 eth0
ok "DEL: nothing left, idempotent, tolerates a missing link"

# ---- bad input: clear errors, nothing applied ----------------------------
r1=$(echo "$br" | cni ADD $BIN/circuit-bridge c1 /run/netns/c1 eth0)
cv1=$(python3 -c 'import json,sys; print([i["name"] for i in json.loads(sys.argv[1])["interfaces"] if "sandbox" not in i and i["name"].startswith("cv")][0])' "$r1")
for bad in '{"rate":-5}|rate' '{"rate":0}|rate' '{"rate":"fast"}|rate' \
	   '{"rate":5000,"ceiling":4000}|ceil 4000kbit is below rate 5000kbit' \
	   '{"delay":"50"}|delay' '{"delay":50}|delay' '{"loss":150}|loss' '{"loss":"-1%"}|loss' \
	   '{"jitter":"5ms"}|jitter needs a delay' '{"burst":1000}|burst needs a rate' \
	   '{"ingress":5}|ingress' '{"runtimeConfig":{"bandwidth":{"ingressBurst":100}}}|ingressBurst needs ingressRate' \
	   '{"containers":{"c1":7}}|containers'; do
	expect_cni_error 7 "${bad#*|}" ADD $QOS c1 /run/netns/c1 eth0 <<<"$(qos_conf qnet "${bad%%|*}" "$r1")"
done
expect_cni_error 7 "prevResult is required" ADD $QOS c1 /run/netns/c1 eth0 <<<"$(qos_conf qnet '{"rate":1000}')"
no_leftovers "$cv1"
ok "bad configs rejected with nothing applied"

# ---- after the reference bridge, with the bandwidth capability ----------
mkns d1
ref='{"cniVersion":"1.0.0","name":"refnet","type":"bridge","bridge":"br-ref","isGateway":true,
      "ipam":{"type":"host-local","subnet":"10.95.0.0/24","dataDir":"/var/lib/cni/networks"}}'
rr=$(echo "$ref" | cni ADD /usr/lib/cni/bridge d1 /run/netns/d1 eth0)
veth=$(python3 -c 'import json,sys; print([i["name"] for i in json.loads(sys.argv[1])["interfaces"] if "sandbox" not in i and i["name"].startswith("veth")][0])' "$rr")
ifbv=$(ifb_of "$veth")
gw=$(json_get "$rr" 'd["ips"][0]["gateway"]')
serve host "$gw"
# runtimeConfig.bandwidth (bit/s, bits) wins over the flat keys
conf=$(qos_conf refnet '{"rate":1000,"runtimeConfig":{"bandwidth":{"ingressRate":20000000,"ingressBurst":400000,"egressRate":5000000,"egressBurst":400000}}}' "$rr")
echo "$conf" | cni ADD $QOS d1 /run/netns/d1 eth0 >/dev/null
assert_contains "$(tc class show dev "$veth")" "rate 20Mbit ceil 20Mbit burst 50000b" "bandwidth ingress"
assert_contains "$(tc class show dev "$ifbv")" "rate 5Mbit ceil 5Mbit burst 50000b" "bandwidth egress"
got_in=$(best_rate 20 "" mbps d1 "$gw" -R); got_out=$(best_rate 5 "" mbps d1 "$gw")
echo "MEASURE qos ref-bridge+bandwidth-capability configured_in_mbit=20 measured_in_mbit=$got_in configured_out_mbit=5 measured_out_mbit=$got_out"
shaped "$got_in" 20 || die "bandwidth ingress: $got_in Mbit/s for 20"
shaped "$got_out" 5 || die "bandwidth egress: $got_out Mbit/s for 5"
echo "$conf" | cni CHECK $QOS d1 /run/netns/d1 eth0 || die "CHECK bandwidth"
# The reference bandwidth plugin's own top-level keys (drop-in)
conf2=$(qos_conf refnet '{"ingressRate":1000000,"ingressBurst":80000,"egressRate":2000000,"egressBurst":80000}' "$rr")
echo "$conf2" | cni ADD $QOS d1 /run/netns/d1 eth0 >/dev/null
assert_contains "$(tc class show dev "$veth")" "rate 1Mbit ceil 1Mbit burst 10000b" "drop-in keys ingress"
assert_contains "$(tc class show dev "$ifbv")" "rate 2Mbit ceil 2Mbit burst 10000b" "drop-in keys egress"
echo "$conf2" | cni DEL $QOS d1 /run/netns/d1 eth0
no_leftovers "$veth"
ok "reference bridge + circuit-qos via the bandwidth capability"

# "containers" entries (what `circuit network qos set --container` writes)
conf=$(qos_conf refnet '{"rate":3000,"containers":{"d1":{"rate":7000}}}' "$rr")
echo "$conf" | cni ADD $QOS d1 /run/netns/d1 eth0 >/dev/null
assert_contains "$(tc class show dev "$veth")" "rate 7Mbit ceil 7Mbit" "containers entry replaces the top level"

# ---- GC: the shaping of an attachment the runtime no longer lists -------
valid() { python3 -c 'import json,sys; print(json.dumps({"cniVersion":"1.1.0","name":"refnet","type":"circuit-qos","cni.dev/valid-attachments":[{"containerID":c,"ifname":"eth0"} for c in sys.argv[1:]]}))' "$@"; }
CNI_COMMAND=GC CNI_PATH=$CNI_PATH $QOS <<<"$(valid d1 other)" || die "GC (d1 valid) failed"
tc qdisc show dev "$veth" | has "htb 1: root" || die "GC cleared a valid attachment's shaping"
CNI_COMMAND=GC CNI_PATH=$CNI_PATH $QOS <<<"$(valid other)" || die "GC (d1 invalid) failed"
tc qdisc show dev "$veth" | has "htb|ingress" && die "GC left shaping on $veth: $(tc qdisc show dev "$veth")"
ip link show "$ifbv" >/dev/null 2>&1 && die "GC left $ifbv"
ok "GC clears the shaping of attachments no longer valid, keeps the valid"
echo "$conf" | cni ADD $QOS d1 /run/netns/d1 eth0 >/dev/null

# ---- GC: an ifb whose device vanished ----------------------------------
ip link del "$veth"
ip link show "$ifbv" >/dev/null 2>&1 || die "expected the orphaned $ifbv before GC"
gc=$(python3 -c 'import json; print(json.dumps({"cniVersion":"1.1.0","name":"refnet","type":"circuit-qos","cni.dev/valid-attachments":[]}))')
CNI_COMMAND=GC CNI_PATH=$CNI_PATH $QOS <<<"$gc" || die "GC failed"
no_leftovers none
CNI_COMMAND=GC CNI_PATH=$CNI_PATH $QOS <<<"$gc" || die "GC again failed"
ok "GC removes ifbs of vanished links"
echo "$ref" | cni DEL /usr/lib/cni/bridge d1 /run/netns/d1 eth0 || true

CNI_COMMAND=STATUS $QOS <<<'{"cniVersion":"1.1.0","name":"x","type":"circuit-qos","rate":1000}' || die "STATUS"
ok "STATUS"
