# SPDX-License-Identifier: Apache-2.0
# icmp-probe.py DST READY GO SECONDS: touch the file READY once the raw
# socket is open, wait for the file GO to exist (checked every millisecond),
# then send an ICMP echo request to DST every 10 ms (send errors are
# ignored) until the first echo reply from DST; print the wall-clock time of
# that reply (seconds since the epoch, as date +%s.%N) and exit 0, or exit 1
# SECONDS after GO.  Used by cluster-bench.sh: started in a container's
# namespace before the container is connected, told to go when the connect
# returns (when a runtime would start the container's process), so that
# neither its start-up nor packets sent during the ADD are measured.
import os, select, socket, struct, sys, time

dst, ready, go, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF)
    t += t >> 16
    return ~t & 0xFFFF


open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
deadline = time.time() + limit
seq = 0
while time.time() < deadline:
    seq = (seq + 1) & 0xFFFF
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"circuit-bench"
    pkt = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    try:
        s.sendto(pkt, (dst, 0))
    except OSError:
        pass
    end = time.time() + 0.01
    while True:
        left = end - time.time()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        data, src = s.recvfrom(2048)
        ihl = (data[0] & 15) * 4
        if len(data) < ihl + 8 or src[0] != dst:
            continue
        typ, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ == 0 and rid == ident:
            print(f"{time.time():.6f}")
            sys.exit(0)
sys.exit(1)
