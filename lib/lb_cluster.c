// SPDX-License-Identifier: Apache-2.0
/*
 * lb_cluster.c - cluster services (lib/lb_cluster.h, spec/cluster.md
 * "Cluster services"): the record in etcd and its verbs from any host.
 * The agent's sync of this host's copies is lb_cluster_sync.c, this
 * host's source address on the cluster networks lb_cluster_snat.c.
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
