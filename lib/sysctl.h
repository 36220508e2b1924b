/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysctl.h - kernel parameters through /proc/sys (netlink has no sysctl).
 *
 * Paths are relative to /proc/sys and use '/' ("net/ipv4/ip_forward").
 * The net/ tree belongs to the network namespace of the thread that OPENS
 * the file, not to the one that mounted /proc: after setns(CLONE_NEWNET)
 * a fresh open sees the new namespace, while a descriptor opened before the
 * switch keeps acting on the old one (verified by tests/integration/t-nft.sh;
 * see spec/nftables.md).  So call these after entering the namespace, and
 * never cache descriptors across setns().  /proc/net, by contrast, is a
 * link to /proc/self/net and follows the process, not the thread.
 */
#ifndef CIR_SYSCTL_H
#define CIR_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Longest value we read or write, NUL excluded. */
#define CIR_SYSCTL_VALUE_MAX 255

/* True for a path below /proc/sys we accept: 1..255 bytes of
 * [A-Za-z0-9_.-] components separated by single '/', no leading or
 * trailing '/', no "." or ".." component. */
bool cir_sysctl_path_valid(const char *path);

/* True for an interface name usable in a sysctl path: 1..15 bytes, no '/',
 * no whitespace or control characters, no ':', and not "." or "..". */
bool cir_sysctl_ifname_valid(const char *ifname);

/*
 * Write @value to /proc/sys/@path.  Returns 0, -EINVAL for a bad path or a
 * value with control characters or longer than CIR_SYSCTL_VALUE_MAX,
 * -ENOENT when the key does not exist in this namespace or kernel, or the
 * errno of open/write.
 */
int cir_sysctl_write(const char *path, const char *value, struct cir_error *err);

/*
 * Read /proc/sys/@path into @buf (trailing newline removed).  Returns the
 * length, -EINVAL, -ENOSPC when the value does not fit, or the errno.
 */
int cir_sysctl_read(const char *path, char *buf, size_t len, struct cir_error *err);

/*
 * Write @value only when the current value differs.  Returns 0 when it was
 * already set, 1 when it was written, -errno on failure.
 */
int cir_sysctl_ensure(const char *path, const char *value, struct cir_error *err);

/* net/ipv4/ip_forward = 1 unless it already is.  0 unchanged, 1 written. */
int cir_sysctl_ip_forward_enable(struct cir_error *err);

/* net/ipv6/conf/all/forwarding = 1 unless it already is. */
int cir_sysctl_ip6_forward_enable(struct cir_error *err);

/*
 * Per-interface key: net/<ipv4|ipv6>/conf/@ifname/@key = @value, for
 * @family 4 or 6 (e.g. 6, "veth0", "disable_ipv6", "1").  @ifname is checked
 * with cir_sysctl_ifname_valid; @key must be one path component.  Writes
 * only when the value differs: 0 unchanged, 1 written, -errno.
 */
int cir_sysctl_if_ensure(int family, const char *ifname, const char *key, const char *value,
			 struct cir_error *err);

/* Read a per-interface key into @buf; returns the length or -errno. */
int cir_sysctl_if_read(int family, const char *ifname, const char *key, char *buf, size_t len,
		       struct cir_error *err);

#endif
