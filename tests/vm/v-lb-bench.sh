# SPDX-License-Identifier: Apache-2.0
# v-lb-bench: 1,000 services x 10 targets programmed into the real kernel
# through Circuit (`circuit restore` from the store: VIP addresses, IPVS
# services and dests) versus `ipvsadm -R` fed the same rules, both checked
# against `ipvsadm -Ln`; then the time of one `circuit lb add` and one
# `circuit lb create` with those services in place.  `make bench` runs it
# through tests/bench/lb-bench.sh; `make vm` runs it as a scale test.
# Size: NS and NT below (the guest gets no environment from the host).
C=$BIN/circuit
NS=${LB_BENCH_SERVICES:-1000}
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
count() { ipvsadm -Ln | awk '/^TCP /{s++} /^  -> [0-9]/{d++} END{print s+0, d+0}'; }

t0=$(now)
ipvsadm -R </tmp/lb-rules
t1=$(now)
assert_eq "$want_svc $want_dst" "$(count)" "ipvsadm -R: services and dests"
theirs=$(ipvsadm -Ln | awk '/^TCP /{s=$2} /^  -> [0-9]/{print s, $2, $4}' | sort)
echo "MEASURE lb-bench ipvsadm -R $NS services x $NT targets: $(ms "$t0" "$t1") ms (IPVS only, no VIP addresses)"
ipvsadm -C

t0=$(now)
out=$("$C" restore 2>&1)
t1=$(now)
assert_eq "$want_svc $want_dst" "$(count)" "circuit restore: services and dests"
echo "MEASURE lb-bench circuit restore $NS services x $NT targets: $(ms "$t0" "$t1") ms (store read + $NS VIP addresses + IPVS) [$out]"
mine=$(ipvsadm -Ln | awk '/^TCP /{s=$2} /^  -> [0-9]/{print s, $2, $4}' | sort)
[ "$mine" = "$theirs" ] || die "circuit and ipvsadm -R programmed different tables"
vips=$(ip -o -4 addr show dev circuit-lb0 | wc -l)
assert_eq "$NS" "$vips" "VIP addresses on circuit-lb0"
ok "same $want_svc services / $want_dst dests as ipvsadm -R"

# Nothing to do: the reconciliation check alone.
t0=$(now)
out=$("$C" restore 2>&1)
t1=$(now)
assert_contains "$out" "nothing to restore" "second restore"
echo "MEASURE lb-bench circuit restore, all in place (check only): $(ms "$t0" "$t1") ms"

# Single verbs with the table full (each is one exec: store + kernel).
t0=$(now)
"$C" lb add svc0500 10.201.99.1:8080 2>/dev/null
t1=$(now)
echo "MEASURE lb-bench one 'circuit lb add' with $NS services: $(ms "$t0" "$t1") ms"
t0=$(now)
"$C" lb create extra 10.100.250.1:80 2>/dev/null
t1=$(now)
echo "MEASURE lb-bench one 'circuit lb create' with $NS services: $(ms "$t0" "$t1") ms"
t0=$(now)
ipvsadm -a -t 10.100.250.1:80 -r 10.201.99.2:8080 -m -w 1
t1=$(now)
echo "MEASURE lb-bench one 'ipvsadm -a' (witness, kernel only): $(ms "$t0" "$t1") ms"
t0=$(now)
"$C" lb ls --details >/tmp/lb-ls
t1=$(now)
echo "MEASURE lb-bench 'circuit lb ls --details' of $((NS + 1)) services: $(ms "$t0" "$t1") ms"
assert_eq "$((NS + 1))" "$(grep -vc '^  -> \|^NAME' /tmp/lb-ls)" "services listed"
ipvsadm -C

# Flatness (the index, spec/lb.md): one create, add and delete at 10 and at
# FLAT services (1 target each, restored into the kernel with their VIPs),
# median of 5 execs each; the ratio is what issue 13 bounds by 2.
FLAT=${LB_BENCH_FLAT:-10000}
# flat_store N: a fresh store of N records, restored
flat_store() {
	export CIRCUIT_STATE_DIR=$(mktemp -d /tmp/lb-flat.XXXXXX)
	mkdir -p "$CIRCUIT_STATE_DIR/lb"
	python3 -c '
import json, sys
n, d = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    rec = {"name": "f%05d" % i, "address": "10.110.%d.%d" % (i // 250, i % 250 + 1),
           "port": 80, "protocol": "tcp", "scheduler": "rr", "persistent": 0, "created": 0,
           "targets": [{"address": "10.202.0.%d" % (i % 250 + 1), "port": 8080,
                        "weight": 1, "method": "nat"}]}
    with open("%s/f%05d.json" % (d, i), "w") as f:
        json.dump(rec, f)
' "$1" "$CIRCUIT_STATE_DIR/lb"
	"$C" restore >/dev/null 2>&1 || die "restore of $1 flat services failed"
}
# med5 VERB ARGS...: median ms of 5 runs of "$C" lb VERB ARGS, with @ in
# ARGS replaced by the run's number
med5() {
	local i t0 t1 v=()
	for i in 1 2 3 4 5; do
		t0=$(now)
		"$C" lb "${@//@/$i}" >/dev/null 2>&1 || die "lb ${*//@/$i} failed"
		t1=$(now)
		v+=("$(echo "($t1 - $t0) * 1000 / 1" | bc)")
	done
	printf '%s\n' "${v[@]}" | sort -n | sed -n 3p
}
declare -A fl
for n in 10 "$FLAT"; do
	t0=$(now)
	flat_store "$n"
	t1=$(now)
	echo "MEASURE lb-bench flat: store of $n services restored in $(ms "$t0" "$t1") ms"
	fl[create.$n]=$(med5 create new@ 10.120.0.@:80)
	fl[add.$n]=$(med5 add new@ 10.203.0.@:8080)
	fl[delete.$n]=$(med5 delete new@)
	ipvsadm -C
	ip link del circuit-lb0 2>/dev/null || true
	rm -rf "$CIRCUIT_STATE_DIR"
done
for op in create add delete; do
	r=$(echo "scale=2; ${fl[$op.$FLAT]} / ${fl[$op.10]}" | bc)
	echo "MEASURE lb-bench flat: one 'lb $op' at 10 services ${fl[$op.10]} ms, at $FLAT ${fl[$op.$FLAT]} ms, ratio $r"
done
ok "bench done"
