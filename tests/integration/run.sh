#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration tier: needs root.  Every t-*.sh file runs in a network and
# mount namespace of its own, with private tmpfs mounts on /run/netns,
# /var/lib/cni and /var/lib/circuit and a state dir of its own: nothing here
# can touch the machine's real links, routes or eth0, and no test file sees
# another's, so they run in parallel, JOBS at a time (longest first, by the
# durations of the previous run kept in BUILD/integration-times).
# Output: one block per test file, printed whole when the file ends
# ("PASS name (Ns)", "FAIL name (rc=N, Ns)" and the tail of its log, or
# "SKIP name: reason"), its MEASURE lines, and last exactly
# "integration: N passed, N failed, N skipped".  A file skips by calling
# skip REASON (lib.sh: exit 77 and the reason); a skip never fails the run,
# an exit 77 without a reason is a failure.
# Tests run with the system's tools first on PATH (Debian's, as
# tests/deps.sh installs them), not a version manager's shims: a pyenv
# shim costs over a second per python3 call on a loaded machine.
# Usage: tests/integration/run.sh BUILD_DIR [t-name ...]
# Env:   JOBS (test files at a time, default nproc), VERBOSE=1 (every log)
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd); shift || true
JOBS=${JOBS:-$(nproc)}

if [ "$(id -u)" != 0 ]; then
	echo "integration: needs root"; echo "integration: 0 passed, 1 failed, 0 skipped"; exit 1
fi
case $JOBS in ''|*[!0-9]*|0) echo "integration: JOBS must be a positive number"; exit 2;; esac

tests=()
for t in "$@"; do t=${t%.sh}; t=${t#t-}; tests+=("$t"); done
[ ${#tests[@]} -eq 0 ] && tests=($(cd "$here" && ls t-*.sh | sed 's/^t-//; s/\.sh$//' | sort))
for t in "${tests[@]}"; do
	[ -f "$here/t-$t.sh" ] || { echo "integration: no test $here/t-$t.sh"; echo "integration: 0 passed, 1 failed, 0 skipped"; exit 1; }
done
# Longest first: a long file started last would end the run alone.
times=$BUILD/integration-times
if [ -s "$times" ]; then
	tests=($(for t in "${tests[@]}"; do
		echo "$(awk -v t="$t" '$1 == t { d = $2 } END { print d + 0 }' "$times") $t"
	done | sort -k1,1nr -k2,2 | awk '{print $2}'))
fi

out=$(mktemp -d /tmp/circuit-it.XXXXXX)
trap 'rm -rf "$out"' EXIT

# run_one NAME: t-NAME.sh in new net + mount namespaces; leaves in $out
# NAME.log, NAME.dur, NAME.skip (if it skipped) and, last, NAME.rc.
run_one() {
	local t=$1 state start rc
	state=$(mktemp -d /tmp/circuit-state.XXXXXX)
	start=$(date +%s.%N)
	# /run/netns and the state dirs are private tmpfs mounts so "ip netns
	# add" and every store write stay inside this test's mount namespace.
	unshare --net --mount --propagation private \
		env BUILD="$BUILD" SRCDIR="$here/../.." CIRCUIT_STATE_DIR="$state" \
		CIRCUIT_TEST_SKIP="$out/$t.skip" PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH" \
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
		' "$here/lib.sh" "$here/t-$t.sh" >"$out/$t.log" 2>&1 </dev/null
	rc=$?
	rm -rf "$state"
	printf '%.1f\n' "$(echo "$(date +%s.%N) - $start" | bc)" >"$out/$t.dur"
	echo "$rc" >"$out/$t.rc"
}

pass=0; fail=0; skip=0; failed=(); skipped=(); started=(); reported=()
# report NAME: its block, printed at once so parallel files never interleave.
report() {
	local t=$1 rc dur reason
	rc=$(cat "$out/$t.rc"); dur=$(cat "$out/$t.dur")
	reason=$(cat "$out/$t.skip" 2>/dev/null)
	{
	if [ "$rc" = 0 ]; then
		pass=$((pass+1)); echo "PASS $t (${dur}s)"
		[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$out/$t.log"
	elif [ "$rc" = 77 ] && [ -n "$reason" ]; then
		skip=$((skip+1)); skipped+=("$t"); echo "SKIP $t: $reason (${dur}s)"
		[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$out/$t.log"
	else
		fail=$((fail+1)); failed+=("$t")
		if [ "$rc" = 77 ]; then
			echo "FAIL $t (rc=77 without a reason: call skip REASON to skip, ${dur}s)"
		else
			echo "FAIL $t (rc=$rc, ${dur}s)"
		fi
		sed 's/^/    /' "$out/$t.log" | tail -60
	fi
	# Measured numbers always.
	grep '^MEASURE' "$out/$t.log" | sed 's/^/    /'
	} >"$out/report"
	cat "$out/report"
	echo "$t $dur" >>"$out/times"
	reported+=("$t")
}
# report_done: report every started file that has ended; prints how many still run.
report_done() {
	local t n=0
	for t in "${started[@]}"; do
		case " ${reported[*]} " in *" $t "*) continue;; esac
		if [ -f "$out/$t.rc" ]; then report "$t"; else n=$((n+1)); fi
	done
	running=$n
}

wall0=$(date +%s.%N)
running=0
for t in "${tests[@]}"; do
	while [ "$running" -ge "$JOBS" ]; do
		wait -n
		report_done
	done
	run_one "$t" &
	started+=("$t")
	running=$((running+1))
done
while [ "$running" -gt 0 ]; do
	wait -n || [ $? -ne 127 ] || break	# 127: no child left
	report_done
done
wait
report_done
for t in "${started[@]}"; do	# a job that died without leaving its status
	case " ${reported[*]} " in *" $t "*) continue;; esac
	echo 125 >"$out/$t.rc"; [ -s "$out/$t.dur" ] || echo "?" >"$out/$t.dur"
	report "$t"
done
wall=$(printf '%.1f' "$(echo "$(date +%s.%N) - $wall0" | bc)")

# Remember the durations (this run's replace the last run's) for the order.
{ cat "$out/times"; [ -f "$times" ] && cat "$times"; } |
	awk '!seen[$1]++' | sort -k1,1 >"$times.tmp" && mv "$times.tmp" "$times"
sum=$(awk '{ s += $2 } END { printf "%.1f", s }' "$out/times")
echo "MEASURE integration wall=${wall}s sum_of_files=${sum}s jobs=$JOBS files=${#tests[@]}"
[ ${#skipped[@]} -gt 0 ] && echo "skipped: ${skipped[*]}"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
