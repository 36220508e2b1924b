# SPDX-License-Identifier: Apache-2.0
# Dual stack: a network with an IPv4 and an IPv6 subnet.  Bridge gateways of
# both families, containers with an address of each and both default routes,
# ping over both (busybox), masquerade per family (--no-masquerade6), ls,
# restore after the kernel lost it all, an imported 1.0.0 conflist with two
# range sets, and bad input refused with nothing left.  The "containers"
# are sleep processes in namespaces this test made.
C=$BIN/circuit

run() { set +e; out=$("$@" 2>&1 | norm_time); rc=$?; set -e; }
expect() { # expect RC OUTPUT CMD...
	local want_rc=$1 want_out=$2; shift 2
	run "$@"
	[ "$rc" = "$want_rc" ] || die "$*: exit $rc, want $want_rc (output: $out)"
	assert_eq "$want_out" "$out" "$*"
}
# A process in a fresh network namespace: ctr NAME -> $pid
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; sleep 0.1; }
addr_of() { ip -n "$1" -o "$2" addr show eth0 scope global | awk '{print $4}' | cut -d/ -f1; }

# ---- create, ls, the bridge ----
expect 0 "INFO[0000] dual created" $C network create dual 10.254.1.0/24 --subnet fd00:1::/64
expect 0 "NAME                SUBNET
dual                10.254.1.0/24,fd00:1::/64" $C network ls
assert_eq "10.254.1.1/24" "$(ip -o -4 addr show c-dual | awk '{print $4}')" "IPv4 gateway"
assert_eq "fd00:1::1/64" "$(ip -o -6 addr show c-dual scope global | awk '{print $4}')" "IPv6 gateway"
ip -o -6 addr show c-dual scope global | has tentative && die "IPv6 gateway is tentative (DAD)"
assert_eq 1 "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" "IPv6 forwarding"
assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)" "IPv4 forwarding"
masq=$(nft list chain inet circuit masq-dual)
assert_contains "$masq" 'ip saddr 10.254.1.0/24 ip daddr != 10.254.1.0/24' "IPv4 masquerade"
assert_contains "$masq" 'ip6 saddr fd00:1::/64 ip6 daddr != fd00:1::/64' "IPv6 masquerade"
rec=$(cat "$CIRCUIT_STATE_DIR/networks/dual/network.json")
assert_eq "10.254.1.0/24 ['10.254.1.0/24', 'fd00:1::/64'] ['10.254.1.1', 'fd00:1::1'] True" \
	"$(json_get "$rec" '"%s %s %s %s" % (d["subnet"], d["subnets"], d["gateways"], d["masquerade6"])')" "record"
conf=$($C network export dual)
assert_eq "[['10.254.1.0/24'], ['fd00:1::/64']]" \
	"$(json_get "$conf" '[[r["subnet"] for r in s] for s in d["plugins"][0]["ipam"]["ranges"]]')" "conflist ranges"
ok "create: both gateways, forwarding, masquerade per family, record, ranges"

# ---- two containers ----
ctr a; pa=$pid
ctr b; pb=$pid
expect 0 "INFO[0000] connected container $pa to network dual" $C network connect $pa dual
expect 0 "INFO[0000] connected container $pb to network dual" $C network connect $pb dual
a4=$(addr_of a -4); a6=$(addr_of a -6); b4=$(addr_of b -4); b6=$(addr_of b -6)
assert_contains "$a4" 10.254.1. "a IPv4"; assert_contains "$a6" fd00:1:: "a IPv6"
assert_contains "$b4" 10.254.1. "b IPv4"; assert_contains "$b6" fd00:1:: "b IPv6"
ip -n a -o -6 addr show eth0 scope global | has tentative && die "container IPv6 address is tentative"
assert_eq "default via fd00:1::1 dev eth0" "$(ip -n a -6 route show default | awk '{print $1, $2, $3, $4, $5}')" "IPv6 default route"
assert_eq "default via 10.254.1.1 dev eth0" "$(ip -n a -4 route show default | awk '{print $1, $2, $3, $4, $5}')" "IPv4 default route"
for ns in a b; do
	ip netns exec $ns busybox ping -c1 -W2 10.254.1.1 >/dev/null || die "$ns: ping IPv4 gateway"
	ip netns exec $ns busybox ping -6 -c1 -W2 fd00:1::1 >/dev/null || die "$ns: ping IPv6 gateway"
done
ip netns exec a busybox ping -c1 -W2 "$b4" >/dev/null || die "a -> b over IPv4"
ip netns exec a busybox ping -6 -c1 -W2 "$b6" >/dev/null || die "a -> b over IPv6"
ip netns exec b busybox ping -6 -c1 -W2 "$a6" >/dev/null || die "b -> a over IPv6"
res=$(cat "$CIRCUIT_STATE_DIR/networks/dual/members/pid-$pa")
assert_eq "2 ['0.0.0.0/0', '::/0']" \
	"$(json_get "$res" '"%d %s" % (len(d["result"]["ips"]), sorted(r["dst"] for r in d["result"]["routes"]))')" "result: two ips, two default routes"
ok "containers: an address of each family, both default routes, ping over both"

# ---- CHECK: a default route per family ----
cid=pid-$pa
chk() { # chk: run circuit-bridge CHECK for container a with its cached result
	local r c
	r=$(json_get "$(cat "$CIRCUIT_STATE_DIR/networks/dual/members/$cid")" 'json.dumps(d["result"])')
	c=$(python3 -c 'import json,sys; l=json.loads(sys.argv[1]); p=l["plugins"][0]; p["cniVersion"]=l["cniVersion"]; p["name"]=l["name"]; p["prevResult"]=json.loads(sys.argv[2]); print(json.dumps(p))' "$conf" "$r")
	cni CHECK $BIN/circuit-bridge $cid /proc/$pa/ns/net eth0 <<<"$c"
}
chk >/dev/null || die "CHECK of a healthy dual-stack member"
ip -n a -6 route del default
set +e; out=$(chk); rc=$?; set -e
[ $rc -ne 0 ] || die "CHECK must see the missing IPv6 default route"
assert_contains "$out" "route to ::/0 is missing" "CHECK names the IPv6 default route"
ip -n a -6 route add default via fd00:1::1 dev eth0
chk >/dev/null || die "CHECK after the route is back"
ok "CHECK: a default route per family"

# ---- restore after the kernel lost it all ----
ip link del c-dual
nft flush ruleset
ip -n a link del eth0; ip -n b link del eth0
run $C restore
assert_eq 0 "$rc" "restore ($out)"
assert_eq "10.254.1.1/24" "$(ip -o -4 addr show c-dual | awk '{print $4}')" "restored IPv4 gateway"
assert_eq "fd00:1::1/64" "$(ip -o -6 addr show c-dual scope global | awk '{print $4}')" "restored IPv6 gateway"
masq=$(nft list chain inet circuit masq-dual)
assert_contains "$masq" 'ip saddr 10.254.1.0/24' "restored IPv4 masquerade"
assert_contains "$masq" 'ip6 saddr fd00:1::/64' "restored IPv6 masquerade"
a4=$(addr_of a -4); a6=$(addr_of a -6); b6=$(addr_of b -6)
[ -n "$a4" ] && [ -n "$a6" ] || die "restore: a has $a4 and $a6"
ip netns exec a busybox ping -6 -c1 -W2 "$b6" >/dev/null || die "a -> b over IPv6 after restore"
ip netns exec a busybox ping -c1 -W2 10.254.1.1 >/dev/null || die "a -> gateway over IPv4 after restore"
ok "restore: both gateways, both masquerades, both families in the containers"

expect 0 "INFO[0000] dual deleted" $C network delete dual
ip link show c-dual >/dev/null 2>&1 && die "bridge left"
nft list chain inet circuit masq-dual >/dev/null 2>&1 && die "masquerade left"
ok "delete"

# ---- --no-masquerade6, overlap per family ----
expect 0 "INFO[0000] routed created" $C network create routed 10.254.2.0/24 --subnet 2001:db8:5::/64 --no-masquerade6
masq=$(nft list chain inet circuit masq-routed)
assert_contains "$masq" 'ip saddr 10.254.2.0/24' "IPv4 masquerade"
case $masq in *ip6*) die "--no-masquerade6 masquerades IPv6: $masq";; esac
assert_eq False "$(json_get "$($C network export routed)" 'd["plugins"][0]["ipMasq6"]')" "ipMasq6 in the chain"
ctr c; pc=$pid
$C network connect $pc routed 2>/dev/null || die "connect to routed"
case $(nft list chain inet circuit masq-routed) in *ip6*) die "a member added IPv6 masquerade";; esac
assert_contains "$(addr_of c -6)" 2001:db8:5:: "routed member IPv6"
ok "--no-masquerade6"
expect 1 "ERRO[0000] subnet 2001:db8:5::/80 overlaps network routed (2001:db8:5::/64)" \
	$C network create clash 10.254.3.0/24 --subnet 2001:db8:5::/80
expect 1 "ERRO[0000] subnet 10.254.2.0/25 overlaps network routed (10.254.2.0/24)" \
	$C network create clash fd00:3::/64 --subnet 10.254.2.0/25
ok "overlap checks per family"

