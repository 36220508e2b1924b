# circuit-bridge + circuit-ipam: every verb, two containers talking, CHECK
# catching damage, DEL idempotent and leaving no trace.
mkns c1; mkns c2
conf='{"cniVersion":"1.1.0","name":"itnet","type":"circuit-bridge","isDefaultGateway":true,"ipMasq":true,
       "ipam":{"type":"circuit-ipam","subnet":"10.99.0.0/24","routes":[{"dst":"192.168.77.0/24"}]}}'

r1=$(echo "$conf" | cni ADD $BIN/circuit-bridge ctr1 /run/netns/c1 eth0)
r2=$(echo "$conf" | cni ADD $BIN/circuit-bridge ctr2 /run/netns/c2 eth0)
assert_eq "10.99.0.2/24" "$(json_get "$r1" 'd["ips"][0]["address"]')" "first address"
assert_eq "10.99.0.3/24" "$(json_get "$r2" 'd["ips"][0]["address"]')" "second address"
assert_eq "10.99.0.1" "$(json_get "$r1" 'd["ips"][0]["gateway"]')" "gateway"
assert_eq "c-itnet" "$(json_get "$r1" 'd["interfaces"][0]["name"]')" "bridge name"
assert_eq "/run/netns/c1" "$(json_get "$r1" 'd["interfaces"][2]["sandbox"]')" "sandbox"
assert_eq 2 "$(json_get "$r1" 'd["ips"][0]["interface"]')" "ip interface index"
hv=$(json_get "$r1" 'd["interfaces"][1]["name"]')
[ ${#hv} -le 15 ] || die "host veth name too long: $hv"

# Kernel state, witnessed by iproute2.
ip -o addr show dev c-itnet | has "10.99.0.1/24" || die "gateway not on bridge"
ip -o link show dev "$hv" | has "master c-itnet" || die "$hv not on bridge"
ip -n c1 -o addr show dev eth0 | has "10.99.0.2/24" || die "no address in c1"
ip -n c1 route | has "default via 10.99.0.1 dev eth0" || die "no default route in c1"
ip -n c1 route | has "192.168.77.0/24 via 10.99.0.1 dev eth0" || die "ipam route missing in c1"
ip -n c1 -o link show lo | has "UP" || die "lo down in c1"
# IPv4 only: no IPv6 link-local address (no DAD, MLD or RS flooded to the
# bridge's other ports); IPv6 itself stays enabled on eth0.
assert_eq "" "$(ip -n c1 -6 -o addr show dev eth0)" "IPv6 addresses on c1's eth0"
assert_eq 0 "$(ip netns exec c1 cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6)" "disable_ipv6 on c1's eth0"
assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)" "ip_forward"
nft list table inet circuit | has "ip saddr 10.99.0.0/24" || die "no masquerade"
ip netns exec c1 busybox ping -c2 -W2 10.99.0.3 >/dev/null || die "c1 cannot ping c2"
ip netns exec c2 busybox ping -c2 -W2 10.99.0.1 >/dev/null || die "c2 cannot ping gateway"
ok "two containers talk"

# CHECK passes, then catches a removed address.
conf_with_prev "$conf" "$r1" | cni CHECK $BIN/circuit-bridge ctr1 /run/netns/c1 eth0
ip -n c1 addr del 10.99.0.2/24 dev eth0
out=$(conf_with_prev "$conf" "$r1" | cni CHECK $BIN/circuit-bridge ctr1 /run/netns/c1 eth0) && die "CHECK missed a lost address"
assert_contains "$out" "lost address 10.99.0.2/24"
ok "CHECK"

# ADD of the same attachment again fails and changes nothing.
before=$(snapshot)
expect_cni_error 105 "already has interface eth0" ADD $BIN/circuit-bridge ctr2 /run/netns/c2 eth0 <<< "$conf"
assert_eq "$before" "$(snapshot)" "state after refused ADD"

# STATUS ok; DEL twice; the second is a no-op.
echo "$conf" | cni STATUS $BIN/circuit-bridge "" "" ""
for i in 1 2; do echo "$conf" | cni DEL $BIN/circuit-bridge ctr1 /run/netns/c1 eth0; done
ip link show "$hv" 2>/dev/null && die "host veth survived DEL"
ip -n c1 link show eth0 2>/dev/null && die "container veth survived DEL"
nft list table inet circuit | has "10.99.0.0/24" || die "masquerade removed while ctr2 uses it"
# DEL with the netns already gone succeeds.
ip netns del c2
echo "$conf" | cni DEL $BIN/circuit-bridge ctr2 /run/netns/c2 eth0
nft list table inet circuit 2>/dev/null && die "masquerade table left after last DEL"
[ -z "$(find $CIRCUIT_STATE_DIR/ipam/itnet/ips -type f)" ] || die "addresses left in store"
ok "DEL idempotent, clean"

# Round-robin: a released address is not reused at once.
mkns c3
r3=$(echo "$conf" | cni ADD $BIN/circuit-bridge ctr3 /run/netns/c3 eth0)
assert_eq "10.99.0.4/24" "$(json_get "$r3" 'd["ips"][0]["address"]')" "round robin"
echo "$conf" | cni DEL $BIN/circuit-bridge ctr3 /run/netns/c3 eth0

# GC removes what is not valid.
r3=$(echo "$conf" | cni ADD $BIN/circuit-bridge ctr3 /run/netns/c3 eth0)
gcconf=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); c["cni.dev/valid-attachments"]=[]; print(json.dumps(c))' "$conf")
echo "$gcconf" | cni GC $BIN/circuit-bridge "" "" ""
[ -z "$(ip -o link show master c-itnet)" ] || die "GC left ports on the bridge"
[ -z "$(find $CIRCUIT_STATE_DIR/ipam/itnet/ips -type f)" ] || die "GC left addresses"
ok "GC"

out=$(CNI_COMMAND=VERSION $BIN/circuit-bridge </dev/null)
assert_contains "$out" '"supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]'
ok "VERSION"

# GC also drops masquerade references of attachments that are gone.
r3=$(echo "$conf" | cni ADD $BIN/circuit-bridge ctr3 /run/netns/c3 eth0)
nft list table inet circuit >/dev/null || die "masquerade missing"
echo "$gcconf" | cni GC $BIN/circuit-bridge "" "" ""
nft list table inet circuit 2>/dev/null && die "GC left the masquerade of a gone attachment"
ok "GC masquerade"

# DEL after the container's namespace is gone does not wait for the kernel:
# the host end is detached and down at once (or already gone), and an ADD of
# the same attachment reclaims a leftover name.
mkns c4
r4=$(echo "$conf" | cni ADD $BIN/circuit-bridge ctr4 /run/netns/c4 eth0)
hv4=$(json_get "$r4" 'd["interfaces"][1]["name"]')
# Pin the namespace elsewhere so its veth outlives the path (worst case).
pin=$(mktemp /tmp/circuit-pin.XXXXXX); mount --bind /run/netns/c4 "$pin"; ip netns del c4
echo "$conf" | cni DEL $BIN/circuit-bridge ctr4 /run/netns/c4 eth0
if ip link show "$hv4" >/dev/null 2>&1; then
	ip -o link show "$hv4" | has "master" && die "$hv4 still on the bridge after DEL"
	ip -o link show "$hv4" | has "[<,]UP[,>]" && die "$hv4 still up after DEL"
fi
mkns c4
r4=$(echo "$conf" | cni ADD $BIN/circuit-bridge ctr4 /run/netns/c4 eth0)
ip -o link show "$hv4" | has "master c-itnet" || die "ADD did not reclaim $hv4"
echo "$conf" | cni DEL $BIN/circuit-bridge ctr4 /run/netns/c4 eth0
umount "$pin"; rm -f "$pin"
ok "DEL of a gone namespace, reclaim"

# A /30 holds one container besides the gateway: the second ADD is refused
# with the pool-exhausted code naming the network, STATUS says 50, nothing
# of the refused attachment stays.
tiny='{"cniVersion":"1.1.0","name":"tiny","type":"circuit-bridge","ipam":{"type":"circuit-ipam","subnet":"10.91.0.0/30"}}'
mkns t1; mkns t2
echo "$tiny" | cni ADD $BIN/circuit-bridge tt1 /run/netns/t1 eth0 >/dev/null
before=$(snapshot)
expect_cni_error 101 "no free address in network tiny (10.91.0.0/30)" ADD $BIN/circuit-bridge tt2 /run/netns/t2 eth0 <<< "$tiny"
assert_eq "$before" "$(snapshot)" "state after pool exhausted"
expect_cni_error 50 "no free address" STATUS $BIN/circuit-bridge "" "" "" <<< "$tiny"
echo "$tiny" | cni DEL $BIN/circuit-bridge tt1 /run/netns/t1 eth0
echo "$tiny" | cni STATUS $BIN/circuit-bridge "" "" ""
ok "pool exhausted, STATUS"

# Options: mtu on bridge and both veth ends, hairpin on the port, promiscuous
# bridge, isGateway false (no address on the bridge, no gateway in the result).
opts='{"cniVersion":"1.1.0","name":"opts","type":"circuit-bridge","mtu":1400,"hairpinMode":true,"promiscMode":true,"isGateway":false,"ipam":{"type":"circuit-ipam","subnet":"10.92.0.0/24"}}'
mkns o1
ro=$(echo "$opts" | cni ADD $BIN/circuit-bridge oo1 /run/netns/o1 eth0)
hvo=$(json_get "$ro" 'd["interfaces"][1]["name"]')
ip -o link show c-opts | has "mtu 1400" || die "bridge mtu: $(ip -o link show c-opts)"
ip -o link show c-opts | has "PROMISC" || die "bridge not promiscuous"
ip -o link show "$hvo" | has "mtu 1400" || die "host veth mtu"
ip -n o1 -o link show eth0 | has "mtu 1400" || die "container veth mtu"
ip -d link show "$hvo" | has "hairpin on" || die "hairpin off: $(ip -d link show "$hvo")"
[ -z "$(ip -o -4 addr show dev c-opts)" ] || die "isGateway false put an address on the bridge"
assert_eq "" "$(json_get "$ro" 'd["ips"][0].get("gateway", "")')" "no gateway in the result"
echo "$opts" | cni DEL $BIN/circuit-bridge oo1 /run/netns/o1 eth0
ok "mtu, hairpinMode, promiscMode, isGateway false"
