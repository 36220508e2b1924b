#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench, cluster part (spec/cluster.md): on the underlay of
# tests/integration/cluster.sh (a bridge in namespace ul, a 3-member etcd
# in namespaces e1..e3, hosts h1 and h2 with their `circuit agent`):
#  1. CNI ADD and DEL (circuit-bridge, one fork+exec per call, through
#     cni-bench) on a cluster network (blue) vs a local network (red) on
#     the same host, calls alternating, median and p90 of BENCH_CLUSTER_N
#     (default 40) with a container already holding the host's block (no
#     etcd round trip); then BENCH_CLUSTER_CLAIMS (default 10) ADD+DEL
#     cycles on a host holding no block of blue, so that every cluster ADD
#     claims a block in etcd (the first ADD of a host) and every DEL frees
#     it, alternating with the local network's;
#  2. TCP throughput (iperf3, BENCH_CLUSTER_IPERF_S seconds, default 5, 3
#     rounds alternating): a container on h1 to one on h2 over the VXLAN
#     overlay, vs h1 to h2 over the plain underlay, vs two containers on
#     h1's bridge;
#  3. BENCH_CLUSTER_JOINS (default 5) times: a new host joins (its agent
#     starts and registers); at once a container is connected there
#     (`circuit network connect`, which claims a block), then sends an ICMP
#     echo every 10 ms to a container on h1 (icmp-probe.py): the time from
#     the connect's start to the first reply, which needs h1's agent to
#     have programmed the new peer's FDB entry and the new host's agent its
#     own (both polled and printed).  The host is then killed and left to
#     expire, so that every join starts from the same two hosts.
# Benchmarks, never timed assertions: a functional failure (no reply, a
# wrong block count) stops it.  Prints ratios; writes BUILD/bench/cluster.txt.
# Runs inside the bench's private namespace (bench-inner.sh), or alone
# (it makes its own private namespaces then):
#   tests/bench/cluster-bench.sh BUILD
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
SRCDIR=$(cd "$here/../.." && pwd)
if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
	exec unshare --net --mount --propagation private "$0" "$BUILD"
fi
N=${BENCH_CLUSTER_N:-40}
CLAIMS=${BENCH_CLUSTER_CLAIMS:-10}
JOINS=${BENCH_CLUSTER_JOINS:-5}
IPERF_S=${BENCH_CLUSTER_IPERF_S:-5}
command -v etcd >/dev/null || { echo "cluster-bench: etcd missing (tests/deps.sh installs etcd-server)"; exit 1; }
command -v iperf3 >/dev/null || { echo "cluster-bench: iperf3 missing"; exit 1; }
[ -x "$BUILD/bin/cni-bench" ] || { echo "cluster-bench: $BUILD/bin/cni-bench missing (tests/bench/run.sh builds it: make bench)"; exit 1; }
mountpoint -q /run/netns 2>/dev/null || mount -t tmpfs tmpfs /run/netns 2>/dev/null ||
	{ mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
# Nothing may fall back to the machine's default store.
mountpoint -q /var/lib/circuit 2>/dev/null || mount -t tmpfs tmpfs /var/lib/circuit 2>/dev/null ||
	{ mkdir -p /var/lib/circuit; mount -t tmpfs tmpfs /var/lib/circuit; }
ip link set lo up

# The integration tier's helpers: die, has, run, assert_*, json_get; then
# the underlay, etcd, agents, on, ctr and the cleanup trap.
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/cluster.sh"
report=$BUILD/bench/cluster.txt
mkdir -p "$BUILD/bench"
: >"$report"
# say LINE: print a result line and keep it in the report.
say() { printf '%s\n' "$*" | tee -a "$report"; }

EP=http://10.77.0.11:2379,http://10.77.0.12:2379,http://10.77.0.13:2379
cl_conf "$tmp/circuit.conf" "$EP"
echo
say "bench: cluster mode (etcd $(etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}'), 3 members, lease TTL $TTL s), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
cl_underlay
init=e1=http://10.77.0.11:2380,e2=http://10.77.0.12:2380,e3=http://10.77.0.13:2380
for n in 1 2 3; do
	cl_node e$n 10.77.0.1$n
	etcd_start $n e$n 10.77.0.1$n "$init"
done
for n in 1 2; do cl_node h$n 10.77.0.$n; done
for n in 1 2 3; do etcd_wait $n e$n 10.77.0.1$n; done
for n in 1 2; do agent_start $n h$n "$tmp/circuit.conf"; done
for n in 1 2; do cl_registered $n; done

run on 1 "$C" network create blue 10.128.0.0/16 --scope cluster --vni 4242
[ "$rc" = 0 ] || die "create blue: $out"
for n in 1 2; do
	run on $n "$C" network create red 10.140.0.0/16
	[ "$rc" = 0 ] || die "create red on h$n: $out"
done
# conf N NETWORK: the network's single-plugin config as exported on host N
# (what a CNI runtime would run) in $tmp/NETWORK.N.json.
conf() {
	run on "$1" "$C" network export "$2"
	[ "$rc" = 0 ] || die "export $2 on h$1: $out"
	python3 -c 'import json,sys; c=json.loads(sys.argv[1]); p=c["plugins"][0]; p["name"]=c["name"]; p["cniVersion"]=c["cniVersion"]; print(json.dumps(p))' \
		"$out" >"$tmp/$2.$1.json"
}
for n in 1 2; do conf $n blue; conf $n red; done
# blocks_of N: how many blocks of blue host N holds.
blocks_of() {
	run on 1 "$C" cluster blocks blue --format json
	[ "$rc" = 0 ] || die "cluster blocks: $out"
	json_get "$out" "len([b for b in d if b['host'] == 'h$1'])"
}
# A container on h1 holds h1's block of blue for the whole part 1.
ctr 1 c1
# pstats FILE COLUMN: "median p90" (ms) of a column of cni-bench's raw
# lines "variant i add_ms del_ms", for variant 0 and 1: 4 numbers.
pstats() {
	python3 - "$@" <<'PY'
import math, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
col = int(sys.argv[2])
out = []
for k in ("0", "1"):
    v = sorted(float(r[col]) for r in rows if r[0] == k)
    out += [statistics.median(v), v[max(0, math.ceil(0.9 * len(v)) - 1)]]
print(" ".join(f"{x:.2f}" for x in out))
PY
}
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

# --- 1a. ADD/DEL inside a held block vs a local network, h1
nsb=$tmp/ns.batch
for i in $(seq 0 $((N - 1))); do echo "netns add kc$i"; echo "netns add kl$i"; made_ns+=("kc$i" "kl$i"); done >"$nsb"
ip -batch "$nsb"
bench() { on "$1" env CNI_BENCH_RAW="$2" "$BIN/cni-bench" "$BIN:/usr/lib/cni" /run/netns "${@:3}"; }
# Warm-up (page cache, first bridge port), then measured.
bench 1 "$tmp/warm" 2 "$tmp/blue.1.json" kc "$tmp/red.1.json" kl >/dev/null
bench 1 "$tmp/raw1" "$N" "$tmp/blue.1.json" kc "$tmp/red.1.json" kl >/dev/null
[ "$(blocks_of 1)" = 1 ] || die "h1 holds $(blocks_of 1) blocks of blue after $N ADDs (want 1: no claim)"
read -r cam cap lam lap < <(pstats "$tmp/raw1" 2)
read -r cdm cdp ldm ldp < <(pstats "$tmp/raw1" 3)
say "1. CNI ADD/DEL (circuit-bridge fork+exec'd, as exported), $N containers each, alternating, on h1, ms:"
say "$(printf "   %-44s %8s %8s %8s %8s\n" "" "ADD med" "ADD p90" "DEL med" "DEL p90")"
say "$(printf "   %-44s %8s %8s %8s %8s\n" "cluster network, inside the host's block" "$cam" "$cap" "$cdm" "$cdp")"
say "$(printf "   %-44s %8s %8s %8s %8s\n" "local network" "$lam" "$lap" "$ldm" "$ldp")"
say "   ratio cluster/local: ADD median $(ratio "$cam" "$lam")x, p90 $(ratio "$cap" "$lap")x (target <= 1.5x); DEL median $(ratio "$cdm" "$ldm")x"

# --- 1b. ADDs that claim a block (h2 holds none; each DEL frees it)
[ "$(blocks_of 2)" = 0 ] || die "h2 holds a block of blue before its first ADD"
ip netns add kq0; ip netns add kr0; made_ns+=(kq0 kr0)
: >"$tmp/raw2"
for j in $(seq "$CLAIMS"); do
	bench 2 "$tmp/rawc" 1 "$tmp/blue.2.json" kq "$tmp/red.2.json" kr >/dev/null
	cat "$tmp/rawc" >>"$tmp/raw2"
done
[ "$(blocks_of 2)" = 0 ] || die "h2 still holds a block of blue after its last DEL"
first=$(awk '$1 == 0 {print $3; exit}' "$tmp/raw2")
read -r qam qap ram rap < <(pstats "$tmp/raw2" 2)
read -r qdm qdp rdm rdp < <(pstats "$tmp/raw2" 3)
say "   $CLAIMS ADD+DEL cycles on h2, which holds no block of blue: every cluster ADD claims one in etcd, every DEL frees it:"
say "$(printf "   %-44s %8s %8s %8s %8s\n" "cluster network, claiming / freeing" "$qam" "$qap" "$qdm" "$qdp")"
say "$(printf "   %-44s %8s %8s %8s %8s\n" "local network" "$ram" "$rap" "$rdm" "$rdp")"
say "   the host's very first ADD on blue: $first ms; ratio claiming ADD / local ADD: median $(ratio "$qam" "$ram")x, p90 $(ratio "$qap" "$rap")x; claiming / in-block ADD: $(ratio "$qam" "$cam")x"

# --- 2. iperf3: overlay across hosts vs underlay vs same bridge
ctr 2 c2
ctr 1 c1b
# listen NS ADDR: an iperf3 server in NS on ADDR, up when it listens.
listen() {
	ip netns exec "$1" iperf3 -s -B "$2" >/dev/null 2>&1 &
	extra_pids+=($!)
	for _ in $(seq 100); do has ':1451 00000000:0000 0A' <<<"$(ip netns exec "$1" cat /proc/net/tcp)" && return 0; sleep 0.1; done
	die "iperf3 server in $1 not listening"
}
listen c2 "${addr[c2]}"
listen h2 10.77.0.2
listen c1 "${addr[c1]}"
# gbps NS ADDR: one iperf3 run's received Gbit/s.
gbps() {
	local j
	j=$(ip netns exec "$1" iperf3 -c "$2" -t "$IPERF_S" -J) || die "iperf3 $1 -> $2: $j"
	json_get "$j" 'round(d["end"]["sum_received"]["bits_per_second"] / 1e9, 2)'
}
ov=() ul=() sb=()
for _ in 1 2 3; do
	ov+=("$(gbps c1 "${addr[c2]}")")
	ul+=("$(gbps h1 10.77.0.2)")
	sb+=("$(gbps c1b "${addr[c1]}")")
done
med() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
say "2. TCP throughput (iperf3 -t $IPERF_S, 3 rounds alternating), Gbit/s, median (rounds):"
say "   container h1 -> container h2, VXLAN overlay (MTU 1450): $(med "${ov[@]}") (${ov[*]})"
say "   h1 -> h2, plain underlay (veth, bridge, veth; MTU 1500):  $(med "${ul[@]}") (${ul[*]})"
say "   container -> container on h1's bridge:                   $(med "${sb[@]}") (${sb[*]})"
say "   ratio overlay/underlay $(ratio "$(med "${ov[@]}")" "$(med "${ul[@]}")")x, overlay/same-bridge $(ratio "$(med "${ov[@]}")" "$(med "${sb[@]}")")x"

# --- 3. a new host: connect there, then the first reply from h1's container
say "3. a new host joins (its agent starts); once registered, a container is connected there, which then sends an ICMP echo"
say "   every 10 ms to ${addr[c1]} (c1 on h1); times from the agent's start, ms: its registration (seen in its log, +-100),"
say "   h1's FDB entry for it and its own for h1 (polled every 20 ms), the connect's start, the first reply; the connect's"
say "   duration and the first reply from the connect's start:"
say "$(printf "   %-6s %10s %8s %8s %8s %8s %12s %14s\n" host registered "h1 FDB" "own FDB" connect "reply" "connect took" "reply-connect")"
# fdbwatch J: the times h1's FDB has host J and host J's has h1.
fdbwatch() {
	local a='' b=''
	for _ in $(seq 1500); do
		[ -n "$a" ] || { has "dst 10\.77\.0\.$1 " <<<"$(bridge -n h1 fdb show dev vc-blue) " && a=$(date +%s.%N); }
		[ -n "$b" ] || { has "dst 10\.77\.0\.1 " <<<"$(bridge -n h$1 fdb show dev vc-blue 2>/dev/null) " && b=$(date +%s.%N); }
		[ -n "$a" ] && [ -n "$b" ] && break
		sleep 0.02
	done
	echo "${a:-0} ${b:-0}"
}
fr=() cn=()
for j in $(seq 3 $((JOINS + 2))); do
	cl_node h$j 10.77.0.$j
	# The container and its probe first, so that the connect follows the
	# registration at once.
	cl_ns n$j
	ip netns exec n$j sleep 3600 &
	cpid=$!
	extra_pids+=("$cpid")
	netns_wait $cpid
	rm -f "$tmp/ready" "$tmp/go"
	ip netns exec n$j python3 "$here/icmp-probe.py" "${addr[c1]}" "$tmp/ready" "$tmp/go" 30 >"$tmp/probe" &
	ppid=$!
	extra_pids+=("$ppid")
	for _ in $(seq 200); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
	[ -e "$tmp/ready" ] || die "the probe in n$j did not start"
	t=$(date +%s.%N)
	agent_start $j h$j "$tmp/circuit.conf"
	fdbwatch $j >"$tmp/fdbw" &
	wpid=$!
	extra_pids+=("$wpid")
	cl_registered $j
	treg=$(echo "($(date +%s.%N) - $t) * 1000" | bc)
	t0=$(date +%s.%N)
	run on $j "$C" network connect $cpid blue
	t1=$(date +%s.%N)
	touch "$tmp/go"
	[ "$rc" = 0 ] || die "connect on h$j: $out"
	wait $ppid || die "no reply from ${addr[c1]} to h$j's container within 30 s (h1's FDB: $(bridge -n h1 fdb show dev vc-blue))"
	t2=$(cat "$tmp/probe")
	c=$(echo "($t1 - $t0) * 1000" | bc) f=$(echo "($t2 - $t0) * 1000" | bc)
	cn+=("$c") fr+=("$f")
	wait $wpid || true
	read -r fa fb <"$tmp/fdbw"
	ms() { [ "$1" = 0 ] && echo nan || echo "($1 - $t) * 1000" | bc; }
	say "$(printf "   %-6s %10.0f %8.0f %8.0f %8.0f %8.0f %12.0f %14.0f\n" h$j "$treg" "$(ms $fa)" "$(ms $fb)" \
		"$(ms $t0)" "$(ms $t2)" "$c" "$f")"
	has "dst 10\.77\.0\.$j " <<<"$(bridge -n h1 fdb show dev vc-blue) " || die "h1 has no FDB entry for h$j"
	# Gone again: killed, and its lease left to expire (its FDB entries
	# removed from h1 and h2), so that the next join starts alike.
	kill -9 "${apid[$j]}" "$cpid"
	wait "${apid[$j]}" "$cpid" 2>/dev/null || true
	ip netns del n$j
	ip netns del h$j
	for _ in $(seq $((TTL * 30))); do
		has "dst 10\.77\.0\.$j " <<<"$(bridge -n h1 fdb show dev vc-blue; bridge -n h2 fdb show dev vc-blue) " || break
		sleep 0.1
	done
	has "dst 10\.77\.0\.$j " <<<"$(bridge -n h1 fdb show dev vc-blue; bridge -n h2 fdb show dev vc-blue) " &&
		die "h$j's FDB entries still on h1 or h2 $((TTL * 3)) s after its kill"
done
medl() { printf '%s\n' "$@" | sort -g | python3 -c 'import statistics,sys; print(f"{statistics.median(float(l) for l in sys.stdin):.1f}")'; }
say "   median of $JOINS: connect $(medl "${cn[@]}") ms, first reply $(medl "${fr[@]}") ms after the connect started"
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
say "results: $report"
