# SPDX-License-Identifier: Apache-2.0
# v-ovs: circuit-ovs on a real Open vSwitch (Debian's kernel module, and
# ovsdb-server + ovs-vswitchd started here on a fresh database in a temp
# run dir, inside this test's namespace), ovs-vsctl and busybox ping as
# witnesses:
#  - `circuit network create ova ... --driver ovs --vlan 10`: two containers
#    reach each other and the gateway, their ports carry tag 10;
#  - a container attached by the plugin itself to the same bridge on VLAN
#    20 reaches nobody of VLAN 10; one on VLAN 10 does (the control);
#  - the OVS database wiped (daemons stopped, database re-created,
#    restarted): connectivity is gone, `circuit restore` brings it back
#    with the same addresses;
#  - `network delete` removes the bridge from the database.
C=$BIN/circuit
. "$SRCDIR/tests/vm/ovs-lib.sh"

ovs_start
ok "ovsdb-server and ovs-vswitchd on a fresh database ($(ovs-vswitchd --version | head -1))"

$C network create ova 10.91.0.0/24 --driver ovs --vlan 10 --ovsdb-socket "$sock"
assert_eq c-ova "$(vsctl list-br)" "ovs bridges"
assert_eq "ovs" "$(json_get "$($C network inspect ova)" 'd["driver"]')" "record driver"
assert_contains "$($C network export ova)" '"type": "circuit-ovs"' "exported chain"
assert_eq "10.91.0.1/24" "$(ip -o -4 addr show c-ova | awk '{print $4}')" "gateway on the internal port"
ctr a; pa=$pid
ctr b; pb=$pid
$C network connect "$pa" ova
$C network connect "$pb" ova
ipa=$(addr a); ipb=$(addr b)
ports=$(vsctl list-ports c-ova | sort | tr '\n' ' ')
echo "ports: $ports"
for p in $ports; do assert_eq 10 "$(vsctl get port "$p" tag)" "tag of $p"; done
reach a "${ipb%/*}" || die "a cannot reach b over OVS"
reach b 10.91.0.1 || die "b cannot reach the gateway"
ok "two containers on an OVS network reach each other and the gateway ($ipa, $ipb)"

# VLAN isolation: containers attached by the plugin to the same bridge.
conf() {
	echo '{"cniVersion":"1.0.0","name":"ovx","type":"circuit-ovs","bridge":"c-ova",
	       "vlan":'"$1"',"ovsdbSocket":"'"$sock"'",
	       "ipam":{"type":"static","addresses":[{"address":"'"$2"'"}]}}'
}
mkns z; mkns y
CNI_PATH=/usr/lib/cni cni ADD "$BIN/circuit-ovs" z /run/netns/z eth0 <<<"$(conf 20 10.91.0.99/24)" >/dev/null
CNI_PATH=/usr/lib/cni cni ADD "$BIN/circuit-ovs" y /run/netns/y eth0 <<<"$(conf 10 10.91.0.98/24)" >/dev/null
reach y "${ipa%/*}" || die "VLAN 10 port y cannot reach a (control)"
unreachable z "${ipa%/*}" || die "VLAN 20 port z reached a on VLAN 10"
unreachable z 10.91.0.1 || die "VLAN 20 port z reached the VLAN 10 gateway"
ok "VLAN tags isolate: tag 20 reaches nobody of tag 10, tag 10 does"
CNI_PATH=/usr/lib/cni cni DEL "$BIN/circuit-ovs" z /run/netns/z eth0 <<<"$(conf 20 10.91.0.99/24)"
CNI_PATH=/usr/lib/cni cni DEL "$BIN/circuit-ovs" y /run/netns/y eth0 <<<"$(conf 10 10.91.0.98/24)"
assert_eq 2 "$(vsctl list-ports c-ova | wc -l)" "DEL removed the ports"
ok "DEL removes the port and the veth"

# The database wiped: stop, new database, start.
ovs_stop
rm -f "$ovsrun/conf.db"
ovs_start
assert_eq "" "$(vsctl list-br)" "bridges after the wipe"
unreachable a "${ipb%/*}" || die "a still reaches b after the wipe"
out=$($C restore 2>&1)
echo "$out"
assert_contains "$out" "restored network ova" "restore output"
assert_eq c-ova "$(vsctl list-br)" "bridge after restore"
assert_eq "$ipa $ipb" "$(addr a) $(addr b)" "addresses after restore"
reach a "${ipb%/*}" || die "a cannot reach b after restore"
reach b 10.91.0.1 || die "b cannot reach the gateway after restore"
ok "restore after the OVS database was wiped brings connectivity back"
out=$($C restore 2>&1)
assert_eq "INFO[0000] nothing to restore" "$(norm_time <<<"$out")" "second restore"
ok "a second restore changes nothing"

$C network disconnect "$pa" ova
$C network disconnect "$pb" ova
$C network delete ova
assert_eq "" "$(vsctl list-br)" "bridges after network delete"
ok "network delete removes the OVS bridge"
