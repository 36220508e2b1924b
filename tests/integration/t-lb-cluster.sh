# t-lb-cluster: cluster services (`circuit lb create ... --scope cluster`,
# spec/cluster.md "Cluster services"), their etcd side, on this machine's
# kernel without IPVS (the kernel side is tests/vm/v-lb-cluster.sh): one
# etcd member (namespace e1, 10.77.0.11), hosts h1 and h2 (10.77.0.1-2)
# with their own state directories and agents (tests/integration/cluster.sh).
# Shows: without a cluster nothing changes (lb ls as before, --scope cluster
# refused with one line); refused flags (haproxy, a bad scope, --drain);
# the record and its VIP key written in etcd by h1, seen by `lb ls` on h2
# (SCOPE column, JSON scope/local), duplicate name and VIP refused; targets
# added and removed from either host; an agent on a kernel without IPVS
# says so once per service (not per pass) and writes nothing; a damaged
# record in etcd is skipped by ls and reported once by the agent; delete
# from h2 removes it for every host.
if [ -d /sys/module/ip_vs ] || modprobe -n ip_vs 2>/dev/null; then
	skip "this kernel has IPVS (tests/vm/v-lb-cluster.sh tests it)"
fi
. "$SRCDIR/tests/integration/cluster.sh"
EP=http://10.77.0.11:2379
cl_conf "$tmp/circuit.conf" "$EP"

cl_underlay
cl_node e1 10.77.0.11
etcd_start 1 e1 10.77.0.11 e1=http://10.77.0.11:2380
for n in 1 2; do cl_node h$n 10.77.0.$n; done
etcd_wait 1 e1 10.77.0.11
for n in 1 2; do agent_start $n h$n "$tmp/circuit.conf"; done
for n in 1 2; do cl_registered $n; done
ok "etcd e1 and agents h1, h2 up"

# etcd_get KEY: the value at KEY ("" when absent), through the v3 gateway.
etcd_get() {
	local k
	k=$(printf %s "$1" | base64 -w0)
	json_get "$(ip netns exec e1 curl -s -m 5 "$EP/v3/kv/range" -d "{\"key\":\"$k\"}")" \
		'__import__("base64").b64decode(d["kvs"][0]["value"]).decode() if d.get("kvs") else ""'
}
etcd_put() {
	ip netns exec e1 curl -s -m 5 "$EP/v3/kv/put" \
		-d "{\"key\":\"$(printf %s "$1" | base64 -w0)\",\"value\":\"$(printf %s "$2" | base64 -w0)\"}" >/dev/null
}
# records N: the lb records in host N's state ("" when none).
records() { ls "$tmp/s$1/lb" 2>/dev/null | grep '\.json$' | tr '\n' ' ' || true; }

# --- without a cluster: the seed's lb ls, --scope cluster refused
mkdir -p "$tmp/local"
nocl() { env CIRCUIT_CONF=/nonexistent CIRCUIT_STATE_DIR="$tmp/local" "$@"; }
run nocl "$C" lb ls
assert_eq "NAME                ADDR                PROTOCOL            SCHEDULER           BACKEND" "$out" "lb ls without a cluster"
run nocl "$C" lb create web 10.96.0.10:80 --scope cluster
assert_eq 1 "$rc" "--scope cluster without a cluster: $out"
assert_contains "$out" "ERRO[0000] no cluster configured" "no cluster"
assert_eq 1 "$(grep -c . <<<"$out")" "one line: $out"
run nocl "$C" lb add web 10.128.0.5:80
assert_contains "$out" "service web not found" "add without a cluster"
ok "no cluster: lb ls unchanged, --scope cluster refused with one line"

# --- refused flags
run on 1 "$C" lb create px 10.96.0.20:80 --scope cluster --backend haproxy
assert_eq 2 "$rc" "haproxy: $out"
assert_contains "$out" "--scope cluster works with the ipvs backend only, not --backend haproxy" "haproxy"
run on 1 "$C" lb create web 10.96.0.10:80 --scope everywhere
assert_eq 2 "$rc" "bad scope: $out"
assert_contains "$out" 'want local or cluster, got "everywhere"' "bad scope"
ok "refused: --backend haproxy, a bad --scope"

# --- create on h1: the record in etcd, seen on h2
run on 1 "$C" lb create web 10.96.0.10:80 --scope cluster --check tcp
assert_eq 0 "$rc" "create: $out"
assert_contains "$out" "service web created in the cluster" "create"
v=$(etcd_get /circuit/v1/services/web)
assert_eq "web cluster 10.96.0.10 80 tcp" \
	"$(json_get "$v" '" ".join([d["name"], d["scope"], d["address"], str(d["port"]), d["check"]["type"]])')" "record in etcd: $v"
assert_eq web "$(etcd_get /circuit/v1/service-vips/10.96.0.10/tcp-80)" "VIP key"
run on 2 "$C" lb ls
has '^NAME +ADDR +PROTOCOL +SCHEDULER +BACKEND +SCOPE$' <<<"${out%%$'\n'*}" || die "ls header on h2: $out"
has '^web +10\.96\.0\.10:80 +tcp +rr +ipvs +cluster$' <<<"$out" || die "ls on h2: $out"
run on 2 "$C" lb ls --format json
assert_eq "web cluster False" "$(json_get "$out" '" ".join([d[0]["name"], d[0]["scope"], str(d[0]["local"])])')" "ls json on h2: $out"
run on 2 "$C" lb create web 10.96.0.11:80 --scope cluster
assert_eq 1 "$rc" "name taken: $out"
assert_contains "$out" "service web already exists in the cluster" "name taken"
run on 2 "$C" lb create web2 10.96.0.10:80 --scope cluster
assert_eq 1 "$rc" "VIP taken: $out"
assert_contains "$out" "service web already uses tcp 10.96.0.10:80 in the cluster" "VIP taken"
ok "create --scope cluster on h1: record and VIP key in etcd, seen by lb ls on h2; name and VIP unique"

# --- targets from either host
run on 2 "$C" lb add web 10.128.0.5:80
assert_eq 0 "$rc" "add from h2: $out"
assert_contains "$out" "service web updated in the cluster" "add"
run on 1 "$C" lb add web 10.128.0.70:8080 --weight 3
assert_eq 0 "$rc" "add from h1: $out"
run on 1 "$C" lb add web [fd00::1]:80
assert_eq 1 "$rc" "family: $out"
assert_contains "$out" "address family differs" "family"
run on 2 "$C" lb ls --details
has '^  -> 10\.128\.0\.5:80 weight=1 method=nat' <<<"$out" || die "target 1 on h2: $out"
has '^  -> 10\.128\.0\.70:8080 weight=3 method=nat' <<<"$out" || die "target 2 on h2: $out"
run on 1 "$C" lb remove web 10.128.0.5:80 --drain
assert_eq 2 "$rc" "drain: $out"
assert_contains "$out" "--drain is for local services" "drain"
run on 1 "$C" lb remove web 10.128.0.5:80
assert_eq 0 "$rc" "remove: $out"
run on 2 "$C" lb remove web 10.128.0.5:80
assert_eq 1 "$rc" "remove twice: $out"
assert_contains "$out" "service web has no target 10.128.0.5:80" "remove twice"
v=$(etcd_get /circuit/v1/services/web)
assert_eq "10.128.0.70 8080 3" "$(json_get "$v" '" ".join(str(t[k]) for t in d["targets"] for k in ("address","port","weight"))')" "targets in etcd: $v"
ok "lb add/remove from either host change the record in etcd; family and --drain refused"

# --- the agents: no IPVS here, said once per service, nothing written
for n in 1 2; do
	for _ in $(seq 100); do grep -q "service web: not programmed" "$tmp/a$n.log" && break; sleep 0.1; done
	grep "cluster: service web" "$tmp/a$n.log" || die "agent h$n said nothing: $(cat "$tmp/a$n.log")"
done
sleep 3   # a few passes and the watch's changes more
for n in 1 2; do
	c=$(grep -c "cluster: service web: not programmed on this host: .*kernel has no IPVS support" "$tmp/a$n.log" || true)
	assert_eq 1 "$c" "agent h$n: one line for web: $(cat "$tmp/a$n.log")"
	assert_eq "" "$(records $n)" "records on h$n"
done
ok "agents without IPVS: one line each ($(grep -m1 'service web: not programmed' "$tmp/a1.log" | sed 's/^[A-Z]*\[[0-9]*\] //'))"

# --- a damaged record in etcd: skipped by ls, reported once by the agents
etcd_put /circuit/v1/services/evil '{"name":"other","address":"10.96.0.99","port":80,"scope":"cluster"}'
etcd_put /circuit/v1/services/junk 'not json at all'
run on 2 "$C" lb ls
assert_eq 0 "$rc" "ls with damaged records: $out"
has '^web ' <<<"$out" || die "web hidden by a damaged record: $out"
has '^(evil|junk|other) ' <<<"$out" && die "a damaged record listed: $out"
for _ in $(seq 100); do grep -q "service junk" "$tmp/a1.log" && break; sleep 0.1; done
grep -q "service evil: its record in etcd is damaged, this host's copy (if any) is kept: cluster service evil: its name is other" "$tmp/a1.log" || die "evil not reported: $(cat "$tmp/a1.log")"
kill -0 "${apid[1]}" || die "agent h1 died"
etcd_put /circuit/v1/services/junk 'not json at all'   # another pass, same problem
sleep 2
assert_eq 1 "$(grep -c "service junk" "$tmp/a1.log")" "junk said once: $(cat "$tmp/a1.log")"
ip netns exec e1 curl -s -m 5 "$EP/v3/kv/deleterange" -d "{\"key\":\"$(printf %s /circuit/v1/services/evil | base64 -w0)\"}" >/dev/null
ip netns exec e1 curl -s -m 5 "$EP/v3/kv/deleterange" -d "{\"key\":\"$(printf %s /circuit/v1/services/junk | base64 -w0)\"}" >/dev/null
ok "damaged records: skipped by ls, one line from the agent, no crash"

# --- delete from h2: gone for every host
run on 2 "$C" lb delete web
assert_eq 0 "$rc" "delete: $out"
assert_contains "$out" "service web removed from the cluster" "delete"
assert_eq "" "$(etcd_get /circuit/v1/services/web)" "record after delete"
assert_eq "" "$(etcd_get /circuit/v1/service-vips/10.96.0.10/tcp-80)" "VIP key after delete"
for n in 1 2; do
	run on $n "$C" lb ls
	has '^web ' <<<"$out" && die "web still listed on h$n: $out"
done
run on 1 "$C" lb delete web
assert_eq 1 "$rc" "delete twice: $out"
assert_contains "$out" "service web not found" "delete twice"
# The VIP is free again.
run on 1 "$C" lb create web2 10.96.0.10:80 --scope cluster
assert_eq 0 "$rc" "VIP reused: $out"
ok "delete from h2: record and VIP key gone, no host lists it"

# --- etcd down: ls warns and lists the local services; create fails with one line
kill "${epid[1]}"; wait "${epid[1]}" 2>/dev/null || true
run on 1 "$C" lb ls
assert_eq 0 "$rc" "ls with etcd down: $out"
assert_contains "$out" "WARN[0000] cluster services not listed: etcd http://10.77.0.11:2379:" "ls with etcd down"
run on 1 "$C" lb create web3 10.96.0.12:80 --scope cluster
assert_eq 1 "$rc" "create with etcd down: $out"
assert_contains "$out" "ERRO[0000] etcd http://10.77.0.11:2379: connection refused" "create with etcd down"
for _ in $(seq 100); do grep -q "cluster: services: etcd" "$tmp/a1.log" && break; sleep 0.1; done
grep -q "cluster: services: etcd http://10.77.0.11:2379: .*(this host's copies kept; retrying)" "$tmp/a1.log" || die "agent on etcd down: $(cat "$tmp/a1.log")"
ok "etcd down: ls warns, create fails with one line, the agent says so"
