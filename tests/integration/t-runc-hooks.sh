# SPDX-License-Identifier: Apache-2.0
# End to end with real runc (cgroupfs driver, cgroup v1 here; the default
# works, no --systemd-cgroup): busybox bundles with circuit as prestart +
# poststop hook, in this test's namespaces.  runc gives hooks an empty
# environment, so circuit must find its plugins from its own location: we
# install it like `make install` does (bin/circuit + libexec/circuit/) and
# its state goes to the default /var/lib/circuit, a tmpfs in our mount ns.
#   (a) no env: network named after the container, first free /24
#   (b) NETWORK/SUBNET env, exactly as in the README
#   (c) two containers on one NETWORK: ping each other and the gateway;
#       stopping one leaves the other connected; all gone after both stop
#   a create-phase failure fails `runc run` with a clear message, leaves
#   nothing; a network created with the CLI survives its hook members
#   the README walkthrough: create, ls, connect a runc container by PID,
#   disconnect, the same by container ID, delete
command -v runc >/dev/null || die "runc not installed"
[ -x /bin/busybox ] || die "busybox-static not installed"

T=$(mktemp -d /tmp/circuit-runc.XXXXXX)
R="runc --root $T/runc"
ids=()
cleanup() {
	for id in "${ids[@]}"; do $R delete -f "$id" >/dev/null 2>&1 || true; done
	umount /var/lib/circuit 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/bin" "$T/libexec/circuit" /var/lib/circuit
mount -t tmpfs tmpfs /var/lib/circuit
export CIRCUIT_STATE_DIR=/var/lib/circuit
cp "$BIN/circuit" "$T/bin/"
cp "$BIN"/circuit-* "$T/libexec/circuit/"
C="env -u CNI_PATH $T/bin/circuit"

# bundle NAME HOOKENV_JSON: busybox rootfs running `sleep`, circuit hooks
# with the given env list (or none), its own network namespace.
bundle() {
	local b=$T/$1
	mkdir -p "$b/rootfs/bin"
	cp /bin/busybox "$b/rootfs/bin/"
	for x in sh sleep ping ip cat; do ln -sf busybox "$b/rootfs/bin/$x"; done
	(cd "$b" && runc spec)
	python3 - "$b/config.json" "$T/bin/circuit" "$2" <<'PY'
import json, sys
path, circuit, env = sys.argv[1], sys.argv[2], sys.argv[3]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "1000"]
caps = c["process"]["capabilities"]
for k in caps:
    caps[k] = caps[k] + ["CAP_NET_RAW"]
assert {"type": "network"} in c["linux"]["namespaces"]
hook = {"path": circuit}
if env:
    hook["env"] = json.loads(env)
c["hooks"] = {"prestart": [hook], "poststop": [dict(hook)]}
json.dump(c, open(path, "w"), indent=1)
PY
}
start() { # start ID [ENV_JSON]
	bundle "$1" "${2:-}"
	ids+=("$1")
	$R run -d --bundle "$T/$1" "$1" </dev/null >/dev/null 2>"$T/$1.err" ||
		{ cat "$T/$1.err" >&2; return 1; }
}
stop() { $R kill "$1" KILL; for _ in $(seq 50); do
	[ "$($R state "$1" | json_get "$(cat)" 'd["status"]')" = stopped ] && break; sleep 0.1; done
	$R delete "$1"; }
ip_of() { $R exec "$1" ip -o -4 addr show "${2:-eth0}" | awk '{print $4}'; }
cping() { $R exec "$1" ping -c1 -W2 "$2" >/dev/null || die "$1 cannot ping $2"; }
nets() { $C network ls | tail -n +2 | awk '{print $1}' | tr '\n' ' '; }
only_lo() { [ -z "$(ip -o link show | grep -v ' lo:')" ] || die "links left: $(ip -o link show)"
	[ -z "$(nft list ruleset)" ] || die "nftables left: $(nft list ruleset)"; }

# ---- (a) no env ----
a=ca-$$
start "$a"
assert_eq "$a " "$(nets)" "network named after the container"
assert_eq "10.254.0.2/24" "$(ip_of "$a")" "first free /24 of the pool"
cping "$a" 10.254.0.1
stop "$a"
assert_eq "" "$(nets)" "hook network removed by poststop"
only_lo
ok "(a) no env"

# ---- (b) NETWORK/SUBNET env as in the README ----
b=cb-$$
start "$b" '["NETWORK=demo", "SUBNET=10.254.200.0/24","PATH=/bin:/usr/bin:/usr/sbin:/sbin"]'
assert_eq "demo " "$(nets)" "NETWORK env"
assert_eq "10.254.200.2/24" "$(ip_of "$b")" "SUBNET env"
cping "$b" 10.254.200.1
assert_eq "$b" "$(json_get "$($C network inspect demo)" 'd["members"][0]["container"]')" "member"
stop "$b"
assert_eq "" "$(nets)" "demo removed"
only_lo
ok "(b) NETWORK/SUBNET"

# ---- (c) two containers on one NETWORK ----
# Stopping c1 removes its bridge port; the bridge must keep its MAC (a fixed,
# explicitly set address) or c2's ARP entry for the gateway goes stale.
env='["NETWORK=shared", "SUBNET=10.254.201.0/24"]'
c1=c1-$$; c2=c2-$$
start "$c1" "$env"
start "$c2" "$env"
ip1=$(ip_of "$c1"); ip2=$(ip_of "$c2")
assert_eq "10.254.201.2/24 10.254.201.3/24" "$ip1 $ip2" "addresses"
cping "$c1" "${ip2%/*}"; cping "$c2" "${ip1%/*}"
cping "$c1" 10.254.201.1; cping "$c2" 10.254.201.1
stop "$c1"
assert_eq "shared " "$(nets)" "network stays while c2 runs"
assert_eq "$c2" "$(json_get "$($C network inspect shared)" '" ".join(m["container"] for m in d["members"])')" "members"
cping "$c2" 10.254.201.1
stop "$c2"
assert_eq "" "$(nets)" "shared removed after both stopped"
only_lo
ok "(c) two containers, one network"

# ---- failures and CLI-made networks ----
$C network create blocker 10.254.210.0/24 2>/dev/null
bad=cx-$$
bundle "$bad" '["NETWORK=x", "SUBNET=10.254.210.128/25"]'
ids+=("$bad")
set +e; $R run -d --bundle "$T/$bad" "$bad" </dev/null >/dev/null 2>"$T/bad.err"; rc=$?; set -e
[ $rc -ne 0 ] || die "runc run must fail when the hook fails"
assert_contains "$(cat "$T/bad.err")" "subnet 10.254.210.128/25 overlaps network blocker (10.254.210.0/24)" "hook error"
$R delete -f "$bad" >/dev/null 2>&1 || true
assert_eq "blocker " "$(nets)" "failed hook left no network"
assert_eq 1 "$(ip -o link show | grep -vc ' lo:')" "failed hook left no links (bridge c-blocker only)"
j=cj-$$
start "$j" '["NETWORK=blocker"]'
cping "$j" 10.254.210.1
stop "$j"
assert_eq "blocker " "$(nets)" "a CLI network survives its hook members"
assert_eq 0 "$(json_get "$($C network inspect blocker)" 'len(d["members"])')" "no members left"
$C network delete blocker 2>/dev/null
only_lo
ok "hook failure, CLI network"

# ---- the README walkthrough ----
w=web-00-$$
bundle "$w" ""
python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); del c["hooks"]; json.dump(c,open(p,"w"))' "$T/$w/config.json"
ids+=("$w")
$R run -d --bundle "$T/$w" "$w" </dev/null >/dev/null
pid=$($R list | awk -v id="$w" '$1 == id {print $2}')
expect 0 "INFO[0000] sandbox created" $C network create sandbox 10.254.1.0/24
expect 0 "NAME                SUBNET
sandbox             10.254.1.0/24" $C network ls
expect 0 "INFO[0000] connected container $pid to network sandbox" $C network connect "$pid" sandbox
cping "$w" 10.254.1.1
expect 0 "INFO[0000] disconnected container $pid from network sandbox" $C network disconnect "$pid" sandbox
$R exec "$w" ip link show eth0 >/dev/null 2>&1 && die "eth0 left after disconnect"
# The same by container ID, read from runc's own state (runc --root).
CR="env CIRCUIT_RUNC_ROOT=$T/runc $C"
expect 0 "INFO[0000] connected container $w to network sandbox" $CR network connect "$w" sandbox
cping "$w" 10.254.1.1
assert_eq "$w $pid" "$(json_get "$($C network inspect sandbox)" '" ".join("%s %s" % (m["container"], m["pid"]) for m in d["members"])')" "member by ID"
expect 0 "INFO[0000] disconnected container $w from network sandbox" $CR network disconnect "$w" sandbox
$R exec "$w" ip link show eth0 >/dev/null 2>&1 && die "eth0 left after disconnect by ID"
expect 0 "INFO[0000] sandbox deleted" $C network delete sandbox
$R delete -f "$w"
only_lo
ok "README walkthrough"
