// SPDX-License-Identifier: Apache-2.0
/*
 * ipam_record.c - an attachment's record (ids/<cid>@<ifname>, hard-linked
 * as ips/<addr>): its key, its text form both ways, and the namespace it
 * was made for (recorded at ADD, proven gone for GC).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "ipam.h"
#include "ipam_int.h"

static int ifname_check(const char *ifname, struct cir_error *err)
{
	size_t n;

	if (!ifname || !ifname[0])
		return cir_err(err, EINVAL, "missing interface name");
	n = strnlen(ifname, CIR_IPAM_IFNAME_MAX + 1);
	if (n > CIR_IPAM_IFNAME_MAX)
		return cir_err(err, EINVAL, "invalid interface name: longer than %d bytes",
			       CIR_IPAM_IFNAME_MAX);
	if (!strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return cir_err(err, EINVAL, "invalid interface name \"%s\"", ifname);
	for (size_t i = 0; i < n; i++)
		if (ifname[i] <= 0x20 || ifname[i] >= 0x7f || ifname[i] == '/' || ifname[i] == ':')
			return cir_err(err, EINVAL, "invalid interface name: bad character 0x%02x",
				       (unsigned char)ifname[i]);
	return 0;
}

/* Validate (cid, ifname) and build "cid@ifname" into key[KEY_MAX]. */
int cir_ipam_key(const char *cid, const char *ifname, char *key, struct cir_error *err)
{
	int r;

	r = cir_name_check("container id", cid, err);
	if (r < 0)
		return r;
	r = ifname_check(ifname, err);
	if (r < 0)
		return r;
	snprintf(key, KEY_MAX, "%s@%s", cid, ifname);
	return 0;
}

void cir_ipam_set_netns(struct cir_ipam *h, const char *netns)
{
	h->netns = netns;
}

/* Identify h->netns now (at ADD): its path and the namespace's inode.  A
 * path that cannot be recorded safely (too long, a space or a control
 * character) or identified is simply not recorded. */
void cir_ipam_netns_identify(const struct cir_ipam *h, struct cir_ipam_netns *ns)
{
	struct stat st;
	size_t n;

	memset(ns, 0, sizeof(*ns));
	if (!h->netns || h->netns[0] != '/')
		return;
	n = strlen(h->netns);
	if (n > NETNS_PATH_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)h->netns[i] <= ' ' || h->netns[i] == 0x7f)
			return;
	if (stat(h->netns, &st) < 0)
		return;
	ns->known = true;
	ns->dev = (unsigned long long)st.st_dev;
	ns->ino = (unsigned long long)st.st_ino;
	memcpy(ns->path, h->netns, n + 1);
}

/* Does the recorded namespace still exist where it was?  A path that is
 * gone (ENOENT; a /proc/PID path of a dead process: ENOENT or ESRCH) or
 * that now holds another namespace proves the attachment dead. */
bool cir_ipam_netns_alive(const struct cir_ipam_netns *ns)
{
	struct stat st;

	if (!ns->known)
		return true;            /* nothing recorded: cannot prove it dead */
	if (stat(ns->path, &st) < 0)
		return !(errno == ENOENT || errno == ESRCH || errno == ENOTDIR);
	return (unsigned long long)st.st_dev == ns->dev &&
	       (unsigned long long)st.st_ino == ns->ino;
}

/* "cid@ifname" + addresses -> the record shared by ids/ and ips/ entries. */
void cir_ipam_record_format(const char *key, const struct cir_ipam_result *res,
			    const struct cir_ipam_netns *ns, char *buf, size_t len)
{
	size_t at = strcspn(key, "@");
	int off;

	off = snprintf(buf, len, "%.*s\n%s\n", (int)at, key, key + at + 1);
	for (size_t i = 0; i < res->n && off > 0 && (size_t)off < len; i++) {
		char a[CIR_CIDR_STRLEN], g[CIR_IP_STRLEN];

		off += snprintf(buf + off, len - (size_t)off, "%s %s\n",
				cir_cidr_format(&res->ips[i].addr, a, sizeof(a)),
				cir_ip_format(&res->ips[i].gateway, g, sizeof(g)));
	}
	if (ns && ns->known && off > 0 && (size_t)off < len)
		snprintf(buf + off, len - (size_t)off, "netns %llu:%llu %s\n", ns->dev, ns->ino,
			 ns->path);
}

/* "netns DEV:INO PATH" -> *ns; -EBADMSG when malformed. */
static int netns_parse(const char *line, struct cir_ipam_netns *ns)
{
	char path[NETNS_PATH_MAX + 2];
	int end = 0;

	memset(ns, 0, sizeof(*ns));
	if (sscanf(line, "netns %llu:%llu %201s%n", &ns->dev, &ns->ino, path, &end) != 3 ||
	    line[end] != '\0' || path[0] != '/' || strlen(path) > NETNS_PATH_MAX)
		return -EBADMSG;
	memcpy(ns->path, path, strlen(path) + 1);
	ns->known = true;
	return 0;
}

/* Take the next "\n"-terminated line of *p into line[len]; false if none. */
static bool next_line(const char **p, char *line, size_t len)
{
	size_t n = strcspn(*p, "\n");

	if ((*p)[n] != '\n' || n >= len)
		return false;
	memcpy(line, *p, n);
	line[n] = '\0';
	*p += n + 1;
	return true;
}

/* Record -> key, addresses and (ns may be NULL) namespace; -EBADMSG when
 * it is not a well-formed one.  Records written before namespaces were
 * recorded have no "netns" line. */
int cir_ipam_record_parse(const char *buf, char *key, struct cir_ipam_result *res,
			  struct cir_ipam_netns *ns)
{
	struct cir_ipam_result out = { 0 };
	struct cir_ipam_netns nsv = { 0 };
	char cid[CIR_NAME_MAX + 2], ifn[CIR_IPAM_IFNAME_MAX + 2];
	char line[NETNS_LINE_MAX + 1];

	if (!next_line(&buf, cid, sizeof(cid)) || !next_line(&buf, ifn, sizeof(ifn)) ||
	    cir_ipam_key(cid, ifn, key, NULL) < 0)
		return -EBADMSG;
	while (*buf) {
		char *sp;

		if (!next_line(&buf, line, sizeof(line)))
			return -EBADMSG;
		if (strncmp(line, "netns ", 6) == 0) {
			if (nsv.known || *buf || netns_parse(line, &nsv) < 0)
				return -EBADMSG;      /* once, and last */
			continue;
		}
		if (out.n >= CIR_IPAM_MAX_SETS || strlen(line) >= CIR_CIDR_STRLEN + CIR_IP_STRLEN + 1)
			return -EBADMSG;
		sp = strchr(line, ' ');
		if (!sp)
			return -EBADMSG;
		*sp = '\0';
		if (cir_cidr_parse(line, 0, &out.ips[out.n].addr, NULL) < 0 ||
		    cir_ip_parse(sp + 1, &out.ips[out.n].gateway, NULL) < 0)
			return -EBADMSG;
		out.n++;
	}
	if (out.n == 0)
		return -EBADMSG;
	*res = out;
	if (ns)
		*ns = nsv;
	return 0;
}

/* Read and parse ids/<key>: 0, -ENOENT, -EBADMSG (garbled or misnamed). */
int cir_ipam_record_read(struct cir_ipam *h, const char *key, struct cir_ipam_result *res,
			 struct cir_error *err)
{
	char buf[RECORD_MAX + 1], inner[KEY_MAX];
	int r;

	r = cir_store_read(h->ids_fd, key, buf, sizeof(buf), err);
	if (r == -EFBIG)
		return -EBADMSG;
	if (r < 0)
		return r;
	if (cir_ipam_record_parse(buf, inner, res, NULL) < 0 || strcmp(inner, key) != 0)
		return -EBADMSG;
	return 0;
}
