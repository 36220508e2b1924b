# t-lb-checks: the udp and exec health checks and per-target checks of
# `circuit agent`, on a kernel without IPVS (the agent changes the store
# only): a UDP target that answers is up, one whose server is gone goes
# down with "udp: port unreachable"; a target with its own exec check
# follows its program's exit status, with the program's first output line
# as its last error; a program that is not root's or is group-writable is
# never run.  Real weights in IPVS: tests/vm/v-lb-v6udp.sh.
C=$BIN/circuit
LB=$CIRCUIT_STATE_DIR/lb
apid=''
upid=''
D=$(mktemp -d /tmp/lbchk.XXXXXX)
trap 'kill $apid $upid 2>/dev/null || true; rm -rf "$D"' EXIT
ip link set lo up
mkdir -p "$LB"
chmod 755 "$D"
cat >$D/udpsrv.py <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5301))
while True:
    d, a = s.recvfrom(100)
    s.sendto(b"pong", a)
PY
printf '#!/bin/sh\necho "target $CIRCUIT_TARGET_ADDRESS:$CIRCUIT_TARGET_PORT of $CIRCUIT_SERVICE bad"\n[ -e %s/ok ]\n' "$D" >$D/chk.sh
chmod 755 $D/chk.sh
cp $D/chk.sh $D/writable.sh
chmod 775 $D/writable.sh
cat >"$LB/u.json" <<J
{"name":"u","address":"127.0.0.1","port":5353,"protocol":"udp","scheduler":"rr","persistent":0,"created":1,
 "check":{"type":"udp","payload":"ping","interval":300,"timeout":200,"rise":1,"fall":1},
 "targets":[{"address":"127.0.0.1","port":5301,"weight":1,"method":"nat"},
            {"address":"127.0.0.1","port":5302,"weight":1,"method":"nat",
             "check":{"type":"exec","path":"$D/chk.sh","interval":300,"timeout":250,"rise":1,"fall":1}},
            {"address":"127.0.0.1","port":5303,"weight":1,"method":"nat",
             "check":{"type":"exec","path":"$D/writable.sh","interval":300,"timeout":250,"rise":1,"fall":1}}]}
J
python3 $D/udpsrv.py &
upid=$!
"$C" agent >$D/agent.log 2>&1 &
apid=$!
# wait_for PATTERN: lb ls --details shows it within 10 s
wait_for() {
	for _ in $(seq 100); do
		out=$("$C" lb ls --details 2>/dev/null)
		case "$out" in *"$1"*) return 0 ;; esac
		sleep 0.1
	done
	cat $D/agent.log
	die "not seen in 10 s: $1 (have: $out)"
}
wait_for '127.0.0.1:5302 weight=1 method=nat state=down last-error="exit status 1: target 127.0.0.1:5302 of u bad"'
wait_for "127.0.0.1:5303 weight=1 method=nat state=down last-error=\"exec $D/writable.sh: not a root-owned executable file writable only by root\""
wait_for "     check exec:$D/chk.sh interval=300ms timeout=250ms rise=1 fall=1"
sleep 1
out=$("$C" lb ls --details 2>/dev/null)
assert_contains "$out" "127.0.0.1:5301 weight=1 method=nat state=up" "udp target that answers"
ok "udp target up, exec target down with its output, untrusted program never run"
kill $upid; wait $upid || true; upid=''
touch $D/ok
wait_for '127.0.0.1:5301 weight=1 method=nat state=down last-error="udp: port unreachable"'
wait_for '127.0.0.1:5302 weight=1 method=nat state=up'
ok "udp target down on port unreachable; exec target up on exit 0"
json=$("$C" lb ls --format json)
has '"type": ?"exec"' <<<"$json" || die "JSON: no exec check: $json"
has "\"path\": ?\"$D/chk.sh\"" <<<"$json" || die "JSON: the target's own check: $json"
kill $apid; wait $apid; apid=''
ok "agent stopped"
