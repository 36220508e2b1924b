# t-cluster-fdb: per-container FDB entries of cluster networks
# (spec/cluster.md "Per-container FDB entries") on the underlay of
# tests/integration/cluster.sh: three etcd members e1..e3 (10.77.0.11-13),
# three hosts h1..h3 (10.77.0.1-3) with their agents, network blue.  Shows:
# a member key carries its interface's MAC; a container connected on h2
# appears on h1's and h3's vxlan as "MAC dst 10.77.0.2 self permanent"
# within a bound (measured), never on h2's own vxlan, and is gone after its
# disconnect (measured); with every etcd member stopped, the entries stay,
# a container disconnected on h3 and one connected on h2 meanwhile are
# caught up on every host once etcd is back (measured from the restart).
. "$SRCDIR/tests/integration/cluster.sh"
EP=http://10.77.0.11:2379,http://10.77.0.12:2379,http://10.77.0.13:2379
cl_conf "$tmp/circuit.conf" "$EP"
BOUND=10        # s: a change reaches every peer's FDB (measured well below)
CATCHUP=40      # s: from etcd's restart (its start and election included)

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
run on 1 "$C" network create blue 10.150.0.0/16 --scope cluster
assert_eq 0 "$rc" "create: $out"
for n in 1 2 3; do
	for _ in $(seq 100); do
		[ "$(bridge -n h$n fdb show dev vc-blue 2>/dev/null | grep -c '^00:00:00:00:00:00 dst')" = 2 ] && break
		sleep 0.1
	done
	[ "$(bridge -n h$n fdb show dev vc-blue 2>/dev/null | grep -c '^00:00:00:00:00:00 dst')" = 2 ] ||
		die "h$n: no overlay with 2 peers: $(bridge -n h$n fdb show dev vc-blue 2>&1)"
done
ok "etcd e1..e3, agents h1..h3, blue made on every host"

# mac_of NS: the MAC of eth0 in container namespace NS
mac_of() { ip -n "$1" link show eth0 | awk '/link\/ether/ {print $2}'; }
# fdb N: h N's vxlan entries
fdb() { bridge -n h$1 fdb show dev vc-blue 2>/dev/null || true; }
# entry_on N MAC DST: h N's vxlan sends MAC to DST (the agent's entry)
entry_on() { has "^$2 dst $3 self permanent" <<<"$(fdb "$1")"; }
# mac_on N MAC: h N's vxlan has an entry with a destination for MAC
mac_on() { has "^$2 dst " <<<"$(fdb "$1")"; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
over() { [ "$(echo "$(now) - $1 > $2" | bc)" = 1 ]; }

# --- baseline: a container on each host; c5 on h2 keeps h2's block held
declare -A mac
ctr 1 c1
ctr 3 c3
p3=${extra_pids[-1]}
ctr 2 c5
for c in c1 c3 c5; do mac[$c]=$(mac_of $c); done
declare -A hostof=([c1]=1 [c3]=3 [c5]=2)
t0=$(now)
while :; do
	done_=1
	for c in c1 c3 c5; do
		for n in 1 2 3; do
			[ $n = "${hostof[$c]}" ] && continue
			entry_on $n "${mac[$c]}" "10.77.0.${hostof[$c]}" || done_=''
		done
	done
	[ -n "$done_" ] && break
	over "$t0" "$BOUND" && die "entries of c1 c3 c5 after $BOUND s: h1 $(fdb 1) | h2 $(fdb 2) | h3 $(fdb 3)"
	sleep 0.05
done
for c in c1 c3 c5; do
	mac_on "${hostof[$c]}" "${mac[$c]}" && die "h${hostof[$c]} has an entry for its own $c: $(fdb "${hostof[$c]}")"
done
run on 1 "$C" network inspect blue
assert_eq "${mac[c5]}" "$(json_get "$out" "[m.get('mac') for m in d['members'] if m.get('host') == 'h2'][0]")" "c5's MAC in h1's inspect: $out"
ok "member keys carry the MAC; every host has an entry for every other host's containers, none for its own"

# --- a container connected on h2: on h1 and h3 within BOUND s, measured
cl_ns c2
ip netns exec c2 sleep 3600 &
p2=$!
extra_pids+=($p2)
netns_wait $p2
t0=$(now)
run on 2 "$C" network connect $p2 blue
assert_eq 0 "$rc" "connect c2: $out"
tc=$(since "$t0")
mac[c2]=$(mac_of c2)
addr[c2]=$(ip -n c2 -4 -o addr show eth0 scope global | awk '{print $4}' | cut -d/ -f1)
seen1='' seen3=''
while [ -z "$seen1" ] || [ -z "$seen3" ]; do
	[ -n "$seen1" ] || ! entry_on 1 "${mac[c2]}" 10.77.0.2 || seen1=$(since "$t0")
	[ -n "$seen3" ] || ! entry_on 3 "${mac[c2]}" 10.77.0.2 || seen3=$(since "$t0")
	over "$t0" "$BOUND" && die "c2 ${mac[c2]} not on h1/h3 $BOUND s after its connect: h1 $(fdb 1) | h3 $(fdb 3)"
	sleep 0.02
done
echo "MEASURE cluster-fdb-connect-s $tc (the connect itself)"
echo "MEASURE cluster-fdb-add-h1-s $seen1"
echo "MEASURE cluster-fdb-add-h3-s $seen3"
mac_on 2 "${mac[c2]}" && die "h2 programmed its own c2: $(fdb 2)"
ip netns exec c1 busybox ping -c 1 -W 2 "${addr[c2]}" >/dev/null || die "c1 cannot ping c2"
ok "c2 connected on h2: h1 has ${mac[c2]} dst 10.77.0.2 after $seen1 s, h3 after $seen3 s (connect $tc s; bound $BOUND s)"

# --- its disconnect: gone from h1 and h3
t0=$(now)
run on 2 "$C" network disconnect $p2 blue
assert_eq 0 "$rc" "disconnect c2: $out"
gone1='' gone3=''
while [ -z "$gone1" ] || [ -z "$gone3" ]; do
	[ -n "$gone1" ] || mac_on 1 "${mac[c2]}" || gone1=$(since "$t0")
	[ -n "$gone3" ] || mac_on 3 "${mac[c2]}" || gone3=$(since "$t0")
	over "$t0" "$BOUND" && die "c2 ${mac[c2]} still on h1/h3 $BOUND s after its disconnect: h1 $(fdb 1) | h3 $(fdb 3)"
	sleep 0.02
done
echo "MEASURE cluster-fdb-del-h1-s $gone1"
echo "MEASURE cluster-fdb-del-h3-s $gone3"
ok "c2 disconnected: its entry gone from h1 after $gone1 s, from h3 after $gone3 s"

# --- every etcd member stopped: c3 disconnected on h3, c4 connected on h2
# (inside the block c5 holds); the entries stay meanwhile
kill "${epid[1]}" "${epid[2]}" "${epid[3]}"
wait "${epid[1]}" "${epid[2]}" "${epid[3]}" 2>/dev/null || true
run on 3 "$C" network disconnect "$p3" blue
assert_eq 0 "$rc" "disconnect c3 with etcd down: $out"
ctr 2 c4
mac[c4]=$(mac_of c4)
sleep 2
entry_on 1 "${mac[c3]}" 10.77.0.3 || die "h1 dropped c3's entry while etcd was down: $(fdb 1)"
entry_on 1 "${mac[c5]}" 10.77.0.2 || die "h1 dropped c5's entry while etcd was down: $(fdb 1)"
mac_on 1 "${mac[c4]}" && die "h1 has c4 while etcd is down (how?): $(fdb 1)"
ip netns exec c1 busybox ping -c 1 -W 2 "${addr[c5]}" >/dev/null || die "c1 cannot ping c5 with etcd down"
ok "etcd down: entries kept, c1 reaches c5; c3 disconnected on h3, c4 connected on h2"

# --- etcd back: every host converges
t0=$(now)
for n in 1 2 3; do etcd_start $n e$n 10.77.0.1$n "$init"; done
for n in 1 2 3; do etcd_wait $n e$n 10.77.0.1$n; done
healthy=$(since "$t0")
while :; do
	done_=1
	mac_on 1 "${mac[c3]}" && done_=''
	mac_on 2 "${mac[c3]}" && done_=''
	entry_on 1 "${mac[c4]}" 10.77.0.2 || done_=''
	entry_on 3 "${mac[c4]}" 10.77.0.2 || done_=''
	[ -n "$done_" ] && break
	over "$t0" "$CATCHUP" && die "not converged $CATCHUP s after etcd's restart: h1 $(fdb 1) | h2 $(fdb 2) | h3 $(fdb 3) | a2: $(tail -5 "$tmp/a2.log") | a3: $(tail -5 "$tmp/a3.log")"
	sleep 0.05
done
conv=$(since "$t0")
mac_on 2 "${mac[c4]}" && die "h2 programmed its own c4: $(fdb 2)"
for n in 1 3; do entry_on $n "${mac[c5]}" 10.77.0.2 || die "h$n lost c5: $(fdb $n)"; done
entry_on 2 "${mac[c1]}" 10.77.0.1 || die "h2 lost c1: $(fdb 2)"
ip netns exec c1 busybox ping -c 1 -W 2 "${addr[c4]}" >/dev/null || die "c1 cannot ping c4"
echo "MEASURE cluster-fdb-etcd-healthy-s $healthy"
echo "MEASURE cluster-fdb-catchup-s $conv"
ok "etcd back: every host converged $conv s after the restart (etcd healthy after $healthy s): c3 gone, c4 dst 10.77.0.2 on h1 and h3"
