# Hostile input: every case gets the right CNI error code, a clear message,
# a non-zero exit, and leaves nothing in the kernel or the store.
mkns c1
B=$BIN/circuit-bridge I=$BIN/circuit-ipam
good='{"cniVersion":"1.0.0","name":"badnet","type":"circuit-bridge","ipMasq":true,"ipam":{"type":"circuit-ipam","subnet":"10.98.0.0/24"}}'
mk() { python3 -c 'import json,sys; c=json.loads(sys.argv[1]); exec(sys.argv[2]); print(json.dumps(c))' "$good" "$1"; }
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
