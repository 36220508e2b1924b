# SPDX-License-Identifier: Apache-2.0
# v-lb-v6udp: traffic, not only programming, for an IPv6 VIP and a UDP VIP.
#  - `lb create web6 [fd00:96::1]:80` with two IPv6 targets (busybox httpd
#    in namespaces): 10 requests from this host answered 5/5 by both;
#  - `lb create dns 10.96.2.53:5353 --protocol udp --check udp:ping` with two
#    UDP targets (python3 servers answering their name): 10 new flows (a new
#    socket each) answered 5/5; `circuit agent` runs the udp check: killing
#    u2's server takes its dest out of the IPVS table (port unreachable; a
#    UDP target is removed, not weighted 0), then every flow goes to u1; its
#    server back, it is in the table again with weight 1.
C=$BIN/circuit
pids=()
apid=''
trap 'kill $apid "${pids[@]}" 2>/dev/null || true' EXIT

weight_of() {
	ipvsadm -Ln | awk -v s="$1" -v t="$2" '
		/^(TCP|UDP) / { on = $2 == s; next }
		on && $1 == "->" && $2 == t { print $4 }'
}

# --- IPv6
for i in 1 2; do
	mkns s$i
	ip link add vs$i type veth peer name eth0 netns s$i
	ip addr add fd00:61:$i::1/64 dev vs$i nodad
	ip link set vs$i up
	ip -n s$i addr add fd00:61:$i::2/64 dev eth0 nodad
	ip -n s$i link set eth0 up
	ip -n s$i route add default via fd00:61:$i::1
	mkdir -p /tmp/www6$i
	echo "s$i" >/tmp/www6$i/index.html
	ip netns exec s$i busybox httpd -f -p '[::]:8080' -h /tmp/www6$i &
	pids+=($!)
done
for i in 1 2; do
	for _ in $(seq 50); do
		curl -s -g --max-time 1 "http://[fd00:61:$i::2]:8080/" >/dev/null && break
		sleep 0.1
	done
done
out=$("$C" lb create web6 '[fd00:96::1]:80' 2>&1) || die "create web6: $out"
for i in 1 2; do
	out=$("$C" lb add web6 "[fd00:61:$i::2]:8080" 2>&1) || die "add s$i: $out"
done
ipvsadm -Ln
ip -6 addr show dev circuit-lb0
urls=()
for _ in $(seq 10); do urls+=("http://[fd00:96::1]/"); done
out=$(curl -s -g -H 'Connection: close' --max-time 5 "${urls[@]}" || true)
got="$(grep -cx s1 <<<"$out" || true)/$(grep -cx s2 <<<"$out" || true)"
assert_eq "5/5" "$got" "IPv6 VIP: 10 requests over two IPv6 targets"
ok "IPv6 VIP answered by both targets"

# --- UDP
cat >/tmp/udpsrv.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
while True:
    d, a = s.recvfrom(512)
    s.sendto(sys.argv[1].encode(), a)
PY
cat >/tmp/udpcli.py <<'PY'
import socket, sys
names = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"q", (sys.argv[1], 5353))
    try:
        names.append(s.recv(64).decode())
    except OSError as e:
        names.append("fail")
    s.close()
print(" ".join(names))
PY
udp_serve() {
	ip netns exec u$1 python3 /tmp/udpsrv.py u$1 &
	upid[$1]=$!
	pids+=($!)
}
upid=()
for i in 1 2; do
	mkns u$i
	vpair u$i 10.62.$i.1/24 10.62.$i.2/24 vu$i
	udp_serve $i
done
sleep 1
out=$("$C" lb create dns 10.96.2.53:5353 --protocol udp --check udp:ping --interval 1s \
	--timeout 1s --rise 1 --fall 2 2>&1) || die "create dns: $out"
for i in 1 2; do "$C" lb add dns 10.62.$i.2:5353 2>/dev/null || die "add u$i"; done
out=$(python3 /tmp/udpcli.py 10.96.2.53 10)
echo "udp replies: $out"
got="$(grep -o u1 <<<"$out" | wc -l)/$(grep -o u2 <<<"$out" | wc -l)"
assert_eq "5/5" "$got" "UDP VIP: 10 flows over two targets"
ok "UDP VIP answered by both targets"

"$C" agent >/tmp/agent-udp.log 2>&1 &
apid=$!
kill "${upid[2]}"
t0=$(date +%s)
# A down UDP target leaves the IPVS table (spec/lb.md: a weight-0 dest
# would keep a client that keeps sending); its record stays, "down".
while [ -n "$(weight_of 10.96.2.53:5353 10.62.2.2:5353)" ]; do
	[ $(($(date +%s) - t0)) -lt 20 ] || { cat /tmp/agent-udp.log; die "u2 not down in 20 s"; }
	sleep 0.2
done
echo "MEASURE v-lb-v6udp udp check: u2 out of the IPVS table after $(($(date +%s) - t0)) s"
out=$(python3 /tmp/udpcli.py 10.96.2.53 6)
assert_eq "u1 u1 u1 u1 u1 u1" "$out" "flows with u2 down"
out=$("$C" lb ls --details)
echo "$out"
assert_contains "$out" 'state=down last-error="udp: port unreachable"' "lb ls --details"
udp_serve 2
t0=$(date +%s)
while [ "$(weight_of 10.96.2.53:5353 10.62.2.2:5353)" != 1 ]; do
	[ $(($(date +%s) - t0)) -lt 20 ] || { cat /tmp/agent-udp.log; die "u2 not up in 20 s"; }
	sleep 0.2
done
ok "udp check takes a target out and back"
kill $apid; wait $apid || true; apid=''
for s in web6 dns; do "$C" lb delete $s 2>/dev/null || die "delete $s"; done
