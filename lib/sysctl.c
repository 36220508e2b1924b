// SPDX-License-Identifier: Apache-2.0
/*
 * sysctl.c - read and write /proc/sys keys in the caller's namespaces.
 *
 * Each call opens the file afresh (procfs binds net/ entries to the opening
 * thread's network namespace) with O_CLOEXEC|O_NOFOLLOW, and validates the
 * path first so that no caller-supplied piece (an interface name above all)
 * can climb out of /proc/sys or into another key.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "sysctl.h"

#define SYSCTL_ROOT "/proc/sys/"
#define SYSCTL_PATH_MAX 255
#define IFNAME_MAX 15

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

bool cir_sysctl_path_valid(const char *path)
{
	size_t n, comp = 0;

	if (!path || !path[0] || path[0] == '/')
		return false;
	n = strlen(path);
	if (n > SYSCTL_PATH_MAX || path[n - 1] == '/')
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			const char *c = path + i - comp;

			if (comp == 0 || (comp == 1 && c[0] == '.') ||
			    (comp == 2 && c[0] == '.' && c[1] == '.'))
				return false;
			comp = 0;
			continue;
		}
		if (!is_name_char(path[i]))
			return false;
		comp++;
	}
	return true;
}

bool cir_sysctl_ifname_valid(const char *ifname)
{
	size_t n;

	if (!ifname)
		return false;
	n = strlen(ifname);
	if (n == 0 || n > IFNAME_MAX || !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ifname[i];

		/* The kernel's dev_valid_name() also refuses these. */
		if (c <= ' ' || c == 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

static bool value_valid(const char *value)
{
	size_t n;

	if (!value)
		return false;
	n = strlen(value);
	if (n > CIR_SYSCTL_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < ' ' && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Open /proc/sys/@path; the path was validated by the caller. */
static int sysctl_open(const char *path, int flags, struct cir_error *err)
{
	char full[sizeof(SYSCTL_ROOT) + SYSCTL_PATH_MAX];
	int fd;

	snprintf(full, sizeof(full), SYSCTL_ROOT "%s", path);
	fd = open(full, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return cir_err(err, errno, "sysctl %s: %s", path, strerror(errno));
	return fd;
}

int cir_sysctl_write(const char *path, const char *value, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	size_t n;
	ssize_t w;

	if (!cir_sysctl_path_valid(path))
		return cir_err(err, EINVAL, "sysctl path is invalid");
	if (!value_valid(value))
		return cir_err(err, EINVAL, "sysctl %s: value is invalid", path);
	fd = sysctl_open(path, O_WRONLY, err);
	if (fd < 0)
		return fd;
	n = strlen(value);
	/* proc_sys handlers take the whole value in one write. */
	do {
		w = write(fd, value, n);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return cir_err(err, errno, "sysctl %s = %s: %s", path, value, strerror(errno));
	if ((size_t)w != n)
		return cir_err(err, EIO, "sysctl %s = %s: short write", path, value);
	return 0;
}

int cir_sysctl_read(const char *path, char *buf, size_t len, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	char tmp[CIR_SYSCTL_VALUE_MAX + 2];
	size_t got = 0;
	ssize_t r;

	if (!cir_sysctl_path_valid(path))
		return cir_err(err, EINVAL, "sysctl path is invalid");
	if (!buf || len == 0)
		return cir_err(err, EINVAL, "sysctl %s: no buffer", path);
	fd = sysctl_open(path, O_RDONLY, err);
	if (fd < 0)
		return fd;
	for (;;) {
		if (got == sizeof(tmp))
			return cir_err(err, ENOSPC, "sysctl %s: value too long", path);
		r = read(fd, tmp + got, sizeof(tmp) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cir_err(err, errno, "sysctl %s: %s", path, strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	while (got > 0 && (tmp[got - 1] == '\n' || tmp[got - 1] == ' '))
		got--;
	if (got >= len || got > CIR_SYSCTL_VALUE_MAX)
		return cir_err(err, ENOSPC, "sysctl %s: value too long", path);
	memcpy(buf, tmp, got);
	buf[got] = '\0';
	return (int)got;
}

int cir_sysctl_ensure(const char *path, const char *value, struct cir_error *err)
{
	char cur[CIR_SYSCTL_VALUE_MAX + 1];
	int r;

	r = cir_sysctl_read(path, cur, sizeof(cur), err);
	if (r < 0)
		return r;
	if (value && !strcmp(cur, value))
		return 0;
	r = cir_sysctl_write(path, value, err);
	return r < 0 ? r : 1;
}

int cir_sysctl_ip_forward_enable(struct cir_error *err)
{
	return cir_sysctl_ensure("net/ipv4/ip_forward", "1", err);
}

int cir_sysctl_ip6_forward_enable(struct cir_error *err)
{
	return cir_sysctl_ensure("net/ipv6/conf/all/forwarding", "1", err);
}

static int if_path(int family, const char *ifname, const char *key, char *buf, size_t len,
		   struct cir_error *err)
{
	if (family != 4 && family != 6)
		return cir_err(err, EINVAL, "sysctl: family must be 4 or 6");
	if (!cir_sysctl_ifname_valid(ifname))
		return cir_err(err, EINVAL, "sysctl: interface name is invalid");
	if (!key || !key[0] || strchr(key, '/'))
		return cir_err(err, EINVAL, "sysctl %s: key is invalid", ifname);
	if ((size_t)snprintf(buf, len, "net/ipv%d/conf/%s/%s", family, ifname, key) >= len)
		return cir_err(err, EINVAL, "sysctl %s: key too long", ifname);
	/* Interface names may hold characters paths refuse (e.g. '@'). */
	if (!cir_sysctl_path_valid(buf))
		return cir_err(err, EINVAL, "sysctl: interface or key not usable in a path");
	return 0;
}

int cir_sysctl_if_ensure(int family, const char *ifname, const char *key, const char *value,
			 struct cir_error *err)
{
	char path[SYSCTL_PATH_MAX + 1];
	int r;

	r = if_path(family, ifname, key, path, sizeof(path), err);
	if (r < 0)
		return r;
	return cir_sysctl_ensure(path, value, err);
}

int cir_sysctl_if_read(int family, const char *ifname, const char *key, char *buf, size_t len,
		       struct cir_error *err)
{
	char path[SYSCTL_PATH_MAX + 1];
	int r;

	r = if_path(family, ifname, key, path, sizeof(path), err);
	if (r < 0)
		return r;
	return cir_sysctl_read(path, buf, len, err);
}
