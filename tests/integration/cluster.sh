# SPDX-License-Identifier: Apache-2.0
# Shared setup of the cluster tests (t-cluster-etcd, t-cluster-net) and of
# the cluster bench (tests/bench/cluster-bench.sh), sourced after lib.sh: an
# underlay bridge br0 in namespace "ul", nodes (namespaces with a veth on it
# and an address in 10.77.0.0/24), a static etcd cluster of Debian's etcd on
# nodes, `circuit agent`s, commands and containers on a host, and one
# cleanup trap that kills everything started here (agents, etcd members, the
# pids in extra_pids) and deletes every namespace made here.  Host N is
# namespace hN with host name hN, state directory $tmp/sN and the
# configuration $tmp/circuit.conf (cl_conf writes it).
C=$BIN/circuit
command -v etcd >/dev/null || skip "no etcd binary (tests/deps.sh installs etcd-server)"
tmp=$(mktemp -d /tmp/cluster.XXXXXX)
epid=() apid=() extra_pids=() made_ns=()
TTL=${TTL:-5}
cluster_cleanup() {
	[ -z "${VERBOSE:-}" ] || tail -n 20 "$tmp"/a*.log 2>/dev/null || true
	kill -9 "${apid[@]}" "${extra_pids[@]}" 2>/dev/null || true
	kill "${epid[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	for n in "${made_ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cluster_cleanup EXIT

# cl_ns NAME: a namespace this file deletes at the end.
cl_ns() { mkns "$1"; made_ns+=("$1"); }
# cl_underlay: the underlay bridge.
cl_underlay() {
	cl_ns ul
	ip -n ul link add br0 type bridge
	ip -n ul link set br0 up
}
# cl_node NS IP: a node on the underlay (its eth0 has IP/24, or IP/64
# without DAD for an IPv6 address).
cl_node() {
	local ns=$1 ip=$2 port=u${#made_ns[@]}
	cl_ns "$ns"
	ip -n ul link add "$port" type veth peer name eth0 netns "$ns"
	ip -n ul link set "$port" master br0 up
	case $ip in
	*:*) ip -n "$ns" addr add "$ip/64" dev eth0 nodad;;
	*) ip -n "$ns" addr add "$ip/24" dev eth0;;
	esac
	ip -n "$ns" link set eth0 up
}
# cl_conf FILE ENDPOINTS: a circuit.conf with the endpoints and TTL.
cl_conf() {
	printf '# test cluster\ncluster = %s\nlease-ttl = %s\n' "$2" "$TTL" >"$1"
}
# cl_url IP: IP as a URL's host (an IPv6 address in brackets).
cl_url() { case $1 in *:*) echo "[$1]";; *) echo "$1";; esac; }
# etcd_start N NS IP INITIAL-CLUSTER: member eN (pid in epid[N]).
etcd_start() {
	local n=$1 ns=$2 ip
	ip=$(cl_url "$3")
	ip netns exec "$ns" etcd --name "e$n" --data-dir "$tmp/e$n" \
		--listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "$4" --initial-cluster-state new \
		--initial-cluster-token circuit-test >>"$tmp/e$n.log" 2>&1 &
	epid[$n]=$!
}
# etcd_healthy NS IP: that member answers /health with a leader elected.
etcd_healthy() { has '"health":"true"' <<<"$(ip netns exec "$1" curl -s -m 2 "http://$(cl_url "$2"):2379/health" 2>/dev/null)"; }
# etcd_wait N NS IP: up to 60 s for member N.
etcd_wait() {
	for _ in $(seq 120); do etcd_healthy "$2" "$3" && return 0; sleep 0.5; done
	tail -20 "$tmp/e$1.log"
	die "etcd member e$1 never became healthy"
}
# agent_start N NS CONF: `circuit agent` of host hN (state $tmp/sN) in NS.
agent_start() {
	local n=$1
	# Not through a function: $! must be the agent itself, for kill -9.
	ip netns exec "$2" env CIRCUIT_STATE_DIR="$tmp/s$n" CIRCUIT_CONF="$3" \
		CIRCUIT_HOST_NAME=h$n "$C" agent >>"$tmp/a$n.log" 2>&1 &
	apid[$n]=$!
}
# on N CMD...: run CMD on host N (namespace hN) with its state and name.
on() (
	n=$1; shift
	exec ip netns exec h$n env CIRCUIT_STATE_DIR="$tmp/s$n" CIRCUIT_CONF="${CL_CONF:-$tmp/circuit.conf}" \
		CIRCUIT_HOST_NAME=h$n "$@"
)
# cl_registered N: up to 10 s for host N's agent to log its registration.
cl_registered() {
	for _ in $(seq 100); do grep -q "registered" "$tmp/a$1.log" && return 0; sleep 0.1; done
	die "agent h$1: $(cat "$tmp/a$1.log")"
}
# ctr N NAME [NETWORK [-4|-6]]: a container (sleep in namespace NAME)
# connected on host N to NETWORK (default blue); its address (IPv4 unless
# -6) in addr[NAME].
declare -gA addr
ctr() {
	cl_ns "$2"
	ip netns exec "$2" sleep 3600 &
	local pid=$!
	extra_pids+=("$pid")
	# Not before the sleep is in NAME: a process still in this namespace
	# (not host N's) would be connected, its eth0 made here.
	netns_wait $pid
	run on "$1" "$C" network connect $pid "${3:-blue}"
	assert_eq 0 "$rc" "connect $2 on h$1: $out"
	addr[$2]=$(ip -n "$2" "${4:--4}" -o addr show eth0 scope global | awk '{print $4}' | cut -d/ -f1)
	[ -n "${addr[$2]}" ] || die "$2 has no address"
}
