# SPDX-License-Identifier: Apache-2.0
# v-kernel: the VM really runs a stock kernel with what this machine lacks.
#  - netem: 50ms delay on one end of a veth between two namespaces shows up
#    in the ping RTT (busybox ping: iputils is not installed);
#  - IPVS: a service added through lib/ipvs (ipvs-probe) is visible to the
#    independent witness `ipvsadm -Ln`, then deleted.
ok "guest kernel $(uname -r)"

mkns a
mkns b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 10.80.0.1/24 dev va
ip -n b addr add 10.80.0.2/24 dev vb
ip -n a link set va up
ip -n b link set vb up

base=$(rtt_ms a 10.80.0.2 5)
[ -n "$base" ] || die "no ping reply on the plain veth"
ip netns exec a tc qdisc add dev va root netem delay 50ms
tc -n a qdisc show dev va | has 'netem.*delay 50ms' || die "netem qdisc not installed"
delayed=$(rtt_ms a 10.80.0.2 5)
[ -n "$delayed" ] || die "no ping reply through netem"
echo "MEASURE netem veth rtt_ms base=$base delay50=$delayed"
# One direction is delayed 50 ms, so no reply can come back sooner; the
# base is one noisy sample under TCG (13 ms seen on a loaded host), so the
# lower bound is absolute, the upper one leaves room for TCG's slowness.
awk -v b="$base" -v d="$delayed" 'BEGIN { exit !(d >= 49.5 && d - b <= 150) }' ||
	die "netem 50ms: rtt went from $base to $delayed ms"
ip netns exec a tc qdisc del dev va root
ok "netem delay 50ms visible in ping rtt ($base -> $delayed ms)"

# IPVS through the library, witnessed by ipvsadm (this test's own netns).
"$PROBE" add-service tcp 10.96.0.1:80 rr
"$PROBE" add-dest tcp 10.96.0.1:80 10.80.0.2:8080 1 masq
out=$(ipvsadm -Ln)
echo "$out"
assert_contains "$out" "TCP  10.96.0.1:80 rr" "ipvsadm sees the service"
assert_contains "$(echo "$out" | tr -s ' ')" "-> 10.80.0.2:8080 Masq 1 0 0" "ipvsadm sees the dest"
"$PROBE" del-service tcp 10.96.0.1:80
out=$(ipvsadm -Ln)
case "$out" in *10.96.0.1*) die "service still listed after delete: $out" ;; esac
ok "ipvs service added via lib/ipvs seen by ipvsadm, then deleted"
