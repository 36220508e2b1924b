#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside the bench's private namespace (see run.sh).
set -eu
BUILD=$1
N=${BENCH_N:-40}
mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
mkdir -p /var/lib/cni && mount -t tmpfs tmpfs /var/lib/cni
# Both stores live on the real disk, as in production (fsync costs count).
state=$(mktemp -d /var/tmp/circuit-bench.XXXXXX)
trap 'umount /var/lib/circuit 2>/dev/null; rm -rf "$state"' EXIT
export CIRCUIT_STATE_DIR=$state/circuit
# Anything that would fall back to the default store lands here instead.
mkdir -p $state/default && mount --bind $state/default /var/lib/circuit 2>/dev/null ||
	{ mkdir -p /var/lib/circuit && mount --bind $state/default /var/lib/circuit; }
ip link set lo up
for i in $(seq 0 $((N-1))); do ip netns add c$i; ip netns add r$i; done
cat > $state/circuit.json <<EOF
{"cniVersion":"1.0.0","name":"benchc","type":"circuit-bridge","isDefaultGateway":true,
 "ipam":{"type":"circuit-ipam","subnet":"10.201.0.0/16"}}
EOF
cat > $state/ref.json <<EOF
{"cniVersion":"1.0.0","name":"benchr","type":"bridge","bridge":"br-ref","isDefaultGateway":true,
 "ipam":{"type":"host-local","subnet":"10.202.0.0/16","dataDir":"$state/host-local"}}
EOF
path=$BUILD/bin:/usr/lib/cni
bench() { $BUILD/bin/cni-bench $path /run/netns "$@"; }
# Warm up both (bridge creation, page cache), then measure, alternating.
bench 2 $state/circuit.json c $state/ref.json r >/dev/null
{ read cam caa cdm cda; read ram raa rdm rda; } < <(bench $N $state/circuit.json c $state/ref.json r)
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
echo "bench: $N containers, median (mean) ms per call, same run"
printf "%-32s %18s %18s\n" "chain" "ADD" "DEL"
printf "%-32s %8s (%7s) %8s (%7s)\n" "circuit-bridge + circuit-ipam" $cam $caa $cdm $cda
printf "%-32s %8s (%7s) %8s (%7s)\n" "reference bridge + host-local" $ram $raa $rdm $rda
echo "ratio circuit/reference: ADD $(ratio $cam $ram)x, DEL $(ratio $cdm $rdm)x (targets: ADD <= 0.40x, DEL <= 0.95x)"
"$(dirname "$0")/hooks-bench.sh" "$BUILD"
"$(dirname "$0")/qos-bench.sh" "$BUILD"
"$(dirname "$0")/scale-bench.sh" "$BUILD"
"$(dirname "$0")/portmap-bench.sh" "$BUILD"
"$(dirname "$0")/cluster-bench.sh" "$BUILD"
