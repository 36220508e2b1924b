# SPDX-License-Identifier: Apache-2.0
# make install / make uninstall into a DESTDIR (issue 12, item 2):
#   exactly the expected files: circuit, the plugins, their links in
#   CNI_BIN_DIR, example conflists and the OCI hooks.d file in
#   share/circuit, seven man pages, bash completion, three systemd units;
#   paths inside follow PREFIX; the man pages render with no groff warning;
#   the completion completes; the installed circuit runs its installed
#   plugins; uninstall leaves no file (and keeps a link that is not ours).
# Nothing outside temp dirs is written: `make` builds into $BUILD, which is
# up to date.
SRC=$(cd "$SRCDIR" && pwd)
d=$(mktemp -d /tmp/circuit-install.XXXXXX)
trap 'rm -rf "$d"' EXIT
mk() { make -s -C "$SRC" BUILD="$BUILD" DESTDIR="$d" "$@"; }
files() { (cd "$d" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort); }

mk install PREFIX=/usr/local
want="/opt/cni/bin/circuit-bridge
/opt/cni/bin/circuit-ipam
/opt/cni/bin/circuit-lb
/opt/cni/bin/circuit-ovs
/opt/cni/bin/circuit-portmap
/opt/cni/bin/circuit-qos
/usr/local/bin/circuit
/usr/local/lib/systemd/system/circuit-agent.service
/usr/local/lib/systemd/system/circuit-gc.service
/usr/local/lib/systemd/system/circuit-gc.timer
/usr/local/lib/systemd/system/circuit-restore.service
/usr/local/libexec/circuit/circuit-bridge
/usr/local/libexec/circuit/circuit-ipam
/usr/local/libexec/circuit/circuit-lb
/usr/local/libexec/circuit/circuit-ovs
/usr/local/libexec/circuit/circuit-portmap
/usr/local/libexec/circuit/circuit-qos
/usr/local/share/bash-completion/completions/circuit
/usr/local/share/circuit/circuit-hooks.json
/usr/local/share/circuit/runc-annotations.json
/usr/local/share/circuit/runc-hooks-network.json
/usr/local/share/circuit/runc-hooks.json
/usr/local/share/circuit/sandbox-portmap.conflist
/usr/local/share/circuit/sandbox-qos.conflist
/usr/local/share/circuit/sandbox.conflist
/usr/local/share/man/man8/circuit-bridge.8
/usr/local/share/man/man8/circuit-ipam.8
/usr/local/share/man/man8/circuit-lb.8
/usr/local/share/man/man8/circuit-ovs.8
/usr/local/share/man/man8/circuit-portmap.8
/usr/local/share/man/man8/circuit-qos.8
/usr/local/share/man/man8/circuit.8"
assert_eq "$want" "$(files)" "installed files"
for p in bridge ipam lb ovs portmap qos; do
	l=$d/opt/cni/bin/circuit-$p
	[ -L "$l" ] || die "$l is not a link"
	assert_eq "/usr/local/libexec/circuit/circuit-$p" "$(readlink "$l")" "link circuit-$p"
	[ -x "$d$(readlink "$l")" ] || die "link circuit-$p: target not executable"
done
ok "make install: $(files | wc -l) files, plugins linked into /opt/cni/bin"

# Paths follow PREFIX; the JSON parses and says what podman/CRI-O need.
share=$d/usr/local/share/circuit
assert_eq "/usr/local/bin/circuit hook" \
	"$(json_get "$(cat "$share/circuit-hooks.json")" '" ".join([d["hook"]["path"], d["hook"]["args"][1]])')" "hooks.d hook"
assert_eq "1.0.0 ['createRuntime', 'poststop'] {'^circuit\\\\.network\$': '.+'}" \
	"$(json_get "$(cat "$share/circuit-hooks.json")" '" ".join([d["version"], str(d["stages"]), str(d["when"]["annotations"])])')" "hooks.d when/stages"
for f in "$share"/*.conflist; do
	v=$(json_get "$(cat "$f")" 'd["cniVersion"] + " " + d["plugins"][0]["type"] + " " + d["plugins"][0]["ipam"]["type"]')
	assert_eq "1.0.0 circuit-bridge circuit-ipam" "$v" "$(basename "$f")"
done
grep -q '"path": "/usr/local/bin/circuit"' "$share/runc-hooks.json" || die "runc-hooks.json path"
unit=$d/usr/local/lib/systemd/system
assert_eq "ExecStart=/usr/local/bin/circuit restore" "$(grep ^ExecStart "$unit/circuit-restore.service")" "restore unit"
assert_eq "ExecStart=/usr/local/bin/circuit gc" "$(grep ^ExecStart "$unit/circuit-gc.service")" "gc unit"
assert_eq "ExecStart=/usr/local/bin/circuit agent" "$(grep ^ExecStart "$unit/circuit-agent.service")" "agent unit"
grep -q '^OnUnitActiveSec=1h$' "$unit/circuit-gc.timer" || die "gc timer"
ok "hooks.d JSON, example conflists (1.0.0), runc snippets and units name /usr/local/bin/circuit"

# Man pages: render, and not one groff warning (all warnings on).
for m in "$d"/usr/local/share/man/man8/*.8; do
	w=$(MANWIDTH=80 man --warnings=w -l "$m" 2>&1 >/dev/null)
	assert_eq "" "$w" "man --warnings=w $(basename "$m")"
	w=$(man --warnings -l "$m" 2>&1 >/dev/null)
	assert_eq "" "$w" "man --warnings $(basename "$m")"
	w=$(MANWIDTH=80 man -l "$m" 2>/dev/null)
	has '^NAME' <<<"$w" || die "$(basename "$m") renders no NAME"
done
ok "man pages: circuit(8) circuit-bridge(8) circuit-ipam(8) circuit-qos(8) circuit-lb(8) circuit-portmap(8) circuit-ovs(8), no warnings"

# The installed binary finds its installed plugins (../libexec/circuit).
assert_contains "$(env -u CNI_PATH "$d/usr/local/bin/circuit" version)" "CNI spec 1.1.0" "installed circuit"
out=$(CNI_COMMAND=VERSION "$d/usr/local/libexec/circuit/circuit-bridge" </dev/null)
assert_contains "$out" '"supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' "installed plugin"
$d/usr/local/bin/circuit network create inst 10.254.90.0/24 2>/dev/null
mkns inst1
ip netns exec inst1 sleep 1000 & sp=$!
sleep 0.1
env -u CNI_PATH CIRCUIT_EXEC_PLUGINS=1 "$d/usr/local/bin/circuit" network connect $sp inst 2>/dev/null ||
	die "connect through the installed plugins"
assert_eq "10.254.90.2/24" "$(ip -n inst1 -o -4 addr show eth0 | awk '{print $4}')" "address via the installed plugins"
env -u CNI_PATH CIRCUIT_EXEC_PLUGINS=1 "$d/usr/local/bin/circuit" network disconnect $sp inst 2>/dev/null
kill $sp; wait $sp 2>/dev/null || true
$d/usr/local/bin/circuit network delete inst 2>/dev/null
ok "the installed circuit runs the installed plugin executables"

# Completion, as bash-completion would load it.
comp() { bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _circuit; echo "${COMPREPLY[*]}"' \
	_ "$d/usr/local/share/bash-completion/completions/circuit" "$@"; }
assert_eq "network lb host cluster hook restore gc agent version" "$(comp circuit "")" "completion: commands"
assert_eq "create ls inspect export connect disconnect delete qos" "$(comp circuit network "")" "completion: network"
assert_eq "set reset show" "$(comp circuit network qos "")" "completion: network qos"
assert_eq "0.3.0 0.3.1 0.4.0 1.0.0 1.1.0" "$(comp circuit network export x --cni-version "")" "completion: --cni-version"
$BIN/circuit network create compa 10.254.91.0/24 2>/dev/null
$BIN/circuit network create compb 10.254.92.0/24 2>/dev/null
assert_eq "compa compb" "$(PATH=$BIN:$PATH comp circuit network export "")" "completion: network names"
assert_eq "compb" "$(PATH=$BIN:$PATH comp circuit network connect 123 compb)" "completion: NAME after PID"
$BIN/circuit network delete compa 2>/dev/null; $BIN/circuit network delete compb 2>/dev/null
ok "bash completion: commands, options, versions, network names"

# uninstall: no file left; a link in CNI_BIN_DIR that is not ours stays.
mk uninstall PREFIX=/usr/local >/dev/null
assert_eq "" "$(files)" "files left after uninstall"
[ ! -e "$d/usr/local/libexec/circuit" ] && [ ! -e "$d/usr/local/share/circuit" ] ||
	die "Circuit's own directories left"
mk install PREFIX=/usr/local
ln -sfn /somewhere/else/bridge "$d/opt/cni/bin/circuit-bridge"
mk uninstall PREFIX=/usr/local >/dev/null
assert_eq "/opt/cni/bin/circuit-bridge" "$(files)" "uninstall keeps a foreign link"
rm "$d/opt/cni/bin/circuit-bridge"
ok "make uninstall removes exactly what install placed"

# Another layout: PREFIX=/usr, the plugins linked where Debian's podman looks.
mk install PREFIX=/usr CNI_BIN_DIR=/usr/lib/cni
assert_eq "/usr/libexec/circuit/circuit-qos" "$(readlink "$d/usr/lib/cni/circuit-qos")" "link under /usr/lib/cni"
assert_eq "ExecStart=/usr/bin/circuit gc" "$(grep ^ExecStart "$d/usr/lib/systemd/system/circuit-gc.service")" "gc unit under /usr"
assert_eq "/usr/bin/circuit" "$(json_get "$(cat "$d/usr/share/circuit/circuit-hooks.json")" 'd["hook"]["path"]')" "hooks.d path under /usr"
mk uninstall PREFIX=/usr CNI_BIN_DIR=/usr/lib/cni >/dev/null
assert_eq "" "$(files)" "files left after uninstall (PREFIX=/usr)"
ok "PREFIX=/usr CNI_BIN_DIR=/usr/lib/cni: installed and uninstalled"
