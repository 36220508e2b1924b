// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_hosts.c - the host registry (spec/cluster.md "Host registry"):
 * this host's lease as recorded in the state directory, the hosts listed
 * (with their blocks and TTLs, or name and underlay only), registering
 * this host under a new lease (taking over its previous incarnation's
 * blocks), and watching hosts join and leave.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cluster.h"
#include "json.h"
#include "store.h"

/* ---- the lease record in the state directory ---- */

static int lease_dir(struct cir_cluster *c, struct cir_store *st, bool create,
		     struct cir_error *err)
{
	int r;

	if (create)
		return cir_store_open_sub(st, c->state_dir, "cluster", err);
	r = cir_store_open_existing(st, c->state_dir, err);
	if (r < 0)
		return r;
	return cir_store_dir(st->fd, "cluster", false, err);
}

/* The lease recorded by the last agent: 0 when none (or unreadable). */
static int64_t lease_recorded(struct cir_cluster *c)
{
	struct cir_store st = CIR_STORE_INIT;
	struct cir_error e2 = CIR_ERROR_INIT;
	_cleanup_close_ int dfd = lease_dir(c, &st, false, &e2);
	char buf[32], *end;
	long long v;

	if (dfd < 0 || cir_store_read(dfd, "lease", buf, sizeof(buf), &e2) < 0) {
		cir_store_close(&st);
		return 0;
	}
	cir_store_close(&st);
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || v <= 0 || (*end && *end != '\n'))
		return 0;
	return v;
}

int64_t cir_cluster_lease_recorded(struct cir_cluster *c)
{
	return lease_recorded(c);
}

static int lease_record(struct cir_cluster *c, int64_t lease, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	_cleanup_close_ int dfd = lease_dir(c, &st, true, err);
	char buf[32];
	int r, n;

	if (dfd < 0)
		return dfd;
	n = snprintf(buf, sizeof(buf), "%" PRId64 "\n", lease);
	r = cir_store_write(dfd, "lease", buf, (size_t)n, err);
	cir_store_close(&st);
	return r;
}

int cir_cluster_lease(struct cir_cluster *c, struct cir_error *err)
{
	int64_t id = lease_recorded(c), ttl;
	int r;

	if (id <= 0)
		return cir_err(err, ENOLINK, "host %s has no lease: is `circuit agent` running?",
			       c->conf.host_name);
	r = cir_etcd_lease_ttl(c->etcd, id, &ttl, NULL, err);
	if (r == -ENOENT)
		return cir_err(err, ENOLINK, "host %s: its lease expired: is `circuit agent` "
			       "running?", c->conf.host_name);
	if (r < 0)
		return r;
	c->lease = id;
	return 0;
}

/* ---- the host registry ---- */

#define HOSTS CIR_CLUSTER_PREFIX "hosts/"

static int host_key(char *buf, size_t size, const char *name)
{
	return snprintf(buf, size, "%s%s", HOSTS, name) < (int)size ? 0 : -ENAMETOOLONG;
}

/* Parse a host record {"name","underlay","lease"}. */
static int host_parse(const struct cir_etcd_kv *kv, struct cir_cluster_host *h,
		      struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	const char *name = kv->key + strlen(HOSTS), *u = NULL;
	struct cir_ip ip;
	int r;

	memset(h, 0, sizeof(*h));
	if (kv->key_len <= strlen(HOSTS) || strlen(kv->key) != kv->key_len ||
	    !cir_cluster_name_valid(name))
		return cir_err(err, EBADMSG, "host record: bad key");
	r = cir_json_parse(kv->value, kv->value_len, &j, err);
	if (r < 0)
		return cir_err_wrap(err, "host %s", name);
	r = cir_json_str(cir_json_root(j), "underlay", &u, err);
	if (r <= 0 || cir_ip_parse(u, &ip, err) < 0)
		return cir_err(err, EBADMSG, "host %s: record without a valid underlay", name);
	strcpy(h->name, name);
	cir_ip_format(&ip, h->underlay, sizeof(h->underlay));
	h->lease = kv->lease;
	h->ttl = -1;
	return 0;
}

static int cmp_host(const void *a, const void *b)
{
	return strcmp(((const struct cir_cluster_host *)a)->name,
		      ((const struct cir_cluster_host *)b)->name);
}

/* A damaged record is skipped, not fatal: one bad host must not hide the
 * others. */
static int host_kv(void *arg, const struct cir_etcd_kv *kv, void *rec, struct cir_error *err)
{
	return host_parse(kv, rec, err);
}

/* Every host's record, by name. */
static int hosts_list(struct cir_cluster *c, struct cir_cluster_host **out, size_t *n,
		      int64_t *rev, struct cir_error *err)
{
	static const struct cir_etcd_list how = { sizeof(struct cir_cluster_host), host_kv,
						  cmp_host };
	void *v = NULL;
	int r = cir_etcd_list(c->etcd, HOSTS, &how, NULL, &v, n, rev, err);

	if (r >= 0)
		*out = v;
	return r;
}

int cir_cluster_hosts(struct cir_cluster *c, struct cir_cluster_host **out, size_t *n,
		      struct cir_error *err)
{
	_cleanup_free_ struct cir_cluster_host *v = NULL;
	_cleanup_free_ struct cir_cluster_block *b = NULL;
	size_t k = 0, nb = 0;
	int r;

	r = hosts_list(c, &v, &k, NULL, err);
	if (r >= 0)
		r = cir_cluster_blocks(c, NULL, &b, &nb, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < k; i++) {
		struct cir_error e2 = CIR_ERROR_INIT;
		int64_t ttl;

		for (size_t j = 0; j < nb; j++)
			if (strcmp(b[j].host, v[i].name) == 0)
				v[i].blocks++;
		if (v[i].lease && cir_etcd_lease_ttl(c->etcd, v[i].lease, &ttl, NULL, &e2) == 0)
			v[i].ttl = ttl;
	}
	*out = TAKE_PTR(v);
	*n = k;
	return 0;
}

int cir_cluster_peers(struct cir_cluster *c, struct cir_cluster_host **out, size_t *n,
		      int64_t *rev, struct cir_error *err)
{
	return hosts_list(c, out, n, rev, err);
}

/* Who holds host name key now: -EEXIST when a live host other than our
 * previous incarnation (lease old) does; else *prev_lease and *prev_mod of
 * the record there (0 when none). */
static int name_holder_check(struct cir_cluster *c, const char *key, int64_t old,
			     int64_t *prev_lease, int64_t *prev_mod, struct cir_error *err)
{
	struct cir_etcd_resp cur = { 0 };
	int r = cir_etcd_get(c->etcd, key, false, &cur, err);

	if (r < 0)
		return r;
	if (cur.nkvs) {
		struct cir_error e2 = CIR_ERROR_INIT;
		int64_t ttl;

		*prev_lease = cur.kvs[0].lease;
		*prev_mod = cur.kvs[0].mod_rev;
		if (*prev_lease && *prev_lease != old &&
		    cir_etcd_lease_ttl(c->etcd, *prev_lease, &ttl, NULL, &e2) == 0) {
			struct cir_cluster_host h;

			r = host_parse(&cur.kvs[0], &h, &e2);
			cir_etcd_resp_free(&cur);
			return cir_err(err, EEXIST, "host name %s is held by a live host (underlay %s, "
				       "lease %" PRIx64 ", %" PRId64 " s left): choose another "
				       "--host-name", c->conf.host_name, r < 0 ? "?" : h.underlay,
				       *prev_lease, ttl);
		}
	}
	cir_etcd_resp_free(&cur);
	return 0;
}

/* Put this host's record {"name","underlay","since"} at key on lease, only
 * if nobody took the name since we looked (its mod_revision prev_mod, 0 =
 * absent). */
static int host_put(struct cir_cluster *c, const char *key, const char *under, int64_t lease,
		    int64_t prev_mod, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	const char *val;
	size_t vlen;
	int r = cir_jgen_new(&g, false, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "name", c->conf.host_name);
	cir_jgen_kstr(g, "underlay", under);
	cir_jgen_kint(g, "since", (long long)time(NULL));
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, &val, &vlen, err);
	if (r < 0)
		return r;
	{
		struct cir_etcd_cmp cmp = { .key = key,
					    .target = prev_mod ? CIR_ETCD_CMP_MOD : CIR_ETCD_CMP_CREATE,
					    .rev = prev_mod };
		struct cir_etcd_op put = { .kind = CIR_ETCD_OP_PUT, .key = key, .value = val,
					   .vlen = vlen, .lease = lease };

		r = cir_etcd_txn(c->etcd, &cmp, 1, &put, 1, NULL, 0, NULL, err);
	}
	if (r == 0)
		r = cir_err(err, EEXIST, "host name %s: taken by another host while registering",
			    c->conf.host_name);
	return r < 0 ? r : 0;
}

/* On the new lease: the blocks (while the old lease lives they are ours),
 * the host record, the lease recorded here.  How many blocks moved. */
static int register_on(struct cir_cluster *c, const char *key, const char *under,
		       int64_t lease, int64_t prev_mod, struct cir_error *err)
{
	int moved = cir_cluster_blocks_reclaim(c, c->conf.host_name, lease, err);
	int r;

	if (moved < 0)
		return moved;
	r = host_put(c, key, under, lease, prev_mod, err);
	if (r >= 0)
		r = lease_record(c, lease, err);
	return r < 0 ? r : moved;
}

int cir_cluster_register(struct cir_cluster *c, unsigned int *reclaimed,
			 struct cir_error *err)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	char key[256], under[CIR_IP_STRLEN];
	int64_t lease = 0, granted = 0, prev_lease = 0, prev_mod = 0;
	int r;

	if (host_key(key, sizeof(key), c->conf.host_name) < 0)
		return cir_err(err, ENAMETOOLONG, "host name too long");
	r = cir_cluster_underlay(c, err);
	if (r < 0)
		return r;
	cir_ip_format(&c->underlay, under, sizeof(under));
	r = name_holder_check(c, key, lease_recorded(c), &prev_lease, &prev_mod, err);
	if (r < 0)
		return r;
	r = cir_etcd_lease_grant(c->etcd, c->conf.lease_ttl, &lease, &granted, err);
	if (r < 0)
		return r;
	r = register_on(c, key, under, lease, prev_mod, err);
	if (r < 0) {
		cir_etcd_lease_revoke(c->etcd, lease, &e2);
		return r;
	}
	c->lease = lease;
	/* Our previous incarnation's lease: nothing is left on it. */
	if (prev_lease && prev_lease != lease)
		cir_etcd_lease_revoke(c->etcd, prev_lease, &e2);
	if (reclaimed)
		*reclaimed = (unsigned int)r;
	return 0;
}

/* ---- watching the registry ---- */

struct host_watch {
	void (*fn)(void *arg, bool joined, const char *name);
	void *arg;
};

static int host_event(void *arg, const struct cir_etcd_resp *r, struct cir_error *err)
{
	struct host_watch *hw = arg;
	size_t skip = strlen(HOSTS);

	for (size_t i = 0; i < r->nkvs; i++) {
		const struct cir_etcd_kv *kv = &r->kvs[i];
		const char *name = kv->key + skip;

		if (kv->key_len <= skip || strlen(kv->key) != kv->key_len ||
		    !cir_cluster_name_valid(name))
			continue;
		hw->fn(hw->arg, !kv->deleted, name);
	}
	return 0;
}

int cir_cluster_hosts_watch(struct cir_cluster *c, unsigned int ms,
			    volatile sig_atomic_t *stop,
			    void (*fn)(void *arg, bool joined, const char *name), void *arg,
			    struct cir_error *err)
{
	struct host_watch hw = { fn, arg };
	int64_t next = 0;
	int r = cir_etcd_watch(c->etcd, HOSTS, true, 0, ms, stop, host_event, &hw, &next, err);

	return r < 0 ? r : 0;
}
