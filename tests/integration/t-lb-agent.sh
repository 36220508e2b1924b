# t-lb-agent: `circuit agent` health checks against busybox httpd backends
# in namespaces this test makes, on a kernel without IPVS (the agent then
# changes only the store, and says so): a killed backend goes down within
# fall x interval with its error shown by `lb ls --details`, comes back up
# after rise passes, flapping does not kill the agent, a restarted agent
# keeps every state (a healthy target's record is not rewritten), SIGTERM
# stops it cleanly.  Also the --check usage errors and `lb remove --drain`
# without IPVS.  Real weights in IPVS: tests/vm/v-lb-health.sh.
C=$BIN/circuit
LB=$CIRCUIT_STATE_DIR/lb
apid=''
hp=()
D=$(mktemp -d /tmp/lbagent.XXXXXX)
trap 'kill $apid "${hp[@]}" 2>/dev/null || true; rm -rf "$D"' EXIT

# --- usage errors
for bad in "--check udpx" "--check http:x" "--check exec:rel/x" "--check exec:/a/../b" "--check tcp --interval 0s" \
	   "--check tcp --interval 1s --timeout 2s" "--check tcp --rise 0" "--interval 2s" \
	   "--check tcp --expect-status 200" "--check http --expect-status 42" \
	   "--sched rr --mh-port" "--mh-fallback"; do
	# shellcheck disable=SC2086
	run "$C" lb create w 10.96.0.1:80 $bad
	assert_eq 2 "$rc" "create $bad: $out"
done
run "$C" lb remove w 10.0.0.1:80 --drain=soon
assert_eq 2 "$rc" "--drain=soon"
ok "usage errors"

# --- two backends: b1 (10.50.1.2) and b2 (10.50.2.2), each behind a veth
for i in 1 2; do
	mkns b$i
	ip link add v$i type veth peer name eth0 netns b$i
	ip addr add 10.50.$i.1/24 dev v$i
	ip link set v$i up
	ip -n b$i addr add 10.50.$i.2/24 dev eth0
	ip -n b$i link set eth0 up
	mkdir -p $D/www-agent$i
	echo "b$i" >$D/www-agent$i/index.html
done
# serve I: (re)start busybox httpd in bI
serve() {
	ip netns exec b$1 busybox httpd -f -p 8080 -h $D/www-agent$1 &
	hp[$1]=$!
	for _ in $(seq 50); do
		curl -s --max-time 1 "http://10.50.$1.2:8080/" >/dev/null && return 0
		sleep 0.1
	done
	die "backend b$1 did not come up"
}
serve 1
serve 2

mkdir -p "$LB"
chmod 700 "$LB"
cat >"$LB/web.json" <<'EOF'
{"name": "web", "address": "10.96.0.10", "port": 80, "protocol": "tcp",
 "scheduler": "rr", "persistent": 0, "created": 1700000000,
 "check": {"type": "http", "path": "/index.html", "interval": 300, "timeout": 200,
           "rise": 2, "fall": 3},
 "targets": [{"address": "10.50.1.2", "port": 8080, "weight": 1, "method": "nat"},
             {"address": "10.50.2.2", "port": 8080, "weight": 2, "method": "nat"}]}
EOF
cat >"$LB/tcp.json" <<'EOF'
{"name": "tcp", "address": "10.96.0.11", "port": 80,
 "check": {"type": "tcp", "interval": 300, "timeout": 200, "rise": 1, "fall": 1},
 "targets": [{"address": "10.50.2.2", "port": 8080}, {"address": "10.50.2.2", "port": 9}]}
EOF
chmod 600 "$LB"/*.json

# The agent runs in a UTS namespace whose hostname, "(none)" as in the VM
# tier's guest, is no valid cluster host name: without a cluster configured
# the host's name must play no part (it once stopped the agent).
start_agent() {
	unshare --uts sh -c 'echo "(none)" >/proc/sys/kernel/hostname && exec "$0" agent' "$C" >>$D/agent.log 2>&1 &
	apid=$!
}
# state SVC ADDR: up|down from lb ls --details (no python: polled fast)
state() {
	"$C" lb ls --details 2>/dev/null | awk -v s="$1" -v a="$2" '
		/^  -> / { if (on && $2 == a) for (i = 3; i <= NF; i++)
				if ($i ~ /^state=/) print substr($i, 7); next }
		/^  check / { next }
		{ on = $1 == s }'
}
# wait_state SVC ADDR WANT MAX_S: seconds it took, or dies
wait_state() {
	local t0 t1
	t0=$(date +%s.%N)
	while [ "$(state "$1" "$2")" != "$3" ]; do
		t1=$(date +%s.%N)
		[ "$(echo "$t1 - $t0 > $4" | bc)" = 1 ] && die "$1 $2 not $3 after ${4}s: $(cat $D/agent.log)"
		sleep 0.05
	done
	echo "$(date +%s.%N) - $t0" | bc
}
: >$D/agent.log
start_agent
sleep 1.5
assert_eq "up up" "$(state web 10.50.1.2:8080) $(state web 10.50.2.2:8080)" "both up"
assert_eq "up down" "$(state tcp 10.50.2.2:8080) $(state tcp 10.50.2.2:9)" "tcp check: open and closed port"
assert_contains "$(cat $D/agent.log)" "checks change the store only: kernel has no IPVS support"
ok "checks pass for live backends, a closed port fails"

# --- kill b1: down within fall x interval (+ one timeout and slack)
kill "${hp[1]}"; wait "${hp[1]}" 2>/dev/null || true
t=$(wait_state web 10.50.1.2:8080 down 3)
echo "MEASURE lb-agent down after kill: ${t}s (fall 3 x interval 0.3s = 0.9s)"
out=$("$C" lb ls --details 2>/dev/null)
assert_contains "$out" "  check http:/index.html expect=200 interval=300ms timeout=200ms rise=2 fall=3"
assert_contains "$out" "  -> 10.50.1.2:8080 weight=1 method=nat state=down last-error=\"connect: Connection refused\""
assert_contains "$out" "  -> 10.50.2.2:8080 weight=2 method=nat state=up"
ok "killed backend down, error shown"

# --- back: up after rise passes; the last error stays on show
serve 1
t=$(wait_state web 10.50.1.2:8080 up 3)
echo "MEASURE lb-agent up after restart: ${t}s (rise 2 x interval 0.3s)"
assert_contains "$("$C" lb ls --details 2>/dev/null)" "10.50.1.2:8080 weight=1 method=nat state=up last-error="

# --- flapping: the agent keeps going
for _ in 1 2 3; do
	kill "${hp[1]}"; wait "${hp[1]}" 2>/dev/null || true
	sleep 0.5
	serve 1
	sleep 0.3
done
kill -0 "$apid" || die "agent died while a target flapped: $(cat $D/agent.log)"
wait_state web 10.50.1.2:8080 up 4 >/dev/null
ok "flapping survived"

# --- restart: states kept, healthy records untouched
kill "${hp[2]}"; wait "${hp[2]}" 2>/dev/null || true
wait_state web 10.50.2.2:8080 down 3 >/dev/null
arc=0; kill -TERM "$apid"; wait "$apid" || arc=$?
assert_eq 0 "$arc" "agent exit status on SIGTERM"
assert_contains "$(cat $D/agent.log)" "agent stopped"
before=$(cat "$LB/web.json")
bt=$(stat -c %Y.%i "$LB/tcp.json")
start_agent
sleep 2
assert_eq "up down" "$(state web 10.50.1.2:8080) $(state web 10.50.2.2:8080)" "states after agent restart"
assert_eq "$before" "$(cat "$LB/web.json")" "web record after restart (nothing changed)"
assert_eq "$bt" "$(stat -c %Y.%i "$LB/tcp.json")" "tcp record after restart"
serve 2
wait_state web 10.50.2.2:8080 up 3 >/dev/null
ok "restart keeps state; b2 back"

# --- a damaged record is reported, the loop goes on
echo '{"name": "bad"' >"$LB/bad.json"
sleep 1.5
kill -0 "$apid" || die "agent died on a bad record"
rm -f "$LB/bad.json"
kill "${hp[2]}"; wait "${hp[2]}" 2>/dev/null || true
wait_state web 10.50.2.2:8080 down 3 >/dev/null
kill -TERM "$apid"; wait "$apid" || true
assert_contains "$(cat $D/agent.log)" "lb/bad.json"
ok "bad record survived"

# --- drain without IPVS: the clear error, record untouched
before=$(cat "$LB/web.json")
run "$C" lb remove web 10.50.1.2:8080 --drain=2s
assert_eq 1 "$rc" "drain rc: $out"
assert_contains "$out" "kernel has no IPVS support"
assert_eq "$before" "$(cat "$LB/web.json")" "record after refused drain"
ok "drain needs IPVS"
