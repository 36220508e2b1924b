# SPDX-License-Identifier: Apache-2.0
# v-lb: `circuit lb` and the circuit-lb CNI plugin on a real kernel, with
# ipvsadm and curl as the witnesses.
#  - a circuit network (circuit-bridge + circuit-ipam) with three busybox
#    httpd targets t1..t3 that join service "web" through circuit-lb ADD;
#  - clients: this namespace (the host), a namespace c routed through the
#    host, and a container h on the same bridge (hairpin);
#  - rr spreads N requests evenly (+-1) for every client, wrr follows the
#    weights, a removed target (CNI DEL, lb remove, CNI GC) gets no new
#    connections, `lb ls --details` equals `ipvsadm -Ln`, `circuit restore`
#    brings everything back after `ipvsadm -C`, a deleted service stops
#    answering.
C=$BIN/circuit
VIP=10.96.0.10
VIP2=10.96.0.11
N=30
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

ms() { echo "($2 - $1) * 1000 / 1" | bc; }
# logrus lines with the seconds zeroed (module loading under TCG takes >1 s)

net='{"cniVersion":"1.1.0","name":"lbnet","type":"circuit-bridge","isDefaultGateway":true,
      "ipam":{"type":"circuit-ipam","subnet":"10.254.1.0/24"}}'
# lbconf SERVICES PREVRESULT [EXTRA-JSON]: a circuit-lb config
lbconf() {
	python3 -c 'import json,sys
c={"cniVersion":"1.1.0","name":"lbnet","type":"circuit-lb","services":json.loads(sys.argv[1])}
if sys.argv[2]: c["prevResult"]=json.loads(sys.argv[2])
if len(sys.argv) > 3: c.update(json.loads(sys.argv[3]))
print(json.dumps(c))' "$@"
}

# spread NS URL N: N requests (one connection each) from NS ("" = host);
# prints "n1 n2 n3" (replies from t1, t2, t3) and the failures.
spread() {
	local ns=$1 url=$2 n=$3 urls=() out
	for _ in $(seq "$n"); do urls+=("$url"); done
	if [ -n "$ns" ]; then
		out=$(ip netns exec "$ns" curl -s -H 'Connection: close' --max-time 5 "${urls[@]}" || true)
	else
		out=$(curl -s -H 'Connection: close' --max-time 5 "${urls[@]}" || true)
	fi
	local a b c
	a=$(grep -cx t1 <<<"$out" || true)
	b=$(grep -cx t2 <<<"$out" || true)
	c=$(grep -cx t3 <<<"$out" || true)
	echo "$a $b $c fail=$((n - a - b - c))"
}
# near WANT GOT: |want - got| <= 1
near() { [ "$(( $1 > $2 ? $1 - $2 : $2 - $1 ))" -le 1 ]; }
# check_spread LABEL "GOT" W1 W2 W3
check_spread() {
	local label=$1 got=$2 n1 n2 n3 f
	read -r n1 n2 n3 f <<<"$got"
	echo "MEASURE lb $label t1=$n1 t2=$n2 t3=$n3 $f"
	[ "$f" = fail=0 ] || die "$label: requests failed: $got"
	near "$3" "$n1" && near "$4" "$n2" && near "$5" "$n3" ||
		die "$label: want $3/$4/$5 (+-1), got $n1/$n2/$n3"
	ok "$label: $n1/$n2/$n3"
}

# Targets as "SERVICE ADDR METHOD WEIGHT" lines: from circuit lb ls --details
# and from ipvsadm -Ln, sorted.
mine() {
	"$C" lb ls --details | awk '
		NR == 1 { next }
		/^  -> / { split($3, w, "="); split($4, m, "="); print s, $2, m[2], w[2]; next }
		{ s = toupper($3) " " $2 " " $4 }' | sort
}
theirs() {
	ipvsadm -Ln | awk '
		/^(TCP|UDP) / { s = $1 " " $2 " " $3; next }
		/^  -> [0-9]/ { m = $3 == "Masq" ? "nat" : $3 == "Route" ? "dr" : "tunnel"
				print s, $2, m, $4 }' | sort
}
# dests_of VIP:PORT: the target addresses ipvsadm lists under that service
dests_of() {
	ipvsadm -Ln | awk -v s="$1" '/^(TCP|UDP) / { on = $2 == s; next } on && /^  -> [0-9]/ { print $2 }'
}
compare_witness() {
	local a b
	a=$(mine)
	b=$(theirs)
	[ "$a" = "$b" ] || die "$1: circuit lb ls --details differs from ipvsadm -Ln:
--- circuit
$a
--- ipvsadm
$b
--- raw ipvsadm -Ln
$(ipvsadm -Ln)"
	ok "$1: lb ls --details == ipvsadm -Ln ($(grep -c . <<<"$a") targets)"
}

# --- the service, empty
out=$("$C" lb create web $VIP:80 2>&1)
assert_eq "INFO[0000] service web created" "$(norm_time <<<"$out")" "create output"
ip -o addr show dev circuit-lb0 | has "inet $VIP/32" || die "VIP not on circuit-lb0: $(ip -o addr show)"
assert_eq 1 "$(cat /proc/sys/net/ipv4/vs/conntrack)" "net.ipv4.vs.conntrack"
ipvsadm -Ln | tr -s ' ' | has "^TCP $VIP:80 rr" || die "service not in IPVS: $(ipvsadm -Ln)"
out=$("$C" lb create web2 $VIP:80 2>&1) && die "duplicate VIP accepted"
assert_contains "$out" "service web already uses tcp $VIP:80"
ipvsadm -A -t 10.96.0.99:80 -s rr
out=$("$C" lb create foreign 10.96.0.99:80 2>&1) && die "foreign IPVS service adopted"
assert_contains "$out" "already exists in IPVS but is not a Circuit service"
ipvsadm -D -t 10.96.0.99:80
ok "create: VIP on circuit-lb0, conntrack on, duplicates refused"

# --- three targets on a circuit network, joined through circuit-lb
declare -A res ip
for i in 1 2 3; do
	mkns t$i
	res[$i]=$(echo "$net" | cni ADD "$BIN/circuit-bridge" ctr$i /run/netns/t$i eth0)
	ip[$i]=$(json_get "${res[$i]}" 'd["ips"][0]["address"].split("/")[0]')
	mkdir -p /tmp/www$i
	echo "t$i" >/tmp/www$i/index.html
	ip netns exec t$i busybox httpd -f -p 8080 -h /tmp/www$i &
	pids+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 50); do
		curl -s --max-time 2 "http://${ip[$i]}:8080/" >/dev/null && break
		sleep 0.1
	done
	assert_eq "t$i" "$(curl -s --max-time 2 "http://${ip[$i]}:8080/")" "target t$i up"
done
for i in 1 2 3; do
	t0=$(date +%s.%N)
	out=$(lbconf '[{"name":"web","port":8080}]' "${res[$i]}" |
		cni ADD "$BIN/circuit-lb" ctr$i /run/netns/t$i eth0)
	t1=$(date +%s.%N)
	same=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]) == json.loads(sys.argv[2]))' \
		"$out" "${res[$i]}")
	assert_eq True "$same" "circuit-lb ADD passes prevResult through"
done
echo "MEASURE lb circuit-lb ADD (one exec) $(ms "$t0" "$t1") ms"
ipvsadm -Ln | has "-> ${ip[3]}:8080 *Masq *1" || die "ADD not in IPVS: $(ipvsadm -Ln)"
lbconf '[{"name":"web","port":8080}]' "${res[1]}" | cni CHECK "$BIN/circuit-lb" ctr1 /run/netns/t1 eth0
ok "circuit-lb ADD x3, CHECK"
compare_witness "after ADD"

# README layout of ls.
want=$(printf '%-20s%-20s%-20s%-20s%s\n' NAME ADDR PROTOCOL SCHEDULER BACKEND web $VIP:80 tcp rr ipvs)
assert_eq "$want" "$("$C" lb ls)" "lb ls"

# --- clients
mkns c
vpair c 10.90.0.1/24 10.90.0.2/24 vc
mkns h
echo "$net" | cni ADD "$BIN/circuit-bridge" ctrh /run/netns/h eth0 >/dev/null
nft list table inet circuit | has 'iifname "c-lbnet" oifname "c-lbnet"' ||
	die "no hairpin masquerade for c-lbnet: $(nft list table inet circuit)"
for who in host:'' routed:c hairpin:h; do
	t0=$(date +%s.%N)
	got=$(spread "${who#*:}" "http://$VIP/" $N)
	t1=$(date +%s.%N)
	echo "MEASURE lb rr $N requests from ${who%%:*} $(ms "$t0" "$t1") ms"
	check_spread "rr from ${who%%:*}" "$got" 10 10 10
done

# --- wrr follows the weights (targets added with the CLI)
"$C" lb create web-wrr $VIP2:80 --scheduler wrr 2>/dev/null
for i in 1 2 3; do
	t0=$(date +%s.%N)
	out=$("$C" lb add web-wrr "${ip[$i]}:8080" --weight $i 2>&1)
	t1=$(date +%s.%N)
	assert_eq "INFO[0000] service web-wrr updated" "$(norm_time <<<"$out")" "lb add output"
done
echo "MEASURE lb one 'circuit lb add' (exec, store, kernel) $(ms "$t0" "$t1") ms"
compare_witness "wrr added"
check_spread "wrr 1:2:3 from host" "$(spread '' "http://$VIP2/" 60)" 10 20 30
check_spread "wrr 1:2:3 from hairpin" "$(spread h "http://$VIP2/" 60)" 10 20 30

# --- removed targets get no new connections
out=$("$C" lb remove web-wrr "${ip[3]}:8080" 2>&1)
assert_eq "INFO[0000] service web-wrr updated" "$(norm_time <<<"$out")" "lb remove output"
check_spread "wrr after lb remove t3" "$(spread c "http://$VIP2/" 60)" 20 40 0
lbconf '[{"name":"web","port":8080}]' "${res[3]}" | cni DEL "$BIN/circuit-lb" ctr3 /run/netns/t3 eth0
lbconf '[{"name":"web","port":8080}]' "" | cni DEL "$BIN/circuit-lb" ctr3 /run/netns/t3 eth0
assert_eq "${ip[1]}:8080 ${ip[2]}:8080" "$(dests_of $VIP:80 | sort | tr '\n' ' ' | sed 's/ $//')" \
	"web's targets after CNI DEL of ctr3"
check_spread "rr after CNI DEL t3" "$(spread c "http://$VIP/" $N)" 15 15 0
compare_witness "after remove and DEL"

# --- restore after ipvsadm -C (and the device gone too)
ipvsadm -C
ip link del circuit-lb0
if curl -s --max-time 2 "http://$VIP/" >/dev/null; then die "VIP answers after ipvsadm -C"; fi
t0=$(date +%s.%N)
out=$("$C" restore 2>&1)
t1=$(date +%s.%N)
echo "MEASURE lb circuit restore (2 services, 4 targets) $(ms "$t0" "$t1") ms: $out"
compare_witness "after restore"
check_spread "rr after restore" "$(spread h "http://$VIP/" $N)" 15 15 0
check_spread "wrr after restore" "$(spread '' "http://$VIP2/" 30)" 10 20 0
out=$("$C" restore 2>&1)
assert_contains "$out" "nothing to restore" "second restore"
# The store wins over stray kernel changes too.
ipvsadm -e -t $VIP2:80 -r "${ip[1]}:8080" -m -w 9
ipvsadm -a -t $VIP2:80 -r 10.254.1.77:8080 -m -w 1
"$C" restore >/dev/null 2>&1
compare_witness "restore undoes stray edits"

# --- CNI GC drops targets of attachments that are gone
lbconf '[{"name":"web"}]' "" '{"cni.dev/valid-attachments":[{"containerID":"ctr1","ifname":"eth0"}]}' |
	cni GC "$BIN/circuit-lb" "" "" ""
assert_eq "${ip[1]}:8080" "$(dests_of $VIP:80)" "web's targets after GC (ctr1 only)"
check_spread "rr after GC" "$(spread '' "http://$VIP/" 10)" 10 0 0
compare_witness "after GC"

# --- delete: the service stops answering, the device goes with the last one
out=$("$C" lb delete web 2>&1)
assert_eq "INFO[0000] service web removed" "$(norm_time <<<"$out")" "delete output"
if curl -s --max-time 2 "http://$VIP/" >/dev/null; then die "VIP answers after delete"; fi
ipvsadm -Ln | has "$VIP:80" && die "web still in IPVS"
ip -o addr show dev circuit-lb0 | has "$VIP/" && die "VIP still on circuit-lb0"
case $(curl -s --max-time 2 "http://$VIP2/") in t1|t2) ;; *) die "web-wrr stopped answering";; esac
"$C" lb delete web-wrr 2>/dev/null
ip link show circuit-lb0 2>/dev/null && die "circuit-lb0 left after the last service"
[ "$(ipvsadm -Ln | wc -l)" = 3 ] || die "IPVS not empty: $(ipvsadm -Ln)"
[ -z "$(ls "$CIRCUIT_STATE_DIR/lb" | grep -v '^lock$\|^index$\|^vip$')" ] || die "records left: $(ls "$CIRCUIT_STATE_DIR/lb")"
[ -z "$(ls -A "$CIRCUIT_STATE_DIR/lb/vip" 2>/dev/null)" ] || die "index entries left: $(find "$CIRCUIT_STATE_DIR/lb/vip")"
ok "delete: no answer, IPVS empty, device and records gone"
