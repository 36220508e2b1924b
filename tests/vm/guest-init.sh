#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PID 1 inside the VM (after switch_root into the host's read-only root with
# a tmpfs overlay).  Mounts the API filesystems, runs each requested
# tests/vm/v-*.sh in its own network + mount namespace, prints every test's
# output between @@VM-BEGIN/@@VM-END markers on the console (and
# "@@VM-SKIP name reason" before @@VM-END when it skipped), then the
# sentinel VM-EXIT-CODE=<failed tests> and powers off.  Never run on the host.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

if [ $$ != 1 ]; then
	echo "guest-init.sh: only runs as PID 1 inside the test VM" >&2
	exit 1
fi

poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 30
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs shm /dev/shm
mount -t tmpfs run /run
# No tmpfs on /tmp: a BUILD dir under the host's /tmp must stay visible
# (the overlay is writable anyway, and its upper layer is RAM).
# This kernel is not the host's: show the guest the right module tree.
echo /sbin/modprobe >/proc/sys/kernel/modprobe

vmbuild='' vmsrc='' vmtests='' vmtesttimeout=300
for a in $(cat /proc/cmdline); do
	case "$a" in
	vmbuild=*) vmbuild=${a#vmbuild=} ;;
	vmsrc=*) vmsrc=${a#vmsrc=} ;;
	vmtests=*) vmtests=${a#vmtests=} ;;
	vmtesttimeout=*) vmtesttimeout=${a#vmtesttimeout=} ;;
	esac
done
if [ -z "$vmbuild" ] || [ -z "$vmsrc" ] || [ -z "$vmtests" ]; then
	echo "guest-init: missing vmbuild/vmsrc/vmtests on the command line"
	echo "VM-EXIT-CODE=98"
	poweroff_now
fi
here=$vmsrc/tests/vm
echo "@@VM-UP kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"

failed=0
for t in ${vmtests//,/ }; do
	echo "@@VM-BEGIN $t"
	s=$(cut -d' ' -f1 /proc/uptime)
	# Same shape as tests/integration/run.sh: a private network and mount
	# namespace per test, with a private /run/netns and CNI state.
	timeout -k 5 "$vmtesttimeout" \
		unshare --net --mount --propagation private \
		env CIRCUIT_VM_GUEST=1 BUILD="$vmbuild" SRCDIR="$vmsrc" VMDIR="$vmbuild/vm" \
		CIRCUIT_TEST_SKIP=/run/vm-test.skip \
		bash -c '
			mkdir -p /run/netns /var/lib/cni
			mount -t tmpfs tmpfs /run/netns
			mount -t tmpfs tmpfs /var/lib/cni
			export CIRCUIT_STATE_DIR=$(mktemp -d /tmp/circuit-state.XXXXXX)
			ip link set lo up
			. "$0"
			cd "$(dirname "$1")"
			. "$1"
		' "$here/guest-lib.sh" "$here/v-$t.sh" >/run/vm-test.log 2>&1 </dev/null
	rc=$?
	e=$(cut -d' ' -f1 /proc/uptime)
	cat /run/vm-test.log
	# 77 with a reason (lib.sh's skip) is a skip, not a failure.
	if [ $rc -eq 77 ] && [ -s /run/vm-test.skip ]; then
		echo "@@VM-SKIP $t $(cat /run/vm-test.skip)"
	elif [ $rc -ne 0 ]; then
		failed=$((failed+1))
	fi
	rm -f /run/vm-test.skip
	echo "@@VM-END $t rc=$rc dur=$(echo "$e - $s" | bc)"
done
echo "@@VM-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "VM-EXIT-CODE=$failed"
poweroff_now
