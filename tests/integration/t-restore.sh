# SPDX-License-Identifier: Apache-2.0
# `circuit restore` and `circuit gc`: build a populated setup, flush every
# kernel object Circuit made (bridges, veths, the nftables table), restore,
# check all is back with the same addresses, and that a second run changes
# nothing.  Members whose process died are released.
C=$BIN/circuit
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; netns_wait $pid; }
kstate() { # everything restore may touch, with ifindexes
	ip -o link show | sed 's/ link-netnsid [0-9]*//' | awk '{print $1, $2, $NF}' | sort
	ip -o addr show | awk '{print $2, $4}' | sort
	nft list ruleset
	for n in a b; do ip -n $n -o addr show | awk '{print $2, $4}'; ip -n $n route; done
}

$C network create n1 10.254.11.0/24 2>/dev/null
$C network create n2 10.254.12.0/24 --no-masquerade 2>/dev/null
ctr a; pa=$pid
ctr b; pb=$pid
ctr c; pc=$pid
$C network connect $pa n1 2>/dev/null
$C network connect $pb n1 2>/dev/null
# b on two networks: its eth1 (n2) cannot take the default route eth0 has;
# CHECK of n2 must still pass for restore to leave it alone.
$C network connect $pb n2 2>/dev/null
$C network connect $pc n2 2>/dev/null
ipa=$(ip -n a -o -4 addr show eth0 | awk '{print $4}')
ipb0=$(ip -n b -o -4 addr show eth0 | awk '{print $4}')
ipb1=$(ip -n b -o -4 addr show eth1 | awk '{print $4}')

# Healthy host: nothing to do, nothing changes.
before=$(kstate)
run $C restore
assert_eq 0 "$rc" "restore on a healthy host"
assert_eq "INFO[0000] nothing to restore" "$out" "healthy restore output"
assert_eq "$before" "$(kstate)" "healthy restore changed the kernel"
ok "restore on a healthy host changes nothing"

# "Reboot": the kernel forgets, the store stays; c's process is gone.
kill $pc; wait $pc 2>/dev/null || true
for l in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -v '^lo$'); do
	ip link del "$l" 2>/dev/null || true
done
nft delete table inet circuit
[ -z "$(ip -o link show | grep -v ' lo:')" ] || die "flush failed"
ip -n a link show eth0 >/dev/null 2>&1 && die "flush left a's eth0"

run $C restore
assert_eq 0 "$rc" "restore ($out)"
assert_eq "INFO[0000] restored network n1
INFO[0000] reattached container pid-$pa (pid $pa) to network n1
INFO[0000] reattached container pid-$pb (pid $pb) to network n1
INFO[0000] restored network n2
INFO[0000] reattached container pid-$pb (pid $pb) to network n2
INFO[0000] released container pid-$pc from network n2 (process $pc is gone)" "$out" "restore output"
assert_eq "10.254.11.1/24" "$(ip -o -4 addr show c-n1 | awk '{print $4}')" "n1 gateway"
assert_eq "10.254.12.1/24" "$(ip -o -4 addr show c-n2 | awk '{print $4}')" "n2 gateway"
assert_contains "$(nft list chain inet circuit masq-n1)" "ip saddr 10.254.11.0/24" "n1 masquerade"
nft list chain inet circuit masq-n2 >/dev/null 2>&1 && die "n2 must not masquerade"
assert_eq "$ipa" "$(ip -n a -o -4 addr show eth0 | awk '{print $4}')" "a keeps its address"
assert_eq "$ipb0 $ipb1" "$(ip -n b -o -4 addr show eth0 | awk '{print $4}') $(ip -n b -o -4 addr show eth1 | awk '{print $4}')" "b keeps its addresses"
ip netns exec a busybox ping -c1 -W2 10.254.11.1 >/dev/null || die "a -> gateway"
ip netns exec a busybox ping -c1 -W2 "${ipb0%/*}" >/dev/null || die "a -> b"
ip netns exec b busybox ping -c1 -W2 10.254.12.1 >/dev/null || die "b -> n2 gateway"
assert_eq "pid-$pb" "$(json_get "$($C network inspect n2)" '" ".join(m["container"] for m in d["members"])')" "c released"
ok "restore after a flush"

before=$(kstate)
run $C restore
assert_eq "INFO[0000] nothing to restore" "$out" "second restore"
assert_eq "$before" "$(kstate)" "second restore changed the kernel"
ok "restore is idempotent"

# gc releases members whose process is gone, nothing else.
kill $pa; wait $pa 2>/dev/null || true
run $C gc
assert_eq 0 "$rc" "gc ($out)"
assert_eq "INFO[0000] released container pid-$pa from network n1 (process $pa is gone)" "$out" "gc"
run $C gc
assert_eq "INFO[0000] nothing to collect" "$out" "gc again"
assert_eq "pid-$pb" "$(json_get "$($C network inspect n1)" '" ".join(m["container"] for m in d["members"])')" "b stays"
ok "gc"

$C network delete n1 2>/dev/null
$C network delete n2 2>/dev/null
[ -z "$(ip -o link show | grep -v ' lo:')" ] || die "links left: $(ip -d link show)"
[ -z "$(nft list ruleset)" ] || die "nftables left"
kill $pb; wait 2>/dev/null || true
