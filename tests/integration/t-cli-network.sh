# SPDX-License-Identifier: Apache-2.0
# `circuit network ...`, `circuit version`, help and usage errors: every
# command's success and failure paths with literal output checks.  The
# "containers" are sleep processes in namespaces this test made.
C=$BIN/circuit

# run CMD...: $out = stdout+stderr, $rc = exit status
# A process in a fresh network namespace: ctr NAME -> $pid
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; netns_wait $pid; }

# ---- create / ls ----
expect 0 "INFO[0000] sandbox created" $C network create sandbox 10.254.1.0/24
expect 0 "NAME                SUBNET
sandbox             10.254.1.0/24" $C network ls
assert_eq "10.254.1.1/24" "$(ip -o -4 addr show c-sandbox | awk '{print $4}')" "gateway on bridge"
assert_contains "$(nft list chain inet circuit masq-sandbox)" \
	'ip saddr 10.254.1.0/24 ip daddr != 10.254.1.0/24' "masquerade"
# Output that cannot be written is an error, not a silent success.
set +e; out=$($C network ls 2>&1 >/dev/full); rc=$?; set -e
assert_eq 1 "$rc" "ls into a full stdout"
assert_eq "ERRO[0000] writing to stdout: No space left on device" "$out" "ls into a full stdout"
set +e; out=$($C network export sandbox 2>&1 >&-); rc=$?; set -e
assert_eq 1 "$rc" "export into a closed stdout"
assert_contains "$out" "ERRO[0000] writing to stdout: Bad file descriptor" "export into a closed stdout"
ok "create + ls"

expect 1 "ERRO[0000] network sandbox already exists" $C network create sandbox 10.254.9.0/24
expect 1 "ERRO[0000] subnet 10.254.1.128/25 overlaps network sandbox (10.254.1.0/24)" \
	$C network create other 10.254.1.128/25
ip link add dummy0 type bridge; ip addr add 192.168.77.5/24 dev dummy0
expect 1 "ERRO[0000] subnet 192.168.77.0/24 overlaps address 192.168.77.5/24 on dummy0" \
	$C network create other 192.168.77.0/24
ip link del dummy0
run $C network create bad 10.254.2.1/24; assert_eq 1 "$rc" "host bits"
assert_contains "$out" "ERRO[0000] " "host bits message"
run $C network create bad 10.254.2.0/31; assert_eq 1 "$rc" "/31"
expect 1 "ERRO[0000] gateway 10.254.2.0 is not a host address of 10.254.2.0/24" \
	$C network create gw 10.254.2.0/24 --gateway 10.254.2.0
run $C network create 'bad/name' 10.254.3.0/24; assert_eq 1 "$rc" "bad name"
expect 2 "ERRO[0000] missing SUBNET
Usage: circuit network create NAME SUBNET [--subnet SUBNET] [--gateway IP] [--no-masquerade] [--no-masquerade6] [--mtu N] [--driver bridge|ovs [--vlan N] [--ovsdb-socket PATH]] | NAME --conflist FILE
Run 'circuit network create --help' for more." $C network create lonely
expect 2 "ERRO[0000] invalid --mtu \"12\" (68..65535)
Usage: circuit network create NAME SUBNET [--subnet SUBNET] [--gateway IP] [--no-masquerade] [--no-masquerade6] [--mtu N] [--driver bridge|ovs [--vlan N] [--ovsdb-socket PATH]] | NAME --conflist FILE
Run 'circuit network create --help' for more." $C network create m 10.254.4.0/24 --mtu 12
run $C network create x 10.254.4.0/24 --bogus; assert_eq 2 "$rc" "unknown option"
assert_contains "$out" "ERRO[0000] unknown option --bogus" "unknown option"
# --driver ovs: bad values refused before anything is made; without an
# ovsdb-server (this kernel has no openvswitch: tests/vm/v-ovs does the
# rest) create fails in one line and leaves no network behind.
run $C network create o 10.254.5.0/24 --driver vxlan; assert_eq 2 "$rc" "bad driver"
assert_contains "$out" 'ERRO[0000] invalid --driver "vxlan": bridge or ovs' "bad driver"
run $C network create o 10.254.5.0/24 --vlan 5; assert_eq 2 "$rc" "vlan without ovs"
assert_contains "$out" "ERRO[0000] --vlan and --ovsdb-socket need --driver ovs" "vlan without ovs"
run $C network create o 10.254.5.0/24 --driver ovs --vlan 4095; assert_eq 2 "$rc" "vlan range"
assert_contains "$out" 'ERRO[0000] invalid --vlan "4095" (1..4094)' "vlan range"
run $C network create o 10.254.5.0/24 --driver ovs --ovsdb-socket relative/db.sock
assert_eq 1 "$rc" "relative ovsdb socket"
assert_contains "$out" "ovsdb socket: an absolute path" "relative ovsdb socket"
run $C network create o 10.254.5.0/24 --driver ovs --ovsdb-socket /nonexistent/db.sock
assert_eq 1 "$rc" "no ovsdb-server"
assert_eq 'ERRO[0000] network o: ovsdb /nonexistent/db.sock: No such file or directory (is ovsdb-server running?)' "$out" "no ovsdb-server"
run $C network inspect o; assert_eq 1 "$rc" "failed ovs create left a network"
ip link show c-o >/dev/null 2>&1 && die "failed ovs create left a link"
ok "--driver ovs: bad input refused, no ovsdb-server: nothing left"
expect 0 "INFO[0000] db created" $C network create db 10.254.2.0/24 --gateway 10.254.2.254 \
	--no-masquerade --mtu 1400
assert_eq "10.254.2.254/24" "$(ip -o -4 addr show c-db | awk '{print $4}')" "custom gateway"
assert_eq 1400 "$(ip -o link show c-db | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')" "bridge mtu"
nft list chain inet circuit masq-db >/dev/null 2>&1 && die "db must not masquerade"
expect 0 "NAME                SUBNET
db                  10.254.2.0/24
sandbox             10.254.1.0/24" $C network ls
run $C network ls --format json
assert_eq 0 "$rc" "ls json"
assert_eq "db:10.254.2.254:False:1400 sandbox:10.254.1.1:True:1500" \
	"$(json_get "$out" '" ".join("%s:%s:%s:%s" % (n["name"], n["gateway"], n["masquerade"], n["mtu"]) for n in d)')" "ls json"
# created: RFC 3339 (as podman shows times) of the stored unix time.
rfc3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$'
for n in db sandbox; do
	created=$(json_get "$out" "[n['created'] for n in d if n['name'] == '$n'][0]")
	has "$rfc3339" <<<"$created" || die "ls json: created of $n is not RFC 3339: $created"
	stored=$(json_get "$(cat "$CIRCUIT_STATE_DIR/networks/$n/network.json")" 'd["created"]')
	assert_eq "$stored" "$(python3 -c 'import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp()))' "$created")" \
		"created of $n: shown time is the stored one"
done
assert_eq "$created" "$(json_get "$($C network inspect sandbox)" 'd["created"]')" "inspect created"
# mtu: the record's (db), else the bridge's own (sandbox), else 1500.
ip link set c-sandbox mtu 1450
assert_eq 1450 "$(json_get "$($C network inspect sandbox)" 'd["mtu"]')" "inspect: the bridge's mtu"
assert_eq 1450 "$(json_get "$($C network ls --format json)" '[n["mtu"] for n in d if n["name"] == "sandbox"][0]')" "ls: the bridge's mtu"
ip link set c-sandbox mtu 1500
assert_eq 1400 "$(json_get "$($C network inspect db)" 'd["mtu"]')" "inspect: the record's mtu"
expect 2 "ERRO[0000] unknown --format \"yaml\" (table or json)
Usage: circuit network ls [--format table|json]
Run 'circuit network ls --help' for more." $C network ls --format yaml
ok "create failures + ls formats"

# ---- export ----
run $C network export sandbox
assert_eq 0 "$rc" "export"
assert_eq "1.0.0 sandbox circuit-bridge c-sandbox True circuit-ipam 10.254.1.0/24" \
	"$(json_get "$out" '" ".join([d["cniVersion"], d["name"], d["plugins"][0]["type"], d["plugins"][0]["bridge"], str(d["plugins"][0]["ipMasq"]), d["plugins"][0]["ipam"]["type"], d["plugins"][0]["ipam"]["subnet"]])')" "conflist"
expect 1 "ERRO[0000] network nope not found" $C network export nope
ok "export"

# ---- connect / disconnect ----
ctr a; pa=$pid
ctr b; pb=$pid
expect 0 "INFO[0000] connected container $pa to network sandbox" $C network connect $pa sandbox
expect 0 "INFO[0000] connected container $pb to network sandbox" $C network connect $pb sandbox --ip 10.254.1.50
assert_eq "10.254.1.50/24" "$(ip -n b -o -4 addr show eth0 | awk '{print $4}')" "requested ip"
ipa=$(ip -n a -o -4 addr show eth0 | awk '{print $4}'); ipa=${ipa%/*}
ip netns exec a busybox ping -c1 -W2 10.254.1.50 >/dev/null || die "a -> b"
ip netns exec b busybox ping -c1 -W2 10.254.1.1 >/dev/null || die "b -> gateway"
ip netns exec b busybox ping -c1 -W2 "$ipa" >/dev/null || die "b -> a"
assert_contains "$(ip -n a route)" 'default via 10.254.1.1 dev eth0' "default route"
expect 1 "ERRO[0000] container $pa is already connected to network sandbox (as pid-$pa, eth0)" \
	$C network connect $pa sandbox
# A second network gives the next free ethN.
expect 0 "INFO[0000] connected container $pa to network db" $C network connect $pa db
ip -n a link show eth1 >/dev/null || die "eth1 for the second network"
assert_eq 1400 "$(ip -n a -o link show eth1 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')" "member mtu"
expect 1 "ERRO[0000] process 4000000 not found" $C network connect 4000000 sandbox
expect 1 "ERRO[0000] network nope not found" $C network connect $pa nope
expect 2 "ERRO[0000] invalid PID or container ID \"a/b\"
Usage: circuit network connect PID|ID NAME [--ip IP] [--ifname IF] [--publish SPEC]...
Run 'circuit network connect --help' for more." $C network connect a/b sandbox
expect 1 "ERRO[0000] container abc not found (no runc state in /run/runc-none)" \
	env CIRCUIT_RUNC_ROOT=/run/runc-none $C network connect abc sandbox
run $C network connect $pb db --ip 10.254.9.9; assert_eq 1 "$rc" "ip outside subnet"
ip -n b link show eth1 >/dev/null 2>&1 && die "failed connect left eth1 behind"
assert_eq 1 "$(ip -o link show master c-db | wc -l)" "failed connect left a host veth"

run $C network inspect sandbox
assert_eq 0 "$rc" "inspect"
assert_eq "sandbox 10.254.1.0/24 c-sandbox pid-$pa:$pa:eth0 pid-$pb:$pb:eth0:10.254.1.50/24" \
	"$(json_get "$out" 'd["name"]+" "+d["subnet"]+" "+d["bridge"]+" "+" ".join("%s:%s:%s" % (m["container"], m["pid"], m["interface"]) + (":"+m["address"] if m["container"].endswith("'$pb'") else "") for m in d["members"])')" "inspect"
expect 1 "ERRO[0000] network nope not found" $C network inspect nope

expect 0 "INFO[0000] disconnected container $pb from network sandbox" $C network disconnect $pb sandbox
ip -n b link show eth0 >/dev/null 2>&1 && die "eth0 still in b"
expect 1 "ERRO[0000] container $pb is not connected to network sandbox" $C network disconnect $pb sandbox
expect 1 "ERRO[0000] process 4000000 not found" $C network disconnect 4000000 sandbox
ok "connect + disconnect"

# ---- delete ----
expect 0 "INFO[0000] db deleted" $C network delete db
ip link show c-db >/dev/null 2>&1 && die "bridge c-db left"
ip -n a link show eth1 >/dev/null 2>&1 && die "member of db not disconnected"
expect 1 "ERRO[0000] network db not found" $C network delete db
# A dead member is released by delete.
kill $pa; wait $pa 2>/dev/null || true
expect 0 "INFO[0000] sandbox deleted" $C network delete sandbox
# The dead member's namespace is pinned (ip netns): network delete must
# still remove its veth, not leave it to the namespace's teardown.
[ -z "$(ip -o link show | grep -v ' lo:')" ] || die "links left: $(ip -o link show)"
[ -z "$(nft list ruleset)" ] || die "nftables left: $(nft list ruleset)"
left=$(find "$CIRCUIT_STATE_DIR/networks" -mindepth 1 ! -name lock)
[ -z "$left" ] || die "state left: $left"
for part in ipam qos masq; do
	[ ! -e "$CIRCUIT_STATE_DIR/$part/sandbox" ] || die "plugin state left: $part/sandbox"
done
expect 0 "NAME                SUBNET" $C network ls
ok "delete"

# ---- imported conflist (reference plugins) ----
cat > /tmp/ref.$$.conflist <<JSON
{ "cniVersion": "1.0.0", "name": "ignored",
  "plugins": [
    { "type": "bridge", "bridge": "refbr0", "isGateway": true, "isDefaultGateway": true,
      "ipMasq": false, "ipam": { "type": "host-local", "subnet": "10.254.30.0/24" } },
    { "type": "portmap", "capabilities": { "portMappings": true } } ] }
JSON
expect 0 "INFO[0000] ref created" $C network create ref --conflist /tmp/ref.$$.conflist
rm -f /tmp/ref.$$.conflist
expect 0 "NAME                SUBNET
ref                 10.254.30.0/24" $C network ls
# No bridge yet (the reference plugin makes refbr0 with its first member).
assert_eq "refbr0 1500" "$(json_get "$($C network inspect ref)" 'd["bridge"]+" "+str(d["mtu"])')" "mtu without a bridge"
assert_eq "ref" "$(json_get "$($C network export ref)" 'd["name"]')" "imported name"
expect 0 "INFO[0000] connected container $pb to network ref" $C network connect $pb ref
assert_contains "$(ip -n b -o -4 addr show eth0)" 10.254.30. "host-local address"
ip netns exec b busybox ping -c1 -W2 10.254.30.1 >/dev/null || die "ref gateway"
expect 0 "INFO[0000] disconnected container $pb from network ref" $C network disconnect $pb ref
expect 0 "INFO[0000] ref deleted" $C network delete ref
expect 2 "ERRO[0000] --conflist takes no SUBNET, --subnet, --gateway, --mtu, --no-masquerade or --no-masquerade6: the chain says it all
Usage: circuit network create NAME SUBNET [--subnet SUBNET] [--gateway IP] [--no-masquerade] [--no-masquerade6] [--mtu N] [--driver bridge|ovs [--vlan N] [--ovsdb-socket PATH]] | NAME --conflist FILE
Run 'circuit network create --help' for more." $C network create x 10.1.0.0/24 --conflist /dev/null
run $C network create x --conflist /nonexistent; assert_eq 1 "$rc" "missing conflist"
assert_eq "ERRO[0000] /nonexistent: No such file or directory" "$out" "missing conflist"
ok "imported conflist"

# ---- global options, help, version ----
st=$(mktemp -d)
expect 0 "INFO[0000] elsewhere created" $C --state "$st" network create elsewhere 10.254.40.0/24
[ -f "$st/networks/elsewhere/network.json" ] || die "--state not used"
expect 0 "NAME                SUBNET" $C network ls
expect 0 "NAME                SUBNET
elsewhere           10.254.40.0/24" $C network ls --state "$st"
run $C --debug --state "$st" network delete elsewhere
assert_contains "$out" "DEBU[0000] " "debug lines"
assert_contains "$out" "INFO[0000] elsewhere deleted" "delete with --state"
rm -rf "$st"
run $C version; assert_eq 0 "$rc" "version"
assert_contains "$out" "circuit version " "version"
version=$out
expect 0 "$version" $C --version
expect 0 "$version" $C -v
expect 0 "$version" $C --debug --version
run $C --help; assert_eq 0 "$rc" "help"; assert_contains "$out" "network connect" "help"
run $C network connect --help; assert_eq 0 "$rc" "cmd help"
assert_contains "$out" "circuit network connect 4668 sandbox" "examples in help"
run $C frobnicate; assert_eq 2 "$rc" "unknown command"
assert_contains "$out" 'ERRO[0000] unknown command "frobnicate"' "unknown command"
run $C network; assert_eq 2 "$rc" "group without verb"
run $C network frob; assert_eq 2 "$rc" "unknown verb"
assert_contains "$out" 'ERRO[0000] unknown command "network frob"' "unknown verb"
ok "global options"

# ---- every --help fits in 80 columns ----
# help_ok WORDS...: `circuit WORDS --help` exits 0 and no line is wider.
help_ok() {
	local wide
	run $C "$@" --help
	[ "$rc" = 0 ] || die "circuit $* --help: exit $rc ($out)"
	[ -n "$out" ] || die "circuit $* --help: no output"
	wide=$(awk 'length > 80 { printf "%d: %s\n", length, $0 }' <<<"$out")
	[ -z "$wide" ] || die "circuit $* --help: lines over 80 columns:
$wide"
}
help_ok
run $C help; assert_eq 0 "$rc" "circuit help"
assert_eq "" "$(awk 'length > 80' <<<"$out")" "circuit help width"
# The commands, as the main help lists them ("  network qos set   text").
cmds=$($C --help | sed -n '/^Commands:/,/^$/p' |
	awk '/^  [a-z]/ { sub(/^  /, ""); split($0, f, /  +/); print f[1] }')
[ "$(wc -l <<<"$cmds")" -ge 15 ] || die "too few commands in --help: $cmds"
groups=$(awk 'NF > 1 { NF--; print }' <<<"$cmds" | sort -u)
assert_eq "cluster
host
lb
network
network qos" "$groups" "groups"
while read -r g; do help_ok $g; done <<<"$groups"
n=0
while read -r cmd; do help_ok $cmd; n=$((n+1)); done <<<"$cmds"
echo "ok: $n commands' --help within 80 columns"
ok "help width"
kill $pb; wait 2>/dev/null || true
