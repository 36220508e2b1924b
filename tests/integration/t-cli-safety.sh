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
expect 0 "NAME                ADDR                PROTOCOL            SCHEDULER           BACKEND" \
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

# ---- runc container IDs where a PID is taken ----
# A fake runc root: <root>/<id>/state.json as runc writes it, for sleeps
# started in namespaces of their own (t-runc-hooks does it with real runc).
rr=$tmp/runc
export CIRCUIT_RUNC_ROOT=$rr
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; pids+=("$pid"); netns_wait $pid; }
starttime() { awk '{print $22}' "/proc/$1/stat"; }
runc_state() { # runc_state ID PID [START]
	mkdir -p "$rr/$1"
	printf '{"ociVersion":"1.0.2","id":"%s","init_process_pid":%s,"init_process_start":%s,"created":"2026-12-01T11:04:42Z","config":{"rootfs":"/x"}}\n' \
		"$1" "$2" "${3:-$(starttime "$2")}" > "$rr/$1/state.json"
}
expect 0 "INFO[0000] sandbox created" $C network create sandbox 10.254.1.0/24
ctr web; pw=$pid; runc_state web-00 $pw
ctr db; pd=$pid; runc_state db-00 $pd

# connect / disconnect by ID: the ID is the CNI container id.
expect 0 "INFO[0000] connected container web-00 to network sandbox" $C network connect web-00 sandbox
ip -n web link show eth0 >/dev/null || die "web has no eth0"
ip netns exec web busybox ping -c1 -W2 10.254.1.1 >/dev/null || die "web -> gateway"
assert_eq "web-00 $pw eth0" \
	"$(json_get "$($C network inspect sandbox)" '" ".join("%s %s %s" % (m["container"], m["pid"], m["interface"]) for m in d["members"])')" \
	"member connected by ID"
expect 1 "ERRO[0000] container web-00 is already connected to network sandbox (as web-00, eth0)" \
	$C network connect web-00 sandbox
expect 1 "ERRO[0000] container $pw is already connected to network sandbox (as web-00, eth0)" \
	$C network connect $pw sandbox
expect 0 "INFO[0000] disconnected container web-00 from network sandbox" $C network disconnect web-00 sandbox
ip -n web link show eth0 >/dev/null 2>&1 && die "eth0 left in web"
expect 1 "ERRO[0000] container web-00 is not connected to network sandbox" \
	$C network disconnect web-00 sandbox
ok "connect/disconnect by runc container ID"

# Connected by PID, named by ID: disconnect and qos find it through runc's pid.
expect 0 "INFO[0000] connected container $pd to network sandbox" $C network connect $pd sandbox
expect 1 "ERRO[0000] container db-00 is already connected to network sandbox (as pid-$pd, eth0)" \
	$C network connect db-00 sandbox
expect 0 "INFO[0000] qos configured for container pid-$pd on sandbox" \
	$C network qos set --container db-00 --rate 10mbit sandbox
assert_eq "pid-$pd" "$(json_get "$($C network qos show --format json sandbox)" \
	'[m["container"] for m in d["members"] if m["source"]=="container"][0]')" "qos by ID"
expect 0 "INFO[0000] qos reset for container pid-$pd on sandbox" \
	$C network qos reset --container db-00 sandbox
expect 1 "ERRO[0000] container web-00 is not connected to network sandbox" \
	$C network qos set --container web-00 --rate 10mbit sandbox
expect 0 "INFO[0000] disconnected container db-00 from network sandbox" $C network disconnect db-00 sandbox
assert_eq 0 "$(json_get "$($C network inspect sandbox)" 'len(d["members"])')" "members after disconnect by ID"
# Connected by ID, runc's state gone since: the member's id still finds it.
expect 0 "INFO[0000] connected container db-00 to network sandbox" $C network connect db-00 sandbox
rm -r "$rr/db-00"
expect 0 "INFO[0000] disconnected container db-00 from network sandbox" $C network disconnect db-00 sandbox
ok "members connected by PID found by ID"

# What is not a running container.
expect 1 "ERRO[0000] container nope-00 not found (no runc state in $rr)" $C network connect nope-00 sandbox
expect 1 "ERRO[0000] container nope-00 not found (no runc state in $rr)" $C network disconnect nope-00 sandbox
expect 1 "ERRO[0000] container nope-00 is not connected to network sandbox" \
	$C network qos set --container nope-00 --rate 1mbit sandbox
expect 1 "ERRO[0000] container nope-00 not found (no runc state in /run/runc-nope-$$)" \
	env CIRCUIT_RUNC_ROOT=/run/runc-nope-$$ $C network connect nope-00 sandbox
dead=$(sh -c 'echo $$')    # a pid that has exited
runc_state stopped-00 $dead 12345
expect 1 "ERRO[0000] container stopped-00 is not running (process $dead not found)" \
	$C network connect stopped-00 sandbox
runc_state reused-00 $pw $(( $(starttime $pw) + 1 ))
expect 1 "ERRO[0000] container reused-00 is not running (process $pw not found)" \
	$C network connect reused-00 sandbox
runc_state host-00 $hp
expect 1 "ERRO[0000] process $hp is in the host's network namespace: refusing to connect it" \
	$C network connect host-00 sandbox
for bad in '../web-00' 'a/b' 'web..00' '_x'; do
	expect 2 "ERRO[0000] invalid PID or container ID \"$bad\"
Usage: circuit network connect PID|ID NAME [--ip IP] [--ifname IF] [--publish SPEC]...
Run 'circuit network connect --help' for more." $C network connect "$bad" sandbox
done
expect 2 "ERRO[0000] invalid PID \"0\"
Usage: circuit network disconnect PID|ID NAME
Run 'circuit network disconnect --help' for more." $C network disconnect 0 sandbox
mkdir -p "$rr/junk-00"; echo '{"id":"junk-00"}' > "$rr/junk-00/state.json"
expect 1 "ERRO[0000] container junk-00: runc state $rr/junk-00/state.json: no init process pid" \
	$C network connect junk-00 sandbox
assert_eq 0 "$(json_get "$($C network inspect sandbox)" 'len(d["members"])')" "no member from failures"
expect 0 "INFO[0000] sandbox deleted" $C network delete sandbox
ok "container IDs: failures"
