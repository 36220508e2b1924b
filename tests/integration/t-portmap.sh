# SPDX-License-Identifier: Apache-2.0
# Published ports (connect --publish, circuit-portmap).  This test's own
# namespace is the "host": the bridge c-pm of a dual-stack network, and a
# veth to the namespace "outside" (198.18.0.2, fd00:99::2, no route to the
# containers).  Containers a, b, c are sleep processes in namespaces made
# here, with busybox httpd (TCP, curl as client) and a python UDP echo naming its container.
# Checked: outside -> HOSTIP:HOSTPORT over IPv4 and IPv6, the host via its
# own address and 127.0.0.1, hairpin from another container and from the
# same one, a host-IP-specific mapping, ranges, a duplicate host port
# refused (same and other network) with nothing left, UDP conntrack flushed
# when a mapping goes and comes (next datagram of the same flow reaches the
# new container), restore re-makes the DNAT, gc removes a gone container's
# ports, disconnect leaves no rule and no state, bad --publish values
# refused with one line.  The reachability checks run with br_netfilter
# handing bridged traffic to the IP hooks and without (this namespace's own
# bridge-nf-call-* values, when the module is loaded).
C=$BIN/circuit
command -v conntrack >/dev/null || skip "conntrack (Debian package conntrack) is not installed"

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for ns in a b c d outside; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
www=$(mktemp -d /tmp/circuit-pm.XXXXXX)
# ctr NAME: a container with httpd on 80 and 81 and a UDP echo on 5353,
# each answering its name.  -> $pid
ctr() {
	mkns "$1"
	mkdir -p "$www/$1"; echo "$1" >"$www/$1/index.html"
	ip netns exec "$1" sleep 1000 & pid=$!; pids+=($pid); netns_wait $pid
	ip netns exec "$1" busybox httpd -f -p 80 -h "$www/$1" & pids+=($!)
	ip netns exec "$1" busybox httpd -f -p 81 -h "$www/$1" & pids+=($!)
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 5353))
while True:
    d, a = s.recvfrom(100)
    s.sendto(sys.argv[1].encode(), a)
' "$1" & pids+=($!)
}
# get NS URL: the page's body ("" when unreachable)
get() { ip netns exec "$1" curl -sg --max-time 3 "$2" 2>/dev/null || true; }
# hget URL: the same from the host (this namespace)
hget() { curl -sg --max-time 3 "$1" 2>/dev/null || true; }
# udp NS ADDR PORT SPORT: one datagram from source port SPORT, the answer
udp() {
	ip netns exec "$1" python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(("", int(sys.argv[3])))
s.settimeout(2)
s.sendto(b"x", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recv(100).decode())
except OSError:
    print("")
' "$2" "$3" "$4"
}
rules() { nft list table inet circuit 2>/dev/null || true; }
pmstate() { find "$CIRCUIT_STATE_DIR/portmap" -mindepth 2 ! -name lock 2>/dev/null | sort; }

# ---- the host, the outside ----
mkns outside
ip link add hv0 type veth peer name ov0 netns outside
ip addr add 198.18.0.1/24 dev hv0; ip -6 addr add fd00:99::1/64 dev hv0 nodad
ip link set hv0 up
ip -n outside addr add 198.18.0.2/24 dev ov0; ip -n outside -6 addr add fd00:99::2/64 dev ov0 nodad
ip -n outside link set ov0 up

# ---- a network, its conflist, two containers ----
expect 0 "INFO[0000] pm created" $C network create pm 10.254.7.0/24 --subnet fd00:7::/64
conf=$($C network export pm)
assert_eq "circuit-portmap True" \
	"$(json_get "$conf" '"%s %s" % (d["plugins"][-1]["type"], d["plugins"][-1]["capabilities"]["portMappings"])')" \
	"exported conflist has circuit-portmap"
ctr a; pa=$pid
ctr b; pb=$pid
expect 0 "INFO[0000] connected container $pa to network pm" \
	$C network connect $pa pm --publish 8080:80 --publish 9000-9001:80-81 --publish 5353:5353/udp
expect 0 "INFO[0000] connected container $pb to network pm" \
	$C network connect $pb pm --publish 198.18.0.1:8090:80 --publish '[fd00:99::1]:8091:80'
insp=$($C network inspect pm)
assert_eq "['8080:80/tcp', '9000-9001:80-81/tcp', '5353:5353/udp'] ['198.18.0.1:8090:80/tcp', '[fd00:99::1]:8091:80/tcp']" \
	"$(json_get "$insp" '"%s %s" % tuple(m.get("publish") for m in sorted(d["members"], key=lambda m: m["pid"] != '$pa'))')" \
	"inspect shows the published ports"
r=$(rules)
assert_contains "$r" "tcp . 8080 : 10.254.7." "IPv4 element"
assert_contains "$r" "tcp . 8080 : fd00:7::" "IPv6 element"
assert_contains "$r" "198.18.0.1 . tcp . 8090 : 10.254.7." "host-address element"
ok "connect --publish: conflist, inspect, map elements"

# ---- reachable ----
# reach MODE: every path, with br_netfilter passing bridged traffic to the
# IP hooks (MODE brnf) or not (MODE routed); this namespace's own setting.
reach() {
	local m=$1
	for i in 1 2 3; do   # the first flows may race the new namespaces' neighbours
		[ "$(get outside http://198.18.0.1:8080/)" = a ] && break; sleep 0.5
	done
	assert_eq a "$(get outside http://198.18.0.1:8080/)" "$m: outside -> 198.18.0.1:8080"
	assert_eq a "$(get outside 'http://[fd00:99::1]:8080/')" "$m: outside -> [fd00:99::1]:8080"
	assert_eq a "$(get outside http://198.18.0.1:9000/)" "$m: outside -> 9000 (range)"
	assert_eq a "$(get outside http://198.18.0.1:9001/)" "$m: outside -> 9001 (range, port 81)"
	assert_eq b "$(get outside http://198.18.0.1:8090/)" "$m: outside -> 198.18.0.1:8090 (host address)"
	assert_eq b "$(get outside 'http://[fd00:99::1]:8091/')" "$m: outside -> [fd00:99::1]:8091"
	assert_eq "" "$(get outside 'http://[fd00:99::1]:8090/')" "$m: 8090 is published on 198.18.0.1 only"
	ok "$m: from outside, IPv4 and IPv6, ranges, host addresses"
	assert_eq a "$(hget http://198.18.0.1:8080/)" "$m: host -> 198.18.0.1:8080"
	assert_eq a "$(hget 'http://[fd00:99::1]:8080/')" "$m: host -> [fd00:99::1]:8080"
	assert_eq a "$(hget http://127.0.0.1:8080/)" "$m: host -> 127.0.0.1:8080"
	assert_eq 1 "$(cat /proc/sys/net/ipv4/conf/c-pm/route_localnet)" "$m: route_localnet on the bridge"
	assert_eq 0 "$(cat /proc/sys/net/ipv4/conf/hv0/route_localnet)" "$m: route_localnet elsewhere untouched"
	ok "$m: from the host: its own addresses and 127.0.0.1"
	assert_eq a "$(get b http://198.18.0.1:8080/)" "$m: hairpin b -> host:8080 -> a"
	assert_eq a "$(get b http://10.254.7.1:8080/)" "$m: hairpin b -> gateway:8080 -> a"
	assert_eq a "$(get b 'http://[fd00:99::1]:8080/')" "$m: hairpin IPv6 b -> a"
	assert_eq a "$(get a http://198.18.0.1:8080/)" "$m: a -> host:8080 -> a itself"
	assert_eq a "$(get a 'http://[fd00:7::1]:8080/')" "$m: a -> [gateway]:8080 -> a itself (IPv6)"
	ok "$m: hairpin: another container and the same one, both families"
}
brnf=/proc/sys/net/bridge/bridge-nf-call-iptables
if [ -e $brnf ]; then
	echo 1 >$brnf; echo 1 >/proc/sys/net/bridge/bridge-nf-call-ip6tables
	# Connected while br_netfilter is on: circuit-portmap sets hairpin
	# mode on the port (the kernel bridges a DNATed frame back).
	reach brnf
	echo 0 >$brnf; echo 0 >/proc/sys/net/bridge/bridge-nf-call-ip6tables
fi
# Routed: no port needs hairpin mode (cleared to prove it).
for port in $(ip -o link show master c-pm | awk -F': ' '{print $2}' | sed 's/@.*//'); do
	ip link set dev "$port" type bridge_slave hairpin off
done
reach routed

# ---- a duplicate host port: refused, nothing half-made ----
ctr c; pc=$pid
before_rules=$(rules); before_state=$(pmstate)
expect 1 "ERRO[0000] circuit-portmap ADD: host port tcp/8080 is already published by container pid-$pa on network pm" \
	$C network connect $pc pm --publish 7000:80 --publish 8080:80
assert_eq "$before_rules" "$(rules)" "refused connect left the ruleset as it was"
assert_eq "$before_state" "$(pmstate)" "refused connect left the portmap state as it was"
ip -n c link show eth0 >/dev/null 2>&1 && die "refused connect left eth0 in c"
expect 0 "INFO[0000] pm2 created" $C network create pm2 10.254.8.0/24
expect 1 "ERRO[0000] circuit-portmap ADD: host port tcp/8090 on 198.18.0.1 is already published by container pid-$pb on network pm" \
	$C network connect $pc pm2 --publish 198.18.0.1:8090:80
expect 1 "ERRO[0000] circuit-portmap ADD: host port udp/5353 on 127.0.0.1 is already published by container pid-$pa on network pm" \
	$C network connect $pc pm2 --publish 127.0.0.1:5353:5353/udp
expect 0 "INFO[0000] connected container $pc to network pm2" \
	$C network connect $pc pm2 --publish 198.18.0.2:8090:80 --publish 8080:80/udp
expect 0 "INFO[0000] disconnected container $pc from network pm2" $C network disconnect $pc pm2
ok "a host port held by another member (same or other network) is refused; other host IP or protocol is not"

# ---- UDP: conntrack flushed when the mapping goes and comes ----
assert_eq a "$(udp outside 198.18.0.1 5353 40000)" "udp -> a"
conntrack -L -p udp --dport 5353 2>/dev/null | has "sport=40000 dport=5353 .*src=10.254.7." ||
	die "no conntrack entry of the UDP flow"
expect 0 "INFO[0000] disconnected container $pa from network pm" $C network disconnect $pa pm
conntrack -L -p udp --dport 5353 2>/dev/null | has "sport=40000" && die "UDP entry kept after disconnect"
expect 0 "INFO[0000] connected container $pc to network pm" $C network connect $pc pm --publish 5353:5353/udp
assert_eq c "$(udp outside 198.18.0.1 5353 40000)" "same flow reaches the new container c"
# An entry made before the port was published (no DNAT, ICMP unreachable)
# must not keep bypassing the mapping.
assert_eq "" "$(udp outside 198.18.0.1 5354 40001)" "5354 not published yet"
conntrack -L -p udp --dport 5354 2>/dev/null | has "sport=40001" || die "no entry of the unpublished flow"
ctr d; pd=$pid
expect 0 "INFO[0000] connected container $pd to network pm" $C network connect $pd pm --publish 5354:5353/udp
assert_eq d "$(udp outside 198.18.0.1 5354 40001)" "the stale flow reaches d once published"
ok "UDP: conntrack entries flushed on remove and on add (ctnetlink)"

# ---- restore re-makes the DNAT ----
expect 0 "INFO[0000] connected container $pa to network pm" $C network connect $pa pm --publish 8080:80
assert_eq a "$(get outside http://198.18.0.1:8080/)" "a published again"
nft delete table inet circuit
assert_eq "" "$(get outside http://198.18.0.1:8080/)" "gone with the table"
run $C restore
[ "$rc" = 0 ] || die "restore: $out"
assert_contains "$out" "reattached container pid-$pa" "restore reattached a"
# The re-made veths have new MACs: drop the host's stale neighbour entries
# (restore's DEL+ADD of a member, not published ports, makes them stale).
ip neigh flush dev c-pm
assert_eq a "$(get outside http://198.18.0.1:8080/)" "restore re-made 8080"
assert_eq c "$(udp outside 198.18.0.1 5353 40002)" "restore re-made udp 5353"
expect 0 "INFO[0000] nothing to restore" $C restore
ok "restore re-makes published ports; a second restore changes nothing"

# ---- gc releases the ports of a container that is gone ----
kill $pd; wait $pd 2>/dev/null || true
run $C gc
[ "$rc" = 0 ] || die "gc: $out"
assert_contains "$out" "pid-$pd" "gc released d"
rules | has 'udp \. 5354' && die "gc left d's published port: $(rules)"
assert_eq c "$(udp outside 198.18.0.1 5353 40003)" "gc kept c's port"
ok "gc: a gone container's published ports removed, the others kept"

# ---- disconnect leaves no rule and no state ----
for p in $pa $pb $pc; do $C network disconnect $p pm >/dev/null 2>&1; done
r=$(rules)
for w in portmap pm4 pm6 pmhairpin pmbridges; do
	case "$r" in *"$w"*) die "left in the ruleset after disconnect: $w ($r)";; esac
done
assert_eq "" "$(pmstate | grep -v -e '/att$' -e '/ports$' -e '/bridges$' -e '/att/pm2\?$')" "portmap state left"
assert_eq 0 "$(cat /proc/sys/net/ipv4/conf/c-pm/route_localnet)" "route_localnet back to 0"
assert_eq "" "$(get outside http://198.18.0.1:8080/)" "unpublished"
ok "disconnect: no rule, no state, route_localnet reset"

# ---- bad input: one line, nothing made ----
before=$(snapshot)
expect 1 'ERRO[0000] publish "70000:80": host port 70000 out of range 1-65535' \
	$C network connect $pa pm --publish 70000:80
expect 1 'ERRO[0000] publish "abc": want [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]' \
	$C network connect $pa pm --publish abc
expect 1 'ERRO[0000] publish "1:2:3:4": want [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]' \
	$C network connect $pa pm --publish 1:2:3:4
expect 1 'ERRO[0000] publish "8080-8081:80": host and container ranges differ in length (2 and 1 ports)' \
	$C network connect $pa pm --publish 8080-8081:80
expect 1 'ERRO[0000] publish: host port tcp/8080 is published twice' \
	$C network connect $pa pm --publish 8080:80 --publish 8080:81
assert_eq "$before" "$(snapshot)" "bad input left nothing"
ok "bad --publish values refused with one line, nothing left"
# ---- the plugin alone, every CNI version: ADD, CHECK, DEL, GC ----
mkns v
for ver in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	case $ver in 0.*) ipv=',"version":"4"' ;; *) ipv="" ;; esac
	pm="{\"cniVersion\":\"$ver\",\"name\":\"pm\",\"type\":\"circuit-portmap\",\"capabilities\":{\"portMappings\":true},\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":7100,\"containerPort\":80,\"protocol\":\"tcp\",\"hostIP\":\"\"}]},\"prevResult\":{\"cniVersion\":\"$ver\",\"interfaces\":[{\"name\":\"c-pm\"},{\"name\":\"eth0\",\"sandbox\":\"/run/netns/v\"}],\"ips\":[{\"address\":\"10.254.7.200/24\",\"interface\":1$ipv}]}}"
	res=$(cni ADD $BIN/circuit-portmap v-id /run/netns/v eth0 <<<"$pm") || die "$ver ADD: $res"
	assert_eq "$ver 10.254.7.200/24" "$(json_get "$res" 'd["cniVersion"] + " " + d["ips"][0]["address"]')" "$ver ADD result is prevResult"
	rules | has 'tcp \. 7100 : 10\.254\.7\.200 \. 80' || die "$ver: no element"
	case $ver in 0.3.*) ;; *) cni CHECK $BIN/circuit-portmap v-id /run/netns/v eth0 <<<"$pm" >/dev/null ||
		die "$ver CHECK" ;; esac
	cni DEL $BIN/circuit-portmap v-id /run/netns/v eth0 <<<"$pm" >/dev/null || die "$ver DEL"
	rules | has 7100 && die "$ver: element left after DEL"
	case $ver in 0.3.*) ;; *) run cni CHECK $BIN/circuit-portmap v-id /run/netns/v eth0 <<<"$pm"
		[ "$rc" != 0 ] || die "$ver CHECK passed after DEL" ;; esac
done
# CHECK finds a missing element; GC releases what the list does not name.
res=$(cni ADD $BIN/circuit-portmap v-id /run/netns/v eth0 <<<"$pm")
nft delete element inet circuit pm4any '{ tcp . 7100 }'
run cni CHECK $BIN/circuit-portmap v-id /run/netns/v eth0 <<<"$pm"
[ "$rc" != 0 ] || die "CHECK passed with the element gone"
assert_contains "$out" "tcp . 7100 missing from map pm4any" "CHECK names what is missing"
cni ADD $BIN/circuit-portmap v-id /run/netns/v eth0 <<<"$pm" >/dev/null   # ADD again repairs
cni CHECK $BIN/circuit-portmap v-id /run/netns/v eth0 <<<"$pm" >/dev/null || die "CHECK after re-ADD"
echo '{"cniVersion":"1.1.0","name":"pm","type":"circuit-portmap","cni.dev/valid-attachments":[]}' |
	cni GC $BIN/circuit-portmap "" "" "" >/dev/null || die "GC"
rules | has 7100 && die "GC left the element"
[ -z "$(find "$CIRCUIT_STATE_DIR/portmap/att" -type f)" ] || die "GC left a record"
ok "circuit-portmap alone at 0.3.0-1.1.0: ADD passes prevResult on, CHECK, DEL; CHECK finds a missing element; GC"
rm -rf "$www"
