#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration tier: needs root.  Re-executes itself inside a fresh network
# and mount namespace, so the "host" of every test is a namespace this run
# made: nothing here can touch the machine's real links, routes or eth0.
# Every t-*.sh file runs in its own child namespace pair as well.
# Last line, exactly: "integration: N passed, N failed, N skipped".  A file
# skips by calling skip REASON (lib.sh: exit 77 and the reason), printed as
# "SKIP name: reason"; a skip never fails the run, an exit 77 without a
# reason is a failure.
# Tests run with the system's tools first on PATH (Debian's, as
# tests/deps.sh installs them), not a version manager's shims: a pyenv
# shim costs over a second per python3 call on a loaded machine.
# Usage: tests/integration/run.sh BUILD_DIR [t-name ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd); shift || true

if [ "$(id -u)" != 0 ]; then
	echo "integration: needs root"; echo "integration: 0 passed, 1 failed, 0 skipped"; exit 1
fi

pass=0; fail=0; skip=0; failed=(); skipped=()
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=($(cd "$here" && ls t-*.sh | sort))
for t in "${tests[@]}"; do
	t=${t%.sh}; t=${t#t-}
	log=$(mktemp /tmp/circuit-it.XXXXXX)
	state=$(mktemp -d /tmp/circuit-state.XXXXXX)
	skipf=$log.skip
	start=$(date +%s.%N)
	# New net + mount namespace per test file; /run/netns and the state
	# dir are private tmpfs mounts so "ip netns add" stays inside it.
	unshare --net --mount --propagation private \
		env BUILD="$BUILD" SRCDIR="$here/../.." CIRCUIT_STATE_DIR="$state" \
		CIRCUIT_TEST_SKIP="$skipf" PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH" \
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
	reason=$(cat "$skipf" 2>/dev/null)
	if [ $rc -eq 0 ]; then
		pass=$((pass+1)); echo "PASS $t (${dur}s)"
		[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$log"
	elif [ $rc -eq 77 ] && [ -n "$reason" ]; then
		skip=$((skip+1)); skipped+=("$t"); echo "SKIP $t: $reason"
		[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$log"
	else
		fail=$((fail+1)); failed+=("$t")
		if [ $rc -eq 77 ]; then
			echo "FAIL $t (rc=77 without a reason: call skip REASON to skip)"
		else
			echo "FAIL $t (rc=$rc)"
		fi
		sed 's/^/    /' "$log" | tail -60
	fi
	# Print measured numbers (lines starting with MEASURE) always.
	grep '^MEASURE' "$log" | sed 's/^/    /'
	rm -f "$log" "$skipf"
	rm -rf "$state"
done
[ ${#skipped[@]} -gt 0 ] && echo "skipped: ${skipped[*]}"
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
