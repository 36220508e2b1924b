# SPDX-License-Identifier: Apache-2.0
# Dual stack: a network with an IPv4 and an IPv6 subnet.  Bridge gateways of
# both families, containers with an address of each and both default routes,
# ping over both (busybox), masquerade per family (--no-masquerade6), ls,
# restore after the kernel lost it all, an imported 1.0.0 conflist with two
# range sets (CLI, OCI hook and plain CNI), and bad input refused with
# nothing left.  The "containers" are sleep processes in namespaces this
# test made.
C=$BIN/circuit

# A process in a fresh network namespace: ctr NAME -> $pid
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; netns_wait $pid; }
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
insp=$($C network inspect dual)
assert_eq "$a4/24 $a6/64" "$(json_get "$insp" '" ".join([m for m in d["members"] if m["pid"] == '"$pa"'][0]["addresses"])')" "inspect: both addresses"
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
assert_eq "$a4 $a6" "$(addr_of a -4) $(addr_of a -6)" "restore: a has its addresses again"
assert_eq "$b4 $b6" "$(addr_of b -4) $(addr_of b -6)" "restore: b has its addresses again"
assert_eq "default via fd00:1::1 dev eth0" "$(ip -n a -6 route show default | awk '{print $1, $2, $3, $4, $5}')" "restored IPv6 default route"
ip netns exec a busybox ping -6 -c1 -W2 "$b6" >/dev/null || die "a -> b over IPv6 after restore"
ip netns exec a busybox ping -c1 -W2 10.254.1.1 >/dev/null || die "a -> gateway over IPv4 after restore"
ok "restore: both gateways, both masquerades, both families in the containers"

# ---- gc: a member whose process is gone gives back both addresses ----
ipam=$CIRCUIT_STATE_DIR/ipam/dual/ips
[ -e "$ipam/$b4" ] && [ -e "$ipam/$b6" ] || die "gc: b's addresses are not allocated: $(ls "$ipam")"
kill $pb; wait $pb 2>/dev/null || true
run $C gc
assert_eq 0 "$rc" "gc ($out)"
[ -e "$ipam/$b4" ] && die "gc left b's IPv4 address allocated"
[ -e "$ipam/$b6" ] && die "gc left b's IPv6 address allocated"
[ -e "$ipam/$a4" ] && [ -e "$ipam/$a6" ] || die "gc released a's addresses"
ip netns exec a busybox ping -6 -c1 -W2 fd00:1::1 >/dev/null || die "a after gc"
ok "gc releases both families of a dead member, keeps the live one's"

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
run $C network connect $pc routed; assert_eq 0 "$rc" "connect to routed ($out)"
case $(nft list chain inet circuit masq-routed) in *ip6*) die "a member added IPv6 masquerade";; esac
assert_contains "$(addr_of c -6)" 2001:db8:5:: "routed member IPv6"
ok "--no-masquerade6"
expect 1 "ERRO[0000] subnet 2001:db8:5::/80 overlaps network routed (2001:db8:5::/64)" \
	$C network create clash 10.254.3.0/24 --subnet 2001:db8:5::/80
expect 1 "ERRO[0000] subnet 10.254.2.0/25 overlaps network routed (10.254.2.0/24)" \
	$C network create clash fd00:3::/64 --subnet 10.254.2.0/25
ok "overlap checks per family"


# ---- an imported 1.0.0 conflist with two range sets ----
cat >"$CIRCUIT_STATE_DIR/imp.conflist" <<'JSON'
{"cniVersion": "1.0.0", "name": "whatever", "plugins": [
 {"type": "circuit-bridge", "bridge": "c-imp", "isGateway": true, "isDefaultGateway": true,
  "ipMasq": true,
  "ipam": {"type": "circuit-ipam", "ranges": [[{"subnet": "10.254.5.0/24"}],
                                              [{"subnet": "fd00:5::/64", "gateway": "fd00:5::fe"}]]}}]}
JSON
expect 0 "INFO[0000] imp created" $C network create imp --conflist "$CIRCUIT_STATE_DIR/imp.conflist"
assert_contains "$($C network ls)" "imp                 10.254.5.0/24,fd00:5::/64" "ls of the imported chain"
expect 1 "ERRO[0000] subnet fd00:5::/96 overlaps network imp (fd00:5::/64)" \
	$C network create clash 10.254.8.0/24 --subnet fd00:5::/96
ctr d; pd=$pid
run $C network connect $pd imp; assert_eq 0 "$rc" "connect to imp ($out)"
assert_contains "$(addr_of d -4)" 10.254.5. "imported: IPv4"
assert_contains "$(addr_of d -6)" fd00:5:: "imported: IPv6"
assert_eq "fd00:5::fe/64" "$(ip -o -6 addr show c-imp scope global | awk '{print $4}')" "imported: IPv6 gateway"
ip netns exec d busybox ping -6 -c1 -W2 fd00:5::fe >/dev/null || die "imported: ping IPv6 gateway"
ip netns exec d busybox ping -c1 -W2 10.254.5.1 >/dev/null || die "imported: ping IPv4 gateway"
assert_contains "$(nft list chain inet circuit masq-imp)" 'ip6 saddr fd00:5::/64' "imported: IPv6 masquerade"
# The OCI hook joins a container to it (by name, or asking for its IPv6
# subnet: any subnet of the network names it).
hook() { # hook ID STATUS PID ANNOTATIONS_JSON
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%s,"bundle":"/x","annotations":%s}' \
		"$1" "$2" "$3" "$4" | env -u NETWORK -u SUBNET $C
}
ctr h; ph=$pid
run hook hk1 creating $ph '{"circuit.network":"imp","circuit.subnet":"fd00:5::/64"}'
assert_eq 0 "$rc" "hook into the imported dual-stack network ($out)"
assert_contains "$(addr_of h -6)" fd00:5:: "hook: IPv6"
assert_contains "$(addr_of h -4)" 10.254.5. "hook: IPv4"
ip netns exec h busybox ping -6 -c1 -W2 "$(addr_of d -6)" >/dev/null || die "hook: IPv6 to another member"
run hook hk1 stopped 0 '{"circuit.network":"imp"}'
assert_eq 0 "$rc" "hook poststop ($out)"
expect 0 "INFO[0000] imp deleted" $C network delete imp
ok "imported 1.0.0 conflist with two range sets"

# The same chain straight through CNI (as podman or containerd runs it):
# ADD, CHECK, DEL with both families, nothing left after DEL.
before=$(snapshot)
cfg=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); p=l["plugins"][0]; p["cniVersion"]="1.0.0"; p["name"]="cnids"; p["bridge"]="c-cnids"; print(json.dumps(p))' "$CIRCUIT_STATE_DIR/imp.conflist")
ctr e; pe=$pid
res=$(cni ADD $BIN/circuit-bridge cnids-e /proc/$pe/ns/net eth0 <<<"$cfg") || die "CNI ADD: $res"
assert_eq "2 ['0.0.0.0/0', '::/0']" \
	"$(json_get "$res" '"%d %s" % (len(d["ips"]), sorted(r["dst"] for r in d["routes"]))')" "CNI result"
ip netns exec e busybox ping -6 -c1 -W2 fd00:5::fe >/dev/null || die "CNI: ping IPv6 gateway"
cni CHECK $BIN/circuit-bridge cnids-e /proc/$pe/ns/net eth0 <<<"$(conf_with_prev "$cfg" "$res")" >/dev/null \
	|| die "CNI CHECK"
masq=$(nft list chain inet circuit masq-cnids)
assert_contains "$masq" 'ip saddr 10.254.5.0/24' "CNI: IPv4 masquerade"
assert_contains "$masq" 'ip6 saddr fd00:5::/64' "CNI: IPv6 masquerade"
cni DEL $BIN/circuit-bridge cnids-e /proc/$pe/ns/net eth0 <<<"$(conf_with_prev "$cfg" "$res")" >/dev/null \
	|| die "CNI DEL"
nft list chain inet circuit masq-cnids >/dev/null 2>&1 && die "CNI: masquerade left after the last DEL"
assert_eq "" "$(ip -n e -o addr show eth0 2>/dev/null)" "CNI: container interface gone"
ok "CNI ADD/CHECK/DEL of a 1.0.0 config with two range sets"

# ---- bad input: refused with a clear message, nothing left ----
ip link del c-cnids 2>/dev/null || true
before=$(snapshot)
expect 1 "ERRO[0000] subnets 10.254.6.0/24 and 10.254.7.0/24: at most one subnet per address family" \
	$C network create bad 10.254.6.0/24 --subnet 10.254.7.0/24
expect 1 "ERRO[0000] subnets fd00:6::/64 and fd00:7::/64: at most one subnet per address family" \
	$C network create bad 10.254.6.0/24 --subnet fd00:6::/64 --subnet fd00:7::/64
expect 1 "ERRO[0000] invalid subnet \"fd00:6::/127\": /127 leaves no room for hosts (at most /126)" \
	$C network create bad 10.254.6.0/24 --subnet fd00:6::/127
expect 1 "ERRO[0000] invalid subnet \"fd00:6::1/64\": not a network address (did you mean fd00:6::/64?)" \
	$C network create bad 10.254.6.0/24 --subnet fd00:6::1/64
expect 1 "ERRO[0000] gateway fd00:9::1 is not a host address of fd00:6::/64" \
	$C network create bad 10.254.6.0/24 --subnet fd00:6::/64 --gateway fd00:9::1
run $C network create bad --conflist "$CIRCUIT_STATE_DIR/imp.conflist" --subnet fd00:6::/64
assert_eq 2 "$rc" "--conflist with --subnet"
assert_contains "$out" "--conflist takes no SUBNET, --subnet" "--conflist with --subnet"
assert_eq "$before" "$(snapshot)" "bad input left nothing"
ok "bad input refused, nothing left"
