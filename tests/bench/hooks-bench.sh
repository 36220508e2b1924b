#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Part of make bench, run by bench-inner.sh inside the bench's namespace:
#  1. `circuit network connect` / `disconnect` latency for Circuit's chain
#     and for the reference chain (bridge + host-local [+ bandwidth]) run
#     through the same CLI path;
#  2. time the runc hooks add to `runc run -d` + `runc delete -f`.
set -eu
BUILD=$1 N=${BENCH_N:-40} M=${BENCH_RUNC:-10}
T=$(mktemp -d /tmp/circuit-hbench.XXXXXX)
pids=()
trap 'kill ${pids[@]} 2>/dev/null || true; runc --root $T/runc list -q 2>/dev/null | xargs -r -n1 runc --root $T/runc delete -f >/dev/null 2>&1 || true; rm -rf $T' EXIT
# Installed layout, as runc hooks need it (no PATH, no CNI_PATH).
mkdir -p $T/bin $T/libexec/circuit
cp $BUILD/bin/circuit $T/bin/; cp $BUILD/bin/circuit-* $T/libexec/circuit/
for p in bridge host-local bandwidth; do ln -sf /usr/lib/cni/$p $T/libexec/circuit/$p; done
C="$T/bin/circuit"
ms() { python3 -c "import sys; v=sorted(float(x) for x in sys.argv[1:]); n=len(v); print(f'{(v[n//2] if n%2 else (v[n//2-1]+v[n//2])/2):.2f}')" "$@"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
now() { echo "${EPOCHREALTIME/./}"; }           # microseconds, no fork

have_qos=false; [ -x $BUILD/bin/circuit-qos ] && have_qos=true
# Same shaping on both chains when both have a QoS plugin: 100 Mbit/s.
if $have_qos; then
	rq=',{"type":"bandwidth","ingressRate":100000000,"ingressBurst":1000000,"egressRate":100000000,"egressBurst":1000000}'
	cname="circuit-bridge + circuit-ipam + circuit-qos"; rname="bridge + host-local + bandwidth"
else
	rq=
	cname="circuit-bridge + circuit-ipam"; rname="bridge + host-local"
fi
cat > $T/r.json <<EOF
{"cniVersion":"1.0.0","name":"rbench","plugins":[{"type":"bridge","bridge":"br-rbench","isGateway":true,"isDefaultGateway":true,"ipMasq":false,"ipam":{"type":"host-local","subnet":"10.211.0.0/16","dataDir":"$T/host-local"}}$rq]}
EOF
# Circuit's network the way a user makes it: create, then (with QoS) a
# default link rate for every member, which appends circuit-qos to its chain.
$C network create cbench 10.210.0.0/16 >/dev/null 2>&1
$have_qos && $C network qos set --default --rate 100000 cbench >/dev/null 2>&1
$C network create rbench --conflist $T/r.json >/dev/null 2>&1
$C network create cplain 10.212.0.0/16 >/dev/null 2>&1

declare -a ca cd ra rd
# A "container": a process in a network namespace of its own.  Not in a
# command substitution: the background process would hold its pipe open.
sleeper() { unshare -n sleep 600 </dev/null >/dev/null 2>&1 & pids+=($!); last=$!; }
for i in $(seq 1 $N); do
	sleeper; p=$last; sleeper; q=$last; sleep 0.02
	t=$(now); $C network connect $p cbench 2>/dev/null; ca+=($(( $(now) - t )))
	t=$(now); $C network connect $q rbench 2>/dev/null; ra+=($(( $(now) - t )))
done
i=0
for p in "${pids[@]}"; do
	if [ $((i % 2)) = 0 ]; then
		t=$(now); $C network disconnect $p cbench 2>/dev/null; cd+=($(( $(now) - t )))
	else
		t=$(now); $C network disconnect $p rbench 2>/dev/null; rd+=($(( $(now) - t )))
	fi
	i=$((i+1))
done
kill "${pids[@]}" 2>/dev/null || true; pids=()
us2ms() { for x in "$@"; do echo "$x / 1000" | bc -l; done; }
cam=$(ms $(us2ms "${ca[@]}")) ram=$(ms $(us2ms "${ra[@]}"))
cdm=$(ms $(us2ms "${cd[@]}")) rdm=$(ms $(us2ms "${rd[@]}"))
echo
echo "bench: circuit network connect/disconnect, $N each, median ms (same CLI path, same run)"
printf "%-48s %10s %12s\n" "chain" "connect" "disconnect"
printf "%-48s %10s %12s\n" "$cname" $cam $cdm
printf "%-48s %10s %12s\n" "reference $rname" $ram $rdm
echo "ratio: connect $(ratio $cam $ram)x (target <= 0.40x), disconnect $(ratio $cdm $rdm)x (target <= 1.00x)"

# ---- runc hooks ----
bundle() { # DIR HOOKENV(json list or empty)
	mkdir -p $1/rootfs/bin; cp /bin/busybox $1/rootfs/bin/; ln -sf busybox $1/rootfs/bin/sleep
	(cd $1 && runc spec)
	python3 - $1/config.json $C "$2" <<'PY'
import json, sys
path, circuit, env = sys.argv[1:4]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "600"]
if env == "noop":
    # runc's own cost of running a hook: the same two hooks doing nothing.
    h = {"path": "/bin/true"}
    c["hooks"] = {"prestart": [h], "poststop": [dict(h)]}
elif env:
    h = {"path": circuit, "env": json.loads(env)}
    c["hooks"] = {"prestart": [h], "poststop": [dict(h)]}
json.dump(c, open(path, "w"))
PY
}
bundle $T/plain ""
bundle $T/chook '["NETWORK=cbench","CIRCUIT_STATE_DIR='$CIRCUIT_STATE_DIR'"]'
bundle $T/rhook '["NETWORK=rbench","CIRCUIT_STATE_DIR='$CIRCUIT_STATE_DIR'"]'
bundle $T/phook '["NETWORK=cplain","CIRCUIT_STATE_DIR='$CIRCUIT_STATE_DIR'"]'
bundle $T/nhook noop
R="runc --root $T/runc"
declare -a tp tc tr dp dc dr tq dq tn dn
for i in $(seq 1 $M); do
	for v in plain nhook phook chook rhook; do
		t=$(now)
		$R run -d --bundle $T/$v b-$v-$i </dev/null >/dev/null 2>&1
		m=$(now)
		$R delete -f b-$v-$i >/dev/null 2>&1
		e=$(now)
		# The kernel destroys the container's namespace (and the veth
		# in it) after runc returns, holding the RTNL lock for ~15 ms:
		# let it finish so that it is not billed to the next variant.
		sleep 0.3
		case $v in
		plain) tp+=($((m - t))); dp+=($((e - m)));;
		chook) tc+=($((m - t))); dc+=($((e - m)));;
		rhook) tr+=($((m - t))); dr+=($((e - m)));;
		phook) tq+=($((m - t))); dq+=($((e - m)));;
		nhook) tn+=($((m - t))); dn+=($((e - m)));;
		esac
	done
done
pm=$(ms $(us2ms "${tp[@]}")) cm=$(ms $(us2ms "${tc[@]}")) rm_=$(ms $(us2ms "${tr[@]}"))
pd=$(ms $(us2ms "${dp[@]}")) cd_=$(ms $(us2ms "${dc[@]}")) rd_=$(ms $(us2ms "${dr[@]}"))
qm=$(ms $(us2ms "${tq[@]}")) qd=$(ms $(us2ms "${dq[@]}"))
nm=$(ms $(us2ms "${tn[@]}")) nd=$(ms $(us2ms "${dn[@]}"))
sub() { echo "$1 - $2" | bc; }
echo
echo "bench: runc run -d (prestart hook) and runc delete -f (poststop hook), $M each, median ms"
printf "%-48s %9s %9s %11s %11s\n" "container" "run" "delete" "run added" "del added"
printf "%-48s %9s %9s %11s %11s\n" "no hooks" $pm $pd - -
printf "%-48s %9s %9s %11s %11s\n" "no-op hooks (/bin/true): runc's own cost" $nm $nd "$(sub $nm $pm)" "$(sub $nd $pd)"
printf "%-48s %9s %9s %11s %11s\n" "circuit hooks, circuit-bridge + circuit-ipam" $qm $qd "$(sub $qm $pm)" "$(sub $qd $pd)"
printf "%-48s %9s %9s %11s %11s\n" "circuit hooks, $cname" $cm $cd_ "$(sub $cm $pm)" "$(sub $cd_ $pd)"
printf "%-48s %9s %9s %11s %11s\n" "circuit hooks, reference $rname" $rm_ $rd_ "$(sub $rm_ $pm)" "$(sub $rd_ $pd)"
echo "hooks add to runc run: $(sub $qm $pm) ms (bridge + ipam), $(sub $cm $pm) ms (with qos); beyond runc's no-op hook: $(sub $qm $nm) ms, $(sub $cm $nm) ms (target <= 5 ms)"
$C network delete cbench >/dev/null 2>&1; $C network delete rbench >/dev/null 2>&1
$C network delete cplain >/dev/null 2>&1
