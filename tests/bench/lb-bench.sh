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
exec "$here/../vm/run.sh" "$BUILD" lb-bench lb-flat-bench
