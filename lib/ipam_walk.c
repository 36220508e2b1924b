// SPDX-License-Identifier: Apache-2.0
/*
 * ipam_walk.c - what walks a network's directories: GC (records of gone
 * attachments, orphan address links), STATUS, the listing of allocations,
 * and forgetting a deleted network's allocator state.
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
static bool gc_keep(const struct gc *g, const char *key, const struct cir_ipam_netns *ns)
{
	if (gc_valid(g, key))
		return true;
	return (g->flags & CIR_IPAM_GC_KEEP_LIVE) && cir_ipam_netns_alive(ns);
}

static int gc_record(const char *key, void *data)
{
	struct gc *g = data;
	char buf[RECORD_MAX + 1], inner[KEY_MAX];
	struct cir_ipam_result res;
	struct cir_ipam_netns ns;
	int r;

	if (!strchr(key, '@') || gc_valid(g, key))
		return 0;
	if (g->flags & CIR_IPAM_GC_KEEP_LIVE) {
		/* A garbled record names no namespace: nothing proves it dead
		 * either, but it holds no address it could own; it goes. */
		r = cir_store_read(g->h->ids_fd, key, buf, sizeof(buf), NULL);
		if (r == -ENOENT)
			return 0;
		if (r >= 0 && cir_ipam_record_parse(buf, inner, &res, &ns) == 0 &&
		    strcmp(inner, key) == 0 && cir_ipam_netns_alive(&ns))
			return 0;
	}
	r = cir_ipam_release_locked(g->h, key, g->err);
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
	struct cir_ipam_netns ns;
	struct cir_ip ip;
	int r;

	if (cir_ip_parse(name, &ip, NULL) < 0)
		return 0;       /* not ours: leave it */
	r = cir_store_read(g->h->ips_fd, name, buf, sizeof(buf), NULL);
	if (r < 0 && r != -EFBIG)
		return 0;       /* gone meanwhile, or not a regular file: not ours */
	/* Kept only when it is a live, valid record's own link. */
	if (r >= 0 && cir_ipam_record_parse(buf, key, &res, &ns) == 0 && gc_keep(g, key, &ns) &&
	    cir_ipam_owned_by(g->h, key, &ip) == 1)
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
			if (cir_ipam_key(valid[i].cid, valid[i].ifname, keys[g.n], NULL) == 0)
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

		r = cir_ipam_find_free(h, &cfg.sets[s], s, &ip, err);
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

	if (!key[at] || at >= sizeof(cid) || cir_ipam_record_read(l->h, key, &res, NULL) < 0)
		return 0;
	memcpy(cid, key, at);
	cid[at] = '\0';
	return l->fn(cid, key + at + 1, &res, l->data);
}

int cir_ipam_proven_dead(struct cir_ipam *h, const char *cid, const char *ifname)
{
	char key[KEY_MAX], buf[RECORD_MAX + 1], inner[KEY_MAX];
	struct cir_ipam_result res;
	struct cir_ipam_netns ns;

	if (cir_ipam_key(cid, ifname, key, NULL) < 0 ||
	    cir_store_read(h->ids_fd, key, buf, sizeof(buf), NULL) < 0 ||
	    cir_ipam_record_parse(buf, inner, &res, &ns) < 0 || strcmp(inner, key) != 0)
		return 0;
	return !cir_ipam_netns_alive(&ns);
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
