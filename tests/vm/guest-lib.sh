# SPDX-License-Identifier: Apache-2.0
# Helpers for VM tests, the guest-side twin of tests/integration/lib.sh.
# Sourced by guest-init.sh inside the per-test network + mount namespace in
# the VM; $BUILD is the build dir, $VMDIR=$BUILD/vm (ipvs-probe lives
# there), $CIRCUIT_STATE_DIR a fresh state dir.  The root is the host's,
# read-only with a tmpfs overlay: writes vanish with the VM.
# The helpers shared with the integration tier (die, ok, assert_eq,
# assert_contains, cni, json_get, mkns, has, ...) come from its lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
PROBE=$VMDIR/ipvs-probe

# vpair NS ADDR/LEN PEERADDR/LEN IFNAME: veth between this (the test's)
# namespace and NS; ADDR on our end IFNAME, PEERADDR on NS's eth0, and a
# default route in NS via ADDR.
vpair() {
	local ns=$1 a=$2 pa=$3 ifn=$4
	ip link add "$ifn" type veth peer name eth0 netns "$ns"
	ip addr add "$a" dev "$ifn"
	ip link set "$ifn" up
	ip -n "$ns" addr add "$pa" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "${a%/*}"
}

# rtt_ms NS DEST [COUNT]: average ping RTT in ms (busybox ping: no iputils here)
rtt_ms() {
	ip netns exec "$1" busybox ping -c "${3:-5}" -i 0.2 "$2" |
		sed -n 's|.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p'
}

# Fail loudly if sourced anywhere but inside the test VM (guest-init.sh sets it).
[ "${CIRCUIT_VM_GUEST:-}" = 1 ] || die "guest-lib.sh must run inside the test VM"
