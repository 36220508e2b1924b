#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make bench: Circuit beside the reference CNI plugins, measured in the same
# run, inside a private network namespace made for the run (bench-inner.sh).
# Usage: tests/bench/run.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$here/../.." && pwd)

[ "$(id -u)" = 0 ] || { echo "bench: needs root"; exit 1; }
[ -x /usr/lib/cni/bridge ] || {
	echo "bench: reference plugins missing: apt-get install containernetworking-plugins"; exit 1; }

cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$SRC/lib" $(pkg-config --cflags libnl-3.0 yajl) \
	-o "$BUILD/bin/cni-bench" "$here/cni-bench.c" "$BUILD/libcircuit.a" \
	$(pkg-config --libs libnl-3.0 libnl-route-3.0 libnl-genl-3.0 yajl libseccomp libnftables)

cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$SRC/lib" $(pkg-config --cflags libnl-3.0) \
	-o "$BUILD/bin/cni-floor" "$here/cni-floor.c" "$BUILD/libcircuit.a" \
	$(pkg-config --libs libnl-3.0 libnl-route-3.0 libnl-genl-3.0 yajl libseccomp libnftables)

unshare --net --mount --propagation private "$here/bench-inner.sh" "$BUILD"

# The load-balancer bench runs in the VM (IPVS): 10,000 services x 10 targets,
# circuit restore vs ipvsadm -R (times and ratio).
"$here/lb-bench.sh" "$BUILD"
