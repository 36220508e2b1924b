# `circuit lb` and circuit-lb on a kernel without IPVS (this machine): every
# path that needs only the store works, every path that needs the kernel
# fails with one clear message (never a crash), and nothing is left behind.
# Real traffic is tested in the VM tier (tests/vm/v-lb.sh).
if [ -d /sys/module/ip_vs ] || modprobe -n ip_vs 2>/dev/null; then
	skip "this kernel has IPVS (tests/vm/v-lb.sh tests it)"
fi
C=$BIN/circuit
LB=$CIRCUIT_STATE_DIR/lb

# run CMD...: stdout+stderr in $out, exit status in $rc (never aborts)
# fails RC SUBSTRING CMD...
fails() {
	local want=$1 msg=$2; shift 2
	run "$@"
	[ "$rc" = "$want" ] || die "'$*': want rc $want, got $rc: $out"
	assert_contains "$out" "$msg" "'$*'"
	case $out in *ERRO*) ;; *) die "'$*': no ERRO line: $out";; esac
	echo "ok: rc=$rc: $(head -1 <<<"$out")"
}
records() { ls "$LB" 2>/dev/null | grep -v '^lock$\|^index$\|^vip$' | tr '\n' ' ' || true; }

# --- empty store
run "$C" lb ls
assert_eq 0 "$rc" "lb ls rc"
assert_eq "NAME                ADDR                PROTOCOL            SCHEDULER           BACKEND" "$out" "empty ls"
run "$C" lb ls --format json
assert_eq "[]" "$(json_get "$out" 'json.dumps(d)')" "empty ls json"
ok "ls on an empty store"

# --- the kernel is needed: a clear error, nothing stored
fails 1 "kernel has no IPVS support: load module ip_vs (CONFIG_IP_VS); service demo was not created" "$C" lb create demo 192.168.100.235:80
assert_eq "" "$(records)" "records after refused create"
ip link show circuit-lb0 2>/dev/null && die "device made without IPVS"

# --- usage errors (exit 2), checked before anything else
fails 2 "missing port" "$C" lb create demo 192.168.100.235
fails 2 "port must be 1..65535" "$C" lb create demo 192.168.100.235:0
fails 2 "port must be 1..65535" "$C" lb create demo 192.168.100.235:65536
fails 2 "write IPv6 addresses as [ADDR]:PORT" "$C" lb create demo fd00::1:80
fails 2 "invalid" "$C" lb create demo 300.1.1.1:80
fails 2 "unknown scheduler \"fifo\"" "$C" lb create demo 10.96.0.1:80 --scheduler fifo
fails 2 "unknown protocol \"sctp\"" "$C" lb create demo 10.96.0.1:80 --protocol sctp
fails 2 "--persistent" "$C" lb create demo 10.96.0.1:80 --persistent soon
fails 2 "invalid service name" "$C" lb create ../x 10.96.0.1:80
fails 2 "--weight" "$C" lb add demo 10.0.0.2:80 --weight -1
fails 2 "--method" "$C" lb add demo 10.0.0.2:80 --method bounce
fails 2 "--format" "$C" lb ls --format yaml
run "$C" lb create onlyname
assert_eq 2 "$rc" "missing positional"
assert_eq "" "$(records)" "records after usage errors"

# --- unknown services
fails 1 "service nope not found" "$C" lb add nope 10.0.0.2:80
fails 1 "service nope not found" "$C" lb remove nope 10.0.0.2:80
fails 1 "service nope not found" "$C" lb delete nope

# --- a record written as spec/lb.md documents it
cat >"$LB/demo.json" <<'EOF'
{"name": "demo", "address": "192.168.100.235", "port": 80, "protocol": "tcp",
 "scheduler": "rr", "persistent": 0, "created": 1700000000,
 "targets": [{"address": "10.254.1.196", "port": 80, "weight": 1, "method": "nat"},
             {"address": "10.254.1.197", "port": 80, "weight": 2, "method": "nat",
              "network": "lbnet", "container": "ctr1", "interface": "eth0"}]}
EOF
chmod 600 "$LB/demo.json"
run "$C" lb ls
assert_eq "NAME                ADDR                 PROTOCOL            SCHEDULER           BACKEND
demo                192.168.100.235:80   tcp                 rr                  ipvs" "$out" "ls (README layout)"
run "$C" lb ls --details
assert_contains "$out" "  -> 10.254.1.196:80 weight=1 method=nat"
assert_contains "$out" "  -> 10.254.1.197:80 weight=2 method=nat"
assert_contains "$out" "WARN[0000] no live counters: kernel has no IPVS support"
run "$C" lb ls --format json
assert_eq "demo 192.168.100.235:80 tcp rr 2 ctr1" \
	"$(json_get "$out" '" ".join([d[0]["name"], d[0]["address"], d[0]["protocol"], d[0]["scheduler"], str(len(d[0]["targets"])), d[0]["targets"][1]["container"]])')" "ls json"
ok "ls, ls --details, ls --format json from the store"

fails 1 "service demo already exists" "$C" lb create demo 10.96.0.1:80
fails 1 "service demo already uses tcp 192.168.100.235:80" "$C" lb create other 192.168.100.235:80
before=$(cat "$LB/demo.json")
fails 1 "service demo: kernel has no IPVS support: load module ip_vs (CONFIG_IP_VS); service demo was not changed" "$C" lb add demo 10.254.1.198:80
assert_eq "$before" "$(cat "$LB/demo.json")" "record after refused add"
fails 1 "service demo has no target 10.254.1.199:80" "$C" lb remove demo 10.254.1.199:80

# Without IPVS nothing can be programmed, so removing only edits the record.
run "$C" lb remove demo 10.254.1.196:80
assert_eq 0 "$rc" "remove rc: $out"
assert_contains "$out" "INFO[0000] service demo updated"
[ "$(json_get "$(cat "$LB/demo.json")" 'len(d["targets"])')" = 1 ] || die "target not removed"
ok "store-only remove"

# --- circuit-lb plugin
mkns c1
prev='{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/c1"}],
       "ips":[{"address":"10.254.1.197/24","gateway":"10.254.1.1","interface":0}]}'
lbconf() {
	python3 -c 'import json,sys
c={"cniVersion":"1.1.0","name":"lbnet","type":"circuit-lb","services":json.loads(sys.argv[1])}
if sys.argv[2]: c["prevResult"]=json.loads(sys.argv[2])
if len(sys.argv) > 3: c.update(json.loads(sys.argv[3]))
print(json.dumps(c))' "$@"
}
echo '{"cniVersion":"1.1.0"}' | CNI_COMMAND=VERSION $BIN/circuit-lb | has '"1.1.0"' || die "VERSION"
expect_cni_error 7 "prevResult is required" ADD $BIN/circuit-lb ctr1 /run/netns/c1 eth0 \
	<<<"$(lbconf '[{"name":"demo"}]' '')"
expect_cni_error 7 "service ghost not found" ADD $BIN/circuit-lb ctr1 /run/netns/c1 eth0 \
	<<<"$(lbconf '[{"name":"ghost"}]' "$prev")"
expect_cni_error 7 "services" ADD $BIN/circuit-lb ctr1 /run/netns/c1 eth0 \
	<<<"$(lbconf '{"name":"demo"}' "$prev")"
expect_cni_error 7 "listed twice" ADD $BIN/circuit-lb ctr1 /run/netns/c1 eth0 \
	<<<"$(lbconf '[{"name":"demo"},{"name":"demo"}]' "$prev")"
expect_cni_error 50 "kernel has no IPVS support: load module ip_vs (CONFIG_IP_VS)" ADD $BIN/circuit-lb ctr2 /run/netns/c1 eth0 \
	<<<"$(lbconf '[{"name":"demo","port":80}]' "$prev")"
expect_cni_error 50 "kernel has no IPVS support: load module ip_vs (CONFIG_IP_VS)" STATUS $BIN/circuit-lb "" "" "" \
	<<<"$(lbconf '[]' '')"
expect_cni_error 104 "no target" CHECK $BIN/circuit-lb ctr9 /run/netns/c1 eth0 \
	<<<"$(lbconf '[{"name":"demo"}]' "$prev")"
# ADD with no services passes prevResult through.
out=$(lbconf '[]' "$prev" | cni ADD $BIN/circuit-lb ctr3 /run/netns/c1 eth0)
assert_eq "10.254.1.197/24" "$(json_get "$out" 'd["ips"][0]["address"]')" "prevResult passed through"
# DEL: idempotent, tolerates unknown services, removes the owner's target.
lbconf '[{"name":"ghost"}]' '' | cni DEL $BIN/circuit-lb ctr1 /run/netns/c1 eth0
lbconf '[{"name":"demo"}]' '' | cni DEL $BIN/circuit-lb ctr7 /run/netns/c1 eth0
[ "$(json_get "$(cat "$LB/demo.json")" 'len(d["targets"])')" = 1 ] || die "DEL removed another owner's target"
for _ in 1 2; do lbconf '[{"name":"demo"}]' '' | cni DEL $BIN/circuit-lb ctr1 /run/netns/c1 eth0; done
[ "$(json_get "$(cat "$LB/demo.json")" 'len(d["targets"])')" = 0 ] || die "DEL left ctr1's target"
ok "circuit-lb: errors, passthrough, idempotent DEL"

# GC drops targets of gone attachments of this network only.
python3 - "$LB/demo.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["targets"] = [
    {"address": "10.254.1.10", "port": 80, "weight": 1, "method": "nat", "network": "lbnet", "container": "live", "interface": "eth0"},
    {"address": "10.254.1.11", "port": 80, "weight": 1, "method": "nat", "network": "lbnet", "container": "gone", "interface": "eth0"},
    {"address": "10.254.1.12", "port": 80, "weight": 1, "method": "nat", "network": "other", "container": "gone", "interface": "eth0"},
    {"address": "10.254.1.13", "port": 80, "weight": 1, "method": "nat"}]
json.dump(d, open(sys.argv[1], "w"))
EOF
lbconf '[]' '' '{"cni.dev/valid-attachments":[{"containerID":"live","ifname":"eth0"}]}' |
	cni GC $BIN/circuit-lb "" "" ""
assert_eq "10.254.1.10 10.254.1.12 10.254.1.13" \
	"$(json_get "$(cat "$LB/demo.json")" '" ".join(t["address"] for t in d["targets"])')" "targets after GC"
ok "GC"

# --- restore: a store with services needs IPVS and says so; an empty one does not
fails 1 "1 load-balanced service to restore: kernel has no IPVS support: load module ip_vs (CONFIG_IP_VS); its record is kept for the next restore" "$C" restore
[ -f "$LB/demo.json" ] || die "restore without IPVS lost the record"

run "$C" lb delete demo
assert_eq 0 "$rc" "delete rc: $out"
assert_contains "$out" "INFO[0000] service demo removed"
assert_eq "" "$(records)" "records after delete"
run "$C" restore
assert_eq 0 "$rc" "restore with no services: $out"

# --- a damaged record is named, not crashed on
echo '{"name": "bad", "address": "10.0.0.1"' >"$LB/bad.json"
fails 1 "lb/bad.json" "$C" lb ls
echo '{"name": "bad", "address": "10.0.0.1", "port": 80, "scheduler": "nope"}' >"$LB/bad.json"
fails 1 "unknown scheduler" "$C" lb ls
rm -f "$LB/bad.json"
ok "no IPVS: store paths work, kernel paths fail cleanly"
