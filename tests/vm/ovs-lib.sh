# SPDX-License-Identifier: Apache-2.0
# Helpers of the v-ovs* VM tests (sourced by them, not a test itself):
# ovsdb-server and ovs-vswitchd on a fresh database in a temp run dir inside
# the test's namespace, ovs-vsctl as a witness, containers as namespaces
# with a sleeping process, busybox ping.
command -v ovsdb-server >/dev/null && command -v ovs-vswitchd >/dev/null ||
	skip "openvswitch-switch is not installed (tests/deps.sh all)"
modprobe openvswitch || die "the guest kernel has no openvswitch module"
ovsrun=$(mktemp -d /tmp/ovs.XXXXXX)
export OVS_RUNDIR=$ovsrun OVS_DBDIR=$ovsrun OVS_LOGDIR=$ovsrun OVS_SYSCONFDIR=$ovsrun
sock=$ovsrun/db.sock
vsctl() { ovs-vsctl --no-wait --db="unix:$sock" "$@"; }
ovs_start() {
	ovsdb-tool create "$ovsrun/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	ovsdb-server "$ovsrun/conf.db" --remote="punix:$sock" --pidfile="$ovsrun/ovsdb-server.pid" \
		--unixctl="$ovsrun/ovsdb-server.ctl" --log-file="$ovsrun/ovsdb-server.log" \
		--detach --no-chdir
	ovs-vswitchd "unix:$sock" --pidfile="$ovsrun/ovs-vswitchd.pid" \
		--unixctl="$ovsrun/ovs-vswitchd.ctl" --log-file="$ovsrun/ovs-vswitchd.log" \
		--detach --no-chdir
}
ovs_stop() {
	local d p
	for d in ovs-vswitchd ovsdb-server; do
		[ -f "$ovsrun/$d.pid" ] || continue
		p=$(cat "$ovsrun/$d.pid")
		kill "$p" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		rm -f "$ovsrun/$d.pid"
	done
}
pids=()
ovs_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	ovs_stop
	rm -rf "$ovsrun"
}
trap ovs_cleanup EXIT
# ctr NS: a namespace with a sleeping process in it, its pid in $pid
ctr() { mkns "$1"; ip netns exec "$1" sleep 1000 & pid=$!; pids+=("$pid"); netns_wait "$pid"; }
# reach NS ADDR: a reply within a few tries (the first packets of a flow go
# up to ovs-vswitchd, slow under TCG)
reach() { ip netns exec "$1" busybox ping -c 3 -w 15 "$2" >/dev/null 2>&1; }
# unreachable NS ADDR: no reply to 3 pings
unreachable() { ! ip netns exec "$1" busybox ping -c 3 -w 4 "$2" >/dev/null 2>&1; }
addr() { ip -n "$1" -o -4 addr show eth0 | awk '{print $4}'; }
