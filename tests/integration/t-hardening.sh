# SPDX-License-Identifier: Apache-2.0
# What outside probes found (issue 10): subnets that would re-route host
# traffic or take special ranges; a hook pool search holding the lock;
# dataDir anywhere, with "..", created with its parents, owned by someone
# else; names that forge log lines.  Each check here failed before its fix.
C=$BIN/circuit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- subnets ----
# A route more specific than the default (a VPN, a routed lab) is taken.
ip link add up0 type veth peer name up1; ip link set up0 up; ip link set up1 up
ip addr add 192.0.2.2/24 dev up0
ip route add 198.51.100.0/24 via 192.0.2.1
run $C network create vpn 198.51.100.0/25
assert_eq 1 "$rc" "subnet over a route"
assert_eq "ERRO[0000] subnet 198.51.100.0/25 overlaps route 198.51.100.0/24 on up0" "$out" "route message"
ip route add default via 192.0.2.1
# A default route alone does not make every subnet taken.
run $C network create pub 203.0.113.0/24
assert_eq 0 "$rc" "an admin may take a public range ($out)"
$C network delete pub 2>/dev/null
for s in 127.0.0.0/24:loopback 169.254.0.0/16:link-local 224.1.0.0/24:multicast \
	 0.0.0.0/24:unspecified 255.255.255.0/24:reserved; do
	run $C network create sp "${s%%:*}"
	assert_eq 1 "$rc" "special range ${s%%:*}"
	assert_eq "ERRO[0000] subnet ${s%%:*} is in a ${s##*:} range (--allow-reserved to take it anyway)" \
		"$out" "special range message"
done
run $C network create sp 169.254.5.0/24 --allow-reserved
assert_eq 0 "$rc" "--allow-reserved ($out)"
$C network delete sp 2>/dev/null
ok "subnets over host routes and special ranges are refused"

# A container may only ask for private-use ranges (its config is not the
# admin's): circuit.subnet / SUBNET of a public or special range, or a pool.
hook() { # hook ID STATUS PID ANNOTATIONS_JSON
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%s,"bundle":"/x","annotations":%s}' \
		"$1" "$2" "$3" "$4" | env -u NETWORK -u SUBNET $C
}
mkns h1; ip netns exec h1 sleep 1000 & hp=$!; sleep 0.1
run hook h1 creating $hp '{"circuit.subnet":"203.0.113.0/24"}'
assert_eq 1 "$rc" "hook public subnet"
assert_contains "$out" "subnet 203.0.113.0/24 is not a private-use range" "hook public subnet message"
run hook h1 creating $hp '{"circuit.subnet":"127.0.0.0/24"}'
assert_eq 1 "$rc" "hook loopback subnet"
assert_eq "" "$(ip -o link show | awk -F': ' '{print $2}' | grep '^c-' || true)" "no bridge left"
# A loopback pool is refused at once, not searched candidate by candidate
# (65,536 /24s of 127/8 held the global lock for 5 s).
start=$(date +%s%N)
run hook h1 creating $hp '{"circuit.pool":"127.0.0.0/8"}'
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq 1 "$rc" "loopback pool"
assert_contains "$out" "subnet pool 127.0.0.0/8 is in a loopback range" "pool message"
echo "MEASURE refused loopback pool ms=$ms"
# A /8 private pool whose first 300 /24s are taken: one snapshot, then an
# in-memory walk.
for i in $(seq 0 299); do echo "route add 10.$((i / 256)).$((i % 256)).0/24 via 192.0.2.1"; done |
	ip -batch -
start=$(date +%s%N)
run hook h1 creating $hp '{"circuit.pool":"10.0.0.0/8"}'
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq 0 "$rc" "pool with 300 taken /24s ($out)"
assert_contains "$out" "h1 created" "pool pick"
assert_eq "10.1.44.0/24" "$(json_get "$($C network inspect h1)" 'd["subnet"]')" "first free /24"
echo "MEASURE hook create from a /8 pool with 300 taken /24s ms=$ms"
run hook h1 stopped 0 '{}'
assert_eq 0 "$rc" "hook stop ($out)"
ok "a container asks for private-use ranges only; pool search bounded"

# ---- dataDir ----
conf() { # conf DATADIR
	printf '{"cniVersion":"1.0.0","name":"dd","type":"circuit-bridge","ipam":{"type":"circuit-ipam","subnet":"10.254.88.0/24","dataDir":"%s"}}' "$1"
}
mkns d1
mkdir -p "$tmp/open"; chmod 0777 "$tmp/open"
mkdir -p "$tmp/theirs"; chmod 0700 "$tmp/theirs"; chown 65534 "$tmp/theirs"
mkdir -p "$tmp/private"; chmod 0700 "$tmp/private"
expect_cni_error 7 "\".\" and \"..\" components are refused" ADD $BIN/circuit-ipam c1 /run/netns/d1 eth0 \
	<<<"$(conf "$tmp/private/../open")"
expect_cni_error 7 "owned by uid 0 with mode 0777; it must be owned by uid 0 and private" \
	ADD $BIN/circuit-ipam c1 /run/netns/d1 eth0 <<<"$(conf "$tmp/open")"
expect_cni_error 7 "owned by uid 65534 with mode 0700" ADD $BIN/circuit-ipam c1 /run/netns/d1 eth0 \
	<<<"$(conf "$tmp/theirs")"
expect_cni_error 7 "its parent directory does not exist" ADD $BIN/circuit-ipam c1 /run/netns/d1 eth0 \
	<<<"$(conf "$tmp/no/such/dir")"
[ ! -e "$tmp/no" ] || die "dataDir parents were created"
[ -z "$(ls -A "$tmp/open")$(ls -A "$tmp/theirs")" ] || die "state written into a refused dataDir"
res=$(cni ADD $BIN/circuit-ipam c1 /run/netns/d1 eth0 <<<"$(conf "$tmp/private/state")")
assert_eq "10.254.88.2/24" "$(json_get "$res" 'd["ips"][0]["address"]')" "private dataDir works"
assert_eq "700" "$(stat -c %a "$tmp/private/state")" "made 0700"
cni DEL $BIN/circuit-ipam c1 /run/netns/d1 eth0 <<<"$(conf "$tmp/private/state")" >/dev/null
ok "dataDir: no .., no parents made, root-owned and private only"

# ---- log lines ----
# A container id holding a newline is refused in one line, quoted.
run hook 'x\nINFO[0000] forged' creating $hp '{}'
assert_eq 1 "$rc" "newline id"
assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "one log line ($out)"
assert_contains "$out" 'x\nINFO[0000] forged' "id quoted"
kill $hp; wait $hp 2>/dev/null || true
ok "names cannot forge log lines"
