# SPDX-License-Identifier: Apache-2.0
# Helpers for integration tests.  Sourced inside the per-test namespace made
# by run.sh; $BUILD is the build dir, $CIRCUIT_STATE_DIR a fresh state dir.
set -eu -o pipefail

BIN=$BUILD/bin
export CNI_PATH=$BIN:/usr/lib/cni

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
# skip REASON: this file cannot test its subject on this machine.  Ends the
# file with exit 77 and the reason, which the runner prints as
# "SKIP name: REASON" and counts as skipped, never as passed.  Call it at the
# top level of the test file (in a subshell it would end only the subshell).
skip() {
	echo "SKIP: $*"
	[ -z "${CIRCUIT_TEST_SKIP:-}" ] || echo "$*" >"$CIRCUIT_TEST_SKIP"
	exit 77
}

# The sanitizers BUILD was made with (make asan writes BUILD/sanitize.mk),
# empty for a plain build.
SANITIZE=$(sed -n 's/^SANITIZE ?= //p' "$BUILD/sanitize.mk" 2>/dev/null || true)
# probe_cc OUT SOURCE: build a test probe against BUILD/libcircuit.a, with
# the same sanitizers as the build.
probe_cc() {
	local pkgs="libnl-3.0 libnl-route-3.0 libnl-genl-3.0 yajl libseccomp libnftables"
	# shellcheck disable=SC2046
	cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
		${SANITIZE:+-fsanitize=$SANITIZE -fno-omit-frame-pointer} -I"$SRCDIR/lib" \
		$(pkg-config --cflags $pkgs) -o "$1" "$2" "$BUILD/libcircuit.a" $(pkg-config --libs $pkgs)
}

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

# conf_with_prev CONF RESULT -> CONF with prevResult injected
conf_with_prev() {
	python3 -c 'import json,sys; c=json.loads(sys.argv[1]); c["prevResult"]=json.loads(sys.argv[2]); print(json.dumps(c))' "$1" "$2"
}

# expect_cni_error CODE MSG-SUBSTRING VERB PLUGIN CID NETNS IFNAME <<< CONF
# Runs the plugin, which must fail with exit != 0 and CNI error JSON on stdout.
expect_cni_error() {
	local code=$1 msg=$2 out rc=0; shift 2
	out=$(cni "$@") || rc=$?
	[ $rc -ne 0 ] || die "$*: expected failure, got success: $out"
	local got_code got_msg
	got_code=$(json_get "$out" 'd["code"]') || die "$*: stdout is not CNI error JSON: $out"
	got_msg=$(json_get "$out" 'd["msg"]')
	assert_eq "$code" "$got_code" "$* error code (msg: $got_msg)"
	assert_contains "$got_msg" "$msg" "$* error message"
	echo "ok: $1 rejected: [$got_code] $got_msg"
}

# A snapshot of everything kernel-side and in the store, to prove that a
# failed call left nothing behind.
snapshot() {
	{ ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
	  for n in $(ip netns list | awk '{print $1}'); do echo "ns $n:"; ip -n $n -o addr show | awk '{print $2, $4}'; done
	  ip -o addr show | awk '{print $2, $4}'
	  nft list ruleset 2>/dev/null
	  find "$CIRCUIT_STATE_DIR" -type f ! -name lock 2>/dev/null | sort
	} 2>&1
}

# shaped MEASURED RATE [FLOOR]: true when MEASURED, a TCP goodput in Mbit/s
# through a shaper set to RATE Mbit/s, is what that shaper lets through.
# Bounds derived from what the tests measured on this 2-core machine:
#  - at most RATE + 10 %: a correct shaper lets no more through; goodput is
#    about 95.6 % of the wire rate (1448 payload bytes per 1514 on the wire),
#    94-96 % measured, 101 % at most (1 Mbit/s, where the burst counts);
#  - at least 75 % of RATE: starving the sender of CPU only lowers goodput,
#    down to 89 % measured (100 Mbit/s, load average 7 from other work); the
#    bound allows twice that deficit and still fails a unit mix-up (x8, x1000)
#    or a shaper set to another rate.  Where two rates closer than that must
#    be told apart (a ceiling just above the rate), FLOOR replaces it: the
#    goodput of a shaper stuck at rate R stays below R.
shaped() {
	awk -v m="$1" -v r="$2" -v f="${3:-}" 'BEGIN {
		lo = f != "" ? f : 0.75 * r
		exit !(m + 0 > lo && m + 0 <= 1.10 * r) }'
}

# best_rate RATE FLOOR CMD...: the goodput (Mbit/s) CMD prints through a
# shaper of RATE, best of up to 3 runs (FLOOR as shaped's, "" for 0.75 x
# RATE).  A sender starved of CPU on a loaded machine reads low, never
# high: a run over 1.10 x RATE is printed at once (shaped then fails: a
# wrong shaper fails every run), a low one is run again.  (A container's
# 10 Mbit/s egress read 6.93 once with three other test files running.)
best_rate() {
	local r=$1 f=$2 got best=0
	shift 2
	for _ in 1 2 3; do
		got=$("$@") || return 1
		awk -v m="$got" -v r="$r" 'BEGIN { exit !(m + 0 > 1.10 * r) }' && { echo "$got"; return 0; }
		best=$(awk -v a="$got" -v b="$best" 'BEGIN { print (a + 0 > b + 0) ? a : b }')
		shaped "$best" "$r" "$f" && break
	done
	echo "$best"
}

# has PATTERN: like grep -q, but reads all its input (grep -q exiting early
# kills the writer with SIGPIPE, which pipefail reports as a failure).
has() { grep -E -- "$1" >/dev/null; }

# The seconds in "INFO[0000]" are the command's run time: [0001] on a loaded
# machine is not a different message.  Commands whose output is compared
# literally go through this (run() in the test files).
norm_time() { sed -E 's/^(INFO|ERRO|WARN|DEBU)\[[0-9]{4}\]/\1[0000]/'; }
# run CMD...: its output (stdout and stderr, log times as [0000]) in $out,
# its status in $rc; never ends the test.
run() { set +e; out=$("$@" 2>&1 | norm_time); rc=$?; set -e; }
# expect RC OUTPUT CMD...: run it; exactly that status and that output.
expect() {
	local want_rc=$1 want_out=$2; shift 2
	run "$@"
	[ "$rc" = "$want_rc" ] || die "$*: exit $rc, want $want_rc (output: $out)"
	assert_eq "$want_out" "$out" "$*"
}

# netns_wait PID: until `ip netns exec NS cmd &` has entered NS (its setns
# comes after the fork: a PID read right away may still be in ours, and
# circuit refuses to connect a process of the host's namespace).
netns_wait() {
	local self; self=$(readlink /proc/self/ns/net)
	for _ in $(seq 200); do
		[ "$(readlink "/proc/$1/ns/net" 2>/dev/null)" != "$self" ] && return 0
		sleep 0.05
	done
	die "process $1 never left this network namespace"
}
