# SPDX-License-Identifier: Apache-2.0
# v-lb-bench: 10,000 services x 10 targets programmed into the real kernel
# through Circuit (`circuit restore` from the store: VIP addresses, IPVS
# services and dests) versus `ipvsadm -R` fed the same rules, both checked
# against `ipvsadm -Ln`; then the time of one `circuit lb add` and one
# `circuit lb create` with those services in place.  `make bench` runs it
# through tests/bench/lb-bench.sh; `make vm` runs it as a scale test.
# Size: NS and NT below (the guest gets no environment from the host).
C=$BIN/circuit
NS=${LB_BENCH_SERVICES:-10000}
NT=${LB_BENCH_TARGETS:-10}
now() { date +%s.%N; }
ms() { echo "($2 - $1) * 1000 / 1" | bc; }

# The same rules twice: an ipvsadm -R file and the store's lb/<name>.json
# records (layout in spec/lb.md).
mkdir -p "$CIRCUIT_STATE_DIR/lb"
python3 - "$NS" "$NT" /tmp/lb-rules "$CIRCUIT_STATE_DIR/lb" <<'EOF'
import json, sys
ns, nt, rules, dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(rules, "w") as f:
    for i in range(ns):
        vip = "10.100.%d.%d" % (i // 250, i % 250 + 1)
        f.write("-A -t %s:80 -s rr\n" % vip)
        targets = []
        for j in range(nt):
            t = "10.201.%d.%d" % (j, i % 250 + 1)
            f.write("-a -t %s:80 -r %s:8080 -m -w 1\n" % (vip, t))
            targets.append({"address": t, "port": 8080, "weight": 1, "method": "nat"})
        rec = {"name": "svc%04d" % i, "address": vip, "port": 80, "protocol": "tcp",
               "scheduler": "rr", "persistent": 0, "created": 0, "targets": targets}
        with open("%s/svc%04d.json" % (dir, i), "w") as r:
            json.dump(rec, r)
EOF
want_svc=$NS
want_dst=$((NS * NT))
# count [NETNS]: services and dests in IPVS (of NETNS).
count() { ${1:+ip netns exec "$1"} ipvsadm -Ln | awk '/^TCP /{s++} /^  -> [0-9]/{d++} END{print s+0, d+0}'; }
table() { ip netns exec "$1" ipvsadm -Ln | awk '/^TCP /{s=$2} /^  -> [0-9]/{print s, $2, $4}' | sort; }

# The records above are written by hand: the first restore builds the VIP
# index and the record cache (spec/lb.md), once, as it would on a host
# whose store predates them.
t0=$(now)
out=$("$C" restore 2>&1)
t1=$(now)
assert_eq "$want_svc $want_dst" "$(count)" "first restore: services and dests"
echo "MEASURE lb-bench first circuit restore of hand-written records (builds index + cache): $(ms "$t0" "$t1") ms [$out]"
[ -s "$CIRCUIT_STATE_DIR/lb/cache" ] || die "no record cache after the first restore"
ipvsadm -C
ip link del circuit-lb0

# The timed runs: each tool fills an IPVS of its own, in a network namespace
# made for it, as after a reboot.  Not the same namespace emptied with
# `ipvsadm -C`: IPVS keeps deleted dests in a trash list for minutes and
# searches it linearly on every dest add, so a refill after -C is many times
# slower (289 s for ipvsadm -R after -C, 67.6 s on a fresh kernel, in
# earlier runs) and depends on how much the run before it left there.
ip netns add lbr
ip netns add lbc
ip -n lbr link set lo up
ip -n lbc link set lo up
t0=$(now)
ip netns exec lbr ipvsadm -R </tmp/lb-rules
t1=$(now)
assert_eq "$want_svc $want_dst" "$(count lbr)" "ipvsadm -R: services and dests"
t_ipvsadm=$(ms "$t0" "$t1")
echo "MEASURE lb-bench ipvsadm -R $NS services x $NT targets: $t_ipvsadm ms (IPVS only, no VIP addresses; fresh netns)"
theirs=$(table lbr)
ip netns exec lbr ipvsadm -C

t0=$(now)
out=$(ip netns exec lbc "$C" restore 2>&1)
t1=$(now)
assert_eq "$want_svc $want_dst" "$(count lbc)" "circuit restore: services and dests"
t_restore=$(ms "$t0" "$t1")
echo "MEASURE lb-bench circuit restore $NS services x $NT targets: $t_restore ms (store read + $NS VIP addresses + IPVS; fresh netns) [$out]"
# Not an assertion (the tier asserts behaviour, the bench reports): < 1
# means restore beat ipvsadm -R in the same guest.
echo "MEASURE lb-bench restore/ipvsadm-R ratio: $(echo "scale=2; $t_restore / $t_ipvsadm" | bc)"
mine=$(table lbc)
[ "$mine" = "$theirs" ] || die "circuit and ipvsadm -R programmed different tables"
vips=$(ip -n lbc -o -4 addr show dev circuit-lb0 | wc -l)
assert_eq "$NS" "$vips" "VIP addresses on circuit-lb0"
ok "same $want_svc services / $want_dst dests as ipvsadm -R"

# Nothing to do: the reconciliation check alone.
t0=$(now)
out=$(ip netns exec lbc "$C" restore 2>&1)
t1=$(now)
assert_contains "$out" "nothing to restore" "second restore"
echo "MEASURE lb-bench circuit restore, all in place (check only): $(ms "$t0" "$t1") ms"

# Single verbs with the table full (each is one exec: store + kernel).
t0=$(now)
ip netns exec lbc "$C" lb add svc0500 10.201.99.1:8080 2>/dev/null
t1=$(now)
echo "MEASURE lb-bench one 'circuit lb add' with $NS services: $(ms "$t0" "$t1") ms"
t0=$(now)
ip netns exec lbc "$C" lb create extra 10.100.250.1:80 2>/dev/null
t1=$(now)
echo "MEASURE lb-bench one 'circuit lb create' with $NS services: $(ms "$t0" "$t1") ms"
t0=$(now)
ip netns exec lbc ipvsadm -a -t 10.100.250.1:80 -r 10.201.99.2:8080 -m -w 1
t1=$(now)
echo "MEASURE lb-bench one 'ipvsadm -a' (witness, kernel only): $(ms "$t0" "$t1") ms"
t0=$(now)
ip netns exec lbc "$C" lb ls --details >/tmp/lb-ls
t1=$(now)
echo "MEASURE lb-bench 'circuit lb ls --details' of $((NS + 1)) services: $(ms "$t0" "$t1") ms"
assert_eq "$((NS + 1))" "$(grep -vc '^  -> \|^NAME' /tmp/lb-ls)" "services listed"
ip netns exec lbc ipvsadm -C
ip netns del lbc
ip netns del lbr
ok "bench done"
