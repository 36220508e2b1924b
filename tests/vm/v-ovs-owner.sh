# SPDX-License-Identifier: Apache-2.0
# v-ovs-owner: who owns an existing OVS bridge, and what `network create`
# and `restore` do to one (spec/ovs.md "An existing bridge"), on a real
# Open vSwitch (tests/vm/ovs-lib.sh), ovs-vsctl as the witness:
#  - a bridge made by hand (no external_ids:circuit-network) and one marked
#    for another network are refused by `network create --driver ovs` with
#    one line, left exactly as they were, no network recorded;
#  - a bridge marked for the network, its gateway port on VLAN 30 and MTU
#    1300, is converged by `create --vlan 12 --mtu 1400` (tag 12,
#    mtu_request 1400, the kernel interface at 1400): a member on VLAN 12
#    reaches the gateway;
#  - the tag changed by hand again: `circuit restore` puts it back, a
#    second restore changes nothing.
C=$BIN/circuit
. "$SRCDIR/tests/vm/ovs-lib.sh"
# wait_mtu DEV N: DEV exists with MTU N within 10 s (ovs-vswitchd applies
# the database asynchronously)
# (the test's namespace is not sysfs's: ip, not /sys/class/net)
mtu_of() { ip -o link show "$1" 2>/dev/null | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
wait_mtu() {
	for _ in $(seq 100); do
		[ "$(mtu_of "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	die "$1: mtu $(mtu_of "$1"), want $2"
}
ids() { vsctl br-get-external-id "$1" | tr '\n' ' '; }

ovs_start

# ---- somebody else's bridges are refused and left alone -------------------
vsctl add-br c-ovf -- set port c-ovf tag=7
vsctl add-br c-ovg -- br-set-external-id c-ovg circuit-network other
run $C network create ovf 10.94.0.0/24 --driver ovs --ovsdb-socket "$sock"
assert_eq 1 "$rc" "create on an unmarked bridge"
assert_eq "ERRO[0000] network ovf: ovs bridge c-ovf already exists and Circuit did not make it (no external_ids:circuit-network=ovf): delete it, or set that mark to adopt it" "$out" "unmarked bridge"
run $C network create ovg 10.94.0.0/24 --driver ovs --vlan 5 --ovsdb-socket "$sock"
assert_eq 1 "$rc" "create on another network's bridge"
assert_eq 'ERRO[0000] network ovg: ovs bridge c-ovg already exists and is marked for network "other", not ovg' "$out" "bridge marked for other"
assert_eq "c-ovf c-ovg" "$(vsctl list-br | tr '\n' ' ' | sed 's/ $//')" "bridges after the refusals"
assert_eq 7 "$(vsctl get port c-ovf tag)" "c-ovf's tag"
assert_eq "" "$(ids c-ovf)" "c-ovf's external_ids"
assert_eq "[]" "$(vsctl get port c-ovg tag)" "c-ovg's tag"
assert_eq "circuit-network=other " "$(ids c-ovg)" "c-ovg's external_ids"
for n in ovf ovg; do
	run $C network inspect $n; assert_eq 1 "$rc" "refused create recorded network $n"
done
vsctl del-br c-ovf
vsctl del-br c-ovg
ok "an unmarked bridge and one marked for another network: refused, untouched"

# ---- our bridge, drifted: create converges it -----------------------------
vsctl add-br c-ovc -- br-set-external-id c-ovc circuit-network ovc \
	-- set port c-ovc tag=30 -- set interface c-ovc mtu_request=1300
wait_mtu c-ovc 1300
run $C network create ovc 10.94.0.0/24 --driver ovs --vlan 12 --mtu 1400 --ovsdb-socket "$sock"
assert_eq 0 "$rc" "create on our own bridge: $out"
assert_eq 12 "$(vsctl get port c-ovc tag)" "gateway port's tag after create"
assert_eq 1400 "$(vsctl get interface c-ovc mtu_request)" "mtu_request after create"
wait_mtu c-ovc 1400
ctr a; pa=$pid
$C network connect "$pa" ovc >/dev/null
hva=$(vsctl list-ports c-ovc)
assert_eq 12 "$(vsctl get port "$hva" tag)" "member's tag"
reach a 10.94.0.1 || die "the member on VLAN 12 cannot reach the gateway"
ok "create of our own bridge converges it: tag 30 -> 12, mtu 1300 -> 1400, gateway reachable"

# ---- drift again: restore converges, once ---------------------------------
vsctl set port c-ovc tag=31
unreachable a 10.94.0.1 || die "the gateway on VLAN 31 still reached from VLAN 12"
out=$($C restore 2>&1)
echo "$out"
assert_contains "$out" "restored network ovc" "restore output"
assert_eq 12 "$(vsctl get port c-ovc tag)" "gateway port's tag after restore"
reach a 10.94.0.1 || die "the gateway unreachable after restore"
out=$($C restore 2>&1)
assert_eq "INFO[0000] nothing to restore" "$(norm_time <<<"$out")" "second restore"
ok "restore converges a drifted tag; a second restore changes nothing"

$C network disconnect "$pa" ovc >/dev/null
$C network delete ovc >/dev/null
assert_eq "" "$(vsctl list-br)" "bridges after network delete"
