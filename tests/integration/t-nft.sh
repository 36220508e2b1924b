# SPDX-License-Identifier: Apache-2.0
# lib/nft.c and lib/sysctl.c against the kernel, with `nft list ruleset`,
# /proc/sys and nft counters in another namespace as independent witnesses.
# Sourced by run.sh inside a private netns ("host"); everything here lives
# in that namespace or in namespaces made below.

work=$(mktemp -d /tmp/circuit-nft.XXXXXX)
trap 'rm -rf "$work"' EXIT
P=$work/nft-probe
probe_cc "$P" "$SRCDIR/tests/integration/nft-probe.c"
ok "probe built"

has_table() { local l; l=$(nft list tables); grep -qx "table $1" <<<"$l"; }
# rules_in CHAIN: owner rules in one of our chains
rules_in() { nft list chain inet circuit "$1" | grep -c 'masquerade comment' || true; }
# chain_has CHAIN TEXT (no "| grep -q": an early exit + pipefail is flaky)
chain_has() { local l; l=$(nft list chain inet circuit "$1"); grep -qF -- "$2" <<<"$l"; }
base_chains() { nft list table inet circuit | grep -c 'hook postrouting' || true; }

# --- tables the test owns and Circuit must never touch -------------------
nft add table inet other
nft add chain inet other keep '{ type filter hook forward priority 0; policy accept; }'
nft add rule inet other keep ip saddr 192.0.2.0/24 counter comment '"not circuit"'
# Same table name, other family: still not ours.
nft add table ip circuit
nft add chain ip circuit mine
nft add rule ip circuit mine counter
other_before=$(nft list table inet other; nft list table ip circuit)

# --- add: idempotent, one chain and one rule per network -------------------
! has_table "inet circuit" || die "table present before any add"
$P masq-add n1 10.88.0.1/16
h1=$(nft -a list chain inet circuit masq-n1 | grep -o 'handle [0-9]*$')
$P masq-add n1 10.88.0.0/16
assert_eq 1 "$(rules_in masq-n1)" "rules for n1 after two adds"
# An unchanged re-add commits nothing: the rule keeps its handle.
assert_eq "$h1" "$(nft -a list chain inet circuit masq-n1 | grep -o 'handle [0-9]*$')" "n1 handle"
chain_has masq-n1 'ip saddr 10.88.0.0/16 ip daddr != 10.88.0.0/16' ||
	die "n1 rule does not carry the normalised subnet"
assert_eq yes "$($P masq-exists n1)" "exists n1"
assert_eq no "$($P masq-exists nope)" "exists nope"
$P masq-add n2 10.89.0.0/24 fd00:89::/64
$P masq-add n2 10.89.0.0/24 fd00:89::/64
assert_eq 2 "$(rules_in masq-n2)" "rules for n2 (v4+v6) after two adds"
chain_has masq-n2 'ip6 saddr fd00:89::/64 ip6 daddr != fd00:89::/64' ||
	die "n2 has no IPv6 rule"
# Re-add with another subnet replaces.
$P masq-add n1 10.90.0.0/24
assert_eq 1 "$(rules_in masq-n1)" "rules for n1 after replace"
chain_has masq-n1 'ip saddr 10.90.0.0/24' || die "n1 not replaced"
$P hairpin-add cbr0
$P hairpin-add cbr0
assert_eq 1 "$(rules_in hairpin-cbr0)" "hairpin rules after two adds"
chain_has hairpin-cbr0 'iifname "cbr0" oifname "cbr0"' || die "hairpin rule"
assert_eq yes "$($P hairpin-exists cbr0)" "hairpin exists"
assert_eq 3 "$(base_chains)" "base chains for n1, n2, cbr0"
ok "add is idempotent, one chain per owner"

# The kernel guard behind "last delete removes the table": while an owner
# rule refers to the anchor counter, deleting it (and the table in the same
# transaction) is refused as a whole.
if nft 'delete counter inet circuit masqueraded; delete table inet circuit' 2>/dev/null; then
	die "anchor deleted while owners remain"
fi
assert_eq 3 "$(base_chains)" "owners after refused table delete"

# --- hostile names and subnets: refused, ruleset unchanged -----------------
snap=$(nft list ruleset)
for bad in 'x;flush ruleset' 'a b' 'x" ; delete table inet other ; "' '' 'a/b' 'a}' \
	"$(printf 'a\nb')" "$(head -c 65 /dev/zero | tr '\0' x)"; do
	rc=0; $P masq-add "$bad" 10.91.0.0/24 2>/dev/null || rc=$?
	assert_eq 22 "$rc" "masq-add of hostile network name"
	rc=0; $P masq-del "$bad" 2>/dev/null || rc=$?
	assert_eq 22 "$rc" "masq-del of hostile network name"
	rc=0; $P hairpin-add "$bad" 2>/dev/null || rc=$?
	assert_eq 22 "$rc" "hairpin-add of hostile bridge name"
done
for bad in '10.0.0.0/8; flush ruleset' '10.0.0.0/33' 'fd00::/129' '10.0.0.0' 'any' \
	'10.0.0.0/8 } ; flush ruleset ; {'; do
	rc=0; $P masq-add ok "$bad" 2>/dev/null || rc=$?
	assert_eq 22 "$rc" "masq-add of hostile subnet '$bad'"
done
rc=0; $P hairpin-add 0123456789abcdef 2>/dev/null || rc=$?
assert_eq 22 "$rc" "16-byte bridge name"
assert_eq "$snap" "$(nft list ruleset)" "ruleset after hostile input"
ok "hostile names and subnets refused before nft sees them"

# Odd but valid names stay single identifiers for the nft parser.
for odd in 1.2.3.4 _ . .. a..b -x- 0x1f inet masquerade table; do
	$P masq-add "$odd" 10.92.0.0/24
	assert_eq yes "$($P masq-exists "$odd")" "exists $odd"
	$P masq-del "$odd"
	assert_eq no "$($P masq-exists "$odd")" "deleted $odd"
done
ok "odd valid names round-trip"

# --- delete: idempotent; the table goes with the last owner ---------------
$P masq-del n1
$P masq-del n1
assert_eq no "$($P masq-exists n1)" "n1 after delete"
has_table "inet circuit" || die "table removed while n2 and cbr0 remain"
$P masq-del n2
has_table "inet circuit" || die "table removed while cbr0 remains"
$P hairpin-del cbr0
$P hairpin-del cbr0
! has_table "inet circuit" || die "table left after the last owner: $(nft list table inet circuit)"
$P masq-del n2
$P masq-del never-added
! has_table "inet circuit" || die "delete re-created the table"
assert_eq "$other_before" "$(nft list table inet other; nft list table ip circuit)" "other tables"
ok "delete idempotent, table removed with the last owner, other tables untouched"

# --- concurrency: parallel add/del of different networks -------------------
$P masq-add stay 10.93.0.0/24
pids=()
for i in $(seq 1 8); do
	( for j in 1 2 3; do
		$P masq-add "p$i" "10.94.$i.0/24" && $P masq-del "p$i" || exit 1
	done ) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "parallel add/del failed"; done
assert_eq 1 "$(base_chains)" "only 'stay' left after parallel churn"
assert_eq yes "$($P masq-exists stay)" "stay survives"
$P masq-del stay
pids=()
for i in $(seq 1 8); do
	( $P masq-add "q$i" "10.95.$i.0/24" && $P masq-del "q$i" ) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "parallel add/del failed"; done
! has_table "inet circuit" || die "table left after parallel churn: $(nft list table inet circuit)"
ok "parallel add/del: no errors, no leftover table"

m=$($P bench mnet 10.96.0.0/24 20)
echo "MEASURE nft masq (last owner, add+del each time): $m"
$P masq-add other-owner 10.97.0.0/24
m=$($P bench mnet 10.96.0.0/24 20)
echo "MEASURE nft masq (table shared with another owner): $m"
$P masq-del other-owner

# --- sysctl ------------------------------------------------------------------
echo 0 >/proc/sys/net/ipv4/ip_forward
assert_eq written "$($P ip-forward)" "ip_forward from 0"
assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)" "ip_forward witness"
assert_eq unchanged "$($P ip-forward)" "ip_forward already 1"
assert_eq 1 "$($P sysctl-read net/ipv4/ip_forward)" "sysctl-read"
ip link add sx0 type veth peer name sx1
assert_eq written "$($P if-ensure 6 sx0 disable_ipv6 1)" "disable_ipv6 on sx0"
assert_eq 1 "$(cat /proc/sys/net/ipv6/conf/sx0/disable_ipv6)" "disable_ipv6 witness"
assert_eq unchanged "$($P if-ensure 6 sx0 disable_ipv6 1)" "disable_ipv6 again"
assert_eq written "$($P if-ensure 4 sx0 rp_filter 2)" "rp_filter"
assert_eq 2 "$(cat /proc/sys/net/ipv4/conf/sx0/rp_filter)" "rp_filter witness"
rc=0; $P if-ensure 4 nosuchif rp_filter 1 2>/dev/null || rc=$?
assert_eq 2 "$rc" "missing interface is ENOENT"
rc=0; $P if-ensure 4 ../../../kernel ostype x 2>/dev/null || rc=$?
assert_eq 22 "$rc" "ifname with path"
ip link del sx0
# Namespace semantics: a fresh open follows the thread's netns after
# setns(); an fd opened before keeps the namespace it was opened in.
mkns sx
ip netns exec sx sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward'
assert_eq "before=1 after=0 kept_fd=1" "$($P netns-check /run/netns/sx net/ipv4/ip_forward)" \
	"sysctl across setns"
assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)" "host ip_forward unchanged"
ok "sysctl: ensure semantics, per-interface keys, netns follows the opener"

# --- end to end: the outside world sees the host's address -----------------
# ctr (10.88.0.2) -- veth -- cbr-e2e (10.88.0.1) [host] h-out (198.18.0.1)
#   -- veth -- outside (198.18.0.2).  outside has no route to 10.88.0.0/24,
# so a reply reaches ctr only if the host masquerades.
mkns ctr
mkns outside
ip link add cbr-e2e type bridge
ip addr add 10.88.0.1/24 dev cbr-e2e
ip link set cbr-e2e up
ip link add v-ctr type veth peer name eth0 netns ctr
ip link set v-ctr master cbr-e2e up
ip -n ctr addr add 10.88.0.2/24 dev eth0
ip -n ctr link set eth0 up
ip -n ctr route add default via 10.88.0.1
ip link add h-out type veth peer name eth0 netns outside
ip addr add 198.18.0.1/24 dev h-out
ip link set h-out up
ip -n outside addr add 198.18.0.2/24 dev eth0
ip -n outside link set eth0 up
ip netns exec outside nft -f - <<'EOF'
table ip witness {
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 198.18.0.1 icmp type echo-request counter
		ip saddr 10.88.0.0/24 icmp type echo-request counter
	}
}
EOF
seen() { # seen SRC -> packets counted in outside from SRC
	ip netns exec outside nft list chain ip witness in |
		sed -n "s|.*ip saddr $1 .*counter packets \([0-9]*\).*|\1|p"
}
ping1() { ip netns exec ctr busybox ping -c 1 -W 2 198.18.0.2 >/dev/null 2>&1; }
$P ip-forward >/dev/null

if ping1; then die "ping reached outside and back without masquerade"; fi
assert_eq 0 "$(seen 198.18.0.1)" "host-sourced pings before masquerade"
assert_eq 1 "$(seen 10.88.0.0/24)" "container-sourced pings before masquerade"

$P masq-add e2e 10.88.0.0/24
$P hairpin-add cbr-e2e
ping1 || die "ping from ctr to outside failed with masquerade"
ping1 || die "second ping failed"
assert_eq 2 "$(seen 198.18.0.1)" "outside saw the host's address"
assert_eq 1 "$(seen 10.88.0.0/24)" "outside saw no new container address"
# Container-to-gateway traffic (inside the subnet) is not masqueraded.
ip netns exec ctr busybox ping -c 1 -W 2 10.88.0.1 >/dev/null || die "ping gateway"
masq=$(nft list counter inet circuit masqueraded | sed -n 's/.*packets \([0-9]*\).*/\1/p')
[ "$masq" -ge 1 ] || die "anchor counter did not count the masqueraded flow"
ok "masquerade: outside saw 198.18.0.1, not 10.88.0.2 (masqueraded flows: $masq)"

$P masq-del e2e
$P hairpin-del cbr-e2e
! has_table "inet circuit" || die "table left after e2e"
# New flow (other ICMP id) after the delete: the source is the container's again.
if ip netns exec ctr busybox ping -c 1 -W 1 -s 100 198.18.0.2 >/dev/null 2>&1; then
	die "ping still works after masquerade removal"
fi
assert_eq 2 "$(seen 10.88.0.0/24)" "container address visible again after delete"
assert_eq "$other_before" "$(nft list table inet other; nft list table ip circuit)" "other tables at end"
ok "masquerade removed cleanly"
