#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench, QoS part: circuit-qos beside the reference `bandwidth` plugin
# on the same link in the same run, with the same config (the bandwidth
# capability: runtimeConfig.bandwidth, bit/s and bits), chained after the
# reference bridge:
#  1. ADD and DEL time per call (one fork+exec each, as a runtime does),
#     alternating between the two plugins, median and mean;
#  2. shaping accuracy: configured vs iperf3-measured TCP throughput at 1,
#     10 and 100 Mbit/s, into and out of the container, for both.
# Runs inside the bench's private namespace (bench-inner.sh), or alone:
#   unshare --net --mount --propagation private tests/bench/qos-bench.sh BUILD
set -eu
BUILD=$(cd "${1:-build}" && pwd)
N=${BENCH_N:-40}
[ -x /usr/lib/cni/bandwidth ] || { echo "qos-bench: reference bandwidth plugin missing"; exit 1; }
command -v iperf3 >/dev/null || { echo "qos-bench: iperf3 missing"; exit 1; }
mountpoint -q /run/netns 2>/dev/null || mount -t tmpfs tmpfs /run/netns 2>/dev/null ||
	{ mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
ip link set lo up
work=$(mktemp -d /tmp/circuit-qosbench.XXXXXX)
ip netns add qosb
cleanup() {
	[ -s "$work/iperf.pid" ] && kill "$(cat "$work/iperf.pid")" 2>/dev/null
	CNI_PATH=/usr/lib/cni CNI_COMMAND=DEL CNI_CONTAINERID=qosb CNI_NETNS=/run/netns/qosb \
		CNI_IFNAME=eth0 /usr/lib/cni/bridge <"$work/br.json" >/dev/null 2>&1 || true
	ip netns del qosb 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/br.json" <<JSON
{"cniVersion":"1.0.0","name":"qosbench","type":"bridge","bridge":"br-qosb","isGateway":true,
 "ipam":{"type":"host-local","subnet":"10.203.0.0/24","dataDir":"$work/hl"}}
JSON
CNI_PATH=/usr/lib/cni CNI_COMMAND=ADD CNI_CONTAINERID=qosb CNI_NETNS=/run/netns/qosb \
	CNI_IFNAME=eth0 /usr/lib/cni/bridge <"$work/br.json" >"$work/prev.json"
gw=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["gateway"])' "$work/prev.json")
ctr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["address"].split("/")[0])' "$work/prev.json")
ip netns exec qosb iperf3 -s -D -B "$ctr" --pidfile "$work/iperf.pid" >/dev/null
for _ in $(seq 50); do [ -s "$work/iperf.pid" ] && break; sleep 0.1; done
sleep 0.3

python3 - "$BUILD/bin" "$work" "$N" "$ctr" <<'PY'
import json, os, statistics, subprocess, sys, time
bindir, work, n, ctr = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
prev = json.load(open(os.path.join(work, "prev.json")))
plugins = {"circuit-qos": os.path.join(bindir, "circuit-qos"),
           "bandwidth": "/usr/lib/cni/bandwidth"}

def conf(kind, mbit):
    rate = int(mbit * 1e6)
    burst = max(rate // 100, 8 * 64 * 1024)      # 10 ms of traffic, >= 64 KiB
    bw = {"ingressRate": rate, "ingressBurst": burst, "egressRate": rate, "egressBurst": burst}
    return json.dumps({"cniVersion": "1.0.0", "name": "qosbench", "type": kind,
                       "capabilities": {"bandwidth": True},
                       "runtimeConfig": {"bandwidth": bw}, "prevResult": prev})

def call(kind, cmd, mbit):
    env = dict(os.environ, CNI_COMMAND=cmd, CNI_CONTAINERID="qosb", CNI_NETNS="/run/netns/qosb",
               CNI_IFNAME="eth0", CNI_PATH=bindir + ":/usr/lib/cni")
    t = time.perf_counter()
    p = subprocess.run([plugins[kind]], input=conf(kind, mbit).encode(), env=env,
                       stdout=subprocess.PIPE)
    dt = (time.perf_counter() - t) * 1e3
    if p.returncode != 0:
        sys.exit("qos-bench: %s %s failed: %s" % (kind, cmd, p.stdout.decode()))
    return dt

host = [i["name"] for i in prev["interfaces"] if "sandbox" not in i and i["name"].startswith("veth")][0]

def qdiscs():
    out = subprocess.run(["tc", "qdisc", "show", "dev", host], stdout=subprocess.PIPE)
    return [l for l in out.stdout.decode().splitlines() if not l.startswith("qdisc noqueue")]

left_behind = {}
def settle(kind):
    # The reference bandwidth DEL leaves its tbf root and ingress qdisc on the host veth (it
    # expects the veth to go away); its next ADD on the same veth would
    # fail with EEXIST.  Remove it, untimed, and note it.
    q = qdiscs()
    if q:
        left_behind[kind] = "; ".join(x.split(" refcnt")[0] for x in q)
        for x in q:
            where = "ingress" if x.startswith("qdisc ingress") else "root"
            subprocess.run(["tc", "qdisc", "del", "dev", host, where], check=True)

def ifbs():
    out = subprocess.run(["ip", "-o", "link", "show", "type", "ifb"], stdout=subprocess.PIPE)
    return out.stdout.decode().strip()

# 1. ADD/DEL time, alternating, after a warm-up of each.
times = {k: {"ADD": [], "DEL": []} for k in plugins}
for k in plugins:
    call(k, "ADD", 10); call(k, "DEL", 10); settle(k)
for i in range(n):
    for k in (plugins if i % 2 == 0 else reversed(list(plugins))):
        times[k]["ADD"].append(call(k, "ADD", 10))
        times[k]["DEL"].append(call(k, "DEL", 10))
        settle(k)
        if ifbs():
            sys.exit("qos-bench: %s DEL left an ifb: %s" % (k, ifbs()))
print("qos bench: %d ADD/DEL pairs per plugin on the same veth, median (mean) ms per call" % n)
print("%-36s %18s %18s" % ("plugin (after reference bridge)", "ADD", "DEL"))
med = {}
for k in plugins:
    a, d = times[k]["ADD"], times[k]["DEL"]
    med[k] = (statistics.median(a), statistics.median(d))
    print("%-36s %8.2f (%7.2f) %8.2f (%7.2f)" % (k, med[k][0], statistics.mean(a), med[k][1],
                                                 statistics.mean(d)))
print("ratio circuit-qos/bandwidth: ADD %.2fx, DEL %.2fx" %
      (med["circuit-qos"][0] / med["bandwidth"][0], med["circuit-qos"][1] / med["bandwidth"][1]))

for k, q in left_behind.items():
    print("note: %s DEL left qdiscs on %s: %s" % (k, host, q))

# 2. Accuracy: iperf3 TCP from the host (client) to the container's server.
def mbps(reverse):
    # One-MSS writes: 128 KiB writes are a second of traffic at 1 Mbit/s.
    args = ["iperf3", "-c", ctr, "-t", "5", "-O", "2", "-l", "1448", "-J"] + (["-R"] if reverse else [])
    for attempt in range(3):
        out = subprocess.run(args, stdout=subprocess.PIPE, timeout=60)
        doc = json.loads(out.stdout or b"{}")
        if "sum_received" in doc.get("end", {}):
            return doc["end"]["sum_received"]["bits_per_second"] / 1e6
        time.sleep(1)       # "the server is busy": the previous test still closing
    sys.exit("qos-bench: iperf3 failed: %s" % doc.get("error", out.stdout[:200]))

print("qos accuracy: configured vs measured TCP throughput (iperf3 TCP, 5 s after 2 s of warm-up), Mbit/s")
print("%-12s %10s %14s %8s %14s %8s" % ("plugin", "configured", "into container", "error",
                                        "out of it", "error"))
for mbit in (1, 10, 100):
    for k in plugins:
        call(k, "ADD", mbit)
        into, out = mbps(False), mbps(True)
        call(k, "DEL", mbit)
        settle(k)
        print("%-12s %10d %14.2f %7.1f%% %14.2f %7.1f%%" %
              (k, mbit, into, (into - mbit) * 100 / mbit, out, (out - mbit) * 100 / mbit))
PY
