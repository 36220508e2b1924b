# t-cluster-net: cluster networks across hosts (spec/cluster.md) on the
# underlay of tests/integration/cluster.sh: three etcd members in their own
# namespaces e1..e3 (10.77.0.11-13), three hosts h1..h3 (10.77.0.1-3) each
# with its state directory and `circuit agent`, containers (a sleep in a
# namespace of its own) on every host.  Shows: `network create --scope
# cluster` seen by every host (ls SCOPE) and made on each by its agent
# (bridge with the gateway MAC, vxlan VNI/4789/local/nolearning, one
# all-zero FDB entry per peer, MTU = underlay - 50); containers on all
# three hosts reach each other (ping, TCP) and their gateway, which has the
# same MAC everywhere and never crosses the overlay; 3 x 64 concurrent
# ADDs: no address twice, each inside its host's blocks; an agent back
# after its TTL reclaims its free blocks and drops one another host took; a
# killed host's FDB entries gone from its peers within TTL + 1 s; one etcd
# member stopped: connect works; all of etcd down: a connect inside a held
# block works, one that needs a new block fails within 5 s with one line
# naming the endpoint and leaves nothing.
. "$SRCDIR/tests/integration/cluster.sh"
EP=http://10.77.0.11:2379,http://10.77.0.12:2379,http://10.77.0.13:2379
cl_conf "$tmp/circuit.conf" "$EP"

cl_underlay
init=e1=http://10.77.0.11:2380,e2=http://10.77.0.12:2380,e3=http://10.77.0.13:2380
for n in 1 2 3; do
	cl_node e$n 10.77.0.1$n
	etcd_start $n e$n 10.77.0.1$n "$init"
done
for n in 1 2 3; do cl_node h$n 10.77.0.$n; done
for n in 1 2 3; do etcd_wait $n e$n 10.77.0.1$n; done
for n in 1 2 3; do agent_start $n h$n "$tmp/circuit.conf"; done
for n in 1 2 3; do cl_registered $n; done
ok "etcd e1..e3 and agents h1..h3 up"

# --- a local-only host keeps the seed's `network ls` (no SCOPE column)
mkdir -p "$tmp/local"
run env CIRCUIT_CONF=/nonexistent CIRCUIT_STATE_DIR="$tmp/local" "$C" network ls
assert_eq "NAME                SUBNET" "$out" "network ls without a cluster"

# --- create on h1, seen from every host
run on 1 "$C" network create blue 10.128.0.0/16 --scope cluster --vni 4242
assert_eq 0 "$rc" "create: $out"
run on 2 "$C" network create blue2 10.131.0.0/16 --scope cluster --vni 4242
assert_eq 1 "$rc" "VNI taken: $out"
assert_contains "$out" "VNI 4242 is taken by network blue" "VNI taken"
run on 3 "$C" network create blue 10.132.0.0/16 --scope cluster
assert_contains "$out" "network blue already exists in the cluster" "name taken"
run on 1 "$C" network create bad 10.133.0.0/16 --scope cluster --block-size 8
assert_contains "$out" "block size /8" "bad block size"
run on 1 "$C" network create bad 10.133.0.0/16 --vni 5000
assert_contains "$out" "need --scope cluster" "--vni without cluster"
# A network whose blocks hold 2 addresses: the "new block" case below.
run on 1 "$C" network create tiny 10.130.0.0/24 --scope cluster --block-size 30
assert_eq 0 "$rc" "create tiny: $out"
for n in 1 2 3; do
	run on $n "$C" network ls
	has '^NAME +SUBNET +SCOPE$' <<<"${out%%$'\n'*}" || die "ls header on h$n: $out"
	has '^blue +10\.128\.0\.0/16 +cluster$' <<<"$out" || die "ls on h$n: $out"
done
ok "create --scope cluster: seen by every host; VNI and name unique; bad input refused"

# --- each agent makes the networks: bridge, vxlan, FDB, gateway MAC, MTU
for n in 1 2 3; do
	for _ in $(seq 50); do
		[ "$(bridge -n h$n fdb show dev vc-blue 2>/dev/null | grep -c '^00:00:00:00:00:00 dst')" = 2 ] && break
		sleep 0.1
	done
	d=$(ip -n h$n -d link show vc-blue)
	for want in "vxlan id 4242" "local 10.77.0.$n" "dstport 4789" "nolearning" "master c-blue" "mtu 1450"; do
		assert_contains "$d" "$want" "vc-blue on h$n"
	done
	f=$(bridge -n h$n fdb show dev vc-blue)
	for p in 1 2 3; do
		[ $p = $n ] && continue
		assert_contains "$f" "00:00:00:00:00:00 dst 10.77.0.$p" "fdb of h$n"
	done
	b=$(ip -n h$n link show c-blue)
	assert_contains "$b" "mtu 1450" "bridge MTU on h$n"
	mac[$n]=$(echo "$b" | awk '/link\/ether/ {print $2}')
done
assert_eq "${mac[1]}" "${mac[2]}" "gateway MAC h1/h2"
assert_eq "${mac[1]}" "${mac[3]}" "gateway MAC h1/h3"
case ${mac[1]} in 02:c1:*) ;; *) die "gateway MAC ${mac[1]} is not 02:c1:...";; esac
has 'arp daddr ip 10\.128\.0\.1 drop' <<<"$(ip netns exec h1 nft list table bridge circuit)" ||
	die "gateway guard: $(ip netns exec h1 nft list table bridge circuit 2>&1)"
ok "agents made blue on every host: vxlan 4242/4789/nolearning, peers, MTU 1450, one gateway MAC"

# --- containers on every host
# ctr N NAME [NETWORK]: tests/integration/cluster.sh.
for n in 1 2 3; do ctr $n c$n; done
echo "addresses: c1 ${addr[c1]} c2 ${addr[c2]} c3 ${addr[c3]}"
assert_contains "$(ip -n c1 link show eth0)" "mtu 1450" "container MTU"
for a in 1 2 3; do
	busybox_ping() { ip netns exec "$1" busybox ping -c 1 -W 2 "$2" >/dev/null; }
	busybox_ping c$a 10.128.0.1 || die "c$a cannot ping its gateway"
	for b in 1 2 3; do
		[ $a = $b ] && continue
		busybox_ping c$a "${addr[c$b]}" || die "c$a (h$a) cannot ping c$b (h$b) ${addr[c$b]}"
	done
done
ok "ping: every container reaches the others across hosts and its gateway"
ip netns exec c3 busybox nc -l -p 7777 >"$tmp/tcp.out" &
extra_pids+=($!)
for _ in $(seq 50); do has ':1E61 00000000:0000 0A' <<<"$(ip netns exec c3 cat /proc/net/tcp)" && break; sleep 0.1; done
ip netns exec c1 busybox nc -w 3 "${addr[c3]}" 7777 <<<"across hosts" || die "nc c1 -> c3 ${addr[c3]}:7777 failed"
for _ in $(seq 50); do [ -s "$tmp/tcp.out" ] && break; sleep 0.1; done
assert_eq "across hosts" "$(cat "$tmp/tcp.out")" "TCP c1 -> c3"
ok "TCP from h1's container to h3's"
for n in 1 2 3; do
	has "lladdr ${mac[1]}" <<<"$(ip -n c$n neigh show 10.128.0.1)" ||
		die "c$n resolves its gateway to $(ip -n c$n neigh show 10.128.0.1)"
	has "${mac[1]}" <<<"$(bridge -n h$n fdb show dev vc-blue)" &&
		die "h$n learned the gateway MAC on the overlay: $(bridge -n h$n fdb show dev vc-blue)"
done
ok "the gateway: one MAC in every container, never learned from the overlay"

# --- network inspect on h1: the members of every host (their member keys)
# members_of N: "HOST=ADDRESS" per member of blue, as h N's inspect shows them
members_of() {
	run on "$1" "$C" network inspect blue
	assert_eq 0 "$rc" "inspect blue on h$1: $out"
	json_get "$out" "' '.join(sorted(m['host'] + '=' + m['address'].split('/')[0] for m in d['members']))"
}
# members_wait N WANT: up to 10 s for h N's inspect to show WANT (the
# agent of the connecting host publishes the key after the connect:
# spec/cluster.md "Members across hosts").
members_wait() {
	local got
	for _ in $(seq 200); do
		got=$(members_of "$1")
		[ "$got" = "$2" ] && return 0
		sleep 0.05
	done
	die "inspect blue on h$1 after 10 s: '$got', want '$2'"
}
want="h1=${addr[c1]} h2=${addr[c2]} h3=${addr[c3]}"
members_wait 1 "$want"
members_wait 3 "$want"
ctr 2 c2d
# shellcheck disable=SC2086 # $want: its words
members_wait 1 "$(python3 -c 'import sys; print(" ".join(sorted(sys.argv[1:])))' $want "h2=${addr[c2d]}")"
run on 2 "$C" network disconnect "${extra_pids[-1]}" blue
assert_eq 0 "$rc" "disconnect c2d: $out"
members_wait 1 "$want"
ok "network inspect: every host's members (host, address); a disconnect on h2 leaves h1's view"

# --- the member poke (spec/cluster.md "Members across hosts"): circuit-ipam
# on h2 sends the network's name to h2's agent (STATE/cluster/agent.sock),
# which writes the key; circuit-ipam itself never talks to etcd then.
# The witness: circuit-ipam given a circuit.conf whose etcd refuses every
# connection (the direct put would print "not published" on stderr) still
# gets its key into etcd.  With the socket out of the way (no agent) the
# direct put and delete happen, synchronously.
# mkey CID: the member key of CID:eth0 on h2 in etcd (exit 0 if present)
mkey() {
	local k
	k=$(printf '/circuit/v1/members/blue/h2/%s:eth0' "$1" | base64 -w0)
	has '"kvs"' <<<"$(ip netns exec e2 curl -s -m 2 -X POST -d "{\"key\":\"$k\"}" http://10.77.0.12:2379/v3/kv/range || true)"
}
# ipam2 VERB CID [CONF]: circuit-ipam on h2 (stderr in $tmp/ipam.err)
ipam2() {
	set +e
	out=$(CL_CONF=${3:-$tmp/circuit.conf} on 2 env CNI_COMMAND="$1" CNI_CONTAINERID="$2" \
		CNI_NETNS=/dev/null CNI_IFNAME=eth0 CNI_PATH="$BIN" "$BIN/circuit-ipam" \
		<<<"$pipam_conf" 2>"$tmp/ipam.err")
	rc=$?
	set -e
}
pipam_conf='{"cniVersion":"1.0.0","name":"blue","type":"circuit-ipam","ipam":{"type":"circuit-ipam","subnet":"10.128.0.0/16","gateway":"10.128.0.1","cluster":{"blockSize":26}}}'
cl_conf "$tmp/refused.conf" http://10.77.0.2:1
sock=$tmp/s2/cluster/agent.sock
[ -S "$sock" ] || die "no poke socket $sock: $(ls -l "$tmp/s2/cluster")"
assert_eq 600 "$(stat -c %a "$sock")" "mode of $sock"
lat=()
for i in 1 2 3 4 5; do
	t0=$(date +%s.%N)
	ipam2 ADD pk$i "$tmp/refused.conf"
	t1=$(date +%s.%N)
	assert_eq 0 "$rc" "ADD pk$i (etcd refused to circuit-ipam): $out"
	assert_eq "" "$(cat "$tmp/ipam.err")" "ADD pk$i's stderr (no etcd call)"
	for _ in $(seq 250); do mkey pk$i && break; sleep 0.02; done
	t2=$(date +%s.%N)
	mkey pk$i || die "pk$i's key not in etcd $(echo "$t2 - $t1" | bc) s after its ADD: $(tail -5 "$tmp/a2.log")"
	echo "MEASURE cluster-poke-add-s $(echo "$t1 - $t0" | bc)"
	lat+=("$(echo "$t2 - $t1" | bc)")
done
echo "MEASURE cluster-poke-key-s ${lat[*]} (ADD's end -> key seen in etcd, curl every 20 ms)"
for i in 1 2 3 4 5; do
	ipam2 DEL pk$i "$tmp/refused.conf"
	assert_eq 0 "$rc" "DEL pk$i: $out"
	assert_eq "" "$(cat "$tmp/ipam.err")" "DEL pk$i's stderr (no etcd call)"
	for _ in $(seq 250); do mkey pk$i || break; sleep 0.02; done
	mkey pk$i && die "pk$i's key still in etcd 5 s after its DEL"
done
ok "poke: circuit-ipam with etcd refused made no etcd call; h2's agent put the keys ${lat[*]} s after the ADDs, deleted them after the DELs"
mv "$sock" "$sock.away"
ipam2 ADD pd1 "$tmp/refused.conf"
assert_eq 0 "$rc" "ADD pd1 without an agent: $out"
assert_contains "$(cat "$tmp/ipam.err")" "member pd1 not published in etcd" "ADD pd1 without an agent tried etcd"
ipam2 DEL pd1 "$tmp/refused.conf"
assert_eq 0 "$rc" "DEL pd1: $out"
ipam2 ADD pd2
assert_eq 0 "$rc" "ADD pd2 without an agent: $out"
mkey pd2 || die "pd2's key not in etcd right after its ADD (no agent: direct put): $(cat "$tmp/ipam.err")"
ipam2 DEL pd2
assert_eq 0 "$rc" "DEL pd2: $out"
mkey pd2 && die "pd2's key still in etcd right after its DEL (no agent: direct delete)"
mv "$sock.away" "$sock"
ok "no agent listening: circuit-ipam puts and deletes the member key itself"

# --- a CNI runtime's way: the exported conflist, circuit-bridge itself
# (circuit-ipam in-process claims a block: the plugin's cluster seccomp)
run on 2 "$C" network export tiny
assert_eq 0 "$rc" "export tiny: $out"
assert_contains "$out" '"blockSize": 30' "exported conflist"
assert_contains "$out" '"mtu": 1450' "exported conflist MTU"
pconf=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); p=c["plugins"][0]; p["name"]=c["name"]; p["cniVersion"]=c["cniVersion"]; print(json.dumps(p))' "$out")
cl_ns c2x
run on 2 env CNI_COMMAND=ADD CNI_CONTAINERID=c2x CNI_NETNS=/run/netns/c2x CNI_IFNAME=eth0 \
	CNI_PATH="$BIN" "$BIN/circuit-bridge" <<<"$pconf"
assert_eq 0 "$rc" "circuit-bridge ADD on tiny: $out"
xa=$(json_get "$out" 'd["ips"][0]["address"]')
case $xa in 10.130.0.*) ;; *) die "address on tiny: $xa";; esac
ip netns exec c2x busybox ping -c 1 -W 2 10.130.0.1 >/dev/null || die "c2x cannot ping its gateway"
run on 1 "$C" cluster blocks tiny --format json
assert_eq "h2" "$(json_get "$out" "' '.join(b['host'] for b in d)")" "tiny's block after the ADD"
run on 2 env CNI_COMMAND=DEL CNI_CONTAINERID=c2x CNI_NETNS=/run/netns/c2x CNI_IFNAME=eth0 \
	CNI_PATH="$BIN" "$BIN/circuit-bridge" <<<"$pconf"
assert_eq 0 "$rc" "circuit-bridge DEL on tiny: $out"
run on 1 "$C" cluster blocks tiny --format json
assert_eq 0 "$(json_get "$out" 'len(d)')" "tiny's blocks after the DEL"
ok "exported conflist: circuit-bridge (standalone, seccomp on) claims and frees a block, ${xa%/*} reaches its gateway"

# --- 3 x 64 concurrent ADDs (circuit-ipam itself): no address twice
ipam_conf='{"cniVersion":"1.0.0","name":"blue","type":"circuit-ipam","ipam":{"type":"circuit-ipam","subnet":"10.128.0.0/16","gateway":"10.128.0.1","cluster":{"blockSize":26}}}'
pids=()
for n in 1 2 3; do
	for i in $(seq 64); do
		on $n env CNI_COMMAND=ADD CNI_CONTAINERID=x$n-$i CNI_NETNS=/dev/null CNI_IFNAME=eth0 \
			CNI_PATH="$BIN" "$BIN/circuit-ipam" <<<"$ipam_conf" >"$tmp/add.$n.$i" 2>"$tmp/adderr.$n.$i" &
		pids+=($!)
	done
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
[ $fails = 0 ] || { grep -h '"msg"' "$tmp"/add.* | sort | uniq -c; die "$fails ADDs failed"; }
# The agents write the member keys (the poke; a full queue makes them
# sync every network): no ADD wrote to etcd itself, none warned.
echo "MEASURE cluster-member-publish-warnings $(cat "$tmp"/adderr.* | wc -l) of 192"
assert_eq "" "$(cat "$tmp"/adderr.*)" "stderr of the 192 ADDs"
# xkeys: how many member keys of blue the x* containers have in etcd
xkeys() {
	local b
	b=$(printf /circuit/v1/members/blue/ | base64 -w0)
	python3 -c 'import base64,json,sys; d=json.loads(sys.argv[1] or "{}"); print(sum(1 for k in d.get("kvs", []) if "/x" in base64.b64decode(k["key"]).decode()))' \
		"$(ip netns exec e2 curl -s -m 5 -X POST -d "{\"key\":\"$b\",\"range_end\":\"$(printf /circuit/v1/members/blue0 | base64 -w0)\",\"keys_only\":true}" http://10.77.0.12:2379/v3/kv/range || true)"
}
t0=$(date +%s.%N)
for _ in $(seq 200); do [ "$(xkeys)" = 192 ] && break; sleep 0.05; done
assert_eq 192 "$(xkeys)" "member keys of the 192 ADDs in etcd"
echo "MEASURE cluster-poke-burst-keys-s $(echo "$(date +%s.%N) - $t0" | bc) (after the last ADD returned)"
for n in 1 2 3; do
	for i in $(seq 64); do json_get "$(cat "$tmp/add.$n.$i")" 'd["ips"][0]["address"]'; done >"$tmp/ips.$n"
done
assert_eq 192 "$(cat "$tmp"/ips.[123] | sort -u | wc -l)" "distinct addresses of 192 ADDs"
for c in c1 c2 c3; do has "^${addr[$c]}/" <<<"$(cat "$tmp"/ips.[123])" && die "${addr[$c]} given twice"; done
# Each host's addresses lie in its own blocks.
run on 1 "$C" cluster blocks blue --format json
[ "$rc" = 0 ] || die "cluster blocks blue: exit $rc: $out"
for n in 1 2 3; do
	json_get "$out" "' '.join(b['block'] for b in d if b['host'] == 'h$n')" >"$tmp/blocks.$n"
	python3 - "$tmp/blocks.$n" "$tmp/ips.$n" <<'PY' || die "h$n allocated outside its blocks (cluster blocks: $(head -c 600 <<<"$out"))"
import ipaddress, sys
blocks = [ipaddress.ip_network(b) for b in open(sys.argv[1]).read().split()]
for line in open(sys.argv[2]):
    ip = ipaddress.ip_interface(line.strip()).ip
    assert any(ip in b for b in blocks), (str(ip), [str(b) for b in blocks])
PY
done
echo "blocks after 3 x 64 ADDs: $(json_get "$out" 'len(d)')"
# DEL them all: emptied blocks go back to the cluster.
pids=()
for n in 1 2 3; do
	for i in $(seq 64); do
		on $n env CNI_COMMAND=DEL CNI_CONTAINERID=x$n-$i CNI_NETNS=/dev/null CNI_IFNAME=eth0 \
			CNI_PATH="$BIN" "$BIN/circuit-ipam" <<<"$ipam_conf" >/dev/null 2>&1 &
		pids+=($!)
	done
done
for p in "${pids[@]}"; do wait "$p" || die "a DEL failed"; done
run on 1 "$C" cluster blocks blue --format json
assert_eq 3 "$(json_get "$out" 'len(d)')" "blocks after the DELs (one per container host): $out"
ok "3 x 64 concurrent ADDs: 192 distinct addresses, each in its host's blocks; empty blocks freed"

# --- restart check: an agent back after its TTL finds the blocks it lists
# gone from etcd; a free one is claimed again, one another host holds now
# is dropped from its list (one line each)
ctr 2 c2t tiny
bfile=$(find "$tmp/s2" -path '*/blue/cluster/blocks')
tfile=$(find "$tmp/s2" -path '*/tiny/cluster/blocks')
bb=$(cat "$bfile") tb=$(cat "$tfile")
[ -n "$bb" ] && [ -n "$tb" ] || die "h2's blocks: blue '$bb' tiny '$tb'"
kill -9 "${apid[2]}"; wait "${apid[2]}" 2>/dev/null || true
for _ in $(seq $((TTL * 10 + 50))); do
	run on 1 "$C" cluster blocks --format json
	[ "$rc" = 0 ] && [ "$(json_get "$out" "len([b for b in d if b['host'] == 'h2'])")" = 0 ] && break
	sleep 0.1
done
assert_eq 0 "$(json_get "$out" "len([b for b in d if b['host'] == 'h2'])")" "h2's blocks after its TTL: $out"
# Meanwhile another host took tiny's block (what h1's claim of it would
# write, without a lease: removed below).
tkey=/circuit/v1/blocks/tiny/${tb%/*}-${tb#*/}
put=$(python3 -c 'import base64,json,sys; b=lambda s: base64.b64encode(s.encode()).decode(); print(json.dumps({"key": b(sys.argv[1]), "value": b(json.dumps({"host": "h1", "network": "tiny", "block": sys.argv[2]}))}))' "$tkey" "$tb")
ip netns exec e2 curl -s -m 5 -X POST -d "$put" http://10.77.0.12:2379/v3/kv/put >/dev/null ||
	die "put of $tkey"
agent_start 2 h2 "$tmp/circuit.conf"
want1="cluster: network blue: block $bb was free in etcd (this host's lease had expired): reclaimed, 1 addresses in use here"
want2="cluster: network tiny: block $tb is held by host h1 now: dropped here (1 addresses of it still in use here)"
for _ in $(seq 100); do
	grep -qF "$want1" "$tmp/a2.log" && grep -qF "$want2" "$tmp/a2.log" && break
	sleep 0.1
done
grep -qF "$want1" "$tmp/a2.log" || die "no reclaim of $bb: $(tail -5 "$tmp/a2.log")"
grep -qF "$want2" "$tmp/a2.log" || die "no drop of $tb: $(tail -5 "$tmp/a2.log")"
run on 1 "$C" cluster blocks --format json
assert_eq "h2" "$(json_get "$out" "' '.join(b['host'] for b in d if b['block'] == '$bb')")" "$bb after the restart"
assert_eq "$bb" "$(cat "$bfile")" "h2's blue blocks"
assert_eq "" "$(cat "$tfile")" "h2's tiny blocks"
ip netns exec e2 curl -s -m 5 -X POST -d "{\"key\":\"$(printf %s "$tkey" | base64 -w0)\"}" \
	http://10.77.0.12:2379/v3/kv/deleterange >/dev/null || die "delete of $tkey"
for _ in $(seq 50); do has 'dst 10\.77\.0\.2' <<<"$(bridge -n h1 fdb show dev vc-blue)" && break; sleep 0.1; done
ip netns exec c1 busybox ping -c 1 -W 2 "${addr[c2]}" >/dev/null || die "c1 cannot ping c2 after h2's restart"
ok "restart after the TTL: h2 reclaimed $bb (free), dropped $tb (held by h1), c2 still reached"

# --- a host killed: its peers drop its FDB entries within TTL + 1 s of
# the kill.  The lease expires at most TTL after its last keep-alive (the
# agent's lease thread sends one every TTL/3, whatever its loop does), etcd
# revokes expired leases on a 500 ms beat, and the DELETE of the host key
# reaches every peer's watch stream at once, which reconciles then
# (measured: the host key and the FDB entries gone together, 3.5-5.2 s
# after the kill with a 5 s TTL; the worst phase, a kill just after a
# keep-alive, is TTL + 0.5 s + etcd's commit).  Done while etcd's leader is stable: a
# new leader extends every lease by TTL + its election timeout (so a host
# killed just before an election may stay up to ~TTL + 1 s + the election;
# spec/cluster.md).
ekey=$(printf /circuit/v1/hosts/h3 | base64)
kill -9 "${apid[3]}"
killed=$(date +%s.%N)
wait "${apid[3]}" 2>/dev/null || true
gone='' kgone=''
while :; do
	now=$(date +%s.%N)
	if [ -z "$kgone" ]; then
		kv=$(ip netns exec e2 curl -s -m 2 -X POST -d "{\"key\":\"$ekey\"}" http://10.77.0.12:2379/v3/kv/range || true)
		has '"kvs"' <<<"$kv" || kgone=$now
	fi
	if ! has 'dst 10\.77\.0\.3' <<<"$(bridge -n h1 fdb show dev vc-blue)" &&
	   ! has 'dst 10\.77\.0\.3' <<<"$(bridge -n h2 fdb show dev vc-blue)"; then gone=$now; break; fi
	[ "$(echo "$now - $killed > $TTL + 1" | bc)" = 1 ] && break
	sleep 0.05
done
[ -n "$gone" ] || die "h3's FDB entries still there $TTL + 1 s after the kill (host key gone: ${kgone:+$(echo "$kgone - $killed" | bc) s}): $(bridge -n h1 fdb show dev vc-blue)"
echo "MEASURE cluster-host-key-gone-after-kill-s $(echo "${kgone:-$gone} - $killed" | bc)"
echo "MEASURE cluster-fdb-gone-after-kill-s $(echo "$gone - $killed" | bc)"
ok "killed host h3: its FDB entries gone from h1 and h2 in $(echo "$gone - $killed" | bc) s (TTL $TTL s)"
ip netns del h3

# --- one etcd member down (every host's first endpoint): connect works
kill "${epid[1]}"; wait "${epid[1]}" 2>/dev/null || true
ctr 1 c1b
busybox_ping c1b "${addr[c2]}" || die "c1b cannot ping c2"
ok "etcd member e1 stopped: connect and traffic work"

# --- all of etcd down
kill "${epid[2]}" "${epid[3]}"; wait "${epid[2]}" "${epid[3]}" 2>/dev/null || true
ctr 2 c2b
busybox_ping c2b "${addr[c1]}" || die "c2b cannot ping c1"
ok "etcd down: a connect inside a held block works"
cl_ns c1t
ip netns exec c1t sleep 3600 &
extra_pids+=($!)
tp=$!
netns_wait $tp
before=$(ip -n h1 -o link show | awk -F': ' '{print $2}' | sort; find "$tmp/s1" -type f ! -name lock | sort)
t0=$(date +%s.%N)
run on 1 "$C" network connect $tp tiny
t1=$(date +%s.%N)
assert_eq 1 "$rc" "connect needing a new block with etcd down: $out"
assert_eq 1 "$(echo "$out" | wc -l)" "one line: $out"
assert_contains "$out" "etcd http://10.77.0.11:2379: connection refused" "names the endpoint"
echo "MEASURE cluster-connect-etcd-down-s $(echo "$t1 - $t0" | bc)"
[ "$(echo "$t1 - $t0 < 5" | bc)" = 1 ] || die "the failed connect took $(echo "$t1 - $t0" | bc) s"
after=$(ip -n h1 -o link show | awk -F': ' '{print $2}' | sort; find "$tmp/s1" -type f ! -name lock | sort)
assert_eq "$before" "$after" "links and state after the failed connect"
assert_eq "" "$(ip -n c1t -o link show | grep -v ': lo:' || true)" "container links"
ok "etcd down: a connect that needs a block fails in $(echo "$t1 - $t0" | bc) s, one line, nothing left"
