// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_alloc.c - circuit-ipam on a cluster network: addresses come from
 * this host's address blocks (spec/cluster.md "IPAM on blocks").
 *
 * The blocks this host holds for a network are listed in
 * <ipam>/<network>/cluster/blocks (one CIDR a line), guarded by the flock
 * of that directory, which is held across a whole ADD or DEL (outside
 * ipam.c's own lock).  An ADD tries the held blocks with the ordinary
 * allocator (each block a range of the network's subnet, eight ranges at a
 * time), and only when all are full claims a new block in etcd
 * (cir_cluster_block_claim) and records it: an ADD inside a held block
 * never talks to etcd.  A DEL that empties a block frees it in etcd (best
 * effort: a block etcd cannot free now stays held and is used again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "cluster.h"
#include "cluster_alloc.h"
#include "cni.h"
#include "store.h"

#define DIR_NAME "cluster"
#define BLOCKS_FILE "blocks"
#define BLOCKS_MAX 256
#define BLOCKS_TEXT_MAX (BLOCKS_MAX * (CIR_CIDR_STRLEN + 1) + 1)

struct held {
	struct cir_cidr b[BLOCKS_MAX];
	size_t n;
};

static int held_read(int dfd, struct held *h, struct cir_error *err)
{
	_cleanup_free_ char *buf = malloc(BLOCKS_TEXT_MAX);
	char *save = NULL;
	int r;

	h->n = 0;
	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_store_read(dfd, BLOCKS_FILE, buf, BLOCKS_TEXT_MAX, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	for (char *t = strtok_r(buf, "\n", &save); t && h->n < BLOCKS_MAX;
	     t = strtok_r(NULL, "\n", &save)) {
		struct cir_error e2 = CIR_ERROR_INIT;

		/* A damaged line is dropped: the block stays this host's in
		 * etcd until its lease goes, but is not used here. */
		if (cir_cidr_parse(t, CIR_CIDR_NETWORK, &h->b[h->n], &e2) == 0)
			h->n++;
	}
	return 0;
}

static int held_write(int dfd, const struct held *h, struct cir_error *err)
{
	_cleanup_free_ char *buf = malloc(BLOCKS_TEXT_MAX);
	size_t off = 0;

	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	buf[0] = '\0';
	for (size_t i = 0; i < h->n; i++) {
		char s[CIR_CIDR_STRLEN];

		off += (size_t)snprintf(buf + off, BLOCKS_TEXT_MAX - off, "%s\n",
					cir_cidr_format(&h->b[i], s, sizeof(s)));
	}
	return cir_store_write(dfd, BLOCKS_FILE, buf, off, err);
}

/* Block b as a range of the network's subnet (rg: the configured range,
 * for the subnet and gateway). */
static void block_range(const struct cir_ipam_range *rg, const struct cir_cidr *b,
			struct cir_ipam_range *out)
{
	struct cir_ip net, bc, s, e;

	*out = *rg;
	cir_cidr_network(b, &s);
	cir_cidr_broadcast(b, &e);
	cir_cidr_network(&rg->subnet, &net);
	cir_cidr_broadcast(&rg->subnet, &bc);
	if (cir_ip_eq(&s, &net))
		cir_ip_next(&s, &s);
	if (cir_ip_eq(&e, &bc))
		cir_ip_prev(&e, &e);
	out->start = s;
	out->end = e;
}

/* One ADD: what it asks for, and the blocks held. */
struct alloc {
	struct cir_ipam *h;
	const struct cir_ipam_range *rg;
	unsigned int block;              /* the blocks' prefix */
	const char *cid, *ifname;
	const struct cir_ip *req;        /* the address asked for (n_req 0 or 1) */
	size_t n_req;
	struct cir_ipam_result *out;
	struct held *hb;
};

/* Try blocks idx[0..n) (at most CIR_IPAM_MAX_RANGES). */
static int alloc_in(const struct alloc *a, const size_t *idx, size_t n, struct cir_error *err)
{
	struct cir_ipam_config cfg = { .n = 1 };
	int r;

	for (size_t i = 0; i < n; i++)
		block_range(a->rg, &a->hb->b[idx[i]], &cfg.sets[0].r[i]);
	cfg.sets[0].n = n;
	r = cir_ipam_config_check(&cfg, err);
	if (r < 0)
		return r;
	return cir_ipam_alloc(a->h, &cfg, a->cid, a->ifname, a->req, a->n_req, a->out, err);
}

/* Try the held blocks of the subnet at the size (and holding the address
 * asked for), eight at a time.  -ENOSPC with err clear when all are full. */
static int alloc_held(const struct alloc *a, struct cir_error *err)
{
	const struct held *hb = a->hb;
	size_t idx[CIR_IPAM_MAX_RANGES], n = 0;
	int r;

	for (size_t i = 0; i < hb->n; i++) {
		/* Blocks of another subnet (a network deleted and made again
		 * with another) are not this network's. */
		if (!cir_cidr_contains(&a->rg->subnet, &hb->b[i].ip) || hb->b[i].prefix != a->block)
			continue;
		if (a->n_req && !cir_cidr_contains(&hb->b[i], &a->req[0]))
			continue;
		idx[n++] = i;
		if (n == CIR_IPAM_MAX_RANGES) {
			r = alloc_in(a, idx, n, err);
			if (r != -ENOSPC)
				return r;
			cir_err_clear(err);
			n = 0;
		}
	}
	if (n) {
		r = alloc_in(a, idx, n, err);
		if (r != -ENOSPC)
			return r;
		cir_err_clear(err);
	}
	return -ENOSPC;
}

/* Every held block is full: claim one (the only etcd round trip), record
 * it, and allocate there. */
static int alloc_claim(const struct alloc *a, int dfd, struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *c = NULL;
	const char *network = a->h->network;
	struct held *hb = a->hb;
	struct cir_cidr nb;
	size_t idx;
	int r;

	if (hb->n >= BLOCKS_MAX)
		return cir_err_code(err, CIR_CNI_POOL_EXHAUSTED, ENOSPC,
				    "network %s: this host holds %d blocks already", network,
				    BLOCKS_MAX);
	r = cir_cluster_open(&c, NULL, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s", network);
	if (!c)
		return cir_err(err, ENOTCONN, "network %s is a cluster network, and no cluster "
			       "is configured here", network);
	r = cir_cluster_block_claim(c, network, &a->rg->subnet, a->block, &nb, err);
	if (r < 0) {
		if (r == -ENOSPC)
			err->code = CIR_CNI_POOL_EXHAUSTED;
		return cir_err_wrap(err, "network %s: new address block", network);
	}
	hb->b[hb->n++] = nb;
	r = held_write(dfd, hb, err);
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		cir_cluster_block_free(c, network, &nb, &e2);
		return cir_err_wrap(err, "network %s: blocks", network);
	}
	idx = hb->n - 1;
	return alloc_in(a, &idx, 1, err);
}

static int lock_dir(struct cir_ipam *h, int *dfd, struct cir_error *err)
{
	int lock;

	*dfd = cir_store_dir(h->fd, DIR_NAME, true, err);
	if (*dfd < 0)
		return *dfd;
	lock = cir_store_lock(*dfd, err);
	if (lock < 0) {
		close(*dfd);
		*dfd = -1;
	}
	return lock;
}

int cir_cluster_alloc(struct cir_ipam *h, const struct cir_ipam_range *rg, unsigned int block,
		      const char *cid, const char *ifname, const struct cir_ip *req,
		      size_t n_req, struct cir_ipam_result *out, struct cir_error *err)
{
	_cleanup_close_ int dfd = -1, lock = -1;
	_cleanup_free_ struct held *hb = calloc(1, sizeof(*hb));
	const struct alloc a = { h, rg, block, cid, ifname, req, n_req, out, hb };
	int r;

	if (!hb)
		return cir_err(err, ENOMEM, "out of memory");
	if (n_req > 1)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "a cluster network has one subnet: one address at most");
	lock = lock_dir(h, &dfd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", h->network);
	r = held_read(dfd, hb, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: blocks", h->network);
	r = alloc_held(&a, err);
	if (r != -ENOSPC)
		return r;
	if (n_req) {
		char s[CIR_IP_STRLEN];

		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "network %s: requested address %s is not in an address block "
				    "of this host", h->network, cir_ip_format(&req[0], s, sizeof(s)));
	}
	return alloc_claim(&a, dfd, err);
}

/* Does block b hold any reserved address? */
static int block_used(struct cir_ipam *h, const struct cir_cidr *b, struct cir_error *err)
{
	struct cir_ip ip, last;

	cir_cidr_network(b, &ip);
	cir_cidr_broadcast(b, &last);
	for (;;) {
		char name[CIR_IP_STRLEN];
		int r = cir_store_exists(h->ips_fd, cir_ip_format(&ip, name, sizeof(name)), err);

		if (r != 0)
			return r;
		if (cir_ip_eq(&ip, &last) || cir_ip_next(&ip, &ip) < 0)
			return 0;
	}
}

int cir_cluster_release(struct cir_ipam *h, const char *cid, const char *ifname,
			struct cir_error *err)
{
	_cleanup_close_ int dfd = -1, lock = -1;
	_cleanup_cluster_ struct cir_cluster *c = NULL;
	_cleanup_free_ struct held *hb = calloc(1, sizeof(*hb));
	struct cir_ipam_result a = { 0 };
	struct cir_error e2 = CIR_ERROR_INIT;
	bool changed = false;
	int r;

	if (!hb)
		return cir_err(err, ENOMEM, "out of memory");
	lock = lock_dir(h, &dfd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", h->network);
	if (cir_ipam_get(h, cid, ifname, &a, &e2) < 0)
		a.n = 0;
	r = cir_ipam_release(h, cid, ifname, err);
	if (r <= 0)
		return r;
	if (held_read(dfd, hb, &e2) < 0)
		return r;
	for (size_t i = 0; i < hb->n; i++) {
		bool mine = false;

		for (size_t k = 0; k < a.n && !mine; k++)
			mine = cir_cidr_contains(&hb->b[i], &a.ips[k].addr.ip);
		if (!mine || block_used(h, &hb->b[i], &e2) != 0)
			continue;
		/* Empty: give it back.  etcd down, or no cluster: it stays
		 * held and is used again. */
		cir_err_clear(&e2);
		if (!c && (cir_cluster_open(&c, NULL, &e2) < 0 || !c))
			break;
		if (cir_cluster_block_free(c, h->network, &hb->b[i], &e2) < 0 && e2.errnum != EPERM)
			continue;
		hb->b[i--] = hb->b[--hb->n];
		changed = true;
	}
	if (changed)
		held_write(dfd, hb, &e2);
	return r;
}

/* How many addresses of block b are reserved here. */
static unsigned int block_count(struct cir_ipam *h, const struct cir_cidr *b)
{
	struct cir_ip ip, last;
	unsigned int n = 0;

	cir_cidr_network(b, &ip);
	cir_cidr_broadcast(b, &last);
	for (;;) {
		struct cir_error e2 = CIR_ERROR_INIT;
		char name[CIR_IP_STRLEN];

		if (cir_store_exists(h->ips_fd, cir_ip_format(&ip, name, sizeof(name)), &e2) > 0)
			n++;
		if (cir_ip_eq(&ip, &last) || cir_ip_next(&ip, &ip) < 0)
			return n;
	}
}

/* Who holds block b by etcd's have[0..n): 1 this host (me), 2 another
 * (its name in holder), 0 nobody. */
static int block_holder(const struct cir_cluster_block *have, size_t n, const struct cir_cidr *b,
			const char *me, char *holder, size_t hsize)
{
	int who = 0;

	for (size_t k = 0; k < n; k++) {
		if (have[k].block.prefix != b->prefix || !cir_ip_eq(&have[k].block.ip, &b->ip))
			continue;
		who = strcmp(have[k].host, me) == 0 ? 1 : 2;
		snprintf(holder, hsize, "%s", have[k].host);
	}
	return who;
}

/* The IPAM state of network under state_dir: 0 when there is none. */
static int check_open(struct cir_store *st, struct cir_ipam *h, const char *state_dir,
		      const char *network, struct cir_error *err)
{
	int r = cir_store_open_existing(st, state_dir, err);

	if (r >= 0)
		r = cir_ipam_open_existing(h, st, network, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

int cir_cluster_blocks_check(struct cir_cluster *c, const char *state_dir, const char *network,
			     void (*report)(void *arg, const char *network,
					    const struct cir_cidr *block, const char *holder,
					    unsigned int used),
			     void *arg, struct cir_error *err)
{
	_cleanup_store_ struct cir_store st = CIR_STORE_INIT;
	_cleanup_ipam_ struct cir_ipam h = CIR_IPAM_INIT;
	_cleanup_close_ int dfd = -1, lock = -1;
	_cleanup_free_ struct held *hb = calloc(1, sizeof(*hb));
	_cleanup_free_ struct cir_cluster_block *have = NULL;
	size_t n = 0;
	int r, changed = 0;

	if (!hb)
		return cir_err(err, ENOMEM, "out of memory");
	r = check_open(&st, &h, state_dir, network, err);
	if (r <= 0)
		return r;
	lock = lock_dir(&h, &dfd, err);
	if (lock < 0)
		return cir_err_wrap(err, "network %s", network);
	r = held_read(dfd, hb, err);
	if (r < 0 || !hb->n)
		return r < 0 ? cir_err_wrap(err, "network %s: blocks", network) : 0;
	r = cir_cluster_blocks(c, network, &have, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < hb->n; i++) {
		char holder[CIR_CLUSTER_NAME_MAX + 2] = "";
		int who = block_holder(have, n, &hb->b[i], c->conf.host_name, holder,
				       sizeof(holder));

		if (who == 1)
			continue;
		if (who == 0) {
			/* Free in etcd: this host's again, if nobody was faster. */
			r = cir_cluster_block_take(c, network, &hb->b[i], holder, sizeof(holder),
						   err);
			if (r < 0)
				return r;
			if (r == 1) {
				report(arg, network, &hb->b[i], NULL, block_count(&h, &hb->b[i]));
				changed++;
				continue;
			}
		}
		report(arg, network, &hb->b[i], holder, block_count(&h, &hb->b[i]));
		hb->b[i--] = hb->b[--hb->n];
		changed++;
		r = held_write(dfd, hb, err);
		if (r < 0)
			return cir_err_wrap(err, "network %s: blocks", network);
	}
	return changed;
}
