# SPDX-License-Identifier: Apache-2.0
# Torture (issue 10): kill -9 `circuit` and the plugins at random points of
# connect, disconnect, QoS changes, gc and CNI ADD/DEL, TORTURE_N times
# (default 200), then run the recovery a user would (disconnect what should
# go, gc, restore) and prove: every container has exactly the interfaces its
# member records say, with their addresses, no address twice, no host veth,
# ifb or allocation without an owner, and after deleting everything, nothing
# at all is left (links, qdiscs, nftables, store).  The "containers" are
# sleep processes in namespaces this test made.
C=$BIN/circuit
N=${TORTURE_N:-200}
K=6                                     # containers
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RANDOM=${TORTURE_SEED:-4242}
echo "torture: N=$N seed=${TORTURE_SEED:-4242}"

$C network create t1 10.254.60.0/24 2>/dev/null
$C network create t2 10.254.61.0/24 2>/dev/null
conf1=$($C network export t1 | python3 -c 'import json,sys
c=json.load(sys.stdin); p=dict(c["plugins"][0]); p["cniVersion"]=c["cniVersion"]; p["name"]=c["name"]; print(json.dumps(p))')
pids=()
for i in $(seq 1 $K); do
	mkns k$i; ip netns exec k$i sleep 100000 & pids[$i]=$!
done
for i in $(seq 1 $K); do netns_wait ${pids[$i]}; done
mkns pod
sleep 0.2

# One operation, killed with SIGKILL after 0-39 ms unless it ended first.
op() {
	local i=$((RANDOM % K + 1)) net=t$((RANDOM % 2 + 1)) what=$((RANDOM % 8))
	case $what in
	0|1) $C network connect ${pids[$i]} $net ;;
	2|3) $C network disconnect ${pids[$i]} $net ;;
	4) $C network qos set --container ${pids[$i]} --rate $((RANDOM % 50 + 1))mbit $net ;;
	5) $C network qos reset --container ${pids[$i]} $net ;;
	6) $C gc ;;
	7) if [ $((RANDOM % 2)) = 0 ]; then cni ADD $BIN/circuit-bridge pod-id /run/netns/pod eth0 <<<"$conf1"
	   else cni DEL $BIN/circuit-bridge pod-id /run/netns/pod eth0 <<<"$conf1"; fi ;;
	esac
}
kills=0
for n in $(seq 1 $N); do
	op >/dev/null 2>&1 & p=$!
	sleep "0.0$(printf '%02d' $((RANDOM % 40)))"
	if kill -9 $p 2>/dev/null; then kills=$((kills + 1)); fi
	wait $p 2>/dev/null || true
done
echo "MEASURE torture operations=$N killed=$kills"

# Recovery as a user would run it.
run cni DEL $BIN/circuit-bridge pod-id /run/netns/pod eth0 <<<"$conf1"
assert_eq 0 "$rc" "the pod's DEL after the torture ($out)"
run $C gc; assert_eq 0 "$rc" "gc after the torture ($out)"
run $C restore; assert_eq 0 "$rc" "restore after the torture ($out)"
run $C restore; assert_eq "INFO[0000] nothing to restore" "$(norm_time <<<"$out")" "restore is stable"

# Store = kernel.
members() { # NET -> "cid ifname address" lines
	json_get "$($C network inspect "$1")" '"\n".join("%s %s %s" % (m["container"], m["interface"], m["address"]) for m in d["members"])'
}
want=""; have=""
for net in t1 t2; do
	while read -r cid ifn addr; do
		[ -n "$cid" ] || continue
		pid=${cid#pid-}
		for i in $(seq 1 $K); do [ "${pids[$i]}" = "$pid" ] && want+="k$i $ifn $addr"$'\n'; done
	done <<<"$(members $net)"
done
for i in $(seq 1 $K); do
	while read -r ifn addr; do
		[ -n "$ifn" ] && have+="k$i $ifn $addr"$'\n'
	done <<<"$(ip -n k$i -o -4 addr show | awk '$2 != "lo" {print $2, $4}')"
done
assert_eq "$(sort <<<"$want")" "$(sort <<<"$have")" "container interfaces = member records"
dups=$(awk '{print $3}' <<<"$have" | grep . | sort | uniq -d)
assert_eq "" "$dups" "duplicate addresses"
nmem=$(grep -c . <<<"$want" || true)
assert_eq "$nmem" "$(ip -o link show type veth | grep -c ' cv' || true)" "host veths = members"
assert_eq "" "$(ip -o link show type veth | grep ' cv' | grep -v 'master c-t' || true)" "detached host veths"
nids=$(find "$CIRCUIT_STATE_DIR/ipam" -path '*/ids/*' -type f | wc -l)
assert_eq "$nmem" "$nids" "allocations = members"
for ifb in $(ip -o link show type ifb | awk -F': ' '{print $2}' | sed 's/@.*//'); do
	dev=$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -v "^$ifb$" |
		while read -r l; do
			if tc filter show dev "$l" ingress 2>/dev/null | has "$ifb"; then echo "$l"; fi
		done)
	[ -n "$dev" ] || die "ifb $ifb shapes nothing"
done
for k in $(seq 1 $K); do
	[ "$(ip -n k$k route show default | wc -l)" -le 1 ] || die "k$k has two default routes"
	if ip -n k$k -o -4 addr show | has 'eth'; then
		[ "$(ip -n k$k route show default | wc -l)" = 1 ] || die "k$k lost its default route"
	fi
done
ok "after $N operations ($kills killed mid-way) and gc + restore: store = kernel, $nmem members"

# Everything goes.
for i in $(seq 1 $K); do
	$C network disconnect ${pids[$i]} t1 >/dev/null 2>&1 || true
	$C network disconnect ${pids[$i]} t2 >/dev/null 2>&1 || true
done
$C network delete t1 2>/dev/null
$C network delete t2 2>/dev/null
for i in $(seq 1 $K); do kill ${pids[$i]}; done
wait "${pids[@]}" 2>/dev/null || true
assert_eq "" "$(ip -o link show | awk -F': ' '{print $2}' | grep -v '^lo$' || true)" "links left"
assert_eq "" "$(tc qdisc show | grep -v 'noqueue\|pfifo_fast\|noop' || true)" "qdiscs left"
assert_eq "" "$(nft list ruleset)" "nftables left"
# Paths below the state directory only: its own name is random and once
# held "t1" (circuit-state.Kt1hIy), which matched every path.
assert_eq "" "$(cd "$CIRCUIT_STATE_DIR" && find . -mindepth 1 -path './*t[12]*')" "store left"
ok "nothing left after deleting everything"
