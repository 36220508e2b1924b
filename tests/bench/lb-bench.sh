#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Load-balancer benchmark (make bench): IPVS needs the real kernel, so this
# boots the VM tier with tests/vm/v-lb-bench.sh: 10,000 services x 10
# targets through `circuit restore` versus `ipvsadm -R` with the same rules,
# plus one `circuit lb add` / `lb create` with the table full, and one
# create/add/delete at 10 and at 10,000 services (v-lb-flat-bench.sh: the
# ratio, the index's proof on a real kernel).  Prints the
# MEASURE lines.  To change the size, edit NS and NT in v-lb-bench.sh (the
# kernel command line carries test names only, no environment).
# Usage: tests/bench/lb-bench.sh BUILD_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-build}" && pwd)
# Under TCG (no KVM) 10,000 x 10 takes far longer than a test's 300 s.
export VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-5400} VM_TIMEOUT=${VM_TIMEOUT:-7200}
exec "$here/../vm/run.sh" "$BUILD" lb-bench lb-flat-bench
