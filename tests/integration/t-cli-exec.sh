# SPDX-License-Identifier: Apache-2.0
# The same connect/disconnect through both ways `circuit` can run its own
# plugins: in-process (default) and as executables (CIRCUIT_EXEC_PLUGINS=1,
# what every other runtime does).  Results and kernel state must agree.
C=$BIN/circuit
export CIRCUIT_PLUGIN_PATH=$BIN
$C network create dual 10.93.0.0/24 2>/dev/null
$C network qos set --default --rate 20000 dual 2>/dev/null
mkns x; mkns y
ip netns exec x sleep 600 & px=$!
ip netns exec y sleep 600 & py=$!
sleep 0.1
$C network connect $px dual 2>/dev/null
CIRCUIT_EXEC_PLUGINS=1 $C network connect $py dual 2>/dev/null
ax=$(ip -n x -o -4 addr show eth0 | awk '{print $4}')
ay=$(ip -n y -o -4 addr show eth0 | awk '{print $4}')
assert_eq "10.93.0.2/24" "$ax" "in-process address"
assert_eq "10.93.0.3/24" "$ay" "exec address"
ip netns exec x busybox ping -c1 -W2 10.93.0.3 >/dev/null || die "x cannot reach y"
# Both links shaped the same way by circuit-qos.
n=$(tc qdisc show | grep -c "htb 1: .*root") || true
[ "$n" -ge 2 ] || die "expected both host veths shaped, got: $(tc qdisc show)"
# Each one's cached result is what the other way would have produced.
ix=$($C network inspect dual | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted(m["address"] for m in d["members"]))')
assert_eq "['10.93.0.2/24', '10.93.0.3/24']" "$ix" "members"
CIRCUIT_EXEC_PLUGINS=1 $C network disconnect $px dual 2>/dev/null
$C network disconnect $py dual 2>/dev/null
ip -n x link show eth0 2>/dev/null && die "x still has eth0"
ip -n y link show eth0 2>/dev/null && die "y still has eth0"
ip -o link show | has "cq|cv" && die "links left: $(ip -o link show)"
$C network delete dual 2>/dev/null
kill $px $py
ok "in-process and exec agree"
