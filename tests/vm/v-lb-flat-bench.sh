# SPDX-License-Identifier: Apache-2.0
# v-lb-flat-bench: the index (spec/lb.md) on a real kernel: one `circuit lb
# create`, `lb add` and `lb delete` at 10 and at FLAT (10,000) services,
# median of 5 execs each, and the ratio issue 13 bounds by 2.  Each store is
# written as records (one target each) and its index built by one untimed
# create; with FLAT_KERNEL=1 the kernel also gets the same services and VIP
# addresses (ipvsadm -R, ip -batch).  Runs through tests/bench/lb-bench.sh
# (make bench), not make vm.
C=$BIN/circuit
FLAT=${LB_BENCH_FLAT:-10000}
# 1: the kernel also gets the FLAT services and VIP addresses (ipvsadm -R,
# ip -batch).  Off: under TCG on a loaded host that setup alone passed the
# guest's 300 s per-test limit; IPVS services and local addresses are
# hashed in the kernel, the store is what the index changed.
FLAT_KERNEL=${LB_BENCH_FLAT_KERNEL:-0}
now() { date +%s.%N; }
ms() { echo "($2 - $1) * 1000 / 1" | bc; }

# flat_store N: a fresh store of N records, indexed, and the kernel to match
flat_store() {
	export CIRCUIT_STATE_DIR=$(mktemp -d /tmp/lb-flat.XXXXXX)
	mkdir -p "$CIRCUIT_STATE_DIR/lb"
	python3 -c '
import json, sys
n, d = int(sys.argv[1]), sys.argv[2]
with open("/tmp/flat-rules", "w") as r, open("/tmp/flat-addrs", "w") as a:
    for i in range(n):
        vip = "10.110.%d.%d" % (i // 250, i % 250 + 1)
        t = "10.202.0.%d" % (i % 250 + 1)
        rec = {"name": "f%05d" % i, "address": vip, "port": 80, "protocol": "tcp",
               "scheduler": "rr", "persistent": 0, "created": 0,
               "targets": [{"address": t, "port": 8080, "weight": 1, "method": "nat"}]}
        with open("%s/f%05d.json" % (d, i), "w") as f:
            json.dump(rec, f)
        r.write("-A -t %s:80 -s rr\n-a -t %s:80 -r %s:8080 -m -w 1\n" % (vip, vip, t))
        a.write("address add %s/32 dev circuit-lb0\n" % vip)
' "$1" "$CIRCUIT_STATE_DIR/lb"
	local t0 t1
	echo "MEASURE lb-flat: $1 records written: $(ms "$2" "$(now)") ms"
	if [ "$FLAT_KERNEL" = 1 ]; then
		t0=$(now)
		ip link add circuit-lb0 type dummy && ip link set circuit-lb0 up
		ip -batch /tmp/flat-addrs || die "ip -batch"
		t1=$(now)
		ipvsadm -R </tmp/flat-rules || die "ipvsadm -R"
		echo "MEASURE lb-flat: $1 VIP addresses $(ms "$t0" "$t1") ms, ipvsadm -R $(ms "$t1" "$(now)") ms"
	fi
	# The first create builds the index of a store without one (once).
	t0=$(now)
	"$C" lb create warm 10.121.0.1:80 >/dev/null 2>&1 || die "warm-up create"
	echo "MEASURE lb-flat: index of $1 records built by the first create in $(ms "$t0" "$(now)") ms"
	[ -e "$CIRCUIT_STATE_DIR/lb/index" ] || die "no index after the first create"
}
# med5 VERB ARGS...: median ms of 5 runs of "$C" lb VERB ARGS, with @ in
# ARGS replaced by the run's number
med5() {
	local i t0 t1 v=()
	for i in 1 2 3 4 5; do
		t0=$(now)
		"$C" lb "${@//@/$i}" >/dev/null 2>&1 || die "lb ${*//@/$i} failed"
		t1=$(now)
		v+=("$(ms "$t0" "$t1")")
	done
	printf '%s\n' "${v[@]}" | sort -n | sed -n 3p
}
declare -A fl
for n in 10 "$FLAT"; do
	t0=$(now)
	flat_store "$n" "$t0"
	t1=$(now)
	echo "MEASURE lb-flat: store of $n services set up in $(ms "$t0" "$t1") ms"
	fl[create.$n]=$(med5 create new@ 10.120.0.@:80)
	fl[add.$n]=$(med5 add new@ 10.203.0.@:8080)
	fl[delete.$n]=$(med5 delete new@)
	[ "$FLAT_KERNEL" = 1 ] && assert_eq "$((n + 1))" "$(ipvsadm -Ln | grep -c '^TCP ')" "IPVS services after the verbs"
	ipvsadm -C
	ip link del circuit-lb0 2>/dev/null || true
	rm -rf "$CIRCUIT_STATE_DIR"
done
for op in create add delete; do
	r=$(echo "scale=2; ${fl[$op.$FLAT]} / ${fl[$op.10]}" | bc)
	echo "MEASURE lb-flat: one 'lb $op' at 10 services ${fl[$op.10]} ms, at $FLAT ${fl[$op.$FLAT]} ms, ratio $r"
done
ok "flatness measured"
