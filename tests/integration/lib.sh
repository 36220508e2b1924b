# SPDX-License-Identifier: Apache-2.0
# Helpers for integration tests.  Sourced inside the per-test namespace made
# by run.sh; $BUILD is the build dir, $CIRCUIT_STATE_DIR a fresh state dir.
set -eu -o pipefail

BIN=$BUILD/bin
export CNI_PATH=$BIN:/usr/lib/cni

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# assert_eq WANT GOT MSG
assert_eq() { [ "$1" = "$2" ] || die "$3: want '$1', got '$2'"; }
assert_contains() { case "$1" in *"$2"*) ;; *) die "${3:-}: '$1' does not contain '$2'";; esac; }

# cni VERB PLUGIN CONTAINERID NETNS IFNAME <<< CONFIG   (stdout=result, rc kept)
cni() {
	local verb=$1 plugin=$2 cid=$3 ns=$4 ifn=$5
	CNI_COMMAND=$verb CNI_CONTAINERID=$cid CNI_NETNS=$ns CNI_IFNAME=$ifn \
		"$plugin"
}

# json_get JSON EXPR   (python3 expression on `d`)
json_get() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# A container namespace: mkns NAME -> /run/netns/NAME
mkns() { ip netns add "$1"; ip -n "$1" link set lo up; }
