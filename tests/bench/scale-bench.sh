#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Part of make bench, run by bench-inner.sh inside the bench's namespace:
# ADD and DEL latency against the number of attachments already on one
# bridge, up to BENCH_SCALE_N (default 1,000; the kernel allows 1,024 ports
# per bridge), for
#   circuit   circuit-bridge + circuit-ipam,
#   reference bridge + host-local (containernetworking-plugins),
#   floor     cni-floor: a veth born in the namespace + enslaved, the two
#             requests any bridge plugin must make, exec'd the same way;
# each on a bridge of its own, calls alternating so that noise hits all
# three alike.  Writes BUILD/bench/scale.dat (medians per 100
# attachments), BUILD/bench/scale.png (gnuplot) and prints the table, the
# growth from the first hundred to the last (target: Circuit's growth <=
# the floor's + 10 %), and the peak RSS of one ADD of each plugin.
set -eu
BUILD=$1
N=${BENCH_SCALE_N:-1000}
B=${BENCH_SCALE_BUCKET:-100}
here=$(cd "$(dirname "$0")" && pwd)
out=$BUILD/bench
mkdir -p "$out"
T=$(mktemp -d /var/tmp/circuit-scale.XXXXXX)
trap 'rm -rf "$T"' EXIT

cat >"$T/circuit.json" <<EOF
{"cniVersion":"1.0.0","name":"scalec","type":"circuit-bridge","isDefaultGateway":true,
 "ipam":{"type":"circuit-ipam","subnet":"10.203.0.0/16"}}
EOF
cat >"$T/ref.json" <<EOF
{"cniVersion":"1.0.0","name":"scaler","type":"bridge","bridge":"br-sref","isDefaultGateway":true,
 "ipam":{"type":"host-local","subnet":"10.204.0.0/16","dataDir":"$T/host-local"}}
EOF
cat >"$T/floor.json" <<EOF
{"cniVersion":"1.0.0","name":"scalef","type":"cni-floor","bridge":"br-floor"}
EOF
ip link add br-floor type bridge
ip link set br-floor up
# One namespace per attachment and variant, made in one ip process.
for i in $(seq 0 $((N - 1))); do echo "netns add sc$i"; echo "netns add sr$i"; echo "netns add sf$i"; done >"$T/ns.batch"
ip -batch "$T/ns.batch"

echo
echo "bench: ADD/DEL latency against attachments on one bridge, $N each, same run"
CNI_BENCH_RAW=$T/raw "$BUILD/bin/cni-bench" "$BUILD/bin:/usr/lib/cni" /run/netns "$N" \
	"$T/circuit.json" sc "$T/ref.json" sr "$T/floor.json" sf >/dev/null

# raw: "variant i add_ms del_ms"; ADD i saw i attachments, DEL i saw N - i.
python3 - "$T/raw" "$N" "$B" "$out/scale.dat" <<'PY'
import sys
raw, n, b, dat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
add = {}; dele = {}
for line in open(raw):
    k, i, a, d = line.split()
    k, i = int(k), int(i)
    add.setdefault((k, i // b), []).append(float(a))
    dele.setdefault((k, (n - i - 1) // b), []).append(float(d))
def med(v):
    v = sorted(v); m = len(v)
    return v[m // 2] if m % 2 else (v[m // 2 - 1] + v[m // 2]) / 2
buckets = sorted({j for (_, j) in add})
names = ["circuit", "reference", "floor"]
with open(dat, "w") as f:
    f.write("# attachments circuit_add reference_add floor_add circuit_del reference_del floor_del (median ms)\n")
    for j in buckets:
        row = [j * b] + [med(add[(k, j)]) for k in range(3)] + \
              [med(dele.get((k, j), [float("nan")])) for k in range(3)]
        f.write(" ".join(f"{x:.3f}" if isinstance(x, float) else str(x) for x in row) + "\n")
print(f"{'attachments':>12} {'circuit ADD':>12} {'ref ADD':>9} {'floor ADD':>10} "
      f"{'circuit DEL':>12} {'ref DEL':>9} {'floor DEL':>10}")
for line in open(dat):
    if line.startswith("#"):
        continue
    c = line.split()
    print(f"{int(c[0]):>9}-{int(c[0]) + b - 1:<4}" + "".join(f"{float(x):>{w}.2f}" for x, w in zip(c[1:], (10, 9, 10, 12, 9, 10))))
first, last = buckets[0], buckets[-1]
g = [med(add[(k, last)]) / med(add[(k, first)]) for k in range(3)]
print(f"ADD growth, first {b} -> last {b}: circuit {g[0]:.2f}x, reference {g[1]:.2f}x, "
      f"floor {g[2]:.2f}x (target: circuit <= floor + 10 % = {g[2] * 1.1:.2f}x)")
PY

if command -v gnuplot >/dev/null; then
	gnuplot <<EOF
set terminal pngcairo size 900,420 font ",10" noenhanced
set output "$out/scale.png"
set multiplot layout 1,2 title "CNI ADD and DEL against attachments on one bridge (median per $B, fork+exec per call)"
set xlabel "attachments already on the bridge"
set ylabel "ms"
set key top left
set grid
set yrange [0:*]
set title "ADD"
plot "$out/scale.dat" u 1:2 w lp t "circuit-bridge + circuit-ipam", \
     "" u 1:3 w lp t "bridge + host-local", "" u 1:4 w lp t "kernel floor (veth + enslave)"
set title "DEL"
plot "$out/scale.dat" u 1:5 w lp t "circuit-bridge + circuit-ipam", \
     "" u 1:6 w lp t "bridge + host-local", "" u 1:7 w lp t "kernel floor (delete veth)"
unset multiplot
EOF
	echo "plot: $out/scale.png"
else
	echo "plot: gnuplot missing (tests/deps.sh installs gnuplot-nox)"
fi

# Peak RSS of one ADD of each plugin, as the runtime runs it (GNU time's
# %M: the plugin and what it waited for, so bridge includes host-local).
rss() { # PLUGIN CONF NETNS CID -> KiB of its ADD; then DEL
	CNI_COMMAND=ADD CNI_CONTAINERID=$4 CNI_NETNS=/run/netns/$3 CNI_IFNAME=eth9 \
		CNI_PATH=$BUILD/bin:/usr/lib/cni /usr/bin/time -f %M -o "$T/rss" "$1" <"$2" >/dev/null
	CNI_COMMAND=DEL CNI_CONTAINERID=$4 CNI_NETNS=/run/netns/$3 CNI_IFNAME=eth9 \
		CNI_PATH=$BUILD/bin:/usr/lib/cni "$1" <"$2" >/dev/null
	cat "$T/rss"
}
if [ -x /usr/bin/time ]; then
	ip netns add rss0
	echo "peak RSS of one ADD (KiB): circuit-bridge (+ circuit-ipam in-process) $(rss "$BUILD/bin/circuit-bridge" "$T/circuit.json" rss0 rssc)," \
	     "bridge (+ host-local) $(rss /usr/lib/cni/bridge "$T/ref.json" rss0 rssr)"
	ip netns del rss0
else
	echo "peak RSS: /usr/bin/time missing (tests/deps.sh installs time)"
fi
ip link del br-floor
sed 's/^netns add /netns del /' "$T/ns.batch" >"$T/nsdel.batch"
ip -batch "$T/nsdel.batch"
