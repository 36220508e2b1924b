#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fuzzing tier: builds the libFuzzer harnesses of tests/fuzz (clang,
# ASan+UBSan) and runs each one: first every input kept in
# regressions/<harness>/ (each must pass), then FUZZ_TIME seconds
# (default 30) of fuzzing from corpus/<harness>/ and the regressions.  Up
# to FUZZ_JOBS harnesses (default: JOBS, else the number of CPUs) run at once.
# A crash, leak, timeout or out-of-memory input is copied into
# regressions/<harness>/ (commit it with the fix) and fails the harness.
# Usage: tests/fuzz/run.sh [BUILD_DIR] [harness ...]
# The sanitizer build goes beside BUILD_DIR, into BUILD_DIR-fuzz (build ->
# build-fuzz; build-fuzz stays build-fuzz), never into BUILD_DIR itself.
# Ends with one line "fuzz: N passed, N failed" (one per harness).
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-build}; shift || true
build=${build%/}
fbuild=${build%-fuzz}-fuzz
case $fbuild in /*) ;; *) fbuild=$src/$fbuild ;; esac
FUZZ_TIME=${FUZZ_TIME:-30}
FUZZ_JOBS=${FUZZ_JOBS:-${JOBS:-$(nproc 2>/dev/null || echo 2)}}
start=$(date +%s)

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
	echo "fuzz: ${FUZZ_CC:-clang} not found (tests/deps.sh installs clang and libclang-rt-14-dev)"
	echo "fuzz: 0 passed, 1 failed"; exit 1
fi
mkdir -p "$fbuild"
if ! make -C "$src" -s -j"$FUZZ_JOBS" FUZZ_BUILD="$fbuild" ${FUZZ_CC:+FUZZ_CC=$FUZZ_CC} \
	fuzz-build >"$fbuild/build.log" 2>&1; then
	tail -40 "$fbuild/build.log"
	echo "fuzz: build failed (log: $fbuild/build.log)"
	echo "fuzz: 0 passed, 1 failed"; exit 1
fi

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
	for f in "$here"/*.c; do harnesses+=("$(basename "$f" .c)"); done
fi

# The store harness keeps its files under TMPDIR: tmpfs when there is one.
tmp=$(mktemp -d -p /dev/shm circuit-fuzz.XXXXXX 2>/dev/null || mktemp -d /tmp/circuit-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One harness: replay, fuzz, report into $tmp/<h>.result ("ok EXECS" or "FAIL why").
run_one() {
	local h=$1 bin=$fbuild/fuzz/$1 work=$tmp/$1 reg=$here/regressions/$1
	local seeds=$here/corpus/$1 log=$tmp/$1.log dict=() regs=() rc execs
	mkdir -p "$work/corpus" "$work/tmp"
	if [ ! -x "$bin" ]; then echo "FAIL no such harness" >"$tmp/$h.result"; return; fi
	case $h in
	units|cni_env) dict=(-dict="$here/units.dict") ;;
	*) dict=(-dict="$here/json.dict") ;;
	esac
	[ -d "$reg" ] && regs=("$reg"/*)
	[ -e "${regs[0]:-}" ] || regs=()
	if [ ${#regs[@]} -gt 0 ]; then
		TMPDIR=$work/tmp "$bin" -timeout=30 -rss_limit_mb=2048 "${regs[@]}" >"$log" 2>&1
		rc=$?
		if [ $rc -ne 0 ]; then
			echo "FAIL a regression input crashes again (rc=$rc)" >"$tmp/$h.result"
			return
		fi
	fi
	TMPDIR=$work/tmp "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$work/" "${dict[@]}" \
		"$work/corpus" "$seeds" ${regs[0]:+"$reg"} >>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		mkdir -p "$reg"
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -e "$a" ] && cp "$a" "$reg/" && echo "kept ${a##*/} in tests/fuzz/regressions/$h/" >>"$log"
		done
		echo "FAIL fuzzing found an input that fails (rc=$rc, ${execs:-?} execs)" >"$tmp/$h.result"
		return
	fi
	echo "ok ${execs:-?}" >"$tmp/$h.result"
}

running=0
for h in "${harnesses[@]}"; do
	if [ "$running" -ge "$FUZZ_JOBS" ]; then wait -n; running=$((running - 1)); fi
	run_one "$h" &
	running=$((running + 1))
done
wait

pass=0; fail=0
for h in "${harnesses[@]}"; do
	read -r status rest <"$tmp/$h.result"
	if [ "$status" = ok ]; then
		pass=$((pass + 1)); echo "PASS $h ($rest execs in ${FUZZ_TIME}s)"
	else
		fail=$((fail + 1)); echo "FAIL $h: $rest"
		grep -v '^#\|^INFO:\|^\s*$' "$tmp/$h.log" | tail -40 | sed 's/^/    /'
	fi
done
echo "fuzz: wall time $(( $(date +%s) - start ))s"
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
