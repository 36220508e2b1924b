# SPDX-License-Identifier: Apache-2.0
# The Debian package (issue 12, item 4):
#   `make deb` (dpkg-buildpackage -us -uc -b, debhelper compat 13) builds
#   circuit_*.deb in a copy of the tree below a temp BUILD; lintian reports
#   no error; the package holds circuit, the plugins with their links in
#   /usr/lib/cni, man pages, completion, examples and units;
#   `dpkg -i` on this machine as it is, without touching it: dpkg runs in a
#   chroot whose root is an overlay of / with a tmpfs upper layer, in this
#   test's mount namespace (the real dpkg database and /usr never change);
#   there the installed circuit and plugins work (a network, a container
#   connected in this test's network namespace), and `dpkg -P` removes
#   every file.
command -v dpkg-buildpackage >/dev/null || die "dpkg-dev not installed"
[ -e /usr/share/perl5/Debian/Debhelper/Dh_Lib.pm ] || die "debhelper not installed"
command -v lintian >/dev/null || die "lintian not installed"
SRC=$(cd "$SRCDIR" && pwd)
d=$(mktemp -d /tmp/circuit-deb.XXXXXX)
R=$d/ovl/root
sp=""
cleanup() {
	[ -n "$sp" ] && kill "$sp" 2>/dev/null
	umount -R "$R" 2>/dev/null || umount -l "$R" 2>/dev/null || true
	umount -l "$d/ovl" 2>/dev/null || true
	rm -rf "$d"
}
trap cleanup EXIT

t0=$(date +%s)
make -s -C "$SRC" deb BUILD="$d/b" >"$d/build.log" 2>&1 || die "make deb: $(tail -20 "$d/build.log")"
echo "MEASURE make deb s=$(( $(date +%s) - t0 ))"
deb=$(ls "$d"/b/deb/circuit_*_*.deb)
[ -f "$deb" ] || die "no circuit_*.deb in $d/b/deb: $(ls "$d/b/deb")"
ok "make deb: $(basename "$deb")"

lint=$(lintian "$d"/b/deb/circuit_*.changes 2>&1 | grep -v 'running with root privileges' || true)
errors=$(echo "$lint" | grep '^E:' || true)
assert_eq "" "$errors" "lintian errors"
ok "lintian: no error$( [ -n "$lint" ] && echo "; $(echo "$lint" | tr '\n' ';')")"

contents=$(dpkg -c "$deb" | awk '{print $6, $7, $8}')
for f in ./usr/bin/circuit ./usr/libexec/circuit/circuit-bridge ./usr/libexec/circuit/circuit-qos \
	./usr/libexec/circuit/circuit-portmap ./usr/share/man/man8/circuit-portmap.8.gz \
	./usr/libexec/circuit/circuit-ovs ./usr/share/man/man8/circuit-ovs.8.gz \
	./usr/share/man/man8/circuit.8.gz ./usr/share/man/man8/circuit-lb.8.gz \
	./usr/share/bash-completion/completions/circuit ./usr/share/circuit/circuit-hooks.json \
	./lib/systemd/system/circuit-gc.timer ./lib/systemd/system/circuit-restore.service; do
	echo "$contents" | has "^$f( |\$)" || die "$f not in the package"
done
echo "$contents" | has '^./usr/lib/cni/circuit-ipam -> ../../libexec/circuit/circuit-ipam$' ||
	die "no /usr/lib/cni link: $contents"
echo "$contents" | has '^./usr/lib/cni/circuit-portmap -> ../../libexec/circuit/circuit-portmap$' ||
	die "no /usr/lib/cni link for circuit-portmap: $contents"
ok "package contents: binaries, /usr/lib/cni links, man pages, completion, share/circuit, units"

# dpkg -i into an overlay of this machine's root: writes go to a tmpfs.
mkdir -p "$d/ovl"
mount -t tmpfs tmpfs "$d/ovl"
mkdir -p "$d/ovl/upper" "$d/ovl/work" "$R"
mount -t overlay overlay -o "lowerdir=/,upperdir=$d/ovl/upper,workdir=$d/ovl/work" "$R"
for m in proc sys dev; do mount --rbind "/$m" "$R/$m"; done
mount -t tmpfs tmpfs "$R/run"; mkdir -p "$R/run/netns"
mount -t tmpfs tmpfs "$R/tmp"
mount -t tmpfs tmpfs "$R/var/lib/circuit" 2>/dev/null || { mkdir -p "$R/var/lib/circuit"; mount -t tmpfs tmpfs "$R/var/lib/circuit"; }
cp "$deb" "$R/tmp/"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
dpkg-query -W circuit >/dev/null 2>&1 && die "circuit is installed on this machine already"
in_root dpkg -i "/tmp/$(basename "$deb")" >"$d/dpkg.log" 2>&1 || die "dpkg -i: $(cat "$d/dpkg.log")"
assert_eq "install ok installed" "$(in_root dpkg-query -W -f='${Status}' circuit)" "package status"
assert_contains "$(in_root circuit version)" "CNI spec 1.1.0" "installed circuit"
assert_contains "$(in_root sh -c 'CNI_COMMAND=VERSION /usr/lib/cni/circuit-bridge </dev/null')" \
	'"supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' "plugin through /usr/lib/cni"
assert_eq "/usr/share/man/man8/circuit.8.gz" "$(in_root man -w circuit)" "man -w circuit"
ok "dpkg -i in an overlay chroot: circuit $(in_root dpkg-query -W -f='${Version}' circuit) installed"

# It works: a network, a container process connected, in this test's netns.
in_root circuit network create pkgnet 10.254.95.0/24 2>/dev/null || die "create with the package"
unshare -n sleep 1000 & sp=$!
sleep 0.2
in_root circuit network connect $sp pkgnet 2>/dev/null || die "connect with the package"
assert_eq "10.254.95.2/24" "$(nsenter -t $sp -n ip -o -4 addr show eth0 | awk '{print $4}')" "address"
nsenter -t $sp -n busybox ping -c1 -W2 10.254.95.1 >/dev/null || die "no gateway"
in_root circuit network disconnect $sp pkgnet 2>/dev/null
in_root circuit network delete pkgnet 2>/dev/null
kill $sp; wait $sp 2>/dev/null || true; sp=""
ok "the packaged circuit creates a network and connects a container"

in_root dpkg -P circuit >"$d/dpkg.log" 2>&1 || die "dpkg -P: $(cat "$d/dpkg.log")"
for f in /usr/bin/circuit /usr/libexec/circuit /usr/lib/cni/circuit-bridge /usr/share/circuit \
	/usr/share/man/man8/circuit.8.gz /lib/systemd/system/circuit-gc.timer; do
	[ ! -e "$R$f" ] && [ ! -L "$R$f" ] || die "$f left after dpkg -P"
done
dpkg-query -W circuit >/dev/null 2>&1 && die "the real dpkg database changed"
[ ! -e /usr/bin/circuit ] || die "/usr/bin/circuit appeared on the machine"
ok "dpkg -P removed every file; the machine's own dpkg database and /usr never changed"
