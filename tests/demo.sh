#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The main job, in a throwaway network namespace: a network with two
# containers that talk to each other and to their gateway, then torn down.
# Usage: tests/demo.sh BUILD_DIR
set -eu
BUILD=$(cd "${1:-build}" && pwd)
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces)"; exit 1; }
exec unshare --net --mount --propagation private bash -s "$BUILD" <<'INNER'
set -eu
BUILD=$1
mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns; mount -t tmpfs tmpfs /run/netns; }
export CIRCUIT_STATE_DIR=$(mktemp -d /tmp/circuit-demo.XXXXXX)
trap 'rm -rf "$CIRCUIT_STATE_DIR"' EXIT
ip link set lo up
conf='{"cniVersion":"1.1.0","name":"sandbox","type":"circuit-bridge","isDefaultGateway":true,
       "ipMasq":true,"ipam":{"type":"circuit-ipam","subnet":"10.254.1.0/24"}}'
add() {
	ip netns add "$1"
	echo "$conf" | CNI_COMMAND=ADD CNI_CONTAINERID=$1 CNI_NETNS=/run/netns/$1 \
		CNI_IFNAME=eth0 CNI_PATH=$BUILD/bin $BUILD/bin/circuit-bridge
}
echo "== circuit-bridge ADD web-00"; add web-00; echo
echo "== circuit-bridge ADD web-01"; add web-01; echo
echo "== bridge and masquerade on the (throwaway) host"
ip -br addr show dev c-sandbox
nft list table inet circuit | grep masquerade
echo "== web-00 pings web-01 and the gateway"
ip netns exec web-00 busybox ping -c 2 10.254.1.3
ip netns exec web-00 busybox ping -c 2 10.254.1.1
for c in web-00 web-01; do
	echo "$conf" | CNI_COMMAND=DEL CNI_CONTAINERID=$c CNI_NETNS=/run/netns/$c \
		CNI_IFNAME=eth0 CNI_PATH=$BUILD/bin $BUILD/bin/circuit-bridge
done
echo "== after DEL: no ports left on c-sandbox: [$(ip -o link show master c-sandbox)]"
echo "demo: ok"
INNER
