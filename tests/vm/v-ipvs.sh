# SPDX-License-Identifier: Apache-2.0
# v-ipvs: lib/ipvs against a real kernel, ipvsadm as the witness.
#  - add/edit/get/delete of services and dests, EEXIST/ENOENT reported
#    distinctly (ipvs-probe exit 3/4), IPv4 + IPv6 + persistent services;
#  - the library's dump equals `ipvsadm -Ln` line for line;
#  - rr with NAT over 3 busybox httpd backends in namespaces behind a VIP:
#    30 curl requests spread 10/10/10 (+-1); flush, then restore.
P=$PROBE
V=10.96.0.10:80

# expect_rc RC CMD...: run CMD, require exit status RC
expect_rc() {
	local want=$1 rc=0; shift
	"$@" 2>/tmp/expect.err || rc=$?
	[ "$rc" = "$want" ] || die "'$*': want rc $want, got $rc: $(cat /tmp/expect.err)"
	[ "$rc" = 0 ] || echo "expected rc $rc: $(cat /tmp/expect.err)"
}

# normalised "service | dest" lines, sorted: ipvsadm -Ln or ipvs-probe list
norm() {
	tr -s ' ' | sed 's/ $//; s/^ //' |
		awk '/^(TCP|UDP|SCTP|FWM) / { s = $0; print s; next } /^-> / && s != "" { print s " | " $0 }' |
		sort
}
compare_witness() {
	local mine theirs
	mine=$("$P" list | norm)
	theirs=$(ipvsadm -Ln | norm)
	[ "$mine" = "$theirs" ] || die "$1: lib dump differs from ipvsadm -Ln:
--- lib
$mine
--- ipvsadm
$theirs"
	ok "$1: lib dump == ipvsadm -Ln ($(echo "$mine" | grep -c .) lines)"
}

# --- API semantics
t0=$(date +%s.%N)
expect_rc 0 "$P" add-service tcp $V rr
expect_rc 3 "$P" add-service tcp $V rr
expect_rc 0 "$P" add-service udp 10.96.0.10:53 wrr
expect_rc 0 "$P" add-service tcp [fd00::10]:443 rr
expect_rc 0 "$P" add-service tcp 10.96.0.11:80 sh persistent 300
expect_rc 4 "$P" add-service tcp 10.96.0.12:80 no-such-sched
expect_rc 0 "$P" add-dest tcp $V 10.91.1.2:8080 1
expect_rc 0 "$P" add-dest tcp $V 10.91.2.2:8080 1 masq
expect_rc 0 "$P" add-dest tcp $V 10.91.3.2:8080 1
expect_rc 3 "$P" add-dest tcp $V 10.91.3.2:8080 1
expect_rc 4 "$P" add-dest tcp 10.96.0.99:80 10.91.3.2:8080 1
expect_rc 0 "$P" add-dest udp 10.96.0.10:53 10.91.1.2:53 3 route
expect_rc 0 "$P" add-dest udp 10.96.0.10:53 10.91.2.2:53 1 tunnel
expect_rc 0 "$P" add-dest tcp [fd00::10]:443 [fd00:1::2]:8443 2
expect_rc 0 "$P" add-dest tcp 10.96.0.11:80 10.91.1.2:80 1
compare_witness "after adds"
ipvsadm -Ln | tr -s ' ' | has '^TCP 10.96.0.11:80 sh persistent 300' ||
	die "persistent service not seen by ipvsadm: $(ipvsadm -Ln)"
ipvsadm -Ln | tr -s ' ' | has '^TCP \[fd00::10\]:443 rr' ||
	die "ipv6 service not seen by ipvsadm: $(ipvsadm -Ln)"

expect_rc 0 "$P" edit-dest udp 10.96.0.10:53 10.91.2.2:53 7 tunnel
ipvsadm -Ln | tr -s ' ' | has '-> 10.91.2.2:53 Tunnel 7 ' || die "edit-dest not seen"
expect_rc 0 "$P" edit-service udp 10.96.0.10:53 rr
ipvsadm -Ln | tr -s ' ' | has '^UDP 10.96.0.10:53 rr' || die "edit-service not seen"
expect_rc 4 "$P" edit-service udp 10.96.0.99:53 rr
expect_rc 4 "$P" edit-dest udp 10.96.0.10:53 10.91.9.9:53 1
got=$("$P" get-service tcp 10.96.0.11:80 | sed -n 1p)
assert_eq "TCP 10.96.0.11:80 sh persistent 300" "$got" "get-service"
expect_rc 4 "$P" get-service tcp 10.96.0.99:80

expect_rc 0 "$P" del-dest udp 10.96.0.10:53 10.91.1.2:53
expect_rc 4 "$P" del-dest udp 10.96.0.10:53 10.91.1.2:53
expect_rc 4 "$P" del-dest udp 10.96.0.99:53 10.91.1.2:53
expect_rc 0 "$P" del-service tcp 10.96.0.11:80
expect_rc 4 "$P" del-service tcp 10.96.0.11:80
expect_rc 0 "$P" del-service tcp [fd00::10]:443
compare_witness "after edits and deletes"
t1=$(date +%s.%N)
echo "MEASURE ipvs api 27 ops+2 dumps $(echo "($t1 - $t0) * 1000 / 1" | bc) ms (TCG, incl. exec)"
ok "EEXIST/ENOENT distinct, edit/get/delete as the witness sees them"

# --- rr with NAT over 3 busybox httpd backends
# Topology: this test's namespace is the director.  client c 10.90.0.2 and
# backends bN 10.91.N.2 each hang off it on a veth; the VIP is on a dummy
# device (IPVS only takes packets addressed to a local address).
expect_rc 0 "$P" del-service udp 10.96.0.10:53
sysctl -qw net.ipv4.ip_forward=1
ip link add vip0 type dummy
ip addr add 10.96.0.10/32 dev vip0
ip link set vip0 up
mkns c
vpair c 10.90.0.1/24 10.90.0.2/24 vc
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
for i in 1 2 3; do
	mkns b$i
	vpair b$i 10.91.$i.1/24 10.91.$i.2/24 vb$i
	mkdir -p /tmp/www$i
	echo "b$i" >/tmp/www$i/index.html
	ip netns exec b$i busybox httpd -f -p 8080 -h /tmp/www$i &
	pids+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 50); do
		curl -s --max-time 2 http://10.91.$i.2:8080/ >/dev/null && break
		sleep 0.1
	done
	assert_eq "b$i" "$(curl -s --max-time 2 http://10.91.$i.2:8080/)" "backend b$i up"
done
compare_witness "rr service before traffic"

t0=$(date +%s.%N)
seq_out=$(for _ in $(seq 30); do
	ip netns exec c curl -s --max-time 5 http://10.96.0.10/ || echo fail
done)
t1=$(date +%s.%N)
echo "MEASURE ipvs rr 30 requests $(echo "($t1 - $t0) * 1000 / 1" | bc) ms"
n1=$(grep -cx b1 <<<"$seq_out" || true)
n2=$(grep -cx b2 <<<"$seq_out" || true)
n3=$(grep -cx b3 <<<"$seq_out" || true)
echo "MEASURE ipvs rr spread b1=$n1 b2=$n2 b3=$n3 (first 6: $(head -6 <<<"$seq_out" | tr '\n' ' '))"
for n in $n1 $n2 $n3; do
	[ "$n" -ge 9 ] && [ "$n" -le 11 ] || die "rr spread not 10/10/10 +-1: $n1/$n2/$n3"
done
# The kernel's own counters agree (lib stats vs requests seen).  They are
# folded from per-cpu counters by the 2 s rate estimator: poll a little.
want=$(printf 'b1 conns=%s b2 conns=%s b3 conns=%s' "$n1" "$n2" "$n3")
for _ in $(seq 20); do
	stats=$("$P" stats)
	got=$(for i in 1 2 3; do
		printf 'b%s conns=%s ' $i "$(sed -n "s/.*-> 10.91.$i.2:8080 conns=//p" <<<"$stats")"
	done)
	[ "${got% }" = "$want" ] && break
	sleep 0.5
done
assert_eq "$want" "${got% }" "kernel per-dest connection counters"
ok "rr over 3 httpd backends: $n1/$n2/$n3"

# Flush, and traffic stops; restore through the library, and it flows.
expect_rc 0 "$P" flush
assert_eq "" "$("$P" list)" "lib dump after flush"
[ "$(ipvsadm -Ln | wc -l)" = 3 ] || die "ipvsadm still lists services after flush"
if ip netns exec c curl -s --max-time 2 http://10.96.0.10/; then die "VIP answers after flush"; fi
expect_rc 0 "$P" add-service tcp $V rr
for i in 1 2 3; do expect_rc 0 "$P" add-dest tcp $V 10.91.$i.2:8080 1; done
got=$(for _ in 1 2 3; do ip netns exec c curl -s --max-time 5 http://10.96.0.10/; done | sort | tr '\n' ' ')
assert_eq "b1 b2 b3 " "$got" "one request per backend after restore"
expect_rc 0 "$P" flush
ok "flush and restore"
