# 64 containers ADDed into one brand-new network at the same time: all
# succeed, all addresses distinct, the bridge gets its gateway once; then 64
# parallel DELs leave nothing behind.
N=64
conf='{"cniVersion":"1.0.0","name":"rush","type":"circuit-bridge","isDefaultGateway":true,"ipMasq":true,
       "ipam":{"type":"circuit-ipam","subnet":"10.95.0.0/24"}}'
for i in $(seq 1 $N); do mkns n$i; done
out=$(mktemp -d)
for i in $(seq 1 $N); do
	( echo "$conf" | cni ADD $BIN/circuit-bridge ctr$i /run/netns/n$i eth0 > $out/$i.json; echo $? > $out/$i.rc ) &
done
wait
fails=0
for i in $(seq 1 $N); do
	[ "$(cat $out/$i.rc)" = 0 ] || { fails=$((fails+1)); echo "ctr$i: $(cat $out/$i.json)"; }
done
assert_eq 0 $fails "failed parallel ADDs"
addrs=$(for i in $(seq 1 $N); do json_get "$(cat $out/$i.json)" 'd["ips"][0]["address"]'; done | sort -u | wc -l)
assert_eq $N $addrs "distinct addresses"
assert_eq 1 "$(ip -o -4 addr show dev c-rush | wc -l)" "gateway addresses on the bridge"
assert_eq $N "$(ip -o link show master c-rush | wc -l)" "bridge ports"
ip netns exec n1 busybox ping -c1 -W2 "$(json_get "$(cat $out/$N.json)" 'd["ips"][0]["address"].split("/")[0]')" >/dev/null || die "n1 cannot reach n$N"
ok "$N parallel ADDs"
for i in $(seq 1 $N); do
	( echo "$conf" | cni DEL $BIN/circuit-bridge ctr$i /run/netns/n$i eth0 > $out/$i.del; echo $? > $out/$i.drc ) &
done
wait
for i in $(seq 1 $N); do assert_eq 0 "$(cat $out/$i.drc)" "DEL ctr$i: $(cat $out/$i.del)"; done
assert_eq 0 "$(ip -o link show master c-rush | wc -l)" "bridge ports after DEL"
[ -z "$(find $CIRCUIT_STATE_DIR/ipam/rush/ips -type f)" ] || die "addresses left"
nft list table inet circuit 2>/dev/null && die "masquerade left after the last DEL"
ok "$N parallel DELs"
