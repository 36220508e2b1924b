#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The main job, in a throwaway network and mount namespace: the README's
# walkthrough with two "containers" (processes in network namespaces of
# their own), then everything removed.  Nothing outside the namespace is
# touched; the state lives in a temporary directory.
# Usage: tests/demo.sh BUILD_DIR
set -eu
BUILD=$(cd "${1:-build}" && pwd)
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces)"; exit 1; }
exec unshare --net --mount --propagation private bash -s "$BUILD" <<'INNER'
set -eu
BUILD=$1
mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
export CIRCUIT_STATE_DIR=$(mktemp -d /tmp/circuit-demo.XXXXXX)
export CIRCUIT_PLUGIN_PATH=$BUILD/bin
pids=()
trap 'kill ${pids[@]} 2>/dev/null; rm -rf "$CIRCUIT_STATE_DIR"' EXIT
ip link set lo up
say() { printf '\n$> %s\n' "$*"; "$@"; }
circuit() { "$BUILD/bin/circuit" "$@"; }

say circuit network create sandbox 10.254.1.0/24
say circuit network ls
for c in web-00 web-01; do
	ip netns add $c
	ip netns exec $c sleep 600 & pids+=($!)
done
sleep 0.1
say circuit network connect ${pids[0]} sandbox
say circuit network connect ${pids[1]} sandbox
echo; echo "== web-00: $(ip -n web-00 -br -4 addr show eth0)"
echo "== web-01: $(ip -n web-01 -br -4 addr show eth0)"
say ip netns exec web-00 busybox ping -c 2 10.254.1.3
say ip netns exec web-00 busybox ping -c 2 10.254.1.1
say circuit network qos set --rate 5000 --ceiling 6000 sandbox
say circuit network qos show sandbox
say circuit network qos reset sandbox
say circuit network inspect sandbox
say circuit network disconnect ${pids[0]} sandbox
say circuit network disconnect ${pids[1]} sandbox
say circuit network delete sandbox
echo; echo "== left on the (throwaway) host: $(ip -o link show | grep -vc ' lo:') links besides lo"
echo "demo: ok"
INNER
