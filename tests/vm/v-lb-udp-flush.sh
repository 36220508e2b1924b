# SPDX-License-Identifier: Apache-2.0
# vm: pending lib/conntrack.c
# v-lb-udp-flush: when a UDP target stops taking traffic (weight 0, as a
# failed health check gives it), the next datagram of an existing flow
# (same client socket, same source port) goes to a live target at once.  Needs lb_flush_udp_target() (lib/lb.c) to flush the
# flow's conntrack entries, which waits for lib/conntrack.c: until then this
# file is left out of the default run list (the "vm: pending" line above;
# run it by name: tests/vm/run.sh build lb-udp-flush).
C=$BIN/circuit
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

cat >/tmp/udpsrv.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
while True:
    d, a = s.recvfrom(512)
    s.sendto(sys.argv[1].encode(), a)
PY
for i in 1 2; do
	mkns f$i
	vpair f$i 10.63.$i.1/24 10.63.$i.2/24 vf$i
	ip netns exec f$i python3 /tmp/udpsrv.py f$i &
	pids+=($!)
done
sleep 1
out=$("$C" lb create flow 10.96.3.53:5353 --protocol udp 2>&1) || die "create: $out"
for i in 1 2; do "$C" lb add flow 10.63.$i.2:5353 2>/dev/null || die "add f$i"; done

# One client socket: ask, take its target out, ask again from the same port.
python3 - "$C" <<'PY' >/tmp/flow-out &
import socket, subprocess, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"q", ("10.96.3.53", 5353))
first = s.recv(64).decode()
gone = "10.63.%s.2:5353" % first[1:]
# Weight 0, as a failed health check gives it: the dest stays in IPVS and
# its connection entry keeps the flow unless the flush ends it.  (A removed
# dest is already rescheduled by the kernel with expire_nodest_conn=1: an
# earlier version of this test using `lb remove` passed without a flush.)
subprocess.run([sys.argv[1], "lb", "add", "flow", gone, "--weight", "0"], check=True)
s.sendto(b"q", ("10.96.3.53", 5353))
try:
    second = s.recv(64).decode()
except OSError:
    second = "timeout"
print(first, second)
PY
wait $!
read -r first second </tmp/flow-out
echo "first=$first after remove=$second"
[ "$second" != timeout ] || die "the flow's next datagram got no answer after its target left"
[ "$second" != "$first" ] || die "the flow still reaches the removed target $first"
ok "a UDP flow moves to a live target when its target is taken out"
"$C" lb delete flow 2>/dev/null || die "delete"
