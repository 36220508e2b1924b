// SPDX-License-Identifier: Apache-2.0
/*
 * ipam.c - round-robin address allocator and its indexed, flock-protected
 * store under <root>/ipam/<network>/ (layout: spec/store.md).
 *
 * Each attachment has one record file, ids/<cid>@<ifname>, holding its
 * owner and addresses; each reserved address is a hard link of that record,
 * ips/<addr>.  The link is the reservation (linkat fails with EEXIST when
 * the address is taken) and ownership is inode identity, so an ADD costs
 * one new inode however many addresses it takes, and DEL reads one file.
 *
 * Write order, chosen so that a crash at any point leaks nothing that DEL
 * or GC cannot reclaim:
 *   ADD: ids/<key> (O_EXCL, the intent) -> link ips/<addr> -> cursor
 *   DEL: unlink ips/<addr> if it is our inode -> unlink ids/<key>
 * A crash after the record but before the links leaves a record naming
 * addresses it does not hold: CHECK reports them missing, DEL removes the
 * record, and since DEL and GC only unlink an address that is the record's
 * own inode, an address taken meanwhile by someone else is safe.  An address
 * link whose record is gone (power loss) is removed by GC.
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

#define KEY_MAX (CIR_NAME_MAX + 1 + CIR_IPAM_IFNAME_MAX + 1)    /* cid@ifname\0 */
/* A record: "cid\nifname\n", one "cidr gateway\n" per range set, and
 * optionally "netns DEV:INO PATH\n" (the attachment's namespace). */
#define NETNS_PATH_MAX 200
#define IPAM_DIR "ipam"           /* <root>/ipam/<network>/ */
#define NETNS_LINE_MAX (6 + 42 + NETNS_PATH_MAX + 2)
#define RECORD_MAX (KEY_MAX + 1 + CIR_IPAM_MAX_SETS * (CIR_CIDR_STRLEN + CIR_IP_STRLEN + 1) + \
		    NETNS_LINE_MAX)
#define CURSOR_LEN 48

/* ---- pure part: ranges and the round-robin walk ---- */

int cir_ipam_range_canon(struct cir_ipam_range *r, struct cir_error *err)
{
	char sub[CIR_CIDR_STRLEN], a[CIR_IP_STRLEN], b[CIR_IP_STRLEN];
	unsigned int bits = cir_ip_bits(r->subnet.ip.af);
	struct cir_ip net, first, last;
	struct {
		const char *name;
		struct cir_ip *ip;
	} fields[] = {
		{ "rangeStart", &r->start },
		{ "rangeEnd", &r->end },
		{ "gateway", &r->gateway },
	};

	if (!bits)
		return cir_err(err, EINVAL, "range: missing subnet");
	cir_cidr_format(&r->subnet, sub, sizeof(sub));
	cir_cidr_network(&r->subnet, &net);
	if (!cir_ip_eq(&net, &r->subnet.ip))
		return cir_err(err, EINVAL, "subnet %s: not a network address", sub);
	if (r->subnet.prefix > bits - 2)
		return cir_err(err, EINVAL, "subnet %s: /%u leaves no room for hosts (at most /%u)",
			       sub, r->subnet.prefix, bits - 2);
	if (cir_cidr_first_host(&r->subnet, &first) < 0 ||
	    cir_cidr_last_host(&r->subnet, &last) < 0)
		return cir_err(err, EINVAL, "subnet %s: no usable host", sub);

	if (!r->start.af)
		r->start = first;
	if (!r->end.af)
		r->end = last;
	if (!r->gateway.af)
		r->gateway = first;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct cir_ip *ip = fields[i].ip;

		cir_ip_format(ip, a, sizeof(a));
		if (ip->af != r->subnet.ip.af)
			return cir_err(err, EINVAL, "subnet %s: %s %s is of another address family",
				       sub, fields[i].name, a);
		if (!cir_cidr_contains(&r->subnet, ip))
			return cir_err(err, EINVAL, "subnet %s: %s %s is outside the subnet",
				       sub, fields[i].name, a);
		if (cir_ip_cmp(ip, &first) < 0 || cir_ip_cmp(ip, &last) > 0)
			return cir_err(err, EINVAL, "subnet %s: %s %s is not a host address",
				       sub, fields[i].name, a);
	}
	if (cir_ip_cmp(&r->start, &r->end) > 0)
		return cir_err(err, EINVAL, "subnet %s: rangeStart %s is after rangeEnd %s", sub,
			       cir_ip_format(&r->start, a, sizeof(a)),
			       cir_ip_format(&r->end, b, sizeof(b)));
	return 0;
}

int cir_ipam_config_check(struct cir_ipam_config *cfg, struct cir_error *err)
{
	char a[CIR_IP_STRLEN], b[CIR_IP_STRLEN], c[CIR_IP_STRLEN], d[CIR_IP_STRLEN];
	int r;

	if (cfg->n == 0)
		return cir_err(err, EINVAL, "ipam: no subnet or ranges");
	if (cfg->n > CIR_IPAM_MAX_SETS)
		return cir_err(err, EINVAL, "ipam: more than %d range sets", CIR_IPAM_MAX_SETS);
	for (size_t s = 0; s < cfg->n; s++) {
		struct cir_ipam_rangeset *set = &cfg->sets[s];

		if (set->n == 0)
			return cir_err(err, EINVAL, "ipam: range set %zu is empty", s);
		if (set->n > CIR_IPAM_MAX_RANGES)
			return cir_err(err, EINVAL, "ipam: range set %zu has more than %d ranges", s,
				       CIR_IPAM_MAX_RANGES);
		for (size_t i = 0; i < set->n; i++) {
			r = cir_ipam_range_canon(&set->r[i], err);
			if (r < 0)
				return cir_err_wrap(err, "ipam");
			if (set->r[i].subnet.ip.af != set->r[0].subnet.ip.af)
				return cir_err(err, EINVAL, "ipam: range set %zu mixes address families", s);
		}
	}
	/* No address may belong to two ranges, across all sets. */
	for (size_t s = 0; s < cfg->n; s++)
		for (size_t i = 0; i < cfg->sets[s].n; i++)
			for (size_t t = s; t < cfg->n; t++)
				for (size_t j = (t == s ? i + 1 : 0); j < cfg->sets[t].n; j++) {
					const struct cir_ipam_range *x = &cfg->sets[s].r[i];
					const struct cir_ipam_range *y = &cfg->sets[t].r[j];

					if (x->start.af != y->start.af ||
					    cir_ip_cmp(&x->start, &y->end) > 0 ||
					    cir_ip_cmp(&y->start, &x->end) > 0)
						continue;
					return cir_err(err, EINVAL, "ipam: range %s-%s overlaps range %s-%s",
						       cir_ip_format(&x->start, a, sizeof(a)),
						       cir_ip_format(&x->end, b, sizeof(b)),
						       cir_ip_format(&y->start, c, sizeof(c)),
						       cir_ip_format(&y->end, d, sizeof(d)));
				}
	return 0;
}

void cir_ipam_config_from_subnet(struct cir_ipam_config *cfg, const struct cir_cidr *subnet)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->n = 1;
	cfg->sets[0].n = 1;
	cfg->sets[0].r[0].subnet = *subnet;
}

int cir_ipam_set_find(const struct cir_ipam_rangeset *set, const struct cir_ip *ip)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct cir_ipam_range *r = &set->r[i];

		if (ip->af == r->start.af && cir_ip_cmp(ip, &r->start) >= 0 &&
		    cir_ip_cmp(ip, &r->end) <= 0)
			return (int)i;
	}
	return -1;
}

static void iter_advance(struct cir_ipam_iter *it)
{
	const struct cir_ipam_range *r = &it->set->r[it->ri];

	if (cir_ip_cmp(&it->cur, &r->end) >= 0 || cir_ip_next(&it->cur, &it->cur) < 0) {
		it->ri = (it->ri + 1) % it->set->n;
		it->cur = it->set->r[it->ri].start;
	}
}

void cir_ipam_iter_init(struct cir_ipam_iter *it, const struct cir_ipam_rangeset *set,
			const struct cir_ip *last)
{
	int ri = (last && last->af) ? cir_ipam_set_find(set, last) : -1;

	memset(it, 0, sizeof(*it));
	it->set = set;
	if (set->n == 0) {
		it->done = true;
		return;
	}
	if (ri < 0) {
		it->ri = 0;
		it->cur = set->r[0].start;
	} else {
		it->ri = (size_t)ri;
		it->cur = *last;
		iter_advance(it);
	}
	it->first_ri = it->ri;
	it->first = it->cur;
}

static bool skipped(const struct cir_ipam_range *r, const struct cir_ip *ip)
{
	struct cir_ip edge;

	if (cir_ip_eq(ip, &r->gateway))
		return true;
	cir_cidr_network(&r->subnet, &edge);
	if (cir_ip_eq(ip, &edge))
		return true;
	cir_cidr_broadcast(&r->subnet, &edge);
	return ip->af == AF_INET && cir_ip_eq(ip, &edge);
}

bool cir_ipam_iter_next(struct cir_ipam_iter *it, struct cir_ip *out)
{
	while (!it->done) {
		struct cir_ip c = it->cur;
		size_t ri = it->ri;

		iter_advance(it);
		if (it->ri == it->first_ri && cir_ip_eq(&it->cur, &it->first))
			it->done = true;
		if (skipped(&it->set->r[ri], &c))
			continue;
		*out = c;
		return true;
	}
	return false;
}

/* ---- the store side ---- */

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
static int make_key(const char *cid, const char *ifname, char *key, struct cir_error *err)
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

/* The namespace an allocation was made for, as recorded. */
struct rec_netns {
	bool known;
	unsigned long long dev, ino;
	char path[NETNS_PATH_MAX + 1];
};

void cir_ipam_set_netns(struct cir_ipam *h, const char *netns)
{
	h->netns = netns;
}

/* Identify h->netns now (at ADD): its path and the namespace's inode.  A
 * path that cannot be recorded safely (too long, a space or a control
 * character) or identified is simply not recorded. */
static void netns_identify(const struct cir_ipam *h, struct rec_netns *ns)
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
static bool netns_alive(const struct rec_netns *ns)
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
static void record_format(const char *key, const struct cir_ipam_result *res,
			  const struct rec_netns *ns, char *buf, size_t len)
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
static int netns_parse(const char *line, struct rec_netns *ns)
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
static int record_parse(const char *buf, char *key, struct cir_ipam_result *res,
			struct rec_netns *ns)
{
	struct cir_ipam_result out = { 0 };
	struct rec_netns nsv = { 0 };
	char cid[CIR_NAME_MAX + 2], ifn[CIR_IPAM_IFNAME_MAX + 2];
	char line[NETNS_LINE_MAX + 1];

	if (!next_line(&buf, cid, sizeof(cid)) || !next_line(&buf, ifn, sizeof(ifn)) ||
	    make_key(cid, ifn, key, NULL) < 0)
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
static int record_read(struct cir_ipam *h, const char *key, struct cir_ipam_result *res,
		       struct cir_error *err)
{
	char buf[RECORD_MAX + 1], inner[KEY_MAX];
	int r;

	r = cir_store_read(h->ids_fd, key, buf, sizeof(buf), err);
	if (r == -EFBIG)
		return -EBADMSG;
	if (r < 0)
		return r;
	if (record_parse(buf, inner, res, NULL) < 0 || strcmp(inner, key) != 0)
		return -EBADMSG;
	return 0;
}

static int ipam_open(struct cir_ipam *h, const struct cir_store *st, const char *network,
		     bool create, struct cir_error *err)
{
	_cleanup_close_ int top = -1, fd = -1, ips = -1, ids = -1;
	int r;

	r = cir_name_check("network name", network, err);
	if (r < 0)
		return r;
	top = cir_store_dir(st->fd, IPAM_DIR, create, err);
	if (top < 0)
		return cir_err_wrap(err, "state %s", st->path);
	fd = cir_store_dir(top, network, create, err);
	if (fd < 0)
		return cir_err_wrap(err, "state %s/ipam", st->path);
	ips = cir_store_dir(fd, "ips", create, err);
	if (ips < 0)
		return cir_err_wrap(err, "state %s/ipam/%s", st->path, network);
	ids = cir_store_dir(fd, "ids", create, err);
	if (ids < 0)
		return cir_err_wrap(err, "state %s/ipam/%s", st->path, network);
	h->fd = TAKE_FD(fd);
	h->ips_fd = TAKE_FD(ips);
	h->ids_fd = TAKE_FD(ids);
	snprintf(h->network, sizeof(h->network), "%s", network);
	return 0;
}

int cir_ipam_open(struct cir_ipam *h, const struct cir_store *st, const char *network,
		  struct cir_error *err)
{
	return ipam_open(h, st, network, true, err);
}

int cir_ipam_open_existing(struct cir_ipam *h, const struct cir_store *st, const char *network,
			   struct cir_error *err)
{
	return ipam_open(h, st, network, false, err);
}

void cir_ipam_close(struct cir_ipam *h)
{
	int *fds[] = { &h->fd, &h->ips_fd, &h->ids_fd };

	for (size_t i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Is ips/<ip> a link of ids/<key>?  1 yes, 0 no or absent, -errno. */
static int owned_by(struct cir_ipam *h, const char *key, const struct cir_ip *ip)
{
	char name[CIR_IP_STRLEN];

	return cir_store_same_file(h->ids_fd, key, h->ips_fd,
				   cir_ip_format(ip, name, sizeof(name)), NULL);
}

/* Release key under the lock.  1 released, 0 nothing held. */
static int release_locked(struct cir_ipam *h, const char *key, struct cir_error *err)
{
	struct cir_ipam_result res;
	char name[CIR_IP_STRLEN];
	int r;

	r = record_read(h, key, &res, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0 && r != -EBADMSG)
		return r;
	/* A garbled record still goes; its address links become GC's orphans. */
	for (size_t i = 0; r == 0 && i < res.n; i++) {
		const struct cir_ip *ip = &res.ips[i].addr.ip;
		int own = owned_by(h, key, ip);

		cir_ip_format(ip, name, sizeof(name));
		if (own < 0)
			return cir_err(err, own, "address %s: %s", name, strerror(-own));
		if (own == 1) {
			own = cir_store_unlink(h->ips_fd, name, err);
			if (own < 0)
				return own;
		}
	}
	r = cir_store_unlink(h->ids_fd, key, err);
	return r < 0 ? r : 1;
}

static void read_cursor(struct cir_ipam *h, size_t set, struct cir_ip *last)
{
	char name[32], buf[CURSOR_LEN + 1];

	memset(last, 0, sizeof(*last));
	snprintf(name, sizeof(name), "last-%zu", set);
	if (cir_store_read(h->fd, name, buf, sizeof(buf), NULL) <= 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	if (cir_ip_parse(buf, last, NULL) < 0)
		memset(last, 0, sizeof(*last));
}

static int write_cursor(struct cir_ipam *h, size_t set, const struct cir_ip *ip,
			struct cir_error *err)
{
	char name[32], buf[CURSOR_LEN];

	snprintf(name, sizeof(name), "last-%zu", set);
	cir_ip_format(ip, buf, CIR_IP_STRLEN);
	strcat(buf, "\n");
	return cir_store_overwrite(h->fd, name, buf, strlen(buf), err);
}

static const char *set_subnets(const struct cir_ipam_rangeset *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < set->n && off < len; i++) {
		char c[CIR_CIDR_STRLEN];

		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					cir_cidr_format(&set->r[i].subnet, c, sizeof(c)));
	}
	return buf;
}

/* First free candidate of set after its cursor: 0 found, -ENOSPC none. */
static int find_free(struct cir_ipam *h, const struct cir_ipam_rangeset *set, size_t s,
		     struct cir_ip *out, struct cir_error *err)
{
	struct cir_ipam_iter it;
	struct cir_ip last, ip;
	char name[CIR_IP_STRLEN], subs[200];

	read_cursor(h, s, &last);
	cir_ipam_iter_init(&it, set, &last);
	while (cir_ipam_iter_next(&it, &ip)) {
		int r = cir_store_exists(h->ips_fd, cir_ip_format(&ip, name, sizeof(name)), err);

		if (r < 0)
			return r;
		if (r == 0) {
			*out = ip;
			return 0;
		}
	}
	return cir_err_code(err, CIR_CNI_POOL_EXHAUSTED, ENOSPC, "no free address in network %s (%s)",
			    h->network, set_subnets(set, subs, sizeof(subs)));
}

/* Match each requested address to its range set: want[s] (af 0 = none). */
static int match_requests(struct cir_ipam *h, const struct cir_ipam_config *cfg,
			  const struct cir_ip *req, size_t n_req, struct cir_ip *want,
			  struct cir_error *err)
{
	char a[CIR_IP_STRLEN], b[CIR_IP_STRLEN];

	for (size_t i = 0; i < n_req; i++) {
		size_t s;
		int ri = -1;

		cir_ip_format(&req[i], a, sizeof(a));
		for (s = 0; s < cfg->n; s++) {
			ri = cir_ipam_set_find(&cfg->sets[s], &req[i]);
			if (ri >= 0)
				break;
		}
		if (ri < 0)
			return cir_err(err, EINVAL, "requested address %s is not in any range of network %s",
				       a, h->network);
		if (cir_ip_eq(&req[i], &cfg->sets[s].r[ri].gateway))
			return cir_err(err, EINVAL, "requested address %s is the gateway of network %s",
				       a, h->network);
		if (want[s].af)
			return cir_err(err, EINVAL, "requested addresses %s and %s are in the same range of network %s",
				       cir_ip_format(&want[s], b, sizeof(b)), a, h->network);
		want[s] = req[i];
	}
	return 0;
}

/* The addresses of one allocation into *res: each range set's requested
 * one (refused when taken), else its next free one.  Under the lock. */
static int alloc_pick(struct cir_ipam *h, const struct cir_ipam_config *cfg,
		      const struct cir_ip *want, struct cir_ipam_result *res,
		      struct cir_error *err)
{
	char name[CIR_IP_STRLEN];
	int r;

	for (size_t s = 0; s < cfg->n; s++) {
		const struct cir_ipam_rangeset *set = &cfg->sets[s];
		struct cir_ip ip;
		int ri;

		if (want[s].af) {
			ip = want[s];
			r = cir_store_exists(h->ips_fd, cir_ip_format(&ip, name, sizeof(name)), err);
			if (r < 0)
				return cir_err_wrap(err, "network %s", h->network);
			if (r > 0)
				return cir_err_code(err, CIR_CNI_ALREADY_ALLOCATED, EEXIST,
						    "requested address %s is already allocated in network %s",
						    name, h->network);
		} else {
			r = find_free(h, set, s, &ip, err);
			if (r < 0)
				return r;
		}
		ri = cir_ipam_set_find(set, &ip);
		res->ips[s].addr.ip = ip;
		res->ips[s].addr.prefix = set->r[ri].subnet.prefix;
		res->ips[s].gateway = set->r[ri].gateway;
		res->n++;
	}
	return 0;
}

/* Intent first (the record under ids/), then the reservations (links
 * under ips/), then the cursors (see the top of this file); on failure
 * what was made goes.  Under the lock. */
static int alloc_commit(struct cir_ipam *h, const struct cir_ipam_config *cfg, const char *key,
			const struct cir_ip *want, const struct cir_ipam_result *res,
			struct cir_error *err)
{
	char rec[RECORD_MAX], name[CIR_IP_STRLEN];
	struct rec_netns ns;
	size_t made = 0;
	int r;

	netns_identify(h, &ns);
	record_format(key, res, &ns, rec, sizeof(rec));
	r = cir_store_create(h->ids_fd, key, rec, strlen(rec), err);
	if (r < 0)
		return cir_err_wrap(err, "network %s", h->network);
	for (; made < res->n; made++) {
		cir_ip_format(&res->ips[made].addr.ip, name, sizeof(name));
		r = cir_store_link(h->ids_fd, key, h->ips_fd, name, err);
		if (r < 0)
			goto undo;
	}
	for (size_t s = 0; s < cfg->n; s++) {
		if (want[s].af)
			continue;
		/* The cursor is advisory: losing it only restarts the walk. */
		r = write_cursor(h, s, &res->ips[s].addr.ip, err);
		if (r < 0)
			goto undo;
	}
	return 0;

undo:
	for (size_t i = 0; i < made; i++)
		unlinkat(h->ips_fd, cir_ip_format(&res->ips[i].addr.ip, name, sizeof(name)), 0);
	unlinkat(h->ids_fd, key, 0);
	if (r == -EEXIST)
		return cir_err_code(err, CIR_CNI_ALREADY_ALLOCATED, EEXIST,
				    "network %s: address reserved behind the lock's back", h->network);
	return cir_err_wrap(err, "network %s", h->network);
}

int cir_ipam_alloc(struct cir_ipam *h, const struct cir_ipam_config *cfg_in, const char *cid,
		   const char *ifname, const struct cir_ip *req, size_t n_req,
		   struct cir_ipam_result *out, struct cir_error *err)
{
	struct cir_ipam_config cfg = *cfg_in;
	struct cir_ip want[CIR_IPAM_MAX_SETS] = { 0 };
	struct cir_ipam_result res = { 0 };
	char key[KEY_MAX];
	_cleanup_close_ int lock = -1;
	int r;

	r = make_key(cid, ifname, key, err);
	if (r < 0)
		return r;
	r = cir_ipam_config_check(&cfg, err);
	if (r < 0)
		return r;
	if (n_req > cfg.n)
		return cir_err(err, EINVAL, "%zu addresses requested, network %s has %zu range sets",
			       n_req, h->network, cfg.n);
	r = match_requests(h, &cfg, req, n_req, want, err);
	if (r < 0)
		return r;

	lock = cir_store_lock(h->fd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", h->network);
	r = cir_store_exists(h->ids_fd, key, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s", h->network);
	if (r > 0)
		return cir_err_code(err, CIR_CNI_ALREADY_ALLOCATED, EEXIST,
				    "container %s interface %s already has an address in network %s",
				    cid, ifname, h->network);
	r = alloc_pick(h, &cfg, want, &res, err);
	if (r >= 0)
		r = alloc_commit(h, &cfg, key, want, &res, err);
	if (r < 0)
		return r;
	*out = res;
	return 0;
}

int cir_ipam_release(struct cir_ipam *h, const char *cid, const char *ifname,
		     struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	char key[KEY_MAX];
	int r;

	r = make_key(cid, ifname, key, err);
	if (r < 0)
		return r;
	lock = cir_store_lock(h->fd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", h->network);
	r = release_locked(h, key, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: release %s", h->network, key);
	return r;
}

int cir_ipam_get(struct cir_ipam *h, const char *cid, const char *ifname,
		 struct cir_ipam_result *out, struct cir_error *err)
{
	char key[KEY_MAX], name[CIR_IP_STRLEN];
	_cleanup_close_ int lock = -1;
	struct cir_ipam_result res;
	int r;

	r = make_key(cid, ifname, key, err);
	if (r < 0)
		return r;
	lock = cir_store_lock(h->fd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", h->network);
	r = record_read(h, key, &res, err);
	if (r == -ENOENT)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "container %s interface %s has no address in network %s",
				    cid, ifname, h->network);
	if (r == -EBADMSG)
		return cir_err(err, EBADMSG, "network %s: corrupt record %s", h->network, key);
	if (r < 0)
		return cir_err_wrap(err, "network %s", h->network);
	for (size_t i = 0; i < res.n; i++) {
		cir_ip_format(&res.ips[i].addr.ip, name, sizeof(name));
		r = owned_by(h, key, &res.ips[i].addr.ip);
		if (r < 0)
			return cir_err(err, r, "network %s: address %s: %s", h->network, name,
				       strerror(-r));
		if (r == 0)
			return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
					    "network %s: address %s of container %s interface %s is not reserved",
					    h->network, name, cid, ifname);
	}
	*out = res;
	return 0;
}

/* ---- GC, STATUS, listing: these walk directories ---- */

struct gc {
	struct cir_ipam *h;
	char (*keys)[KEY_MAX];      /* sorted valid keys */
	size_t n;
	unsigned int flags;
	int released;
	struct cir_error *err;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool gc_valid(const struct gc *g, const char *key)
{
	return g->n && bsearch(key, g->keys, g->n, KEY_MAX, key_cmp) != NULL;
}

/* Keep the attachment key (whose record parsed with namespace ns)? */
static bool gc_keep(const struct gc *g, const char *key, const struct rec_netns *ns)
{
	if (gc_valid(g, key))
		return true;
	return (g->flags & CIR_IPAM_GC_KEEP_LIVE) && netns_alive(ns);
}

static int gc_record(const char *key, void *data)
{
	struct gc *g = data;
	char buf[RECORD_MAX + 1], inner[KEY_MAX];
	struct cir_ipam_result res;
	struct rec_netns ns;
	int r;

	if (!strchr(key, '@') || gc_valid(g, key))
		return 0;
	if (g->flags & CIR_IPAM_GC_KEEP_LIVE) {
		/* A garbled record names no namespace: nothing proves it dead
		 * either, but it holds no address it could own; it goes. */
		r = cir_store_read(g->h->ids_fd, key, buf, sizeof(buf), NULL);
		if (r == -ENOENT)
			return 0;
		if (r >= 0 && record_parse(buf, inner, &res, &ns) == 0 &&
		    strcmp(inner, key) == 0 && netns_alive(&ns))
			return 0;
	}
	r = release_locked(g->h, key, g->err);
	if (r < 0)
		return r;
	g->released += r;
	return 0;
}

static int gc_address(const char *name, void *data)
{
	struct gc *g = data;
	char buf[RECORD_MAX + 1], key[KEY_MAX];
	struct cir_ipam_result res;
	struct rec_netns ns;
	struct cir_ip ip;
	int r;

	if (cir_ip_parse(name, &ip, NULL) < 0)
		return 0;       /* not ours: leave it */
	r = cir_store_read(g->h->ips_fd, name, buf, sizeof(buf), NULL);
	if (r < 0 && r != -EFBIG)
		return 0;       /* gone meanwhile, or not a regular file: not ours */
	/* Kept only when it is a live, valid record's own link. */
	if (r >= 0 && record_parse(buf, key, &res, &ns) == 0 && gc_keep(g, key, &ns) &&
	    owned_by(g->h, key, &ip) == 1)
		return 0;
	r = cir_store_unlink(g->h->ips_fd, name, g->err);
	if (r < 0)
		return r;
	g->released += r;
	return 0;
}

int cir_ipam_gc(struct cir_ipam *h, const struct cir_ipam_attachment *valid, size_t n,
		struct cir_error *err)
{
	return cir_ipam_gc_flags(h, valid, n, 0, err);
}

int cir_ipam_gc_flags(struct cir_ipam *h, const struct cir_ipam_attachment *valid, size_t n,
		      unsigned int flags, struct cir_error *err)
{
	_cleanup_free_ char (*keys)[KEY_MAX] = NULL;
	_cleanup_close_ int lock = -1;
	struct gc g = { .h = h, .flags = flags, .err = err };
	int r;

	if (n) {
		keys = calloc(n, KEY_MAX);
		if (!keys)
			return cir_err(err, ENOMEM, "gc: out of memory");
		/* Invalid pairs cannot name anything in the store: skip them. */
		for (size_t i = 0; i < n; i++)
			if (make_key(valid[i].cid, valid[i].ifname, keys[g.n], NULL) == 0)
				g.n++;
		qsort(keys, g.n, KEY_MAX, key_cmp);
	}
	g.keys = keys;

	lock = cir_store_lock(h->fd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", h->network);
	r = cir_store_list(h->ids_fd, gc_record, &g, err);
	if (r >= 0)
		r = cir_store_list(h->ips_fd, gc_address, &g, err);
	if (r >= 0)
		r = cir_store_sweep(h->ids_fd, err);
	if (r >= 0)
		r = cir_store_sweep(h->ips_fd, err);
	if (r >= 0)
		r = cir_store_sweep(h->fd, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: gc", h->network);
	return g.released;
}

int cir_ipam_status(struct cir_ipam *h, const struct cir_ipam_config *cfg_in,
		    struct cir_error *err)
{
	struct cir_ipam_config cfg = *cfg_in;
	_cleanup_close_ int lock = -1;
	int r;

	r = cir_ipam_config_check(&cfg, err);
	if (r < 0)
		return r;
	lock = cir_store_lock(h->fd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", h->network);
	if (faccessat(h->fd, "ips", W_OK | X_OK, AT_EACCESS) < 0 ||
	    faccessat(h->fd, "ids", W_OK | X_OK, AT_EACCESS) < 0)
		return cir_err(err, errno, "network %s: state not writable: %s", h->network,
			       strerror(errno));
	for (size_t s = 0; s < cfg.n; s++) {
		struct cir_ip ip;

		r = find_free(h, &cfg.sets[s], s, &ip, err);
		if (r < 0)
			return r;
	}
	return 0;
}

struct list {
	struct cir_ipam *h;
	int (*fn)(const char *cid, const char *ifname, const struct cir_ipam_result *res,
		  void *data);
	void *data;
};

static int list_one(const char *key, void *data)
{
	struct list *l = data;
	struct cir_ipam_result res;
	char cid[KEY_MAX];
	size_t at = strcspn(key, "@");

	if (!key[at] || at >= sizeof(cid) || record_read(l->h, key, &res, NULL) < 0)
		return 0;
	memcpy(cid, key, at);
	cid[at] = '\0';
	return l->fn(cid, key + at + 1, &res, l->data);
}

int cir_ipam_proven_dead(struct cir_ipam *h, const char *cid, const char *ifname)
{
	char key[KEY_MAX], buf[RECORD_MAX + 1], inner[KEY_MAX];
	struct cir_ipam_result res;
	struct rec_netns ns;

	if (make_key(cid, ifname, key, NULL) < 0 ||
	    cir_store_read(h->ids_fd, key, buf, sizeof(buf), NULL) < 0 ||
	    record_parse(buf, inner, &res, &ns) < 0 || strcmp(inner, key) != 0)
		return 0;
	return !netns_alive(&ns);
}

int cir_ipam_list(struct cir_ipam *h,
		  int (*fn)(const char *cid, const char *ifname,
			    const struct cir_ipam_result *res, void *data),
		  void *data, struct cir_error *err)
{
	struct list l = { h, fn, data };
	_cleanup_close_ int lock = -1;

	lock = cir_store_lock(h->fd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", h->network);
	return cir_store_list(h->ids_fd, list_one, &l, err);
}

int cir_ipam_network_forget(const struct cir_store *st, const char *network,
			    struct cir_error *err)
{
	return cir_store_forget(st, IPAM_DIR, network, err);
}
