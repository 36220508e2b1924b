// SPDX-License-Identifier: Apache-2.0
/*
 * chain.c - circuit-lb ADD/DEL/CHECK/GC/STATUS.
 *
 * ADD adds the container's address (the prevResult address of the VIP's
 * family, preferably on CNI_IFNAME) to every configured service, owned by
 * the attachment (network, container id, ifname), and passes prevResult
 * through as its result; a failure removes what it added.  DEL removes
 * the attachment's targets by owner, so it needs neither prevResult nor
 * the namespace, and tolerates services that are gone.  CHECK verifies
 * store and kernel.  GC drops targets of this network whose attachment is
 * not in cni.dev/valid-attachments.  Nothing here touches the container's
 * namespace: IPVS lives in the namespace the runtime runs us in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "cleanup.h"
#include "ip.h"
#include "lb.h"

int lb_conf_parse(const struct cir_cni_conf *conf, struct lb_conf *lc, struct cir_error *err)
{
	const struct cir_jnode *arr = NULL;

	memset(lc, 0, sizeof(*lc));
	if (cir_json_str(conf->root, "dataDir", &lc->data_dir, err) < 0 ||
	    cir_json_arr(conf->root, "services", &arr, err) < 0) {
		err->code = CIR_CNI_INVALID_CONFIG;
		return -err->errnum;
	}
	if (cir_jnode_len(arr) > LB_JOINS_MAX)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "services: at most %d entries", LB_JOINS_MAX);
	for (size_t i = 0; i < cir_jnode_len(arr); i++) {
		const struct cir_jnode *o = cir_jnode_at(arr, i);
		struct lb_join *j = &lc->joins[i];
		const char *name = NULL, *method = "nat";
		uint32_t port = 0, weight = 1;

		if (cir_jnode_type(o) != CIR_JOBJECT)
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "services[%zu]: expected an object", i);
		if (cir_json_str(o, "name", &name, err) < 0 ||
		    cir_json_u32(o, "port", 65535, &port, err) < 0 ||
		    cir_json_u32(o, "weight", 65535, &weight, err) < 0 ||
		    cir_json_str(o, "method", &method, err) < 0)
			goto bad;
		if (!name) {
			cir_err(err, EINVAL, "name is missing");
			goto bad;
		}
		if (cir_name_check("service name", name, err) < 0 ||
		    cir_ipvs_fwd_parse(method, &j->method, err) < 0)
			goto bad;
		for (size_t k = 0; k < i; k++)
			if (strcmp(lc->joins[k].name, name) == 0) {
				cir_err(err, EINVAL, "service %s is listed twice", name);
				goto bad;
			}
		snprintf(j->name, sizeof(j->name), "%s", name);
		j->port = (uint16_t)port;
		j->weight = weight;
		lc->n_joins = i + 1;
		continue;
bad:
		err->code = CIR_CNI_INVALID_CONFIG;
		return cir_err_wrap(err, "services[%zu]", i);
	}
	return 0;
}

static void owner_of(const struct cir_cni_ctx *ctx, struct cir_lb_owner *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->network, sizeof(o->network), "%s", ctx->conf->name);
	snprintf(o->cid, sizeof(o->cid), "%s", ctx->env->containerid);
	snprintf(o->ifname, sizeof(o->ifname), "%s", ctx->env->ifname);
}

/*
 * The container's address of family af from prevResult: the first one on
 * the sandbox interface named CNI_IFNAME, else the first of that family.
 */
static int container_ip(const struct cir_cni_ctx *ctx, int af, struct cir_ip *out,
			struct cir_error *err)
{
	const struct cir_cni_result *res = &ctx->conf->prev_result;
	int fallback = -1, pick = -1;

	if (!ctx->conf->has_prev_result)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "circuit-lb is a chained plugin: prevResult is required "
				    "(put it after the plugin that creates the interface)");
	for (size_t i = 0; i < res->n_ips && pick < 0; i++) {
		struct cir_cidr c;
		int k = res->ips[i].iface;

		if (cir_cidr_parse(res->ips[i].address, 0, &c, err) < 0)
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "prevResult: ips[%zu]: %s", i, err->msg);
		if (c.ip.af != af)
			continue;
		if (fallback < 0)
			fallback = (int)i;
		if (k >= 0 && (size_t)k < res->n_ifaces && res->ifaces[k].sandbox[0] &&
		    strcmp(res->ifaces[k].name, ctx->env->ifname) == 0) {
			pick = (int)i;
			*out = c.ip;
		}
	}
	if (pick < 0 && fallback >= 0) {
		struct cir_cidr c;

		cir_cidr_parse(res->ips[fallback].address, 0, &c, err);
		*out = c.ip;
		pick = fallback;
	}
	if (pick < 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "prevResult has no IPv%d address for the service",
				    af == AF_INET6 ? 6 : 4);
	return 0;
}

/* The target join j makes for this attachment (its service read from db). */
static int join_target(struct cir_lb_db *db, const struct cir_cni_ctx *ctx,
		       const struct lb_join *j, struct cir_lb_target *t, struct cir_error *err)
{
	struct cir_lb_service s = { 0 };
	int r;

	r = cir_lb_get(db, j->name, &s, err);
	if (r == -ENOENT)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, ENOENT,
				    "service %s not found (create it with circuit lb create)",
				    j->name);
	if (r < 0)
		return r;
	memset(t, 0, sizeof(*t));
	r = container_ip(ctx, s.vip.ip.af, &t->addr.ip, err);
	t->addr.port = j->port ? j->port : s.vip.port;
	cir_lb_service_clear(&s);
	if (r < 0)
		return r;
	t->weight = j->weight;
	t->method = j->method;
	owner_of(ctx, &t->owner);
	return 0;
}

static int lb_open(const struct lb_conf *lc, struct cir_lb_db *db, struct cir_error *err)
{
	int r = cir_store_data_dir_check(lc->data_dir, true, err);

	if (r < 0)
		return r;
	r = cir_lb_db_open(db, lc->data_dir, err);

	return r < 0 ? cir_err_wrap(err, "state %s", cir_store_root(lc->data_dir)) : 0;
}

static int lb_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_lb_owner o;
	struct lb_conf lc;
	size_t i;
	int r;

	r = lb_conf_parse(ctx->conf, &lc, err);
	if (r < 0)
		return r;
	if (!ctx->conf->has_prev_result)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "circuit-lb is a chained plugin: prevResult is required "
				    "(put it after the plugin that creates the interface)");
	r = lb_open(&lc, &db, err);
	if (r < 0)
		return r;
	owner_of(ctx, &o);
	for (i = 0; i < lc.n_joins; i++) {
		struct cir_lb_target t;

		r = join_target(&db, ctx, &lc.joins[i], &t, err);
		if (r >= 0)
			r = cir_lb_target_add(&db, lc.joins[i].name, &t, err);
		if (r < 0)
			break;
	}
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		while (i-- > 0)
			cir_lb_detach(&db, lc.joins[i].name, &o, &e2);
		return r;
	}
	/* A chained plugin's result is its prevResult. */
	*ctx->result = ctx->conf->prev_result;
	return 0;
}

static int lb_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_lb_owner o;
	struct lb_conf lc;
	int r, first = 0;

	r = lb_conf_parse(ctx->conf, &lc, err);
	if (r < 0)
		return r;
	if (lc.n_joins == 0)
		return 0;
	r = cir_store_data_dir_check(lc.data_dir, false, err);
	if (r >= 0)
		r = cir_lb_db_open_existing(&db, lc.data_dir, err);
	if (r == -ENOENT) {
		cir_err_clear(err);     /* no services: nothing joined */
		return 0;
	}
	if (r < 0)
		return cir_err_wrap(err, "state %s", cir_store_root(lc.data_dir));
	owner_of(ctx, &o);
	/* Every service is tried; the first error is reported. */
	for (size_t i = 0; i < lc.n_joins; i++) {
		struct cir_error e2 = CIR_ERROR_INIT;

		r = cir_lb_detach(&db, lc.joins[i].name, &o, &e2);
		if (r < 0 && !first) {
			first = r;
			*err = e2;
		}
	}
	return first;
}

static int lb_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct lb_conf lc;
	int r;

	r = lb_conf_parse(ctx->conf, &lc, err);
	if (r < 0)
		return r;
	r = lb_open(&lc, &db, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < lc.n_joins; i++) {
		struct cir_lb_target t;

		r = join_target(&db, ctx, &lc.joins[i], &t, err);
		if (r >= 0)
			r = cir_lb_verify(&db, lc.joins[i].name, &t.owner, &t.addr, err);
		if (r < 0)
			return r;
	}
	return 0;
}

struct attachments {
	char (*cid)[CIR_CNI_ID_MAX + 1];
	char (*ifname)[CIR_IFNAMSIZ];
	size_t n, cap;
};

static int att_add(const char *cid, const char *ifname, void *arg)
{
	struct attachments *a = arg;

	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		void *c = reallocarray(a->cid, nc, sizeof(*a->cid));

		if (!c)
			return -ENOMEM;
		a->cid = c;
		c = reallocarray(a->ifname, nc, sizeof(*a->ifname));
		if (!c)
			return -ENOMEM;
		a->ifname = c;
		a->cap = nc;
	}
	snprintf(a->cid[a->n], sizeof(a->cid[a->n]), "%s", cid);
	snprintf(a->ifname[a->n], sizeof(a->ifname[a->n]), "%s", ifname);
	a->n++;
	return 0;
}

static int att_valid(const char *cid, const char *ifname, void *arg)
{
	const struct attachments *a = arg;

	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->cid[i], cid) == 0 && strcmp(a->ifname[i], ifname) == 0)
			return 1;
	return 0;
}

static int lb_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct attachments a = { 0 };
	const struct cir_jnode *arr = NULL;
	struct lb_conf lc;
	int r;

	r = lb_conf_parse(ctx->conf, &lc, err);
	if (r < 0)
		return r;
	/* Without the list we cannot tell live from gone: keep everything. */
	r = cir_json_arr(ctx->conf->root, "cni.dev/valid-attachments", &arr, err);
	if (r <= 0)
		return r;
	r = cir_cni_valid_attachments(ctx->conf, att_add, &a, err);
	if (r == -ENOMEM)
		r = cir_err(err, ENOMEM, "out of memory");
	if (r >= 0)
		r = lb_open(&lc, &db, err);
	if (r >= 0)
		r = cir_lb_gc(&db, ctx->conf->name, att_valid, &a, err);
	free(a.cid);
	free(a.ifname);
	return r < 0 ? r : 0;
}

static int lb_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_ipvs *h;
	struct lb_conf lc;
	int r;

	r = lb_conf_parse(ctx->conf, &lc, err);
	if (r < 0)
		return r;
	r = lb_open(&lc, &db, err);
	if (r < 0)
		return r;
	r = cir_lb_db_ipvs(&db, &h, err);
	if (r < 0)
		err->code = CIR_CNI_NOT_AVAILABLE;
	return r < 0 ? r : 0;
}

const struct cir_cni_plugin cir_lb_plugin = {
	.name = "circuit-lb",
	.about = "CNI chained plugin joining containers to IPVS load-balanced services",
	.add = lb_add,
	.del = lb_del,
	.check = lb_check,
	.gc = lb_gc,
	.status = lb_status,
};
