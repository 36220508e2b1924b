# SPDX-License-Identifier: Apache-2.0
# Everyday paths that must not hurt: connecting a process that shares the
# host's network namespace is refused (CLI and OCI hook) and leaves
# everything as it was.  This test's namespace is the "host".
C=$BIN/circuit
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# run CMD...: $out = stdout+stderr, $rc = exit status
run() { set +e; out=$("$@" 2>&1); rc=$?; set -e; }
expect() { # expect RC OUTPUT CMD...
	local want_rc=$1 want_out=$2; shift 2
	run "$@"
	[ "$rc" = "$want_rc" ] || die "$*: exit $rc, want $want_rc (output: $out)"
	assert_eq "$want_out" "$out" "$*"
}

# ---- a process in the host's network namespace ----
expect 0 "INFO[0000] sandbox created" $C network create sandbox 10.254.1.0/24
sleep 1000 & hp=$!; pids+=("$hp")
before=$(snapshot)
expect 1 "ERRO[0000] process $hp is in the host's network namespace: refusing to connect it" \
	$C network connect $hp sandbox
assert_eq "$before" "$(snapshot)" "refused connect changed something"
expect 1 "ERRO[0000] process $$ is in the host's network namespace: refusing to connect it" \
	$C network connect $$ sandbox --ip 10.254.1.9 --ifname eth7
assert_eq "$before" "$(snapshot)" "refused connect (--ip, --ifname) changed something"
[ -z "$(ip -o -4 route show default)" ] || die "host got a default route: $(ip route)"
ip link show eth0 >/dev/null 2>&1 && die "host got an eth0"
# The OCI hook goes through the same check (its network is made and undone).
state="{\"ociVersion\":\"1.0.2\",\"id\":\"hostnet\",\"status\":\"creating\",\"pid\":$hp}"
run $C hook <<<"$state"
assert_eq 1 "$rc" "hook with a host-namespace pid ($out)"
assert_contains "$out" "ERRO[0000] " "hook error"
assert_contains "$out" "process $hp is in the host's network namespace: refusing to connect it" \
	"hook error"
assert_eq "$before" "$(snapshot)" "refused hook changed something"
state="{\"ociVersion\":\"1.0.2\",\"id\":\"hostnet2\",\"status\":\"creating\",\"pid\":$hp}"
run env NETWORK=sandbox $C hook <<<"$state"
assert_eq 1 "$rc" "hook on an existing network ($out)"
assert_eq "$before" "$(snapshot)" "refused hook on an existing network changed something"
expect 0 "INFO[0000] sandbox deleted" $C network delete sandbox
ok "host namespace refused"
