# SPDX-License-Identifier: Apache-2.0
# Everyday paths that must not hurt:
#  - connecting a process that shares the host's network namespace is
#    refused (CLI and OCI hook) and leaves everything as it was (this
#    test's namespace is the "host");
#  - read-only commands create nothing: a mistyped --state is an error,
#    an existing empty store is an empty listing.
C=$BIN/circuit
pids=()
tmp=$(mktemp -d /tmp/circuit-safety.XXXXXX)
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
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

# ---- read-only commands create nothing ----
ro_verbs=("network ls" "network ls --format json" "network inspect sandbox"
	  "network export sandbox" "network qos show sandbox"
	  "network qos show --format json sandbox" "lb ls" "lb ls --details"
	  "lb ls --format json")
nope=$tmp/nope/deeper
for v in "${ro_verbs[@]}"; do
	expect 1 "ERRO[0000] state directory $nope: No such file or directory" $C --state "$nope" $v
	[ ! -e "$tmp/nope" ] || die "circuit --state $nope $v created $(find "$tmp/nope")"
	expect 1 "ERRO[0000] state directory $nope: No such file or directory" \
		env CIRCUIT_STATE_DIR="$nope" $C $v
	[ ! -e "$tmp/nope" ] || die "CIRCUIT_STATE_DIR=$nope circuit $v created $(find "$tmp/nope")"
done
touch "$tmp/file"
expect 1 "ERRO[0000] state directory $tmp/file: not a directory" $C network ls --state "$tmp/file"
ok "read-only commands: a missing --state is an error, nothing created"

# An existing, empty store is an empty listing, and stays empty.
mkdir "$tmp/empty"
expect 0 "NAME                SUBNET" $C --state "$tmp/empty" network ls
expect 0 "[]" $C --state "$tmp/empty" network ls --format json
expect 0 "NAME                ADDR                PROTOCOL            SCHEDULER" \
	$C --state "$tmp/empty" lb ls
expect 0 "[]" $C --state "$tmp/empty" lb ls --format json
for v in inspect export "qos show"; do
	expect 1 "ERRO[0000] network sandbox not found" $C --state "$tmp/empty" network $v sandbox
done
assert_eq "" "$(find "$tmp/empty" -mindepth 1)" "read-only commands wrote into an empty store"
ok "empty store: empty listings, nothing created"

# A live store: looking changes nothing, not even lock files.
expect 0 "INFO[0000] lookhere created" $C network create lookhere 10.254.5.0/24
before=$(find "$CIRCUIT_STATE_DIR" | sort)
for v in "network ls" "network ls --format json" "network inspect lookhere" \
	 "network export lookhere" "network qos show lookhere" "lb ls"; do
	run $C $v; assert_eq 0 "$rc" "$v ($out)"
done
assert_eq "$before" "$(find "$CIRCUIT_STATE_DIR" | sort)" "read-only commands changed the store"
expect 0 "INFO[0000] lookhere deleted" $C network delete lookhere
ok "live store: read-only commands change nothing"

# --conflist must name a file.
mkdir "$tmp/conf.d"
expect 1 "ERRO[0000] $tmp/conf.d: is a directory" $C network create x --conflist "$tmp/conf.d"
expect 1 "ERRO[0000] network x not found" $C network inspect x
ok "--conflist DIR"
