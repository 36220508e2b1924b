#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench, published ports:
#  1. a CNI ADD publishing 32 ports, as a runtime makes it (each plugin one
#     fork+exec, prevResult passed on): circuit-bridge (+ circuit-ipam) +
#     circuit-portmap beside the reference bridge (+ host-local) +
#     /usr/lib/cni/portmap, alternating, in the same run; DEL of each chain
#     too; medians and the ratio (target <= 0.5x for ADD);
#  2. publishing one more port (circuit-portmap ADD, one mapping) with 10
#     and with 1,000 ports already published (two namespaces with their
#     own stores and tables, measured alternately): the cost must stay flat.
# Runs inside the bench's private namespace (bench-inner.sh), or alone:
#   unshare --net --mount --propagation private tests/bench/portmap-bench.sh BUILD
set -eu
BUILD=$(cd "${1:-build}" && pwd)
N=${BENCH_N:-20}
[ -x /usr/lib/cni/portmap ] || { echo "portmap-bench: reference portmap plugin missing"; exit 1; }
mountpoint -q /run/netns 2>/dev/null || mount -t tmpfs tmpfs /run/netns 2>/dev/null ||
	{ mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
mountpoint -q /var/lib/cni 2>/dev/null || mount -t tmpfs tmpfs /var/lib/cni 2>/dev/null ||
	{ mkdir -p /var/lib/cni; mount -t tmpfs tmpfs /var/lib/cni; }
ip link set lo up
work=$(mktemp -d /tmp/circuit-pmbench.XXXXXX)
ip netns add pmb
cleanup() {
	ip netns del pmb 2>/dev/null || true
	ip netns del pmflat10 2>/dev/null || true
	ip netns del pmflat1000 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

python3 - "$BUILD/bin" "$work" "$N" <<'PY'
import json, os, statistics, subprocess, sys, time
bindir, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
state = os.path.join(work, "state")

def run(plugin, cmd, conf, cid="pmb", netns="/run/netns/pmb", ifname="eth0"):
    env = dict(os.environ, CNI_COMMAND=cmd, CNI_CONTAINERID=cid, CNI_NETNS=netns,
               CNI_IFNAME=ifname, CNI_PATH=bindir + ":/usr/lib/cni", CIRCUIT_STATE_DIR=state)
    t = time.perf_counter()
    p = subprocess.run([plugin], input=json.dumps(conf).encode(), env=env,
                       stdout=subprocess.PIPE)
    dt = (time.perf_counter() - t) * 1e3
    if p.returncode != 0:
        sys.exit("portmap-bench: %s %s failed: %s" % (plugin, cmd, p.stdout.decode()))
    return dt, (json.loads(p.stdout) if p.stdout.strip() else None)

def mappings(base, count):
    return [{"hostPort": base + i, "containerPort": 8000 + i, "protocol": "tcp", "hostIP": ""}
            for i in range(count)]

chains = {
    "circuit": {"main": (os.path.join(bindir, "circuit-bridge"),
                         {"cniVersion": "1.0.0", "name": "pmbc", "type": "circuit-bridge",
                          "bridge": "c-pmb", "isGateway": True, "ipMasq": True,
                          "ipam": {"type": "circuit-ipam", "subnet": "10.204.0.0/24"}}),
                "pm": (os.path.join(bindir, "circuit-portmap"),
                       {"cniVersion": "1.0.0", "name": "pmbc", "type": "circuit-portmap",
                        "capabilities": {"portMappings": True}}),
                "base": 20000},
    "reference": {"main": ("/usr/lib/cni/bridge",
                           {"cniVersion": "1.0.0", "name": "pmbr", "type": "bridge",
                            "bridge": "br-pmref", "isGateway": True, "ipMasq": True,
                            "ipam": {"type": "host-local", "subnet": "10.205.0.0/24",
                                     "dataDir": os.path.join(work, "hl")}}),
                  "pm": ("/usr/lib/cni/portmap",
                         {"cniVersion": "1.0.0", "name": "pmbr", "type": "portmap",
                          "capabilities": {"portMappings": True}}),
                  "base": 21000},
}

def chain_add(k):
    c = chains[k]
    t1, res = run(c["main"][0], "ADD", c["main"][1])
    conf = dict(c["pm"][1], runtimeConfig={"portMappings": mappings(c["base"], 32)},
                prevResult=res)
    t2, res2 = run(c["pm"][0], "ADD", conf)
    return t1 + t2, res2

def chain_del(k, res):
    c = chains[k]
    conf = dict(c["pm"][1], runtimeConfig={"portMappings": mappings(c["base"], 32)},
                prevResult=res)
    t1, _ = run(c["pm"][0], "DEL", conf)
    t2, _ = run(c["main"][0], "DEL", dict(c["main"][1], prevResult=res))
    return t1 + t2

# 1. The whole chain, alternating, after a warm-up of each.
times = {k: {"ADD": [], "DEL": []} for k in chains}
for k in chains:
    _, r = chain_add(k); chain_del(k, r)
for i in range(n):
    for k in (list(chains) if i % 2 == 0 else list(reversed(list(chains)))):
        a, r = chain_add(k)
        times[k]["ADD"].append(a)
        times[k]["DEL"].append(chain_del(k, r))
        time.sleep(0.3)   # the veth's teardown is the kernel's, not the next ADD's
print("portmap bench: CNI ADD/DEL publishing 32 ports, %d per chain, median (mean) ms" % n)
print("%-52s %18s %18s" % ("chain (each plugin fork+exec'd)", "ADD", "DEL"))
med = {}
names = {"circuit": "circuit-bridge + circuit-ipam + circuit-portmap",
         "reference": "bridge + host-local + portmap (reference)"}
for k in chains:
    a, d = times[k]["ADD"], times[k]["DEL"]
    med[k] = (statistics.median(a), statistics.median(d))
    print("%-52s %8.2f (%7.2f) %8.2f (%7.2f)" % (names[k], med[k][0], statistics.mean(a),
                                                 med[k][1], statistics.mean(d)))
print("ratio circuit/reference: ADD %.2fx (target <= 0.50x), DEL %.2fx" %
      (med["circuit"][0] / med["reference"][0], med["circuit"][1] / med["reference"][1]))

# 2. One more published port with 10 and with 1,000 present: two namespaces,
# each with its own store, bridge and table, measured alternately so that
# the machine's load weighs on both alike.
pm = os.path.join(bindir, "circuit-portmap")
prev = {"cniVersion": "1.0.0", "interfaces": [{"name": "br-pmflat"}],
        "ips": [{"address": "10.206.0.2/16", "gateway": "10.206.0.1"}]}

def one(world, cid, port, cmd="ADD"):
    conf = {"cniVersion": "1.0.0", "name": "pmflat", "type": "circuit-portmap",
            "capabilities": {"portMappings": True},
            "runtimeConfig": {"portMappings": mappings(port, 1)}, "prevResult": prev}
    env = dict(os.environ, CNI_COMMAND=cmd, CNI_CONTAINERID=cid, CNI_NETNS="/run/netns/pmb",
               CNI_IFNAME="eth0", CNI_PATH=bindir,
               CIRCUIT_STATE_DIR=os.path.join(work, "flat%d" % world))
    t = time.perf_counter()
    p = subprocess.run(["ip", "netns", "exec", "pmflat%d" % world, pm],
                       input=json.dumps(conf).encode(), env=env, stdout=subprocess.PIPE)
    dt = (time.perf_counter() - t) * 1e3
    if p.returncode != 0:
        sys.exit("portmap-bench: flat %d %s failed: %s" % (world, cmd, p.stdout.decode()))
    return dt

worlds = (10, 1000)
for w in worlds:
    subprocess.run(["ip", "netns", "add", "pmflat%d" % w], check=True)
    subprocess.run(["ip", "-n", "pmflat%d" % w, "link", "add", "br-pmflat", "type", "bridge"],
                   check=True)
    for i in range(w):
        one(w, "fill%d" % i, 30000 + i)
flat = {w: [] for w in worlds}
for i in range(n):
    for w in (worlds if i % 2 == 0 else tuple(reversed(worlds))):
        flat[w].append(one(w, "probe", 40000 + i))
        one(w, "probe", 40000 + i, "DEL")
for w in worlds:
    print("circuit-portmap ADD of one port with %5d published: median %.2f ms (mean %.2f)" %
          (w, statistics.median(flat[w]), statistics.mean(flat[w])))
print("ratio 1,000/10: %.2fx (flat: ~1x)" %
      (statistics.median(flat[1000]) / statistics.median(flat[10])))
for w in worlds:
    subprocess.run(["ip", "netns", "del", "pmflat%d" % w], check=True)
PY
