#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The whole suite: unit (Check, no privileges), integration (root, inside
# namespaces each test makes), vm (Debian's kernel under qemu, for IPVS and
# netem), fuzz (libFuzzer harnesses, FUZZ_TIME s each, default 30).  Ends
# with one line "N passed, N failed, N skipped" summing all
# tiers (a skipped test never fails the suite; each runner prints it as
# "SKIP name: reason").
# Usage: tests/run-all.sh BUILD_DIR      (TIERS="unit integration vm fuzz" to pick)
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$here/.." && pwd)
TIERS=${TIERS:-unit integration vm fuzz}
pass=0; fail=0; skip=0
log=$(mktemp /tmp/circuit-suite.XXXXXX)
trap 'rm -f "$log"' EXIT

for tier in $TIERS; do
	echo "=== $tier"
	case $tier in
	unit)
		CIR_SRCDIR=$SRC "$BUILD/bin/unit-tests" 2>&1 | tee "$log"
		# Check: "100%: Checks: 26, Failures: 0, Errors: 0"
		line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -1)
		if [ -z "$line" ]; then
			fail=$((fail+1)); echo "unit: runner produced no summary"
		else
			c=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
			f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
			e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
			pass=$((pass + c - f - e)); fail=$((fail + f + e))
		fi
		;;
	integration|vm|fuzz)
		"$here/$tier/run.sh" "$BUILD" 2>&1 | tee "$log"
		# "integration: 12 passed, 0 failed, 1 skipped"
		line=$(grep -E "^$tier: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
		if [ -z "$line" ]; then
			fail=$((fail+1)); echo "$tier: runner produced no summary"
		else
			p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
			f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
			s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
			pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + ${s:-0}))
		fi
		;;
	*)
		echo "unknown tier $tier"; fail=$((fail+1));;
	esac
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
