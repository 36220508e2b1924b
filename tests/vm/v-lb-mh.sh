# SPDX-License-Identifier: Apache-2.0
# v-lb-mh: the Maglev scheduler (mh) and weighted round robin on a real IPVS.
#  - `lb create --sched mh --mh-port --mh-fallback`: lb ls and ipvsadm
#    both show mh and the flags;
#  - consistency: with mh, 3 connections (3 source ports) from each of 12
#    client addresses: each address's connections go to one target, and
#    the addresses do not all land on one target; with --mh-port one
#    address's connections spread;
#  - wrr 1:2:3: 30 requests split exactly 5/10/15.
C=$BIN/circuit
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

for i in 1 2 3; do
	mkns m$i
	vpair m$i 10.61.$i.1/24 10.61.$i.2/24 vm$i
	mkdir -p /tmp/wwwm$i
	echo "m$i" >/tmp/wwwm$i/index.html
	ip netns exec m$i busybox httpd -f -p 8080 -h /tmp/wwwm$i &
	pids+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 50); do
		curl -s --max-time 1 "http://10.61.$i.2:8080/" >/dev/null && break
		sleep 0.1
	done
done

# mhA hashes the client address: every connection from one address (a new
# source port each time) goes to one target.  mhB (--mh-port) hashes the
# port too: one address's connections spread.  (Each service has its own
# random hash key, so two services are not compared with each other.)
out=$("$C" lb create mhA 10.96.1.30:80 --sched mh 2>&1) || die "create mhA: $out"
out=$("$C" lb create mhB 10.96.1.31:80 --sched mh --mh-port --mh-fallback 2>&1) ||
	die "create mhB: $out"
for s in mhA mhB; do
	for i in 1 2 3; do "$C" lb add $s 10.61.$i.2:8080 2>/dev/null || die "add $s m$i"; done
done
ls_out=$("$C" lb ls)
assert_contains "$ls_out" "mh mh-fallback mh-port" "lb ls shows the scheduler and its flags"
ipv=$(ipvsadm -Ln)
line=$(awk '$2 == "10.96.1.31:80"' <<<"$ipv")
echo "$line"
assert_contains "$line" "mh" "ipvsadm shows mh"
assert_contains "$line" "mh-port" "ipvsadm shows the mh-port flag"
assert_contains "$line" "mh-fallback" "ipvsadm shows the mh-fallback flag"

for k in $(seq 12); do ip addr add 10.64.0.$k/32 dev lo; done
seen=""
for k in $(seq 12); do
	got=""
	for _ in 1 2 3; do
		got="$got $(curl -s -H 'Connection: close' --max-time 5 --interface 10.64.0.$k \
			http://10.96.1.30/ || echo fail)"
	done
	echo "client 10.64.0.$k:$got"
	set -- $got
	[ "$1" != fail ] && [ "$1" = "$2" ] && [ "$2" = "$3" ] ||
		die "client 10.64.0.$k: connections went to different targets:$got"
	case " $seen " in *" $1 "*) ;; *) seen="$seen $1" ;; esac
done
n=$(wc -w <<<"$seen")
[ "$n" -ge 2 ] || die "12 client addresses all went to one target ($seen)"
ok "mh: a client address keeps its target ($n targets used by 12 addresses)"
urls=()
for _ in $(seq 12); do urls+=("http://10.96.1.31/"); done
out=$(curl -s -H 'Connection: close' --max-time 5 --interface 10.64.0.1 "${urls[@]}" || true)
n=$(sort -u <<<"$out" | grep -c '^m[123]$' || true)
[ "$n" -ge 2 ] || die "mh-port: 12 connections from one address all went to one target"
ok "mh-port: one address's connections spread over $n targets"

out=$("$C" lb create w 10.96.1.32:80 --scheduler wrr 2>&1) || die "create wrr: $out"
for i in 1 2 3; do "$C" lb add w 10.61.$i.2:8080 --weight $i 2>/dev/null || die "add w m$i"; done
urls=()
for _ in $(seq 30); do urls+=("http://10.96.1.32/"); done
out=$(curl -s -H 'Connection: close' --max-time 5 "${urls[@]}" || true)
got="$(grep -cx m1 <<<"$out" || true)/$(grep -cx m2 <<<"$out" || true)/$(grep -cx m3 <<<"$out" || true)"
assert_eq "5/10/15" "$got" "wrr 1:2:3 over 30 requests"
ok "wrr follows the weights"
for s in mhA mhB w; do "$C" lb delete $s 2>/dev/null || die "delete $s"; done
