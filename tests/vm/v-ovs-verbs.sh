# SPDX-License-Identifier: Apache-2.0
# v-ovs-verbs: the verbs that must work on an OVS network unchanged (issue
# 15), on a real Open vSwitch (tests/vm/ovs-lib.sh), with ovs-vsctl, tc,
# ipvsadm, curl and busybox ping as witnesses:
#  - `network connect PID` / `disconnect PID`: the port comes and goes
#    with its veth, a re-connect reaches the other member again;
#  - `network qos set --rate --delay` on the network shapes the bridge's
#    internal interface (htb class + netem leaf), the ping to the gateway
#    is at least the delay; `--container` shapes the member's host veth and
#    its ifb, its ping at least twice the delay;
#  - `circuit lb` with an OVS member as target answers through the VIP;
#  - `circuit gc` releases a member whose process is gone (its port goes)
#    and leaves the live member alone (port, address, reachability).
C=$BIN/circuit
. "$SRCDIR/tests/vm/ovs-lib.sh"
VIP=10.96.0.40
# host_veth NS: the host end of NS's eth0
host_veth() {
	local i
	i=$(ip netns exec "$1" cat /sys/class/net/eth0/iflink)
	ip -o link show | awk -F': ' -v i="$i" '$1 == i { sub(/@.*/, "", $2); print $2 }'
}
# rtt_min NS DEST: the smallest RTT (ms, integer part) of 3 pings; a delay
# qdisc can only add to it, so a lower bound never flakes.
rtt_min() {
	local o
	o=$(ip netns exec "$1" busybox ping -c 3 -i 0.2 -w 15 "$2") || true
	sed -n 's|.*min/avg/max = \([0-9]*\)[0-9.]*/.*|\1|p' <<<"$o"
}

ovs_start
$C network create ovv 10.93.0.0/24 --driver ovs --vlan 10 --ovsdb-socket "$sock" >/dev/null
gw=10.93.0.1
ctr a; pa=$pid
ctr b; pb=$pid
$C network connect "$pa" ovv >/dev/null
$C network connect "$pb" ovv >/dev/null
ipa=$(addr a); ipb=$(addr b)
reach a "${ipb%/*}" || die "a cannot reach b"

# ---- connect / disconnect by PID -----------------------------------------
hvb=$(host_veth b)
[ -n "$hvb" ] || die "no host veth for b"
vsctl list-ports c-ovv | has "^$hvb\$" || die "$hvb is not a port of c-ovv: $(vsctl list-ports c-ovv)"
run $C network disconnect "$pb" ovv
assert_eq 0 "$rc" "disconnect: $out"
assert_eq "INFO[0000] disconnected container $pb from network ovv" "$out" "disconnect message"
vsctl list-ports c-ovv | has "^$hvb\$" && die "disconnect left port $hvb"
ip link show "$hvb" >/dev/null 2>&1 && die "disconnect left the host veth $hvb"
ip -n b link show eth0 >/dev/null 2>&1 && die "disconnect left eth0 in b"
reach a $gw || die "a lost the gateway when b left"
run $C network connect "$pb" ovv
assert_eq 0 "$rc" "re-connect: $out"
ipb=$(addr b); hvb=$(host_veth b)
assert_eq 10 "$(vsctl get port "$hvb" tag)" "tag of the re-connected port"
reach a "${ipb%/*}" || die "a cannot reach b after the re-connect"
ok "connect/disconnect by PID on OVS: the port and veth come and go ($hvb, $ipb)"

# ---- QoS on the network: the bridge's internal interface ------------------
base=$(rtt_min b $gw); [ -n "$base" ] || die "no ping reply from the gateway"
run $C network qos set --rate 5mbit --delay 50ms ovv
assert_eq "INFO[0000] qos configured for ovv" "$out" "qos set"
q=$(tc qdisc show dev c-ovv); cl=$(tc class show dev c-ovv)
has '^qdisc htb 1: root' <<<"$q" || die "no htb root on c-ovv: $q"
has 'netem 10: parent 1:10 .*delay 50ms' <<<"$q" || die "no netem leaf on c-ovv: $q"
has 'class htb 1:10 .*rate 5Mbit' <<<"$cl" || die "no 5Mbit class on c-ovv: $cl"
d=$(rtt_min b $gw); [ -n "$d" ] || die "no ping reply through the delay"
echo "MEASURE ovs qos network delay_ms=50 rtt_min_base_ms=$base rtt_min_ms=$d"
[ "$d" -ge 50 ] || die "ping b -> gateway ${d} ms under a 50 ms delay"
run $C network qos reset ovv
assert_eq 0 "$rc" "qos reset: $out"
tc qdisc show dev c-ovv | has netem && die "qos reset left netem on c-ovv"
ok "network qos on OVS: htb 5Mbit + netem 50ms on c-ovv, ping to the gateway ${base} -> ${d} ms"

# ---- QoS on one member: its host veth and ifb ----------------------------
hva=$(host_veth a)
run $C network qos set --container "$pa" --rate 5mbit --delay 30ms ovv
assert_eq 0 "$rc" "qos set --container: $out"
q=$(tc qdisc show dev "$hva"); cl=$(tc class show dev "$hva")
has 'netem 10: parent 1:10 .*delay 30ms' <<<"$q" || die "no netem on $hva: $q"
has 'class htb 1:10 .*rate 5Mbit' <<<"$cl" || die "no 5Mbit class on $hva: $cl"
has '^qdisc ingress ffff:' <<<"$q" || die "no ingress qdisc on $hva: $q"
n=$(tc qdisc show | grep -c 'netem .*delay 30ms' || true)
assert_eq 2 "$n" "netem 30ms on the veth and its ifb"
d=$(rtt_min a $gw); [ -n "$d" ] || die "no ping reply through the member's delay"
echo "MEASURE ovs qos member delay_ms=30+30 rtt_min_ms=$d"
[ "$d" -ge 60 ] || die "ping a -> gateway ${d} ms under 30 ms each way"
run $C network qos reset --container "$pa" ovv
assert_eq 0 "$rc" "qos reset --container: $out"
tc qdisc show | has netem && die "qos reset --container left netem: $(tc qdisc show)"
ok "member qos on OVS: $hva and its ifb shaped, ping to the gateway ${d} ms"

# ---- circuit lb with an OVS member as target -----------------------------
mkdir -p "$ovsrun/www"
echo a >"$ovsrun/www/index.html"
ip netns exec a busybox httpd -f -p 8080 -h "$ovsrun/www" &
pids+=($!)
for _ in $(seq 50); do
	curl -s --max-time 2 "http://${ipa%/*}:8080/" >/dev/null && break
	sleep 0.2
done
$C lb create ow $VIP:80 >/dev/null
$C lb add ow "${ipa%/*}:8080" >/dev/null
ipvsadm -Ln | has "-> ${ipa%/*}:8080 " || die "target not in IPVS: $(ipvsadm -Ln)"
got=
for _ in 1 2 3; do
	got=$(curl -s --max-time 5 "http://$VIP/" || true)
	[ "$got" = a ] && break
done
assert_eq a "$got" "reply through the VIP"
$C lb delete ow >/dev/null
ok "lb: $VIP:80 -> ${ipa%/*}:8080 on the OVS network answers"

# ---- gc: a dead member released, the live one left alone -----------------
ctr c; pc=$pid
$C network connect "$pc" ovv >/dev/null
hvc=$(host_veth c)
vsctl list-ports c-ovv | has "^$hvc\$" || die "$hvc is not a port"
kill "$pc"; wait "$pc" 2>/dev/null || true
run $C gc
echo "$out"
assert_eq 0 "$rc" "gc"
assert_contains "$out" "released container pid-$pc from network ovv" "gc output"
vsctl list-ports c-ovv | has "^$hvc\$" && die "gc left the dead member's port $hvc"
vsctl list-ports c-ovv | has "^$hva\$" || die "gc removed the live member's port $hva"
assert_eq "$ipa" "$(addr a)" "live member's address after gc"
reach b "${ipa%/*}" || die "b cannot reach a after gc"
run $C gc
assert_eq "INFO[0000] nothing to collect" "$out" "second gc"
ok "gc on OVS: the dead member's port released, the live member untouched"

$C network disconnect "$pa" ovv >/dev/null
$C network disconnect "$pb" ovv >/dev/null
$C network delete ovv >/dev/null
assert_eq "" "$(vsctl list-br)" "bridges after network delete"
