. "$SRCDIR/tests/integration/cluster.sh"
EP=http://10.77.0.11:2379,http://10.77.0.12:2379,http://10.77.0.13:2379
cl_conf "$tmp/circuit.conf" "$EP"
on() ( n=$1; shift; exec ip netns exec h$n env CIRCUIT_STATE_DIR="$tmp/s$n" CIRCUIT_CONF="$tmp/circuit.conf" CIRCUIT_HOST_NAME=h$n "$@"; )
cl_underlay
init=e1=http://10.77.0.11:2380,e2=http://10.77.0.12:2380,e3=http://10.77.0.13:2380
for n in 1 2 3; do cl_node e$n 10.77.0.1$n; etcd_start $n e$n 10.77.0.1$n "$init"; done
for n in 1 2; do cl_node h$n 10.77.0.$n; done
for n in 1 2 3; do etcd_wait $n e$n 10.77.0.1$n; done
for n in 1 2; do
	ip netns exec h$n env CIRCUIT_STATE_DIR="$tmp/s$n" CIRCUIT_CONF="$tmp/circuit.conf" CIRCUIT_HOST_NAME=h$n "$C" agent > >(while IFS= read -r l; do echo "$(date +%s.%N) $l"; done >>"$tmp/a$n.log") 2>&1 &
	apid[$n]=$!
done
sleep 2
run on 1 "$C" network create blue 10.128.0.0/16 --scope cluster --vni 4242
for _ in $(seq 50); do bridge -n h1 fdb show dev vc-blue 2>/dev/null | grep -q 'dst 10.77.0.2' && break; sleep 0.1; done
sleep ${PRE:-3}
key=$(echo -n /circuit/v1/hosts/h2 | base64)
for n in 1 2 3; do echo "e$n: $(ip netns exec e$n curl -s -X POST http://10.77.0.1$n:2379/v3/maintenance/status)"; done
[ -z "${LEADER_KILL:-}" ] || kill ${epid[$LEADER_KILL]}
sleep ${PRE2:-0.5}
for i in $(seq ${ITER:-3}); do
kill -9 "${apid[2]}"; wait "${apid[2]}" 2>/dev/null || true
killed=$(date +%s.%N); kg=''; fg=''
while :; do
	now=$(date +%s.%N)
	if [ -z "$kg" ]; then
		o=$(ip netns exec e2 curl -s -X POST -d "{\"key\":\"$key\"}" http://10.77.0.12:2379/v3/kv/range)
		case $o in *'"kvs"'*) ;; *) kg=$now;; esac
	fi
	if [ -z "$fg" ] && ! bridge -n h1 fdb show dev vc-blue | grep -q 'dst 10.77.0.2'; then fg=$now; fi
	[ -n "$kg" ] && [ -n "$fg" ] && break
	[ "$(echo "$now - $killed > 15" | bc)" = 1 ] && break
	sleep 0.05
done
echo "MEASURE run$i key-gone $(echo "$kg - $killed" | bc) fdb-gone $(echo "$fg - $killed" | bc) killed=$killed"
	ip netns exec h2 env CIRCUIT_STATE_DIR="$tmp/s2" CIRCUIT_CONF="$tmp/circuit.conf" CIRCUIT_HOST_NAME=h2 "$C" agent > >(while IFS= read -r l; do echo "$(date +%s.%N) $l"; done >>"$tmp/a2.log") 2>&1 &
	apid[2]=$!
	for _ in $(seq 100); do bridge -n h1 fdb show dev vc-blue 2>/dev/null | grep -q 'dst 10.77.0.2' && break; sleep 0.1; done
	sleep $((RANDOM % 3)).$((RANDOM % 10))
done
cat "$tmp/a1.log" | tail -30
ok done
