// SPDX-License-Identifier: Apache-2.0
/*
 * ipam.c - round-robin address allocator and its indexed, flock-protected
 * store under <root>/ipam/<network>/ (layout: spec/store.md): opening a
 * network's store, ADD (cir_ipam_alloc), DEL and GET.  The pure part (range
 * sets, the walk) is lib/ipam_range.c's, a record lib/ipam_record.c's,
 * GC, STATUS and listings lib/ipam_walk.c's; they share lib/ipam_int.h.
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
#include "ipam_int.h"

#define CURSOR_LEN 48

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
int cir_ipam_owned_by(struct cir_ipam *h, const char *key, const struct cir_ip *ip)
{
	char name[CIR_IP_STRLEN];

	return cir_store_same_file(h->ids_fd, key, h->ips_fd,
				   cir_ip_format(ip, name, sizeof(name)), NULL);
}

/* Release key under the lock.  1 released, 0 nothing held. */
int cir_ipam_release_locked(struct cir_ipam *h, const char *key, struct cir_error *err)
{
	struct cir_ipam_result res;
	char name[CIR_IP_STRLEN];
	int r;

	r = cir_ipam_record_read(h, key, &res, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0 && r != -EBADMSG)
		return r;
	/* A garbled record still goes; its address links become GC's orphans. */
	for (size_t i = 0; r == 0 && i < res.n; i++) {
		const struct cir_ip *ip = &res.ips[i].addr.ip;
		int own = cir_ipam_owned_by(h, key, ip);

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
int cir_ipam_find_free(struct cir_ipam *h, const struct cir_ipam_rangeset *set, size_t s,
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
			r = cir_ipam_find_free(h, set, s, &ip, err);
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
	struct cir_ipam_netns ns;
	size_t made = 0;
	int r;

	cir_ipam_netns_identify(h, &ns);
	cir_ipam_record_format(key, res, &ns, rec, sizeof(rec));
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

	r = cir_ipam_key(cid, ifname, key, err);
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

/* key[KEY_MAX] built from (cid, ifname), then the network's lock taken:
 * the lock's descriptor, or -errno. */
static int key_lock(struct cir_ipam *h, const char *cid, const char *ifname, char *key,
		    struct cir_error *err)
{
	int r = cir_ipam_key(cid, ifname, key, err);

	if (r < 0)
		return r;
	r = cir_store_lock(h->fd, err);
	return r < 0 ? cir_err_wrap(err, "network %s", h->network) : r;
}

int cir_ipam_release(struct cir_ipam *h, const char *cid, const char *ifname,
		     struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	char key[KEY_MAX];
	int r;

	lock = key_lock(h, cid, ifname, key, err);
	if (lock < 0)
		return lock;
	r = cir_ipam_release_locked(h, key, err);
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

	lock = key_lock(h, cid, ifname, key, err);
	if (lock < 0)
		return lock;
	r = cir_ipam_record_read(h, key, &res, err);
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
		r = cir_ipam_owned_by(h, key, &res.ips[i].addr.ip);
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
