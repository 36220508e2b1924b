#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM tier: tests that need a stock distro kernel (IPVS, netem) run inside a
# throwaway qemu VM booting Debian's kernel.  The guest's root is this
# machine's own filesystem, read-only over 9p with a tmpfs overlay, so it
# sees the binaries just built and every installed tool; it has no network
# device (-nic none) and writes nothing back: results come over the serial
# console between markers.  One VM runs every tests/vm/v-*.sh (or the named
# ones) in sequence; see spec/vm.md.  Last line, exactly:
# "vm: N passed, N failed, N skipped" (a test skips with lib.sh's skip).
# Usage: tests/vm/run.sh BUILD_DIR [v-name ...]
# Env:   VM_TIMEOUT (s, default 1800), VM_TEST_TIMEOUT (s per test file, 300), VM_KERNEL (version under /boot),
#        VM_SMP (2), VM_MEM (MiB, 2048), VERBOSE=1 (print every test's log),
#        VM_PROBE_CFLAGS (extra cc flags for ipvs-probe, e.g. -fsanitize=address
#        with an asan BUILD_DIR), VM_ACCEL (auto: KVM if it boots, else TCG;
#        kvm; tcg), VM_KVM_BOOT_TIMEOUT (s a KVM guest gets to come up, 30).
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "vm: no build dir '${1:-build}'"; echo "vm: 0 passed, 1 failed, 0 skipped"; exit 1; }
shift || true

fatal() {
	echo "vm: $*" >&2
	echo "vm: 0 passed, 1 failed, 0 skipped"
	exit 1
}

# --- the kernel: newest /boot/vmlinuz-* whose modules include IPVS and netem
find_kernel() {
	local v
	if [ -n "${VM_KERNEL:-}" ]; then
		echo "$VM_KERNEL"; return
	fi
	for v in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -rV); do
		if [ -f "/lib/modules/$v/kernel/net/netfilter/ipvs/ip_vs.ko" ] ||
		   ls "/lib/modules/$v/kernel/net/netfilter/ipvs/ip_vs.ko"* >/dev/null 2>&1; then
			echo "$v"; return
		fi
	done
}
kver=$(find_kernel)
[ -n "$kver" ] || fatal "no /boot/vmlinuz-* with IPVS modules (apt-get install linux-image-amd64)"
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || fatal "$kernel not readable"
command -v qemu-system-x86_64 >/dev/null || fatal "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
busybox=$(command -v busybox) || fatal "busybox not installed (apt-get install busybox-static)"
case $(file -L "$busybox" 2>/dev/null) in
*"statically linked"*) ;;
*) fatal "$busybox is not static (apt-get install busybox-static)" ;;
esac
command -v cpio >/dev/null || fatal "cpio not installed"

# --- test list
tests=()
for t in "$@"; do t=${t%.sh}; t=${t#v-}; tests+=("$t"); done
# Benchmarks (v-*-bench.sh) run only when named: make bench, not make check.
# Files with a "# vm: pending REASON" line wait for code not merged yet: run
# them by name only.
[ ${#tests[@]} -eq 0 ] && tests=($(cd "$here" && grep -L '^# vm: pending' v-*.sh | grep -v -- "-bench\.sh$" | sed "s/^v-//; s/\.sh$//" | sort))
for t in "${tests[@]}"; do
	[ -f "$here/v-$t.sh" ] || fatal "no test $here/v-$t.sh"
done

vmdir=$BUILD/vm
mkdir -p "$vmdir"

# --- test-only driver for the IPVS library
[ -f "$BUILD/libcircuit.a" ] || fatal "$BUILD/libcircuit.a missing (run make first)"
PKGS="libnl-3.0 libnl-route-3.0 libnl-genl-3.0 yajl libseccomp libnftables"
if [ ! -x "$vmdir/ipvs-probe" ] || [ "$here/ipvs-probe.c" -nt "$vmdir/ipvs-probe" ] ||
   [ "$BUILD/libcircuit.a" -nt "$vmdir/ipvs-probe" ]; then
	${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror ${VM_PROBE_CFLAGS:-} -I"$src/lib" \
		$(pkg-config --cflags $PKGS) -o "$vmdir/ipvs-probe" "$here/ipvs-probe.c" \
		"$BUILD/libcircuit.a" $(pkg-config --libs $PKGS) ||
		fatal "building ipvs-probe failed"
fi

# --- initramfs (cached per kernel version; rebuilt when this script changes)
initrd=$vmdir/initrd-$kver.gz
if [ ! -s "$initrd" ] || [ "$0" -nt "$initrd" ]; then
	root=$(mktemp -d /tmp/circuit-initrd.XXXXXX)
	trap 'rm -rf "$root"' EXIT
	mkdir -p "$root"/{bin,dev,proc,lower,upper,host}
	cp "$busybox" "$root/bin/busybox"
	for a in sh mount umount mkdir cat insmod switch_root sleep echo; do
		ln -s busybox "$root/bin/$a"
	done
	# Modules (and their dependencies, in load order, without repeats).
	mods=$(for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -S "$kver" --show-depends "$m" 2>/dev/null
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
	: >"$root/modules.list"
	for f in $mods; do
		mkdir -p "$root$(dirname "$f")"
		cp "$f" "$root$f"
		echo "$f" >>"$root/modules.list"
	done
	cat >"$root/init" <<'EOF'
#!/bin/sh
# Circuit VM tier initramfs: mount the host's root read-only over 9p with a
# tmpfs overlay and switch_root into it (not chroot: the kernel's module
# autoloader must find the real /sbin/modprobe).
mount -t proc proc /proc
mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do insmod "$m" 2>/dev/null; done
fail() {
	echo "vm-init: $*"
	echo "VM-EXIT-CODE=99"
	echo o >/proc/sysrq-trigger
	sleep 5
}
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
	fail "mount 9p hostroot"
mount -t tmpfs tmp /upper && mkdir -p /upper/u /upper/w || fail "tmpfs"
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /host ||
	fail "mount overlay"
script=
for a in $(cat /proc/cmdline); do
	case "$a" in vmscript=*) script=${a#vmscript=} ;; esac
done
[ -n "$script" ] || fail "no vmscript= on the kernel command line"
umount /dev
umount /proc
exec switch_root /host /bin/bash "$script"
EOF
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp" &&
		mv "$initrd.tmp" "$initrd" || fatal "building initramfs failed"
	rm -rf "$root"
	trap - EXIT
fi

# --- boot one VM for all tests
console=$vmdir/console.log
timeout_s=${VM_TIMEOUT:-1800}
# Paths go on the command line, never commands ("Too many boot init vars").
append="console=ttyS0 quiet loglevel=3 panic=-1 vmscript=$here/guest-init.sh"
append+=" vmbuild=$BUILD vmsrc=$src vmtests=$(IFS=,; echo "${tests[*]}")"
# A test's own limit inside the guest (default 300 s; make bench's scale
# runs need more under TCG): the guest gets no environment, only this.
append+=" vmtesttimeout=${VM_TEST_TIMEOUT:-300}"

# boot ACCEL [BOOT_TIMEOUT]: run the VM to its end, console in $console;
# returns qemu's status.  With BOOT_TIMEOUT (s), a guest that has not said
# @@VM-UP by then is stopped and boot returns 200: the caller falls back.
boot() {
	local accel=$1 watch=${2:-} qpid n=0 rc
	timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu max \
		-smp "${VM_SMP:-2}" -m "${VM_MEM:-2048}" \
		-nographic -no-reboot -nic none \
		-kernel "$kernel" -initrd "$initrd" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-append "$append" </dev/null >"$console.raw" 2>&1 &
	qpid=$!
	if [ -n "$watch" ]; then
		while ! grep -a '^@@VM-UP' "$console.raw" >/dev/null; do
			if ! kill -0 "$qpid" 2>/dev/null || [ $n -ge $((watch * 10)) ]; then
				kill "$qpid" 2>/dev/null	# timeout passes it on to qemu
				wait "$qpid"
				tr -d '\r' <"$console.raw" >"$console"
				return 200
			fi
			sleep 0.1; n=$((n+1))
		done
	fi
	wait "$qpid"; rc=$?
	tr -d '\r' <"$console.raw" >"$console"
	return $rc
}

# KVM when /dev/kvm is usable and a KVM guest comes up within
# VM_KVM_BOOT_TIMEOUT seconds (a KVM guest has hung at boot on some of these
# machines), TCG otherwise: one boot either way, two only when KVM fails.
accel=${VM_ACCEL:-auto}
start=$(date +%s.%N)
case $accel in
auto)
	accel=tcg
	if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		accel=kvm
		boot kvm "${VM_KVM_BOOT_TIMEOUT:-30}"; qrc=$?
		if [ $qrc = 200 ]; then
			echo "vm: no KVM guest up within ${VM_KVM_BOOT_TIMEOUT:-30}s (qemu ended or hung), falling back to TCG; console tail:"
			tail -5 "$console" | sed 's/^/    /'
			accel=tcg
		fi
	fi
	[ $accel = tcg ] && { boot tcg; qrc=$?; }
	;;
kvm|tcg)
	boot "$accel"; qrc=$?
	;;
*)
	fatal "VM_ACCEL must be auto, kvm or tcg"
	;;
esac
wall=$(echo "$(date +%s.%N) - $start" | bc)

# --- results from the console, between markers
pass=0; fail=0; skip=0
for t in "${tests[@]}"; do
	log=$(awk -v t="$t" '
		$0 == "@@VM-BEGIN " t { on = 1; next }
		on && index($0, "@@VM-END " t " ") == 1 { print; exit }
		on { print }' "$console")
	end=$(printf '%s\n' "$log" | grep "^@@VM-END $t " | tail -1)
	body=$(printf '%s\n' "$log" | grep -v "^@@VM-END ")
	reason=$(printf '%s\n' "$log" | sed -n "s/^@@VM-SKIP $t //p" | tail -1)
	rc=$(printf '%s\n' "$end" | sed -n 's/.* rc=\([0-9]*\).*/\1/p')
	dur=$(printf '%s\n' "$end" | sed -n 's/.* dur=\([0-9.]*\).*/\1/p')
	if [ -z "$end" ]; then
		fail=$((fail+1)); echo "FAIL $t (no result: VM died or timed out)"
		printf '%s\n' "$body" | sed 's/^/    /' | tail -60
	elif [ "$rc" = 0 ]; then
		pass=$((pass+1)); echo "PASS $t (${dur}s in guest)"
		[ -n "${VERBOSE:-}" ] && printf '%s\n' "$body" | sed 's/^/    /'
	elif [ "$rc" = 77 ] && [ -n "$reason" ]; then
		skip=$((skip+1)); echo "SKIP $t: $reason (${dur}s in guest)"
		[ -n "${VERBOSE:-}" ] && printf '%s\n' "$body" | sed 's/^/    /'
	else
		fail=$((fail+1)); echo "FAIL $t (rc=$rc, ${dur}s in guest)"
		printf '%s\n' "$body" | sed 's/^/    /' | tail -60
	fi
	# Measured numbers always (already in the log printed on failure).
	if [ "$rc" = 0 ] && [ -z "${VERBOSE:-}" ]; then
		printf '%s\n' "$body" | grep '^MEASURE' | sed 's/^/    /'
	fi
done

sentinel=$(sed -n 's/^VM-EXIT-CODE=\([0-9]*\)$/\1/p' "$console" | tail -1)
echo "MEASURE vm kernel=$kver accel=$accel boot+run wall=${wall}s qemu_rc=$qrc"
if [ -z "$sentinel" ]; then
	echo "vm: sentinel VM-EXIT-CODE missing (boot failure or timeout after ${timeout_s}s); console tail:"
	tail -40 "$console" | sed 's/^/    /'
	[ $fail -eq 0 ] && fail=1
elif [ "$sentinel" != 0 ] && [ $fail -eq 0 ]; then
	echo "vm: guest reported VM-EXIT-CODE=$sentinel; console tail:"
	tail -40 "$console" | sed 's/^/    /'
	fail=1
fi
echo "vm: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
