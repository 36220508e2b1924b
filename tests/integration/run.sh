#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration tier: needs root.  Re-executes itself inside a fresh network
# and mount namespace, so the "host" of every test is a namespace this run
# made: nothing here can touch the machine's real links, routes or eth0.
# Every t-*.sh file runs in its own child namespace pair as well.
# Usage: tests/integration/run.sh BUILD_DIR [t-name ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd); shift || true

if [ "$(id -u)" != 0 ]; then
	echo "integration: needs root"; echo "0 passed, 1 failed"; exit 1
fi

pass=0; fail=0; failed=()
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=($(cd "$here" && ls t-*.sh | sort))
for t in "${tests[@]}"; do
	t=${t%.sh}; t=${t#t-}
	log=$(mktemp /tmp/circuit-it.XXXXXX)
	state=$(mktemp -d /tmp/circuit-state.XXXXXX)
	start=$(date +%s.%N)
	# New net + mount namespace per test file; /run/netns and the state
	# dir are private tmpfs mounts so "ip netns add" stays inside it.
	unshare --net --mount --propagation private \
		env BUILD="$BUILD" SRCDIR="$here/../.." CIRCUIT_STATE_DIR="$state" \
		bash -c '
			mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns; }
			mount -t tmpfs tmpfs /var/lib/cni 2>/dev/null || { mkdir -p /var/lib/cni && mount -t tmpfs tmpfs /var/lib/cni; }
			# The default store too: nothing a test runs may write the host'"'"'s.
			mount -t tmpfs tmpfs /var/lib/circuit 2>/dev/null || { mkdir -p /var/lib/circuit && mount -t tmpfs tmpfs /var/lib/circuit; }
			export CIRCUIT_STATE_DIR
			ip link set lo up
			. "$0"
			cd "$(dirname "$1")"
			. "$1"
		' "$here/lib.sh" "$here/t-$t.sh" >"$log" 2>&1
	rc=$?
	dur=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo "?")
	if [ $rc -eq 0 ]; then
		pass=$((pass+1)); echo "PASS $t (${dur}s)"
		[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$log"
	else
		fail=$((fail+1)); failed+=("$t"); echo "FAIL $t (rc=$rc)"
		sed 's/^/    /' "$log" | tail -60
	fi
	# Print measured numbers (lines starting with MEASURE) always.
	grep '^MEASURE' "$log" | sed 's/^/    /'
	rm -f "$log"
	rm -rf "$state"
done
echo "integration: $pass passed, $fail failed"
[ $fail -eq 0 ]
