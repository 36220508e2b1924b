# t-cluster-v6: cluster networks over an IPv6 underlay (spec/cluster.md,
# "IPv6"), on the underlay of tests/integration/cluster.sh with IPv6
# addresses only and an MTU of 4000: three etcd members e1..e3
# (fd77::11-13, endpoints in brackets in the URLs), three hosts h1..h3
# (fd77::1-3, their underlay found from the route to the first endpoint),
# one `circuit agent` each.  Two cluster networks over it: blue4 (IPv4,
# 10.140.0.0/16) and v6 (IPv6, fd00:77::/64, /122 blocks).  Shows: the
# hosts register their IPv6 underlays; a dual-stack cluster network and an
# IPv6 block of 2048 addresses are refused; for both networks, every
# host's vxlan has local = its IPv6 underlay, one all-zero FDB entry per
# peer with an IPv6 dst, MTU = 4000 - 70 = 3930 (vxlan, bridge,
# containers); containers on all three hosts ping each other and their
# gateway (ping -6 on v6), full-size 3930-byte packets included, and
# connect over TCP; every host's vxlan has an entry "MAC dst fd77::N" for
# each other host's container, none for its own; the IPv6 gateway guard: its rules listed, one gateway
# MAC in every container, never learned from the overlay, the bridges'
# shared link-local address not failed DAD, and no neighbour solicitation
# for the gateway reaching a peer's vxlan while those for a remote
# container do (nftables counters on h2's vxlan ingress).
. "$SRCDIR/tests/integration/cluster.sh"
EP="http://[fd77::11]:2379,http://[fd77::12]:2379,http://[fd77::13]:2379"
cl_conf "$tmp/circuit.conf" "$EP"

cl_underlay
init="e1=http://[fd77::11]:2380,e2=http://[fd77::12]:2380,e3=http://[fd77::13]:2380"
for n in 1 2 3; do
	cl_node e$n fd77::1$n
	etcd_start $n e$n fd77::1$n "$init"
done
for n in 1 2 3; do cl_node h$n fd77::$n; done
# An underlay MTU of 4000 (not the default 1500): the overlays' MTU must
# follow the underlay link, 4000 - 70 = 3930.
for l in $(ip -n ul -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1); do
	ip -n ul link set "$l" mtu 4000
done
for n in 1 2 3; do ip -n h$n link set eth0 mtu 4000; done
for n in 1 2 3; do etcd_wait $n e$n fd77::1$n; done
for n in 1 2 3; do agent_start $n h$n "$tmp/circuit.conf"; done
for n in 1 2 3; do cl_registered $n; done
run on 1 "$C" host ls --format json
assert_eq 0 "$rc" "host ls: $out"
assert_eq "h1 fd77::1 h2 fd77::2 h3 fd77::3" \
	"$(json_get "$out" "' '.join(h['name'] + ' ' + h['underlay'] for h in sorted(d, key=lambda h: h['name']))")" \
	"hosts and their underlays"
ok "etcd e1..e3 on [fd77::11-13] and agents h1..h3 up, underlays fd77::1-3"

# --- two cluster networks: IPv4 and IPv6 subnets over the IPv6 underlay
run on 1 "$C" network create blue4 10.140.0.0/16 --scope cluster --vni 4300
assert_eq 0 "$rc" "create blue4: $out"
run on 2 "$C" network create v6 fd00:77::/64 --scope cluster --vni 4301
assert_eq 0 "$rc" "create v6: $out"
# One subnet per cluster network: dual stack is refused; an IPv6 block of
# more than 1024 addresses too.
run on 1 "$C" network create ds 10.141.0.0/16 --subnet fd00:78::/64 --scope cluster
assert_eq 2 "$rc" "dual-stack cluster network: $out"
assert_contains "$out" "--scope cluster takes NAME SUBNET" "dual-stack cluster network"
run on 1 "$C" network create big6 fd00:79::/64 --scope cluster --block-size 117
assert_eq 1 "$rc" "IPv6 block of 2048 addresses: $out"
assert_contains "$out" "block size /117" "IPv6 block of 2048 addresses"
run on 1 "$C" cluster blocks --format json
assert_eq 0 "$(json_get "$out" 'len(d)')" "blocks after the refusals: $out"
for n in 1 2 3; do
	for net in blue4 v6; do
		for _ in $(seq 300); do
			[ "$(bridge -n h$n fdb show dev vc-$net 2>/dev/null | grep -c '^00:00:00:00:00:00 dst fd77::')" = 2 ] && break
			sleep 0.1
		done
		d=$(ip -n h$n -d link show vc-$net)
		for want in "local fd77::$n " "dstport 4789" "nolearning" "master c-$net" "mtu 3930 "; do
			assert_contains "$d" "$want" "vc-$net on h$n"
		done
		f=$(bridge -n h$n fdb show dev vc-$net)
		for p in 1 2 3; do
			[ $p = $n ] && continue
			assert_contains "$f" "00:00:00:00:00:00 dst fd77::$p " "fdb of vc-$net on h$n"
		done
		assert_contains "$(ip -n h$n link show c-$net)" "mtu 3930 " "bridge c-$net MTU on h$n"
	done
	mac[$n]=$(ip -n h$n link show c-v6 | awk '/link\/ether/ {print $2}')
done
assert_eq "${mac[1]}" "${mac[2]}" "v6 gateway MAC h1/h2"
assert_eq "${mac[1]}" "${mac[3]}" "v6 gateway MAC h1/h3"
g=$(ip netns exec h1 nft list table bridge circuit)
has 'arp daddr ip 10\.140\.0\.1 drop' <<<"$g" || die "blue4's gateway guard: $g"
# The target as raw payload (nftables 1.0.6 has no "icmpv6 taddr"; a later
# nft prints it by name).
for want in 'oifname "vc-v6" icmpv6 type \{ nd-neighbor-solicit, nd-neighbor-advert \} (@th,64,128 0xfd000077000000000000000000000001|icmpv6 taddr fd00:77::1) drop' \
	    'iifname "vc-v6" icmpv6 type \{ nd-neighbor-solicit, nd-neighbor-advert \} ip6 saddr fd00:77::1 drop' \
	    "iifname \"vc-v6\" ether saddr ${mac[1]} drop"; do
	has "$want" <<<"$g" || die "v6's gateway guard lacks /$want/: $g"
done
ok "blue4 and v6 on every host: vxlan local fd77::N, IPv6 peers, MTU 3930 (4000 - 70), the ND guard"

# --- containers: c1..c3 on blue4, d1..d3 on v6 (ctr of cluster.sh)
for n in 1 2 3; do ctr $n c$n blue4 -4; ctr $n d$n v6 -6; done
echo "addresses: ${addr[c1]} ${addr[c2]} ${addr[c3]} ${addr[d1]} ${addr[d2]} ${addr[d3]}"
for n in 1 2 3; do
	case ${addr[d$n]} in fd00:77::*) ;; *) die "d$n's address ${addr[d$n]}";; esac
	assert_contains "$(ip -n c$n link show eth0)" "mtu 3930 " "c$n MTU"
	assert_contains "$(ip -n d$n link show eth0)" "mtu 3930 " "d$n MTU"
done
run on 3 "$C" cluster blocks v6 --format json
for n in 1 2 3; do
	b=$(json_get "$out" "' '.join(b['block'] for b in d if b['host'] == 'h$n')")
	python3 -c 'import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1]); assert n.prefixlen == 122 and ipaddress.ip_address(sys.argv[2]) in n' \
		"$b" "${addr[d$n]}" || die "h$n's v6 block '$b' and d$n's address ${addr[d$n]}"
done
# Full-size packets: 3930 bytes of IPv4 (28 of header) or IPv6 (48).
# pings NS ADDR [OPTION...]: one echo answered, of up to 3 (one lost on a
# loaded machine is no failure; a broken path loses all three).
pings() {
	for _ in 1 2 3; do
		ip netns exec "$1" busybox ping "${@:3}" -c 1 -W 2 "$2" >/dev/null && return 0
	done
	return 1
}
for a in 1 2 3; do
	pings c$a 10.140.0.1 || die "c$a cannot ping its gateway"
	pings d$a fd00:77::1 -6 || die "d$a cannot ping -6 its gateway"
	for b in 1 2 3; do
		[ $a = $b ] && continue
		pings c$a "${addr[c$b]}" || die "c$a (h$a) cannot ping c$b (h$b) ${addr[c$b]}"
		pings c$a "${addr[c$b]}" -s 3902 || die "c$a (h$a): no 3930-byte ping to c$b (h$b)"
		pings d$a "${addr[d$b]}" -6 || die "d$a (h$a) cannot ping -6 d$b (h$b) ${addr[d$b]}"
		pings d$a "${addr[d$b]}" -6 -s 3882 || die "d$a (h$a): no 3930-byte ping -6 to d$b (h$b)"
	done
done
ok "ping across hosts over the IPv6 underlay, full-size (3930 bytes) too: blue4 (IPv4) and v6 (ping -6)"

# --- per-container FDB entries towards IPv6 underlays (spec/cluster.md
# "Per-container FDB entries"): on each host, every other host's containers
for net in blue4 v6; do
	pfx=c; [ $net = v6 ] && pfx=d
	for n in 1 2 3; do
		for p in 1 2 3; do
			[ $p = $n ] && continue
			m=$(ip -n $pfx$p link show eth0 | awk '/link\/ether/ {print $2}')
			for _ in $(seq 100); do
				has "^$m dst fd77::$p self permanent" <<<"$(bridge -n h$n fdb show dev vc-$net)" && break
				sleep 0.1
			done
			has "^$m dst fd77::$p self permanent" <<<"$(bridge -n h$n fdb show dev vc-$net)" ||
				die "h$n vc-$net: no entry for $pfx$p ($m dst fd77::$p): $(bridge -n h$n fdb show dev vc-$net)"
		done
		m=$(ip -n $pfx$n link show eth0 | awk '/link\/ether/ {print $2}')
		has "^$m dst" <<<"$(bridge -n h$n fdb show dev vc-$net)" &&
			die "h$n vc-$net has an entry for its own $pfx$n: $(bridge -n h$n fdb show dev vc-$net)"
	done
done
ok "container FDB entries: every host has MAC dst fd77::N for the others' containers on blue4 and v6, none for its own"

# tcp FROM TO ADDR PORT /proc/net/FILE HEXPORT: a line over TCP.
tcp() {
	rm -f "$tmp/tcp.out"
	ip netns exec "$2" busybox nc -l -p "$4" >"$tmp/tcp.out" &
	extra_pids+=($!)
	for _ in $(seq 50); do has ":$6 0+:0000 0A" <<<"$(ip netns exec "$2" cat "$5")" && break; sleep 0.1; done
	ip netns exec "$1" busybox nc -w 3 "$3" "$4" <<<"$1 to $2" || die "nc $1 -> $2 [$3]:$4 failed"
	for _ in $(seq 50); do [ -s "$tmp/tcp.out" ] && break; sleep 0.1; done
	assert_eq "$1 to $2" "$(cat "$tmp/tcp.out")" "TCP $1 -> $2"
}
tcp c1 c3 "${addr[c3]}" 7777 /proc/net/tcp 1E61
tcp d1 d3 "${addr[d3]}" 7778 /proc/net/tcp6 1E62
ok "TCP across hosts: c1 -> c3 (IPv4), d1 -> d3 (IPv6)"

# --- the IPv6 gateway guard by traffic: on h2's vxlan ingress (before the
# bridge), count the neighbour solicitations that reach it from the overlay
# for the gateway and for d2 (a remote container's, which must cross).
ip netns exec h2 nft -f - <<'EOF'
table netdev witness {
	counter gw { }
	counter ctr { }
}
EOF
ip netns exec h2 nft add chain netdev witness in "{ type filter hook ingress device vc-v6 priority 0; }"
# The target, 16 bytes after the ICMPv6 header's 8, as raw payload.
hex() { python3 -c 'import ipaddress,sys; print("0x" + ipaddress.ip_address(sys.argv[1]).packed.hex())' "$1"; }
ip netns exec h2 nft add rule netdev witness in icmpv6 type nd-neighbor-solicit @th,64,128 "$(hex fd00:77::1)" counter name gw
ip netns exec h2 nft add rule netdev witness in icmpv6 type nd-neighbor-solicit @th,64,128 "$(hex "${addr[d2]}")" counter name ctr
for n in 1 3; do
	ip -n d$n -6 neigh flush dev eth0
	pings d$n fd00:77::1 -6 || die "d$n cannot ping -6 its gateway after a flush"
	pings d$n "${addr[d2]}" -6 || die "d$n cannot ping -6 d2 after a flush"
done
w=$(ip netns exec h2 nft list table netdev witness)
has 'counter gw \{[[:space:]]+packets 0 ' <<<"$(tr '\n' ' ' <<<"$w")" || die "solicitations for the gateway crossed the overlay: $w"
has 'counter ctr \{[[:space:]]+packets [1-9]' <<<"$(tr '\n' ' ' <<<"$w")" || die "no solicitation for d2 crossed the overlay: $w"
for n in 1 2 3; do
	has "lladdr ${mac[1]}" <<<"$(ip -n d$n -6 neigh show fd00:77::1)" ||
		die "d$n resolves its gateway to $(ip -n d$n -6 neigh show fd00:77::1)"
	has "${mac[1]}" <<<"$(bridge -n h$n fdb show dev vc-v6)" &&
		die "h$n learned the gateway MAC on the overlay: $(bridge -n h$n fdb show dev vc-v6)"
done
for n in 1 2 3; do
	a=$(ip -n h$n -6 addr show dev c-v6)
	has dadfailed <<<"$a" && die "h$n's c-v6 failed DAD: $a"
done
ok "ND guard: no solicitation for fd00:77::1 reached h2's vxlan (d1, d3 resolved it at home), those for d2 did; one gateway MAC in every container"

# --- an IPv6 subnet on a host whose overlay would be under 1280: one clear
# line before anything is made (the kernel would refuse the gateway address)
# (The MTU first: h3's agent makes a new network as soon as it sees it.)
ip -n h3 link set eth0 mtu 1300
run on 1 "$C" network create v6small fd00:78::/64 --scope cluster
assert_eq 0 "$rc" "create v6small: $out"
cl_ns x3
ip netns exec x3 sleep 3600 &
extra_pids+=($!)
netns_wait $!
run on 3 "$C" network connect $! v6small
assert_eq 1 "$rc" "connect on an underlay of MTU 1300: $out"
assert_contains "$out" "network v6small: overlay MTU 1230 (underlay 1300 - 70) is below IPv6's minimum 1280" "MTU too small"
has 'c-v6small|vc-v6small' <<<"$(ip -n h3 -o link show)" && die "h3 made links for v6small: $(ip -n h3 -o link show)"
[ -e "$tmp/s3/networks/v6small" ] && die "h3 recorded v6small"
ok "IPv6 subnet over an overlay under 1280: refused in one line, nothing made"
