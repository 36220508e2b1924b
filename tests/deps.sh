#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install what is missing from Debian's packages: build libraries, and the
# real components the tests use as clients and witnesses.
# Usage: tests/deps.sh [all|demo]
#   demo: only what `make demo` needs (build, iproute2, nftables, busybox);
#   all (default): everything the suite uses, for `make check`.
set -e
PKGS="gcc make pkg-config libc6-dev
      libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libyajl-dev libseccomp-dev
      libnftables-dev check clang libclang-rt-14-dev
      iproute2 nftables busybox-static curl python3 bc util-linux procps
      runc podman containernetworking-plugins iperf3 ipvsadm conntrack
      qemu-system-x86 linux-image-amd64 kmod"
# conntrack: the witness of t-portmap's UDP flush (conntrack -L).
# Packaging and the ecosystem tests (issue 12): containerd for `ctr run --cni`,
# debhelper/lintian for `make deb`, man-db for `man --warnings`.
PKGS="$PKGS containerd debhelper dpkg-dev fakeroot lintian man-db bash-completion"
# make bench: gnuplot draws the scale plot, GNU time reads peak RSS.
PKGS="$PKGS gnuplot-nox time"
# Cluster mode (issue 11): libcurl for lib/etcd.c; etcd members for
# t-cluster-etcd (started by the test inside its namespaces only).
PKGS="$PKGS libcurl4-openssl-dev etcd-server"
# The haproxy backend of circuit lb (issue 15): t-lb-haproxy; Circuit starts
# haproxy itself, on its own generated configuration.
PKGS="$PKGS haproxy"
# circuit-ovs (issue 15): ovsdb-server and ovs-vswitchd, started by v-ovs
# inside the VM guest on a database of its own; never on the host.
PKGS="$PKGS openvswitch-switch"
# tests/demo.sh: build, ip and unshare, nft (masquerade), busybox ping.
DEMO_PKGS="gcc make pkg-config libc6-dev
      libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libyajl-dev libseccomp-dev
      libnftables-dev libcurl4-openssl-dev iproute2 nftables busybox-static util-linux"
case ${1:-all} in
all) ;;
demo) PKGS=$DEMO_PKGS ;;
*) echo "usage: $0 [all|demo]" >&2; exit 2 ;;
esac
missing=""
for p in $PKGS; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing:$missing (run as root to install)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
	# A package's own daemon must not run in (or start with) the root
	# namespace: the tests start containerd in namespaces they make.
	case " $missing " in
	*" containerd "*) systemctl disable --now containerd.service || true ;;
	esac
	case " $missing " in
	*" etcd-server "*) systemctl disable --now etcd.service || true ;;
	esac
	case " $missing " in
	*" haproxy "*) systemctl disable --now haproxy.service || true ;;
	esac
	case " $missing " in
	*" openvswitch-switch "*)
		systemctl disable --now openvswitch-switch.service ovs-vswitchd.service \
			ovsdb-server.service || true ;;
	esac
fi
