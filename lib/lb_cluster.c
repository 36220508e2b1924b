// SPDX-License-Identifier: Apache-2.0
/*
 * lb_cluster.c - cluster services (lib/lb_cluster.h, spec/cluster.md
 * "Cluster services"): the record in etcd and the agent's sync of this
 * host's copies.  The kernel work is lib/lb's: a copy is an ordinary
 * record ("scope": "cluster") made and changed with cir_lb_adopt, so that
 * health checks, restore, lb ls and the hairpins treat it like any other.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "cleanup.h"
#include "cluster_alloc.h"
#include "etcd.h"
#include "ipam.h"
#include "lb_cluster.h"
#include "lb_int.h"
#include "lbbackend.h"
#include "link.h"
#include "netconf.h"
#include "nft.h"
#include "overlay.h"

#define SYNC_WARNED_MAX 64
/* Bridges whose source NAT this agent keeps in memory (what it last
 * wrote, so that an unchanged pass writes nothing). */
#define SNAT_BRIDGES_MAX 32

/* The key of service name into buf. */
static int service_key(const char *name, char *buf, size_t len, struct cir_error *err)
{
	int r = cir_name_check("service name", name, err);

	if (r < 0)
		return r;
	snprintf(buf, len, "%s%s", CIR_LB_CLUSTER_KEYS, name);
	return 0;
}

/* The VIP key of s: service-vips/IP/PROTO-PORT. */
static void vip_key(const struct cir_lb_service *s, char *buf, size_t len)
{
	char ip[CIR_IP_STRLEN];

	snprintf(buf, len, "%s%s/%s-%u", CIR_LB_CLUSTER_VIPS,
		 cir_ip_format(&s->vip.ip, ip, sizeof(ip)), cir_lb_proto_name(s->protocol),
		 s->vip.port);
}

/* What etcd keeps of s: its settings and targets, nothing of one host's
 * (health, bridges, owners). */
static int stored_value(const struct cir_lb_service *s, char **out, struct cir_error *err)
{
	_cleanup_service_ struct cir_lb_service c = { 0 };
	int r = cir_lb_service_copy(&c, s, 0, err);

	if (r < 0)
		return r;
	c.cluster = true;
	for (size_t i = 0; i < c.n_targets; i++) {
		struct cir_lb_target *t = &c.targets[i];

		t->down = false;
		t->error[0] = '\0';
		t->since = 0;
		t->bridge[0] = '\0';
		memset(&t->owner, 0, sizeof(t->owner));
	}
	return cir_lb_service_format(&c, false, out, err);
}

/* What the cluster accepts of a service (create, and every record read). */
static int cluster_check(const struct cir_lb_service *s, struct cir_error *err)
{
	if (s->backend != CIR_LB_BACKEND_IPVS)
		return cir_err(err, EINVAL, "service %s: a cluster service uses the ipvs backend",
			       s->name);
	for (size_t i = 0; i < s->n_targets; i++)
		if (s->targets[i].owner.cid[0])
			return cir_err(err, EINVAL, "service %s: a cluster service has no CNI-owned "
				       "target", s->name);
	return 0;
}

int cir_lb_cluster_parse(const char *key, size_t klen, const char *value, size_t vlen,
			 struct cir_lb_service *out, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	_cleanup_service_ struct cir_lb_service s = { 0 };
	size_t pl = strlen(CIR_LB_CLUSTER_KEYS);
	char shown[80];
	int r;

	if (klen <= pl || memcmp(key, CIR_LB_CLUSTER_KEYS, pl) != 0 || memchr(key, 0, klen))
		return cir_err(err, EBADMSG, "service key %s: not under %s",
			       cir_err_shown_n(key, klen, shown, sizeof(shown)),
			       CIR_LB_CLUSTER_KEYS);
	r = cir_json_parse(value, vlen, &j, err);
	if (r >= 0)
		r = cir_lb_service_parse(cir_json_root(j), &s, err);
	if (r >= 0 && (strlen(s.name) != klen - pl || memcmp(s.name, key + pl, klen - pl) != 0))
		r = cir_err(err, EBADMSG, "its name is %s", s.name);
	if (r >= 0 && !s.cluster)
		r = cir_err(err, EBADMSG, "scope is not cluster");
	if (r >= 0)
		r = cluster_check(&s, err);
	if (r < 0) {
		err->errnum = EBADMSG;
		return cir_err_wrap(err, "cluster service %s",
				    cir_err_shown_n(key + pl, klen - pl, shown, sizeof(shown)));
	}
	cir_lb_service_clear(out);
	*out = s;
	s.targets = NULL;
	s.n_targets = 0;
	return 0;
}

int cir_lb_cluster_create(struct cir_cluster *cl, const struct cir_lb_service *s,
			  struct cir_error *err)
{
	_cleanup_free_ char *val = NULL;
	_cleanup_service_ struct cir_lb_service c = { 0 };
	char skey[CIR_NAME_MAX + 64], vkey[CIR_IP_STRLEN + 64];
	struct cir_etcd_resp cur = { 0 };
	int r;

	r = service_key(s->name, skey, sizeof(skey), err);
	if (r >= 0)
		r = cir_lb_service_check(s, err);
	if (r >= 0)
		r = cluster_check(s, err);
	if (r >= 0)
		r = cir_lb_service_copy(&c, s, 0, err);
	if (r < 0)
		return r;
	if (!c.created)
		c.created = time(NULL);
	r = stored_value(&c, &val, err);
	if (r < 0)
		return r;
	vip_key(s, vkey, sizeof(vkey));
	{
		struct cir_etcd_cmp cmp[2] = {
			{ .key = skey, .target = CIR_ETCD_CMP_CREATE, .rev = 0 },
			{ .key = vkey, .target = CIR_ETCD_CMP_CREATE, .rev = 0 },
		};
		struct cir_etcd_op ok[2] = {
			{ .kind = CIR_ETCD_OP_PUT, .key = skey, .value = val, .vlen = strlen(val) },
			{ .kind = CIR_ETCD_OP_PUT, .key = vkey, .value = s->name,
			  .vlen = strlen(s->name) },
		};
		struct cir_etcd_op fail = { .kind = CIR_ETCD_OP_GET, .key = vkey };

		r = cir_etcd_txn(cl->etcd, cmp, 2, ok, 2, &fail, 1, &cur, err);
	}
	if (r < 0)
		return r;
	if (r == 1) {
		cir_etcd_resp_free(&cur);
		return 0;
	}
	if (cur.nkvs && !(cur.kvs[0].value_len == strlen(s->name) &&
			  memcmp(cur.kvs[0].value, s->name, cur.kvs[0].value_len) == 0)) {
		char shown[80], a[CIR_LB_ADDR_STRLEN];

		cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
			     "service %s already uses %s %s in the cluster",
			     cir_err_shown_n(cur.kvs[0].value, cur.kvs[0].value_len, shown,
					     sizeof(shown)),
			     cir_lb_proto_name(s->protocol), cir_lb_addr_format(&s->vip, a, sizeof(a)));
	} else {
		cir_err_code(err, CIR_CNI_EXISTS, EEXIST, "service %s already exists in the cluster",
			     s->name);
	}
	cir_etcd_resp_free(&cur);
	return -EEXIST;
}

int cir_lb_cluster_get(struct cir_cluster *cl, const char *name, struct cir_lb_service *out,
		       int64_t *rev, struct cir_error *err)
{
	struct cir_etcd_resp resp = { 0 };
	char key[CIR_NAME_MAX + 64];
	int r = service_key(name, key, sizeof(key), err);

	if (r < 0)
		return r;
	r = cir_etcd_get(cl->etcd, key, false, &resp, err);
	if (r < 0)
		return r;
	if (!resp.nkvs)
		r = cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "service %s not found", name);
	else
		r = cir_lb_cluster_parse(resp.kvs[0].key, resp.kvs[0].key_len, resp.kvs[0].value,
					 resp.kvs[0].value_len, out, err);
	if (r >= 0 && rev)
		*rev = resp.kvs[0].mod_rev;
	cir_etcd_resp_free(&resp);
	return r;
}

void cir_lb_cluster_list_free(struct cir_lb_service *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		cir_lb_service_clear(&v[i]);
	free(v);
}

static int cmp_service(const void *a, const void *b)
{
	return strcmp(((const struct cir_lb_service *)a)->name,
		      ((const struct cir_lb_service *)b)->name);
}

int cir_lb_cluster_list(struct cir_cluster *cl, struct cir_lb_service **out, size_t *n,
			struct cir_lb_cluster_bad **bad, size_t *nbad, struct cir_error *err)
{
	struct cir_etcd_resp resp = { 0 };
	struct cir_lb_service *v;
	struct cir_lb_cluster_bad *b = NULL;
	size_t k = 0, kb = 0, pl = strlen(CIR_LB_CLUSTER_KEYS);
	int r = cir_etcd_get(cl->etcd, CIR_LB_CLUSTER_KEYS, true, &resp, err);

	if (r < 0)
		return r;
	v = calloc(resp.nkvs ? resp.nkvs : 1, sizeof(*v));
	if (bad)
		b = calloc(resp.nkvs ? resp.nkvs : 1, sizeof(*b));
	if (!v || (bad && !b)) {
		free(v);
		free(b);
		cir_etcd_resp_free(&resp);
		return cir_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < resp.nkvs; i++) {
		struct cir_error e2 = CIR_ERROR_INIT, e3 = CIR_ERROR_INIT;
		const struct cir_etcd_kv *kv = &resp.kvs[i];

		if (cir_lb_cluster_parse(kv->key, kv->key_len, kv->value, kv->value_len, &v[k],
					 &e2) == 0) {
			k++;
			continue;
		}
		/* A damaged record is skipped, never taken for an absent one:
		 * its name (when it is a valid one: it is logged) keeps this
		 * host's copy. */
		if (b && kv->key_len > pl && kv->key_len - pl <= CIR_NAME_MAX &&
		    !memchr(kv->key, 0, kv->key_len) &&
		    cir_name_check("service name", kv->key + pl, &e3) == 0) {
			snprintf(b[kb].name, sizeof(b[kb].name), "%s", kv->key + pl);
			snprintf(b[kb].msg, sizeof(b[kb].msg), "%s", e2.msg);
			kb++;
		}
	}
	cir_etcd_resp_free(&resp);
	qsort(v, k, sizeof(*v), cmp_service);
	*out = v;
	*n = k;
	if (bad) {
		*bad = b;
		*nbad = kb;
	}
	return 0;
}

/* Put the changed record n over the one read at rev: 1 written, 0 lost the
 * race (read again). */
static int put_if_same(struct cir_cluster *cl, const struct cir_lb_service *n, int64_t rev,
		       struct cir_error *err)
{
	_cleanup_free_ char *val = NULL;
	char key[CIR_NAME_MAX + 64];
	int r = service_key(n->name, key, sizeof(key), err);

	if (r >= 0)
		r = stored_value(n, &val, err);
	if (r < 0)
		return r;
	{
		struct cir_etcd_cmp cmp = { .key = key, .target = CIR_ETCD_CMP_MOD, .rev = rev };
		struct cir_etcd_op put = { .kind = CIR_ETCD_OP_PUT, .key = key, .value = val,
					   .vlen = strlen(val) };

		return cir_etcd_txn(cl->etcd, &cmp, 1, &put, 1, NULL, 0, NULL, err);
	}
}

static int lost_races(const char *name, struct cir_error *err)
{
	return cir_err(err, EAGAIN, "service %s: changed by other hosts %d times in a row: "
		       "try again", name, CIR_LB_CLUSTER_RETRIES);
}

int cir_lb_cluster_target_add(struct cir_cluster *cl, const char *name,
			      const struct cir_lb_target *t, struct cir_error *err)
{
	char a[CIR_LB_ADDR_STRLEN];

	cir_lb_addr_format(&t->addr, a, sizeof(a));
	for (int attempt = 0; attempt < CIR_LB_CLUSTER_RETRIES; attempt++) {
		_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
		struct cir_lb_target nt = *t;
		int64_t rev = 0;
		int r, i;

		r = cir_lb_cluster_get(cl, name, &old, &rev, err);
		if (r < 0)
			return r;
		if (t->addr.ip.af != old.vip.ip.af)
			return cir_err(err, EINVAL, "service %s: target %s: address family differs "
				       "from the service's", name, a);
		if (t->addr.port == 0)
			return cir_err(err, EINVAL, "service %s: target %s: port must be 1..65535",
				       name, a);
		i = cir_lb_target_find(&old, &t->addr);
		if (i < 0 && old.n_targets >= CIR_LB_TARGETS_MAX)
			return cir_err(err, ENOSPC, "service %s: already %d targets", name,
				       CIR_LB_TARGETS_MAX);
		r = cir_lb_service_copy(&n, &old, 1, err);
		if (r < 0)
			return r;
		memset(&nt.owner, 0, sizeof(nt.owner));
		if (i >= 0)
			n.targets[i] = nt;
		else
			n.targets[n.n_targets++] = nt;
		if (cir_lb_backend_ops(n.backend)->validate(&n, err) < 0)
			return cir_err_wrap(err, "service %s: target %s", name, a);
		r = put_if_same(cl, &n, rev, err);
		if (r < 0)
			return r;
		if (r == 1)
			return i < 0;
	}
	return lost_races(name, err);
}

int cir_lb_cluster_target_remove(struct cir_cluster *cl, const char *name,
				 const struct cir_lb_addr *a, struct cir_error *err)
{
	char s[CIR_LB_ADDR_STRLEN];

	for (int attempt = 0; attempt < CIR_LB_CLUSTER_RETRIES; attempt++) {
		_cleanup_service_ struct cir_lb_service old = { 0 };
		int64_t rev = 0;
		int r, i;

		r = cir_lb_cluster_get(cl, name, &old, &rev, err);
		if (r < 0)
			return r;
		i = cir_lb_target_find(&old, a);
		if (i < 0)
			return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
					    "service %s has no target %s", name,
					    cir_lb_addr_format(a, s, sizeof(s)));
		cir_lb_target_drop(&old, (size_t)i);
		r = put_if_same(cl, &old, rev, err);
		if (r < 0)
			return r;
		if (r == 1)
			return 0;
	}
	return lost_races(name, err);
}

int cir_lb_cluster_delete(struct cir_cluster *cl, const char *name, struct cir_error *err)
{
	_cleanup_service_ struct cir_lb_service s = { 0 };
	char skey[CIR_NAME_MAX + 64], vkey[CIR_IP_STRLEN + 64];
	int64_t rev = 0;
	int r;

	for (int attempt = 0; attempt < CIR_LB_CLUSTER_RETRIES; attempt++) {
		r = cir_lb_cluster_get(cl, name, &s, &rev, err);
		if (r < 0)
			return r;
		service_key(name, skey, sizeof(skey), err);
		vip_key(&s, vkey, sizeof(vkey));
		{
			struct cir_etcd_cmp cmp[2] = {
				{ .key = skey, .target = CIR_ETCD_CMP_MOD, .rev = rev },
				{ .key = vkey, .target = CIR_ETCD_CMP_VALUE, .value = name,
				  .vlen = strlen(name) },
			};
			struct cir_etcd_op del[2] = { { .kind = CIR_ETCD_OP_DELETE, .key = skey },
						      { .kind = CIR_ETCD_OP_DELETE, .key = vkey } };

			r = cir_etcd_txn(cl->etcd, cmp, 2, del, 2, NULL, 0, NULL, err);
			if (r < 0)
				return r;
			if (r == 1)
				return 0;
			/* The VIP key does not name it (damaged by hand): the
			 * record alone, on its revision. */
			r = cir_etcd_txn(cl->etcd, cmp, 1, del, 1, NULL, 0, NULL, err);
			if (r < 0)
				return r;
			if (r == 1)
				return 0;
		}
	}
	return lost_races(name, err);
}

/* ---- the agent's part ---- */

struct cir_lb_cluster_sync {
	struct cir_lb_db *db;
	void (*log)(void *arg, bool error, const char *msg);
	void *arg;
	char failing[CIR_ERROR_MSG_MAX];        /* etcd: the last problem */
	/* The source NAT written per bridge: its rule's inputs as text. */
	struct {
		char bridge[CIR_IFNAMSIZ];
		char *rule;
	} snat[SNAT_BRIDGES_MAX];
	/* The last problem said per service: one line per change. */
	struct {
		char name[CIR_NAME_MAX + 1];
		char msg[CIR_ERROR_MSG_MAX];
	} warned[SYNC_WARNED_MAX];
};

struct cir_lb_cluster_sync *cir_lb_cluster_sync_new(struct cir_lb_db *db,
						    void (*log)(void *arg, bool error,
								const char *msg),
						    void *arg)
{
	struct cir_lb_cluster_sync *s = calloc(1, sizeof(*s));

	if (s) {
		s->db = db;
		s->log = log;
		s->arg = arg;
	}
	return s;
}

void cir_lb_cluster_sync_free(struct cir_lb_cluster_sync *s)
{
	for (size_t i = 0; s && i < SNAT_BRIDGES_MAX; i++)
		free(s->snat[i].rule);
	free(s);
}

static void say(struct cir_lb_cluster_sync *s, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct cir_lb_cluster_sync *s, bool error, const char *fmt, ...)
{
	char line[CIR_ERROR_MSG_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->log)
		s->log(s->arg, error, line);
}

/* The slot of service name (or a free one: *fresh), SYNC_WARNED_MAX when full. */
static size_t slot_of(struct cir_lb_cluster_sync *s, const char *name, bool *fresh)
{
	size_t free_slot = SYNC_WARNED_MAX;

	*fresh = false;
	for (size_t i = 0; i < SYNC_WARNED_MAX; i++) {
		if (strcmp(s->warned[i].name, name) == 0)
			return i;
		if (!s->warned[i].name[0] && free_slot == SYNC_WARNED_MAX)
			free_slot = i;
	}
	*fresh = true;
	return free_slot;
}

/* A problem of service name: said when it differs from the last one; bad:
 * its record in etcd is damaged. */
static void service_warn(struct cir_lb_cluster_sync *s, const char *name, const char *msg,
			 bool bad)
{
	bool fresh;
	size_t i = slot_of(s, name, &fresh);

	if (i < SYNC_WARNED_MAX && !fresh && strcmp(s->warned[i].msg, msg) == 0)
		return;
	if (bad)
		say(s, true, "cluster: service %s: its record in etcd is damaged, this host's copy "
		    "(if any) is kept: %s", name, msg);
	else
		say(s, true, "cluster: service %s: not programmed on this host: %s (retrying)",
		    name, msg);
	if (i < SYNC_WARNED_MAX) {
		snprintf(s->warned[i].name, sizeof(s->warned[i].name), "%s", name);
		snprintf(s->warned[i].msg, sizeof(s->warned[i].msg), "%s", msg);
	}
}

/* Service name is fine now: forget its problem; whether it had one. */
static bool service_ok(struct cir_lb_cluster_sync *s, const char *name)
{
	bool fresh;
	size_t i = slot_of(s, name, &fresh);

	if (i >= SYNC_WARNED_MAX || fresh)
		return false;
	memset(&s->warned[i], 0, sizeof(s->warned[i]));
	return true;
}

struct copies {
	char (*names)[CIR_NAME_MAX + 1];
	size_t n, cap;
};

static int collect_copy(const struct cir_lb_service *svc, void *arg)
{
	struct copies *c = arg;

	if (!svc->cluster)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *p = realloc(c->names, cap * sizeof(*c->names));

		if (!p)
			return -ENOMEM;
		c->names = p;
		c->cap = cap;
	}
	snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", svc->name);
	return 0;
}

static bool listed(const struct cir_lb_service *v, size_t n, const struct cir_lb_cluster_bad *b,
		   size_t nb, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < nb; i++)
		if (strcmp(b[i].name, name) == 0)
			return true;
	return false;
}

/* Drop this host's copies of services that left the cluster. */
static void drop_gone(struct cir_lb_cluster_sync *s, const struct cir_lb_service *v, size_t n,
		      const struct cir_lb_cluster_bad *b, size_t nb)
{
	struct copies c = { 0 };
	struct cir_error err = CIR_ERROR_INIT;
	int r = cir_lb_list(s->db, collect_copy, &c, &err);

	if (r < 0) {
		say(s, true, "cluster: services: this host's copies not listed: %s", err.msg);
		free(c.names);
		return;
	}
	for (size_t i = 0; i < c.n; i++) {
		if (listed(v, n, b, nb, c.names[i]))
			continue;
		cir_err_clear(&err);
		r = cir_lb_drop_cluster(s->db, c.names[i], &err);
		if (r < 0)
			service_warn(s, c.names[i], err.msg, false);
		else if (r > 0)
			say(s, false, "cluster: service %s removed from this host (deleted in the "
			    "cluster)", c.names[i]);
		if (r >= 0)
			service_ok(s, c.names[i]);
	}
	free(c.names);
}

/* ---- this host's source address on the cluster networks ----
 *
 * IPVS NATs a connection to a target; the target answers the connection's
 * source.  On a cluster network that source must be this host's own: the
 * bridge's address is the anycast gateway (spec/cluster.md), which a
 * target on another host would find on its own host.  So for every
 * cluster network that a NAT'd target of a cluster service sits on, the
 * agent takes one address of the network for the host (from its blocks,
 * like a container's: IPAM id CIR_LB_SNAT_ID), puts it on the bridge as a
 * /32 (/128), and has connections to the cluster services' VIPs that leave
 * through the bridge leave with it (cir_nft_lbsnat_set).  When no such
 * target is left, the address and the rule go. */

#define CIR_LB_SNAT_ID "circuit-services"
#define CIR_LB_SNAT_IF "lb"

struct snat_want {
	char bridge[CIR_IFNAMSIZ];
	struct cir_ip *vips;
	size_t n;
};

struct snat_scan {
	struct snat_want w[SNAT_BRIDGES_MAX];
	size_t n;
	bool nomem;
};

static int snat_collect(const struct cir_lb_service *svc, void *arg)
{
	struct snat_scan *sc = arg;

	if (!svc->cluster || svc->backend != CIR_LB_BACKEND_IPVS)
		return 0;
	for (size_t i = 0; i < svc->n_targets; i++) {
		const struct cir_lb_target *t = &svc->targets[i];
		struct snat_want *w = NULL;
		bool have = false;
		void *p;

		if (t->method != CIR_IPVS_FWD_MASQ || !t->bridge[0])
			continue;
		for (size_t k = 0; k < sc->n && !w; k++)
			if (strcmp(sc->w[k].bridge, t->bridge) == 0)
				w = &sc->w[k];
		if (!w && sc->n == SNAT_BRIDGES_MAX)
			continue;
		if (!w) {
			w = &sc->w[sc->n++];
			snprintf(w->bridge, sizeof(w->bridge), "%s", t->bridge);
		}
		for (size_t k = 0; k < w->n && !have; k++)
			have = cir_ip_eq(&w->vips[k], &svc->vip.ip);
		if (have)
			continue;
		p = realloc(w->vips, (w->n + 1) * sizeof(*w->vips));
		if (!p) {
			sc->nomem = true;
			return -ENOMEM;
		}
		w->vips = p;
		w->vips[w->n++] = svc->vip.ip;
	}
	return 0;
}

static struct snat_want *snat_wanted(struct snat_scan *sc, const char *bridge)
{
	for (size_t k = 0; k < sc->n; k++)
		if (strcmp(sc->w[k].bridge, bridge) == 0)
			return &sc->w[k];
	return NULL;
}

/* The slot of bridge in s->snat (or a free one), SNAT_BRIDGES_MAX when full. */
static size_t snat_slot(struct cir_lb_cluster_sync *s, const char *bridge)
{
	size_t free_slot = SNAT_BRIDGES_MAX;

	for (size_t i = 0; i < SNAT_BRIDGES_MAX; i++) {
		if (strcmp(s->snat[i].bridge, bridge) == 0)
			return i;
		if (!s->snat[i].bridge[0] && free_slot == SNAT_BRIDGES_MAX)
			free_slot = i;
	}
	return free_slot;
}

/* This host's address on network nc (taken now when it has none). */
static int snat_address(struct cir_lb_cluster_sync *s, const struct cir_netconf *nc,
			struct cir_ip *out, bool *taken, struct cir_error *err)
{
	_cleanup_ipam_ struct cir_ipam h = CIR_IPAM_INIT;
	struct cir_ipam_result res;
	struct cir_ipam_range rg = { 0 };
	int r;

	*taken = false;
	r = cir_ipam_open(&h, &s->db->st, nc->name, err);
	if (r < 0)
		return r;
	r = cir_ipam_get(&h, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF, &res, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		r = cir_cidr_parse_subnet(nc->subnet, &rg.subnet, err);
		if (r >= 0 && nc->gateway[0])
			r = cir_ip_parse(nc->gateway, &rg.gateway, err);
		if (r >= 0)
			r = cir_ipam_range_canon(&rg, err);
		if (r >= 0)
			r = cir_cluster_alloc(&h, &rg, nc->block_size, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF,
					      NULL, 0, &res, err);
		*taken = r >= 0;
	}
	if (r < 0)
		return r;
	*out = res.ips[0].addr.ip;
	return 0;
}

/* The address as a host address on the bridge: "A/32" or "A/128". */
static void host_cidr(const struct cir_ip *ip, char *buf, size_t len)
{
	char a[CIR_IP_STRLEN];

	snprintf(buf, len, "%s/%d", cir_ip_format(ip, a, sizeof(a)), ip->af == AF_INET6 ? 128 : 32);
}

static int snat_apply(struct cir_lb_cluster_sync *s, const struct cir_netconf *nc,
		      const struct snat_want *w, struct cir_error *err)
{
	struct cir_link_info info;
	struct nl_sock *sk;
	struct cir_ip addr;
	char cidr[CIR_CIDR_STRLEN], a[CIR_IP_STRLEN];
	_cleanup_free_ char *rule = NULL;
	bool taken;
	size_t slot;
	int r;

	if (strchr(nc->subnet, ':'))
		return cir_err(err, EOPNOTSUPP, "IPv6: cluster services reach targets on this host "
			       "only (not done: the host's own address over the overlay)");
	r = snat_address(s, nc, &addr, &taken, err);
	if (r < 0)
		return cir_err_wrap(err, "this host's address on network %s", nc->name);
	host_cidr(&addr, cidr, sizeof(cidr));
	r = cir_lb_db_route(s->db, &sk, err);
	if (r >= 0)
		r = cir_link_get(sk, w->bridge, &info, err);
	if (r >= 0)
		r = cir_addr_add(sk, info.ifindex, cidr, true, err);
	if (r < 0)
		return cir_err_wrap(err, "bridge %s: address %s", w->bridge, cidr);
	rule = strdup(cidr);
	for (size_t i = 0; rule && i < w->n; i++) {
		char *p = NULL;

		if (asprintf(&p, "%s %s", rule, cir_ip_format(&w->vips[i], a, sizeof(a))) < 0)
			p = NULL;
		free(rule);
		rule = p;
	}
	if (!rule)
		return cir_err(err, ENOMEM, "out of memory");
	slot = snat_slot(s, w->bridge);
	if (slot < SNAT_BRIDGES_MAX && s->snat[slot].rule && strcmp(s->snat[slot].rule, rule) == 0)
		return 0;
	{
		char vx[16];
		struct cir_nft_lbmac mac = { .vxlan = vx };

		cir_overlay_name(nc->name, vx);
		cir_cluster_net_mac(nc->name, mac.gateway);
		/* Its own MAC: locally administered, unique as the address. */
		mac.host[0] = 0x02;
		mac.host[1] = 0xc3;
		memcpy(mac.host + 2, addr.addr, 4);
		r = cir_nft_lbsnat_set(w->bridge, &addr, w->vips, w->n, &mac, err);
	}
	if (r < 0)
		return r;
	if (slot < SNAT_BRIDGES_MAX) {
		snprintf(s->snat[slot].bridge, sizeof(s->snat[slot].bridge), "%s", w->bridge);
		free(s->snat[slot].rule);
		s->snat[slot].rule = TAKE_PTR(rule);
	}
	if (taken)
		say(s, false, "cluster: network %s: this host's address for cluster services is %s "
		    "(the source of their connections to targets)", nc->name,
		    cir_ip_format(&addr, a, sizeof(a)));
	return 1;
}

/* No cluster service needs network nc here (any more): its address and
 * rule go. */
static int snat_remove(struct cir_lb_cluster_sync *s, const struct cir_netconf *nc,
		       struct cir_error *err)
{
	_cleanup_ipam_ struct cir_ipam h = CIR_IPAM_INIT;
	struct cir_ipam_result res;
	struct cir_link_info info;
	struct nl_sock *sk;
	char cidr[CIR_CIDR_STRLEN];
	size_t slot = snat_slot(s, nc->bridge);
	bool had = slot < SNAT_BRIDGES_MAX && s->snat[slot].bridge[0];
	int r;

	r = cir_ipam_open_existing(&h, &s->db->st, nc->name, err);
	if (r == -ENOENT && !had) {
		cir_err_clear(err);
		return 0;
	}
	r = r < 0 ? r : cir_ipam_get(&h, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF, &res, err);
	if (r == -ENOENT && !had) {
		cir_err_clear(err);
		return 0;
	}
	cir_err_clear(err);
	{
		char vx[16];

		cir_overlay_name(nc->name, vx);
		r = cir_nft_lbsnat_del(nc->bridge, vx, err);
	}
	if (r < 0)
		return r;
	if (had) {
		free(s->snat[slot].rule);
		memset(&s->snat[slot], 0, sizeof(s->snat[slot]));
	}
	if (h.network[0] && cir_ipam_get(&h, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF, &res, err) >= 0) {
		host_cidr(&res.ips[0].addr.ip, cidr, sizeof(cidr));
		if (cir_lb_db_route(s->db, &sk, err) >= 0 &&
		    cir_link_get(sk, nc->bridge, &info, err) >= 0)
			cir_addr_del(sk, info.ifindex, cidr, err);
		cir_err_clear(err);
		r = cir_cluster_release(&h, CIR_LB_SNAT_ID, CIR_LB_SNAT_IF, err);
		if (r < 0)
			return r;
		say(s, false, "cluster: network %s: this host's address for cluster services %s "
		    "released (no target of theirs there)", nc->name, cidr);
	}
	cir_err_clear(err);
	return 1;
}

struct snat_net_scan {
	struct cir_lb_cluster_sync *s;
	struct cir_netdb *db;
	struct snat_scan *sc;
};

static int snat_net(const char *name, void *arg)
{
	struct snat_net_scan *ns = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error err = CIR_ERROR_INIT;
	struct snat_want *w;
	char key[CIR_NAME_MAX + 16];
	int r;

	if (cir_network_open(ns->db, name, false, &n, &err) < 0)
		return 0;
	if (!n.conf.cluster || !n.conf.bridge[0]) {
		cir_network_close(&n);
		return 0;
	}
	w = snat_wanted(ns->sc, n.conf.bridge);
	r = w ? snat_apply(ns->s, &n.conf, w, &err) : snat_remove(ns->s, &n.conf, &err);
	snprintf(key, sizeof(key), "~net:%s", name);
	if (r < 0) {
		bool fresh;
		size_t i = slot_of(ns->s, key, &fresh);

		if (i >= SYNC_WARNED_MAX || fresh || strcmp(ns->s->warned[i].msg, err.msg) != 0)
			say(ns->s, true, "cluster: network %s: cluster services: %s (retrying)", name,
			    err.msg);
		if (i < SYNC_WARNED_MAX) {
			snprintf(ns->s->warned[i].name, sizeof(ns->s->warned[i].name), "%s", key);
			snprintf(ns->s->warned[i].msg, sizeof(ns->s->warned[i].msg), "%s", err.msg);
		}
	} else {
		service_ok(ns->s, key);
	}
	cir_network_close(&n);
	return 0;
}

static void snat_sync(struct cir_lb_cluster_sync *s)
{
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct snat_scan *sc = calloc(1, sizeof(*sc));
	struct cir_error err = CIR_ERROR_INIT;
	struct snat_net_scan ns = { .s = s, .db = &db, .sc = sc };

	if (!sc)
		return;
	if (cir_lb_list(s->db, snat_collect, sc, &err) >= 0 &&
	    cir_netdb_open(&db, s->db->st.path, &err) >= 0)
		cir_netdb_list(&db, snat_net, &ns, &err);
	for (size_t k = 0; k < sc->n; k++)
		free(sc->w[k].vips);
	free(sc);
}

int cir_lb_cluster_sync_run(struct cir_lb_cluster_sync *s, struct cir_cluster *cl)
{
	struct cir_lb_service *v = NULL;
	struct cir_lb_cluster_bad *b = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	size_t n = 0, nb = 0;
	int r;

	if (!s || !cl)
		return 0;
	r = cir_lb_cluster_list(cl, &v, &n, &b, &nb, &err);
	if (r < 0) {
		if (strcmp(s->failing, err.msg) != 0)
			say(s, true, "cluster: services: %s (this host's copies kept; retrying)",
			    err.msg);
		snprintf(s->failing, sizeof(s->failing), "%s", err.msg);
		return r;
	}
	if (s->failing[0])
		say(s, false, "cluster: services: etcd reachable again");
	s->failing[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		cir_err_clear(&err);
		r = cir_lb_adopt(s->db, &v[i], &err);
		if (r < 0) {
			service_warn(s, v[i].name, err.msg, false);
			continue;
		}
		if (r == 2)
			say(s, false, "cluster: service %s programmed on this host (%zu targets)",
			    v[i].name, v[i].n_targets);
		else if (r == 1)
			say(s, false, "cluster: service %s changed on this host (%zu targets)",
			    v[i].name, v[i].n_targets);
		else if (service_ok(s, v[i].name))
			say(s, false, "cluster: service %s in step on this host", v[i].name);
		if (r > 0)
			service_ok(s, v[i].name);
	}
	for (size_t i = 0; i < nb; i++)
		service_warn(s, b[i].name, b[i].msg, true);
	drop_gone(s, v, n, b, nb);
	cir_lb_cluster_list_free(v, n);
	free(b);
	snat_sync(s);
	return 0;
}
