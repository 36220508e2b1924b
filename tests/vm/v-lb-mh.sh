# SPDX-License-Identifier: Apache-2.0
# v-lb-mh: the Maglev scheduler (mh) and weighted round robin on a real IPVS.
#  - `lb create --sched mh --mh-port`: lb ls and ipvsadm both show mh;
#  - consistency: two mh services with the same three targets (same order,
#    same weights) send a client port to the same target, for 12 ports (the
#    port alone decides, not the connection: IPVS keeps no state between
#    the two VIPs); and the ports do not all land on one target;
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

for v in A:10.96.1.30 B:10.96.1.31; do
	out=$("$C" lb create "mh${v%%:*}" "${v#*:}:80" --sched mh --mh-port 2>&1) ||
		die "create mh: $out"
	for i in 1 2 3; do
		"$C" lb add "mh${v%%:*}" 10.61.$i.2:8080 2>/dev/null || die "add m$i"
	done
done
ls_out=$("$C" lb ls)
assert_contains "$ls_out" "mh mh-port" "lb ls shows the scheduler and its flag"
ipv=$(ipvsadm -Ln)
echo "$ipv" | grep '10.96.1.30:80'
assert_contains "$(echo "$ipv" | grep '10.96.1.30:80')" " mh" "ipvsadm shows mh"

same=0 seen=""
for p in $(seq 40001 40012); do
	a=$(curl -s --max-time 5 --local-port "$p" http://10.96.1.30/) || die "port $p: A failed"
	b=$(curl -s --max-time 5 --local-port "$p" http://10.96.1.31/) || die "port $p: B failed"
	echo "port $p: $a $b"
	[ "$a" = "$b" ] && same=$((same + 1))
	case " $seen " in *" $a "*) ;; *) seen="$seen $a" ;; esac
done
assert_eq 12 "$same" "client ports sent to the same target by both mh services"
n=$(wc -w <<<"$seen")
[ "$n" -ge 2 ] || die "12 client ports all went to one target ($seen)"
ok "mh: a client port maps to one target ($n targets used by 12 ports)"

out=$("$C" lb create w 10.96.1.32:80 --scheduler wrr 2>&1) || die "create wrr: $out"
for i in 1 2 3; do "$C" lb add w 10.61.$i.2:8080 --weight $i 2>/dev/null || die "add w m$i"; done
urls=()
for _ in $(seq 30); do urls+=("http://10.96.1.32/"); done
out=$(curl -s -H 'Connection: close' --max-time 5 "${urls[@]}" || true)
got="$(grep -cx m1 <<<"$out" || true)/$(grep -cx m2 <<<"$out" || true)/$(grep -cx m3 <<<"$out" || true)"
assert_eq "5/10/15" "$got" "wrr 1:2:3 over 30 requests"
ok "wrr follows the weights"
for s in mhA mhB w; do "$C" lb delete $s 2>/dev/null || die "delete $s"; done
