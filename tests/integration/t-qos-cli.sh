# SPDX-License-Identifier: Apache-2.0
# `circuit network qos set|reset|show`: the README's commands and messages,
# the three targets (network bridge, --default through the chain, one
# member's link), merge/replace semantics, iperf3 through each, bad input
# with nothing half-applied, restore after the kernel lost the qdiscs,
# disconnect and delete leaving no ifb.  tc/ip/iperf3 are witnesses.
command -v iperf3 >/dev/null || die "iperf3 not installed"
C=$BIN/circuit
work=$(mktemp -d /tmp/circuit-qoscli.XXXXXX)
pids=()
cleanup() {
	for p in "$work"/*.pid; do [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
expect_fail() { # expect_fail MSG-SUBSTRING CMD...: exit 1 and the message
	local msg=$1; shift
	run "$@"
	[ "$rc" = 1 ] || die "$*: exit $rc, want 1 (output: $out)"
	assert_contains "$out" "ERRO[0000] " "$*"
	assert_contains "$out" "$msg" "$*"
	echo "ok: rejected: $out"
}
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; pids+=("$pid"); netns_wait $pid; }
above() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$@"; }
serve() { # NS ADDR
	ip netns exec "$1" iperf3 -s -D -B "$2" --pidfile "$work/$1.pid" >/dev/null
	for _ in $(seq 50); do [ -s "$work/$1.pid" ] && break; sleep 0.1; done
	sleep 0.3
}
mbps() { # CLIENT-NS|host SERVER [-R]
	local ex="ip netns exec $1" o
	[ "$1" = host ] && ex=""
	o=$(timeout 20 $ex iperf3 -c "$2" -t 3 -O 1 ${3:-} -J) || die "iperf3 $* failed"
	python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e6))' <<<"$o"
}
addr_of() { ip -n "$1" -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1; }
veth_of() { # PID -> host veth (peer of eth0 in its netns)
	local idx; idx=$(ip -n "$1" -o link show eth0 | sed -n 's/.*eth0@if\([0-9]*\).*/\1/p')
	ip -o link show | awk -F': ' -v i="$idx" '$1 == i {print $2}' | sed 's/@.*//'
}
class_of() { tc class show dev "$1" classid 1:10; }
no_ifb() { [ -z "$(ip -o link show type ifb)" ] || die "ifb left: $(ip -o link show type ifb)"; }

expect 0 "INFO[0000] sandbox created" $C network create sandbox 10.254.1.0/24
ctr c1; p1=$pid; ctr c2; p2=$pid
expect 0 "INFO[0000] connected container $p1 to network sandbox" $C network connect $p1 sandbox
expect 0 "INFO[0000] connected container $p2 to network sandbox" $C network connect $p2 sandbox
a1=$(addr_of c1); a2=$(addr_of c2); v1=$(veth_of c1); v2=$(veth_of c2)
serve c1 "$a1"

# ---- the network: the bridge's egress (host -> network) -----------------
expect 0 "INFO[0000] qos configured for sandbox" $C network qos set --rate 5000 --ceiling 6000 sandbox
assert_contains "$(class_of c-sandbox)" "rate 5Mbit ceil 6Mbit" "bridge class"
got=$(best_rate 6 5 mbps host "$a1")
echo "MEASURE qos-cli network configured_mbit=5 ceil_mbit=6 host_to_container_mbit=$got"
shaped "$got" 6 5 || die "network shaping: $got Mbit/s for rate 5 ceil 6"
# not shaped: container -> host (the bridge's egress is not on that path)
got=$(mbps host "$a1" -R)
echo "MEASURE qos-cli network container_to_host_mbit=$got (unshaped direction)"
above "$got" 100 || die "container -> host should not be shaped: $got"
# Field merge: the ceiling alone changes, the rate stays
expect 0 "INFO[0000] qos configured for sandbox" $C network qos set --ceiling 8mbit sandbox
assert_contains "$(class_of c-sandbox)" "rate 5Mbit ceil 8Mbit" "merge keeps the rate"
# --delay: t-nonetem.sh (no netem here), tests/vm/v-qos.sh (with netem)
ok "network: rate + ceiling on the bridge, merge"

# ---- bad input: nothing half-applied ------------------------------------
before=$(tc class show dev c-sandbox; tc qdisc show; $C network export sandbox; cat "$CIRCUIT_STATE_DIR/networks/sandbox/qos.json")
expect_fail "invalid rate '0'" $C network qos set --rate 0 sandbox
expect_fail "invalid rate '-5'" $C network qos set --rate -5 sandbox
expect_fail "ceil 4000kbit is below rate 5000kbit" $C network qos set --ceiling 4000 sandbox
expect_fail "invalid duration '50'" $C network qos set --delay 50 sandbox
expect_fail "invalid percentage '150'" $C network qos set --loss 150 sandbox
expect_fail "jitter needs a delay" $C network qos set --jitter 5ms sandbox
expect_fail "network nope not found" $C network qos set --rate 1000 nope
expect_fail "interface cvnope is not the link of a member of network sandbox" $C network qos set --interface cvnope --rate 1000 sandbox
expect_fail "container 999999 is not connected to network sandbox" $C network qos set --container 999999 --rate 1000 sandbox
expect_fail "default: ceil 1000kbit is below rate 2000kbit" $C network qos set --default --rate 2000 --ceiling 1000 sandbox
run $C network qos set sandbox; assert_eq 2 "$rc" "nothing to set"; assert_contains "$out" "nothing to set" "usage"
run $C network qos set --default --container x --rate 1 sandbox; assert_eq 2 "$rc" "two targets"
after=$(tc class show dev c-sandbox; tc qdisc show; $C network export sandbox; cat "$CIRCUIT_STATE_DIR/networks/sandbox/qos.json")
assert_eq "$before" "$after" "bad input changed nothing"
ok "bad input: clear errors, nothing changed"

# ---- one member's link, both directions ---------------------------------
serve c2 "$a2"
expect 0 "INFO[0000] qos configured for container pid-$p1 on sandbox" $C network qos set --container $p1 --rate 10mbit sandbox
assert_contains "$(class_of "$v1")" "rate 10Mbit ceil 10Mbit" "link egress (into c1)"
got_in=$(best_rate 10 "" mbps c1 "$a2" -R); got_out=$(best_rate 10 "" mbps c1 "$a2")
echo "MEASURE qos-cli container configured_mbit=10 into_mbit=$got_in out_mbit=$got_out"
shaped "$got_in" 10 || die "into c1: $got_in"
shaped "$got_out" 10 || die "out of c1: $got_out"
expect 0 "INFO[0000] qos configured for container pid-$p1 on sandbox" $C network qos set --interface "$v1" --burst 30k sandbox
assert_contains "$(class_of "$v1")" "rate 10Mbit ceil 10Mbit burst 30Kb" "interface target merges"
ok "--container / --interface: both directions"

# ---- --default: every member, present and future, through the chain ----
expect 0 "INFO[0000] qos configured for every member of sandbox" $C network qos set --default --rate 20mbit sandbox
assert_contains "$(class_of "$v2")" "rate 20Mbit ceil 20Mbit" "default on c2"
assert_contains "$(class_of "$v1")" "rate 10Mbit" "c1 keeps its own"
assert_contains "$($C network export sandbox)" '"circuit-qos"' "chain entry"
ctr c3; p3=$pid
expect 0 "INFO[0000] connected container $p3 to network sandbox" $C network connect $p3 sandbox
v3=$(veth_of c3)
assert_contains "$(class_of "$v3")" "rate 20Mbit ceil 20Mbit" "default on a new member (chain ADD)"
got=$(best_rate 20 "" mbps c3 "$a2")
echo "MEASURE qos-cli default configured_mbit=20 new_member_out_mbit=$got"
shaped "$got" 20 || die "default on c3: $got"
run $C network qos show sandbox; assert_eq 0 "$rc" "show"
echo "$out"
assert_contains "$out" "TARGET              INTERFACE" "show header"
assert_contains "$out" "rate 5mbit ceil 8mbit" "show network"
assert_contains "$out" "rate 20mbit (default)" "show default member"
json=$($C network qos show --format json sandbox)
assert_eq 20000 "$(json_get "$json" 'd["default"]["rate"]')" "show json default"
assert_eq "pid-$p1" "$(json_get "$json" '[m["container"] for m in d["members"] if m["source"]=="container"][0]')" "show json override"
assert_eq 20000 "$(json_get "$($C network inspect sandbox)" 'd["qos"]["default"]["rate"]')" "inspect"
ok "--default: present and future members; show; inspect"

# ---- restore after the kernel lost the qdiscs ---------------------------
tc qdisc del dev c-sandbox root; tc qdisc del dev "$v2" root
run $C restore; assert_eq 0 "$rc" "restore: $out"
echo "$out"
assert_contains "$(class_of c-sandbox)" "rate 5Mbit ceil 8Mbit" "restore: bridge"
assert_contains "$(class_of "$(veth_of c2)")" "rate 20Mbit" "restore: default link"
assert_contains "$(class_of "$(veth_of c1)")" "rate 10Mbit" "restore: own link"
run $C restore; assert_eq 0 "$rc" "restore again"
assert_contains "$out" "nothing to restore" "restore is idempotent"
ok "restore re-applies network, default and own settings"
v1=$(veth_of c1); v2=$(veth_of c2)

# ---- reset ---------------------------------------------------------------
expect 0 "INFO[0000] qos reset for container pid-$p1 on sandbox" $C network qos reset --container $p1 sandbox
assert_contains "$(class_of "$v1")" "rate 20Mbit" "reset link -> default"
expect 0 "INFO[0000] qos reset for every member of sandbox" $C network qos reset --default sandbox
for v in "$v1" "$v2" "$(veth_of c3)"; do
	if tc qdisc show dev "$v" | has 'htb|ingress'; then die "$v still shaped"; fi
done
no_ifb
if $C network export sandbox | has circuit-qos; then die "chain entry left"; fi
expect 0 "INFO[0000] qos reset for sandbox" $C network qos reset sandbox
expect 0 "INFO[0000] qos reset for sandbox" $C network qos reset sandbox
if tc qdisc show dev c-sandbox | has htb; then die "bridge still shaped"; fi
[ ! -e "$CIRCUIT_STATE_DIR/networks/sandbox/qos.json" ] || die "qos.json left"
got=$(mbps host "$a1")
echo "MEASURE qos-cli after_reset_mbit=$got"
above "$got" 300 || die "after reset only $got"
ok "reset: link falls back to the default, default and network cleared, idempotent"

# ---- disconnect and delete leave no ifb ----------------------------------
$C network qos set --container $p2 --rate 3mbit sandbox >/dev/null
ip link show type ifb | has cq_ || die "expected an ifb for c2"
expect 0 "INFO[0000] disconnected container $p2 from network sandbox" $C network disconnect $p2 sandbox
no_ifb
if $C network export sandbox | has "pid-$p2"; then die "override of a gone member left in the chain"; fi
$C network qos set --default --rate 4mbit sandbox >/dev/null
$C network qos set --rate 4mbit sandbox >/dev/null
expect 0 "INFO[0000] sandbox deleted" $C network delete sandbox
no_ifb
ok "disconnect and delete leave no ifb"
