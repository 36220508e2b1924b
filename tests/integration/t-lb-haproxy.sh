# t-lb-haproxy: `circuit lb create --backend haproxy` on this machine's
# kernel (HAProxy needs no IPVS).  Three busybox httpd backends in
# namespaces, each serving its own name, and a client namespace routed
# through this one: round-robin 10/10/10; a target removed live while a
# download from it is held open (the download completes, new
# requests avoid it); weights; an HTTP check taking a killed backend down
# and back up (lb ls --details); restore after a reboot simulation (haproxy
# killed, socket and generated configuration removed); deleting the last
# service leaves no haproxy process, socket or VIP.
command -v haproxy >/dev/null || skip "haproxy not installed (tests/deps.sh)"
C=$BIN/circuit
LB=$CIRCUIT_STATE_DIR/lb
VIP=10.96.7.10
tmp=$(mktemp -d /tmp/hap.XXXXXX)
hp=()
cleanup() {
	kill "${hp[@]}" 2>/dev/null || true
	for p in $(pgrep -f "haproxy -D -f $LB/haproxy.d" || true); do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- usage errors: what HAProxy cannot carry is refused before anything is made
run() { rc=0; out=$("$@" 2>&1) || rc=$?; }
for bad in "--backend nginx" "--mode http" "--backend haproxy --mode udp" \
	   "--backend haproxy --protocol udp" "--backend haproxy --persistent 30" \
	   "--backend haproxy --sched dh" "--backend haproxy --check udp"; do
	# shellcheck disable=SC2086
	run "$C" lb create w $VIP:80 $bad
	assert_eq 2 "$rc" "create $bad: $out"
done
ok "usage errors"

# --- three backends b1..b3 behind veths, a client namespace cl
for i in 1 2 3; do
	mkns b$i
	ip link add v$i type veth peer name eth0 netns b$i
	ip addr add 10.60.$i.1/24 dev v$i
	ip link set v$i up
	ip -n b$i addr add 10.60.$i.2/24 dev eth0
	ip -n b$i link set eth0 up
	mkdir -p $tmp/www-hap$i
	echo "b$i" >$tmp/www-hap$i/index.html
done
# b3 serves a file larger than the socket buffers between it and the
# client, so its connection stays open while the client does not read.
head -c 40000000 /dev/zero >$tmp/www-hap3/big
mkns cl
ip link add vc type veth peer name eth0 netns cl
ip addr add 10.60.9.1/24 dev vc
ip link set vc up
ip -n cl addr add 10.60.9.2/24 dev eth0
ip -n cl link set eth0 up
ip -n cl route add default via 10.60.9.1
serve() {
	ip netns exec b$1 busybox httpd -f -p 8080 -h $tmp/www-hap$1 &
	hp[$1]=$!
	for _ in $(seq 50); do
		curl -s --max-time 1 "http://10.60.$1.2:8080/" >/dev/null && return 0
		sleep 0.1
	done
	die "backend b$1 did not come up"
}
for i in 1 2 3; do serve $i; done

# get N: N requests from the client namespace; prints "b1 b2 b3" counts
get() {
	local c1=0 c2=0 c3=0 b
	for _ in $(seq "$1"); do
		b=$(ip netns exec cl curl -s --max-time 5 "http://$VIP/index.html") || die "request failed"
		case $b in b1) c1=$((c1 + 1));; b2) c2=$((c2 + 1));; b3) c3=$((c3 + 1));; *) die "answer '$b'";; esac
	done
	echo "$c1 $c2 $c3"
}

# --- create, rr over three
"$C" lb create web $VIP:80 --backend haproxy
for i in 1 2 3; do "$C" lb add web 10.60.$i.2:8080; done
ip -o addr show | has "$VIP/32" || die "VIP not on the host"
[ -S "$LB/haproxy.sock" ] || die "no runtime socket"
got=$(get 30)
assert_eq "10 10 10" "$got" "rr over three"
ok "rr 30 requests: $got"
out=$("$C" lb ls)
assert_eq "$(printf '%-20s%-20s%-20s%-20s%s' NAME ADDR PROTOCOL SCHEDULER BACKEND)
$(printf '%-20s%-20s%-20s%-20s%s' web $VIP:80 tcp rr haproxy)" "$out" "lb ls"
pid0=$(cat "$LB/haproxy.pid")

# --- remove b3 live while a download from it is open
# (b1 and b2 at weight 0 take no new connection: the download goes to b3).
# The download is held open by its reader, not by a rate: curl writes into
# a FIFO whose reader takes 64 KiB and then stops until the removal is
# done, so 40 MB cannot finish early however fast or slow the machine is
# (a 4 MB/s limit once ended before three CLI calls did, at load 25).
"$C" lb add web 10.60.1.2:8080 --weight 0
"$C" lb add web 10.60.2.2:8080 --weight 0
mkfifo "$tmp/dl.fifo"
ip netns exec cl curl -s -o "$tmp/dl.fifo" -w '%{http_code} %{size_download}' \
	"http://$VIP/big" >"$tmp/dl.out" &
dl=$!
{ head -c 65536 >/dev/null; : >"$tmp/dl.started"
  while [ ! -e "$tmp/dl.go" ]; do sleep 0.1; done
  cat >/dev/null; } <"$tmp/dl.fifo" &
reader=$!
# wait until the download is under way (its first 64 KiB read)
for _ in $(seq 100); do
	[ -e "$tmp/dl.started" ] && break
	kill -0 $dl 2>/dev/null || break
	sleep 0.1
done
[ -e "$tmp/dl.started" ] || { : >"$tmp/dl.go"; die "download did not start: $(cat "$tmp/dl.out")"; }
"$C" lb add web 10.60.1.2:8080 --weight 1
"$C" lb add web 10.60.2.2:8080 --weight 1
"$C" lb remove web 10.60.3.2:8080
kill -0 $dl 2>/dev/null || { : >"$tmp/dl.go"; die "download ended across the removal: $(cat "$tmp/dl.out")"; }
: >"$tmp/dl.go"
wait $reader
wait $dl || die "download failed: $(cat "$tmp/dl.out")"
assert_eq "200 40000000" "$(cat "$tmp/dl.out")" "download across the removal"
got=$(get 20)
assert_eq "10 10 0" "$got" "after remove"
assert_eq "$pid0" "$(cat "$LB/haproxy.pid")" "same haproxy process (no reload)"
ok "removed live: open download completed, new requests $got"

# --- weights: b1 weight 3, b2 weight 1
"$C" lb add web 10.60.1.2:8080 --weight 3
got=$(get 40)
assert_eq "30 10 0" "$got" "weights 3:1"
"$C" lb add web 10.60.1.2:8080 --weight 1
ok "weights 3:1: $got"

# --- a second service with an HTTP check (a new listener: seamless reload)
"$C" lb create chk 10.96.7.11:80 --backend haproxy --mode http --check http:/index.html \
	--interval 300ms --timeout 200ms --rise 2 --fall 2
"$C" lb add chk 10.60.1.2:8080
"$C" lb add chk 10.60.2.2:8080
state() { "$C" lb ls --details | sed -n "/^chk /,/^[a-z]/s/.*10.60.$1.2:8080 .*state=\([a-z]*\).*/\1/p"; }
wait_state() {
	for _ in $(seq 60); do
		[ "$(state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	die "b$1: want state $2, got '$(state "$1")': $("$C" lb ls --details)"
}
wait_state 1 up
wait_state 2 up
kill "${hp[2]}"; wait "${hp[2]}" 2>/dev/null || true
wait_state 2 down
b=$(ip netns exec cl curl -s --max-time 5 "http://10.96.7.11/index.html")
assert_eq b1 "$b" "chk while b2 down"
serve 2
wait_state 2 up
ok "http check: b2 down after kill, up after restart"
"$C" lb ls --details

# --- reboot simulation: haproxy gone, socket and generated config removed
for p in $(pgrep -f "haproxy -D -f $LB/haproxy.d"); do kill -9 "$p"; done
rm -rf "$LB/haproxy.sock" "$LB/haproxy.d" "$LB/haproxy.pid"
ip addr del $VIP/32 dev lo 2>/dev/null || ip addr del $VIP/32 dev circuit-lb0
! ip netns exec cl curl -s --max-time 2 "http://$VIP/index.html" >/dev/null || die "still served"
"$C" restore
got=$(get 20)
assert_eq "10 10 0" "$got" "web after restore"
body=$(ip netns exec cl curl -s --max-time 5 http://10.96.7.11/index.html)
assert_eq b1 "${body%%$'\n'*}" "chk after restore"
ok "restore: $got"

# --- delete: the last service leaves nothing
"$C" lb delete chk
pgrep -f "haproxy -D -f $LB/haproxy.d" >/dev/null || die "haproxy gone with a service left"
get 2 >/dev/null
"$C" lb delete web
sleep 0.2
! pgrep -f "haproxy -D -f $LB/haproxy.d" || die "haproxy left running"
[ ! -e "$LB/haproxy.sock" ] || die "socket left"
[ ! -e "$LB/haproxy.d" ] || die "config left"
! ip -o addr show | has "10\.96\.7\." || die "VIP left"
ok "delete: no process, socket, config or VIP left"
