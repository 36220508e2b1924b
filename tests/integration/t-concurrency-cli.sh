# SPDX-License-Identifier: Apache-2.0
# 128 concurrent `circuit` commands (issue 10): connects and disconnects of
# 32 containers on two networks, OCI hooks creating and stopping their own
# networks, gc and restore, all at once.  Every command ends with success or
# an expected refusal, and afterwards the store and the kernel agree: every
# member's interface is in its container with its address, nothing else is,
# no address is handed out twice.
C=$BIN/circuit
K=32
W=128
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$C network create m1 10.254.70.0/24 2>/dev/null
$C network create m2 10.254.71.0/24 2>/dev/null
pids=()
for i in $(seq 1 $K); do mkns q$i; ip netns exec q$i sleep 100000 & pids[$i]=$!; done
for i in $(seq 1 $K); do netns_wait ${pids[$i]}; done
sleep 0.2
hook() { # hook ID STATUS PID
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%s,"bundle":"/x"}' "$1" "$2" "$3" |
		env -u NETWORK -u SUBNET $C
}

# One container connected to both networks at the same moment: the two
# connects hold different network locks, and both used to pick eth0 ("eth0
# already exists").  Every pair must succeed, with one interface each.
for round in 1 2 3; do
	workers=()
	for i in $(seq 1 $K); do
		for net in m1 m2; do
			( set +e; $C network connect ${pids[$i]} $net >"$tmp/p$i$net.out" 2>&1
			  echo $? >"$tmp/p$i$net.rc" ) &
			workers+=($!)
		done
	done
	wait "${workers[@]}"
	bad=0
	for i in $(seq 1 $K); do
		for net in m1 m2; do
			[ "$(cat "$tmp/p$i$net.rc")" = 0 ] && continue
			bad=$((bad + 1)); echo "round $round: connect q$i $net: $(cat "$tmp/p$i$net.out")"
		done
		n=$(ip -n q$i -o -4 addr show | awk '$2 != "lo"' | wc -l)
		[ "$n" = 2 ] || { bad=$((bad + 1)); echo "round $round: q$i has $n interfaces"; }
	done
	assert_eq 0 "$bad" "round $round: simultaneous connects of one container to two networks"
	workers=()
	for i in $(seq 1 $K); do
		$C network disconnect ${pids[$i]} m1 & workers+=($!)
		$C network disconnect ${pids[$i]} m2 & workers+=($!)
	done
	wait "${workers[@]}"
done
ok "$K containers connected to two networks at once, 3 rounds: one eth per network"

RANDOM=7
workers=()
for w in $(seq 1 $W); do
	i=$((RANDOM % K + 1)); net=m$((RANDOM % 2 + 1))
	case $((RANDOM % 10)) in
	0|1|2|3) cmd=(network connect ${pids[$i]} $net) ;;
	4|5|6) cmd=(network disconnect ${pids[$i]} $net) ;;
	7) cmd=(gc) ;;
	8) cmd=(restore) ;;
	9) cmd=(hookop) ;;
	esac
	(
		set +e
		if [ "${cmd[0]}" = hookop ]; then
			hook hk$i creating ${pids[$i]} && hook hk$i stopped 0
		else
			$C "${cmd[@]}"
		fi >"$tmp/$w.out" 2>&1
		echo $? >"$tmp/$w.rc"
	) &
	workers+=($!)
done
wait "${workers[@]}"
bad=0
for w in $(seq 1 $W); do
	rc=$(cat "$tmp/$w.rc")
	[ "$rc" = 0 ] && continue
	# Refusals a user may legitimately get when racing with themselves.
	if has 'is already connected to network|is not connected to network' <"$tmp/$w.out"; then
		continue
	fi
	bad=$((bad + 1)); echo "command $w failed ($rc): $(cat "$tmp/$w.out")"
done
assert_eq 0 "$bad" "unexpected failures among $W concurrent commands"

want=""; have=""
for net in m1 m2; do
	for cid in $(json_get "$($C network inspect $net)" '" ".join(m["container"]+","+m["interface"]+","+m["address"] for m in d["members"])'); do
		IFS=, read -r c ifn addr <<<"$cid"
		for i in $(seq 1 $K); do [ "pid-${pids[$i]}" = "$c" ] && want+="q$i $ifn $addr"$'\n'; done
	done
done
for i in $(seq 1 $K); do
	have+=$(ip -n q$i -o -4 addr show | awk -v q=q$i '$2 != "lo" {print q, $2, $4}')$'\n'
done
assert_eq "$(grep . <<<"$want" | sort)" "$(grep . <<<"$have" | sort)" "container interfaces = member records"
assert_eq "" "$(awk '{print $3}' <<<"$have" | grep . | sort | uniq -d)" "duplicate addresses"
assert_eq "" "$($C network ls | awk 'NR > 1 {print $1}' | grep '^hk' || true)" "hook networks left"
ok "$W concurrent connects, disconnects, hooks, gc and restore: store = kernel"

for i in $(seq 1 $K); do kill ${pids[$i]}; done
wait "${pids[@]}" 2>/dev/null || true
run $C gc; assert_eq 0 "$rc" "gc ($out)"
$C network delete m1 2>/dev/null
$C network delete m2 2>/dev/null
assert_eq "" "$(ip -o link show | awk -F': ' '{print $2}' | grep -v '^lo$' || true)" "links left"
assert_eq "" "$(nft list ruleset)" "nftables left"
ok "everything released"
