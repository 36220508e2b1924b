# Hostile input: every case gets the right CNI error code, a clear message,
# a non-zero exit, and leaves nothing in the kernel or the store.
mkns c1
B=$BIN/circuit-bridge I=$BIN/circuit-ipam
good='{"cniVersion":"1.0.0","name":"badnet","type":"circuit-bridge","ipMasq":true,"ipam":{"type":"circuit-ipam","subnet":"10.98.0.0/24"}}'
mk() { python3 -c 'import json,sys; c=json.loads(sys.argv[1]); exec(sys.argv[2]); print(json.dumps(c))' "$good" "$@"; }
long=$(printf 'a%.0s' $(seq 300))
bad=$(mktemp -d /tmp/circuit-badinput.XXXXXX)
trap 'rm -rf "$bad"' EXIT
mkdir "$bad/real" && ln -s "$bad/real" "$bad/link"

before=$(snapshot)
for P in $B $I; do
	expect_cni_error 6 "invalid json" ADD $P c1 /run/netns/c1 eth0 <<< '{"cniVersion":'
	expect_cni_error 6 "expected a JSON object" ADD $P c1 /run/netns/c1 eth0 <<< '"x"'
	expect_cni_error 1 "incompatible CNI versions" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["cniVersion"]="0.2.0"')"
	expect_cni_error 1 "incompatible CNI versions" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["cniVersion"]="7.0.0"')"
	expect_cni_error 7 "name: expected a string" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["name"]=5')"
	expect_cni_error 7 "ipam: expected an object" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["ipam"]="circuit-ipam"')"
	expect_cni_error 7 "network name \"a/b\" has invalid characters" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["name"]="a/b"')"
	expect_cni_error 7 "contains \"..\"" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["name"]="x..y"')"
	expect_cni_error 7 "longer than 64 bytes" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["name"]="n"*65')"
	expect_cni_error 7 "not a network address" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["ipam"]["subnet"]="10.98.0.1/24"')"
	expect_cni_error 7 "/31" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["ipam"]["subnet"]="10.98.0.0/31"')"
	expect_cni_error 7 "subnet" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["ipam"]["subnet"]="10.98.0.0/33"')"
	expect_cni_error 7 "subnet: expected a string" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk 'c["ipam"]["subnet"]=["10.98.0.0/24"]')"
	expect_cni_error 7 "symlink" ADD $P c1 /run/netns/c1 eth0 <<< "$(mk "c['ipam']['dataDir']='$bad/link'")"
	expect_cni_error 4 "CNI_COMMAND" "" $P c1 /run/netns/c1 eth0 <<< "$good"
	expect_cni_error 4 "CNI_NETNS is missing" ADD $P c1 "" eth0 <<< "$good"
	expect_cni_error 4 "CNI_CONTAINERID is missing" ADD $P "" /run/netns/c1 eth0 <<< "$good"
	expect_cni_error 4 "CNI_IFNAME is missing" ADD $P c1 /run/netns/c1 "" <<< "$good"
	expect_cni_error 4 "container ID \"a/b\" has invalid characters" ADD $P a/b /run/netns/c1 eth0 <<< "$good"
	expect_cni_error 4 "contains \"..\"" ADD $P a..b /run/netns/c1 eth0 <<< "$good"
	expect_cni_error 4 "longer than 253 bytes" ADD $P "$long" /run/netns/c1 eth0 <<< "$good"
	expect_cni_error 4 "longer than 15 bytes" ADD $P c1 /run/netns/c1 eth0123456789abc <<< "$good"
	expect_cni_error 4 "invalid character" ADD $P c1 /run/netns/c1 "et/h0" <<< "$good"
	expect_cni_error 4 "unknown CNI_COMMAND" FROB $P c1 /run/netns/c1 eth0 <<< "$good"
done
expect_cni_error 4 "No such file or directory" ADD $B c1 /run/netns/nope eth0 <<< "$good"
expect_cni_error 7 "failed to find plugin \"nope\"" ADD $B c1 /run/netns/c1 eth0 <<< "$(mk 'c["ipam"]["type"]="nope"')"
expect_cni_error 7 "invalid plugin type" ADD $B c1 /run/netns/c1 eth0 <<< "$(mk 'c["ipam"]["type"]="../../bin/sh"')"
expect_cni_error 7 "bridge" ADD $B c1 /run/netns/c1 eth0 <<< "$(mk 'c["bridge"]="averyveryverylongbridge"')"
expect_cni_error 7 "mtu" ADD $B c1 /run/netns/c1 eth0 <<< "$(mk 'c["mtu"]=-1')"
expect_cni_error 7 "isGateway: expected a boolean" ADD $B c1 /run/netns/c1 eth0 <<< "$(mk 'c["isGateway"]="yes"')"
expect_cni_error 7 "requested ip" ADD $I c1 /run/netns/c1 eth0 <<< "$(mk 'c["runtimeConfig"]={"ips":["10.98.0.x"]}')"
# Untrusted text in an error (issue 8 item 9): stdout stays JSON in strict
# UTF-8, in the caller's cniVersion, naming the bad input printably.
# strict_reply CODE VERSION MSG-SUBSTRING VERB PLUGIN CID NETNS IFNAME <<< CONF
strict_reply() {
	local code=$1 version=$2 msg=$3 out rc=0; shift 3
	out=$(cni "$@") || rc=$?
	[ $rc -ne 0 ] || die "$*: expected failure, got success: $out"
	python3 -c '
import json, sys
raw = sys.stdin.buffer.read()
try:
    d = json.loads(raw.decode("utf-8"))      # strict: no invalid UTF-8
except Exception as e:
    sys.exit("stdout is not strict JSON (%s): %r" % (e, raw[:300]))
code, version, msg = sys.argv[1:4]
if d.get("cniVersion") != version: sys.exit("cniVersion %r, want %r" % (d.get("cniVersion"), version))
if d.get("code") != int(code): sys.exit("code %r, want %s: %s" % (d.get("code"), code, d.get("msg")))
if msg not in d.get("msg", ""): sys.exit("msg %r lacks %r" % (d.get("msg"), msg))
print("ok: [%s %s] %s" % (d["cniVersion"], d["code"], d["msg"]))
' "$code" "$version" "$msg" <<<"$out" || die "$*: bad error reply"
}
euro200=$(python3 -c 'print("\u20ac" * 200)')
# 600 bytes of three-byte characters as the ipam type: the message used to
# overflow inside a character, and the reply became
# {"cniVersion":"1.1.0","code":7,"msg":"invalid message"}.
strict_reply 7 0.4.0 "invalid plugin type \"€€€" ADD $B c1 /run/netns/c1 eth0 \
	<<< "$(mk 'c["cniVersion"]="0.4.0"; c["ipam"]["type"]=sys.argv[3]' "$euro200")"
for P in $B $I; do
	strict_reply 7 0.4.0 "network name \"€€€" ADD $P c1 /run/netns/c1 eth0 \
		<<< "$(mk 'c["cniVersion"]="0.4.0"; c["name"]=sys.argv[3]' "$euro200")"
	# Bytes that are no UTF-8, from the environment and from stdin.
	strict_reply 4 0.4.0 'container ID "c1\xff\xfe' ADD $P $'c1\xff\xfe' /run/netns/c1 eth0 \
		<<< "$(mk 'c["cniVersion"]="0.4.0"')"
	strict_reply 6 0.4.0 '"name": is not valid UTF-8' ADD $P c1 /run/netns/c1 eth0 \
		<<< "$(printf '{"cniVersion":"0.4.0","name":"bad\xc0\xae","type":"circuit-bridge"}')"
	# JSON read as Go reads it (issue 10 item 2), or refused.
	strict_reply 6 1.0.0 '"name": contains a NUL character' ADD $P c1 /run/netns/c1 eth0 \
		<<< "$(mk 'c["name"]="sand\0box"')"
	strict_reply 6 1.0.0 '"ipam.type": contains a NUL character' ADD $P c1 /run/netns/c1 eth0 \
		<<< "$(mk 'c["ipam"]["type"]="circuit-ipam\0x"')"
	strict_reply 6 1.0.0 'comment' ADD $P c1 /run/netns/c1 eth0 \
		<<< '{"cniVersion":"1.0.0", /* no */ "name":"badnet","type":"circuit-bridge"}'
	strict_reply 7 1.0.0 'network name "a/b"' ADD $P c1 /run/netns/c1 eth0 \
		<<< "${good%\}},\"name\":\"a/b\"}"
done

ok "errors stay strict JSON in the caller's version, naming the input printably"

# A stale state: the container's ifname already exists inside its netns.
ip -n c1 link add eth0 type veth peer name stale0
snap2=$(snapshot)
expect_cni_error 105 "interface eth0 already exists in netns" ADD $B c1 /run/netns/c1 eth0 <<< "$good"
assert_eq "$snap2" "$(snapshot)" "state after refused ADD (existing ifname)"
ip -n c1 link del eth0
# Failure late in ADD (IPAM refuses a requested address outside the subnet)
# must undo the bridge-side work already done: veth gone, no address kept.
expect_cni_error 7 "requested address 10.1.2.3 is not in any range" ADD $B c1 /run/netns/c1 eth0 <<< "$(mk 'c["runtimeConfig"]={"ips":["10.1.2.3"]}')"
ip -o link show | has "cv" && die "veth left behind after failed ADD"
# The bridge itself may exist (it is the network's, created idempotently);
# nothing else may.
after=$(snapshot | grep -v '^c-badnet$' | grep -v '^c-badnet ' || true)
assert_eq "$before" "$after" "kernel + store after all bad inputs"
ok "nothing left behind"

# A result that cannot be written makes ADD fail, and undoes it (issue 8
# item 10): stdout is /dev/full; the error goes to stderr.  These ADDs get
# as far as allocating, which moves the allocator's cursor (last-*), and
# as far as making the network's bridge with its gateway address (the undo
# is a DEL, which never removes a bridge): those are the network's, the
# rest must be as before.
cursorless() { snapshot | grep -v -e '/ipam/badnet/last-[0-9]*$' -e '^c-badnet ' -e '^c-badnet$' || true; }
before=$(cursorless)
for P in $I $B; do
	rc=0; msg=$(cni ADD $P c1 /run/netns/c1 eth0 <<< "$good" 2>&1 >/dev/full) || rc=$?
	[ $rc -ne 0 ] || die "$P: ADD with an unwritable result succeeded"
	assert_contains "$msg" "result: writing to stdout: No space left on device; the ADD was undone" "$P stderr"
	echo "ok: $P: $msg"
done
ip -o link show | has "cv" && die "veth left behind after an unwritten result"

# A result with more routes than it holds fails the ADD (code 999) and
# leaves nothing: the reference host-local gives 32 routes, the default
# route makes 33.
routes=$(python3 -c 'import json; print(json.dumps([{"dst":"10.200.%d.0/24" % i} for i in range(32)]))')
hl=$(mk 'c["isDefaultGateway"]=True; c["ipam"]={"type":"host-local","subnet":"10.98.0.0/24","routes":json.loads(sys.argv[3]),"dataDir":"/var/lib/cni/badinput"}' "$routes")
strict_reply 999 1.0.0 "result: more than 32 routes (the most a result holds)" ADD $B c1 /run/netns/c1 eth0 <<< "$hl"
ip -o link show | has "cv" && die "veth left behind after a full result"
[ -z "$(ls /var/lib/cni/badinput/badnet 2>/dev/null | grep -v -e lock -e last_reserved || true)" ] ||
	die "host-local reservation left behind: $(ls /var/lib/cni/badinput/badnet)"
assert_eq "$before" "$(cursorless)" "kernel + store after unwritable and full results"
ok "unwritable and full results fail the ADD and leave nothing"
