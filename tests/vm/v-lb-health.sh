# SPDX-License-Identifier: Apache-2.0
# v-lb-health: health checks, `circuit agent` and draining on a real IPVS.
#  - three busybox httpd targets t1..t3 in namespaces routed through this
#    one; service web with an HTTP check (interval 500ms, fall 2, rise 2);
#  - the IPVS sysctls the checks need are set by create;
#  - t2 killed: the agent gives it weight 0 in IPVS within fall x interval
#    (+ slack); after that, no request fails and none goes to t2; back up,
#    it rejoins and rr is even again;
#  - a restarted agent changes nothing (records and IPVS untouched);
#  - `lb remove --drain` lets a long download finish, then removes the
#    target; `--drain=1s` gives up after 1 s.
C=$BIN/circuit
VIP=10.96.0.20
VIP2=10.96.0.21
pids=()
apid=''
trap 'kill $apid "${pids[@]}" 2>/dev/null || true' EXIT

now() { date +%s.%N; }
# weight_of VIP:PORT TARGET: the weight ipvsadm shows ("" when absent)
weight_of() {
	ipvsadm -Ln | awk -v s="$1" -v t="$2" '
		/^(TCP|UDP) / { on = $2 == s; next }
		on && $1 == "->" && $2 == t { print $4 }'
}
# spread N: N requests to VIP from here; "n1 n2 n3 fail=F"
spread() {
	local urls=() out a b c
	for _ in $(seq "$1"); do urls+=("http://$VIP/"); done
	out=$(curl -s -H 'Connection: close' --max-time 3 "${urls[@]}" || true)
	a=$(grep -cx t1 <<<"$out" || true)
	b=$(grep -cx t2 <<<"$out" || true)
	c=$(grep -cx t3 <<<"$out" || true)
	echo "$a $b $c fail=$(($1 - a - b - c))"
}
serve() {
	ip netns exec t$1 busybox httpd -f -p 8080 -h /tmp/wwwh$1 &
	pids[$1]=$!
	for _ in $(seq 50); do
		curl -s --max-time 1 "http://10.60.$1.2:8080/" >/dev/null && return 0
		sleep 0.1
	done
	die "t$1 did not come up"
}

for i in 1 2 3; do
	mkns t$i
	vpair t$i 10.60.$i.1/24 10.60.$i.2/24 vh$i
	mkdir -p /tmp/wwwh$i
	echo "t$i" >/tmp/wwwh$i/index.html
	serve $i
done

# Timeout = interval: httpd under TCG on a loaded host may take >300 ms.
out=$("$C" lb create web $VIP:80 --check http:/index.html --interval 1s --timeout 1s \
	--rise 2 --fall 2 2>&1) || die "create: $out"
for i in 1 2 3; do "$C" lb add web 10.60.$i.2:8080 2>/dev/null || die "add t$i"; done
assert_eq 1 "$(cat /proc/sys/net/ipv4/vs/expire_nodest_conn)" "expire_nodest_conn"
assert_eq 1 "$(cat /proc/sys/net/ipv4/vs/expire_quiescent_template)" "expire_quiescent_template"
out=$("$C" lb ls --details 2>&1)
assert_contains "$out" "  check http:/index.html expect=200 interval=1000ms timeout=1000ms rise=2 fall=2"
assert_contains "$out" "  -> 10.60.2.2:8080 weight=1 method=nat active=0 inactive=0 state=up"
ok "create with a check: sysctls set, check shown"

"$C" agent >/tmp/agent.log 2>&1 &
apid=$!
sleep 2
got=$(spread 30)
echo "MEASURE lb-health rr with agent, all up: $got"
assert_eq "10 10 10 fail=0" "$got" "rr before"

# --- t2 dies (nothing went down before: no flapping to blur the measure)
case $(cat /tmp/agent.log) in *" down after "*) die "a target went down early: $(cat /tmp/agent.log)";; esac
kill "${pids[2]}"; wait "${pids[2]}" 2>/dev/null || true
t0=$(now)
while [ "$(weight_of $VIP:80 10.60.2.2:8080)" != 0 ]; do
	[ "$(echo "$(now) - $t0 > 10" | bc)" = 1 ] && die "t2 not weight 0 after 10s: $(ipvsadm -Ln; cat /tmp/agent.log)"
	sleep 0.05
done
t1=$(now)
react=$(echo "$t1 - $t0" | bc)
echo "MEASURE lb-health check reaction (kill -> weight 0 in IPVS): ${react}s (fall 2 x interval 1s = 2s)"
# Worst case: fall x interval, plus one timeout (the kill lands just after
# a check started), plus slack for TCG and the 50 ms ipvsadm polling.
[ "$(echo "$react <= 9" | bc)" = 1 ] || die "reaction ${react}s > 9 s (fall x interval + timeout, with the slack a loaded TCG guest needs)"
got=$(spread 30)
echo "MEASURE lb-health rr after t2 marked down: $got"
assert_eq "15 0 15 fail=0" "$got" "no request fails or reaches t2 once it is down"
out=$("$C" lb ls --details 2>&1)
assert_contains "$out" "  -> 10.60.2.2:8080 weight=1 method=nat active=0 inactive="
assert_contains "$out" "state=down last-error=\"connect: Connection refused\""
ok "t2 down within ${react}s; 30 requests, none failed"

# --- t2 back
serve 2
t0=$(now)
while [ "$(weight_of $VIP:80 10.60.2.2:8080)" != 1 ]; do
	[ "$(echo "$(now) - $t0 > 10" | bc)" = 1 ] && die "t2 not back after 10s: $(ipvsadm -Ln; cat /tmp/agent.log)"
	sleep 0.05
done
echo "MEASURE lb-health rejoin (httpd up -> weight 1): $(echo "$(now) - $t0" | bc)s (rise 2 x interval 1s)"
got=$(spread 30)
assert_eq "10 10 10 fail=0" "$got" "rr after t2 rejoined"
ok "t2 rejoined: $got"

# --- agent restart: nothing touched
kill "${pids[3]}"; wait "${pids[3]}" 2>/dev/null || true
t0=$(now)
while [ "$(weight_of $VIP:80 10.60.3.2:8080)" != 0 ]; do
	[ "$(echo "$(now) - $t0 > 10" | bc)" = 1 ] && die "t3 not down"
	sleep 0.05
done
kill -TERM "$apid"; wait "$apid" || true
rec=$(cat "$CIRCUIT_STATE_DIR/lb/web.json")
ipv=$(ipvsadm -Ln)
"$C" agent >>/tmp/agent.log 2>&1 &
apid=$!
sleep 3
assert_eq "$rec" "$(cat "$CIRCUIT_STATE_DIR/lb/web.json")" "record after agent restart"
assert_eq "$ipv" "$(ipvsadm -Ln)" "IPVS after agent restart"
assert_eq "0 1 1" "$(weight_of $VIP:80 10.60.3.2:8080) $(weight_of $VIP:80 10.60.1.2:8080) $(weight_of $VIP:80 10.60.2.2:8080)" "weights after restart"
"$C" restore >/dev/null 2>&1
assert_eq 0 "$(weight_of $VIP:80 10.60.3.2:8080)" "restore keeps a down target at weight 0"
serve 3
ok "agent restart and restore keep health state"
kill -TERM "$apid"; wait "$apid" || true
apid=''

# --- drain: a long download finishes, then the target goes.  IPVS counts a
# connection active until the server's FIN: the file is much bigger than
# the socket buffers, so the server sends for most of the download.
dd if=/dev/zero of=/tmp/wwwh1/big bs=1M count=40 2>/dev/null
"$C" lb create dl $VIP2:80 2>/dev/null || die "create dl"
"$C" lb add dl 10.60.1.2:8080 2>/dev/null
# The client in a namespace routed through this one (the forwarding path).
mkns c
vpair c 10.90.0.1/24 10.90.0.2/24 vc
rm -f /tmp/dl.out
ip netns exec c curl -s --limit-rate 8M -o /tmp/dl.out -w '%{http_code} %{size_download}\n' \
	"http://$VIP2/big" >/tmp/dl.res &
cpid=$!
# active_on VIP:PORT: the targets IPVS counts active connections to
active_on() {
	ipvsadm -Ln | awk -v s="$1" '/^(TCP|UDP) / { on = $2 == s; next } on && $1 == "->" && $5 > 0 { print $2 }'
}
for _ in $(seq 50); do
	src=$(active_on $VIP2:80)
	[ -n "$src" ] && break
	sleep 0.1
done
[ "$src" = 10.60.1.2:8080 ] || {
	ipvsadm -Lnc | grep -v TIME_WAIT; ipvsadm -Ln; wait $cpid
	die "no active download on t1 ('$src'): $(cat /tmp/dl.res)"
}
"$C" lb add dl 10.60.2.2:8080 2>/dev/null
t0=$(now)
out=$("$C" lb remove dl 10.60.1.2:8080 --drain=30s 2>&1) || die "drain: $out"
t1=$(now)
wait $cpid || die "download failed during drain: $(cat /tmp/dl.res)"
assert_eq "200 41943040" "$(cat /tmp/dl.res)" "download during drain"
[ -z "$(weight_of $VIP2:80 10.60.1.2:8080)" ] || die "t1 still in dl after drain"
echo "MEASURE lb-health drain waited $(echo "$t1 - $t0" | bc)s for a 40 MiB download at 8 MiB/s"
[ "$(echo "$t1 - $t0 >= 1.5" | bc)" = 1 ] || die "drain did not wait for the download"
ok "drain: the download finished, then t1 was removed"

"$C" lb add dl 10.60.1.2:8080 2>/dev/null
"$C" lb remove dl 10.60.2.2:8080 2>/dev/null
ip netns exec c curl -s --limit-rate 512K -o /dev/null "http://$VIP2/big" &
cpid=$!
for _ in $(seq 50); do
	[ -n "$(active_on $VIP2:80)" ] && break
	sleep 0.1
done
t0=$(now)
out=$("$C" lb remove dl 10.60.1.2:8080 --drain=1s 2>&1) || die "drain=1s: $out"
t1=$(now)
kill $cpid 2>/dev/null; wait $cpid 2>/dev/null || true
assert_contains "$out" "drain timed out with 1 active connections"
echo "MEASURE lb-health drain=1s returned after $(echo "$t1 - $t0" | bc)s"
[ -z "$(weight_of $VIP2:80 10.60.1.2:8080)" ] || die "t1 still in dl after drain timeout"
ok "drain timeout"
"$C" lb delete dl 2>/dev/null
"$C" lb delete web 2>/dev/null
