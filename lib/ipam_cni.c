// SPDX-License-Identifier: Apache-2.0
/*
 * ipam_cni.c - circuit-ipam: host-local compatible configuration on top of
 * the flat-cost allocator in ipam.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "cluster_alloc.h"
#include "cluster_members.h"
#include "cluster_poke.h"
#include "ipam_cni.h"
#include "store.h"

static int parse_ip_opt(const struct cir_jnode *o, const char *key, struct cir_ip *out,
			struct cir_error *err)
{
	const char *s = NULL;
	int r = cir_json_str(o, key, &s, err);

	if (r <= 0)
		return r;
	r = cir_ip_parse(s, out, err);
	if (r < 0) {
		err->code = CIR_CNI_INVALID_CONFIG;
		return cir_err_wrap(err, "%s", key);
	}
	return 1;
}

static int parse_range(const struct cir_jnode *o, struct cir_ipam_range *rg,
		       struct cir_error *err)
{
	const char *subnet = NULL;
	int r;

	memset(rg, 0, sizeof(*rg));
	if (cir_jnode_type(o) != CIR_JOBJECT)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL, "expected a range object");
	r = cir_json_str(o, "subnet", &subnet, err);
	if (r < 0)
		return r;
	if (r == 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL, "subnet is missing");
	r = cir_cidr_parse_subnet(subnet, &rg->subnet, err);
	if (r < 0) {
		err->code = CIR_CNI_INVALID_CONFIG;
		return cir_err_wrap(err, "subnet");
	}
	if (parse_ip_opt(o, "rangeStart", &rg->start, err) < 0 ||
	    parse_ip_opt(o, "rangeEnd", &rg->end, err) < 0 ||
	    parse_ip_opt(o, "gateway", &rg->gateway, err) < 0)
		return -err->errnum;
	return 0;
}

/* Requested addresses: "10.0.0.5" or "10.0.0.5/24" strings. */
static int add_req(struct cir_ipam_cni_conf *c, const char *s, struct cir_error *err)
{
	char buf[CIR_CIDR_STRLEN];
	char *slash;
	int r;

	if (strlen(s) >= sizeof(buf)) {
		char show[CIR_ERR_SHOWN_MAX];

		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "requested ip \"%s\" is too long",
				    cir_err_shown(s, show, sizeof(show)));
	}
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (c->n_req >= CIR_IPAM_MAX_SETS)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, E2BIG,
				    "too many requested ips (max %d)", CIR_IPAM_MAX_SETS);
	r = cir_ip_parse(buf, &c->req[c->n_req], err);
	if (r < 0) {
		err->code = CIR_CNI_INVALID_CONFIG;
		return cir_err_wrap(err, "requested ip");
	}
	c->n_req++;
	return 0;
}

static int parse_req_array(struct cir_ipam_cni_conf *c, const struct cir_jnode *arr,
			   const char *what, struct cir_error *err)
{
	for (size_t i = 0; i < cir_jnode_len(arr); i++) {
		const char *s = cir_jnode_str(cir_jnode_at(arr, i));

		if (!s)
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "%s: expected an array of strings", what);
		if (add_req(c, s, err) < 0)
			return -err->errnum;
	}
	return 0;
}

/* "ranges": [[range, ...], ...] (range sets), or one range at the top of
 * the ipam section; checked as a whole. */
static int parse_ranges(const struct cir_jnode *ipam, struct cir_ipam_config *cfg,
			struct cir_error *err)
{
	const struct cir_jnode *ranges = NULL;
	int r;

	r = cir_json_arr(ipam, "ranges", &ranges, err);
	if (r < 0)
		return cir_err_wrap(err, "ipam");
	if (r == 0) {
		r = parse_range(ipam, &cfg->sets[0].r[0], err);
		if (r < 0)
			return cir_err_wrap(err, "ipam");
		cfg->sets[0].n = 1;
		cfg->n = 1;
	} else if (cir_jnode_len(ranges) == 0 || cir_jnode_len(ranges) > CIR_IPAM_MAX_SETS) {
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "ipam: ranges: expected 1 to %d range sets", CIR_IPAM_MAX_SETS);
	}
	for (size_t i = 0; r > 0 && i < cir_jnode_len(ranges); i++) {
		const struct cir_jnode *set = cir_jnode_at(ranges, i);
		struct cir_ipam_rangeset *rs = &cfg->sets[i];

		if (cir_jnode_type(set) != CIR_JARRAY || cir_jnode_len(set) == 0 ||
		    cir_jnode_len(set) > CIR_IPAM_MAX_RANGES)
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "ipam: ranges[%zu]: expected an array of 1 to %d "
					    "ranges", i, CIR_IPAM_MAX_RANGES);
		for (size_t j = 0; j < cir_jnode_len(set); j++)
			if (parse_range(cir_jnode_at(set, j), &rs->r[j], err) < 0)
				return cir_err_wrap(err, "ipam: ranges[%zu][%zu]", i, j);
		rs->n = cir_jnode_len(set);
		cfg->n = cir_jnode_len(ranges);
	}
	r = cir_ipam_config_check(cfg, err);
	return r < 0 ? cir_err_wrap(err, "ipam") : 0;
}

/* ipam "cluster": {"blockSize": N}: addresses from this host's blocks of a
 * cluster network (lib/cluster_alloc.c); one subnet, blocks of at most
 * 1,024 addresses inside it. */
static int parse_cluster(const struct cir_jnode *ipam, struct cir_ipam_cni_conf *c,
			 struct cir_error *err)
{
	const struct cir_jnode *cl = NULL;
	unsigned int bits;
	uint32_t bs = 0;
	int r;

	r = cir_json_obj(ipam, "cluster", &cl, err);
	if (r <= 0)
		return r < 0 ? cir_err_wrap(err, "ipam") : 0;
	bits = c->cfg.sets[0].r[0].subnet.ip.af == AF_INET6 ? 128 : 32;
	if (cir_json_u32(cl, "blockSize", 128, &bs, err) <= 0 || c->cfg.n != 1 ||
	    c->cfg.sets[0].n != 1 || bs < c->cfg.sets[0].r[0].subnet.prefix ||
	    bs > bits - 2 || bits - bs > 10)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "ipam: cluster: want one subnet and a blockSize "
				    "inside it of at most 1024 addresses");
	c->cluster_block = bs;
	return 0;
}

/* One entry of ipam "routes": {"dst": CIDR, "gw": IP (optional)}. */
static int parse_route(const struct cir_jnode *o, size_t i, struct cir_ipam_cni_conf *c,
		       struct cir_error *err)
{
	const char *dst = NULL, *gw = NULL;
	struct cir_cidr d;
	struct cir_ip g;

	if (c->n_routes >= CIR_IPAM_MAX_ROUTES)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, E2BIG,
				    "ipam: more than %d routes", CIR_IPAM_MAX_ROUTES);
	if (cir_json_str(o, "dst", &dst, err) <= 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "ipam: routes[%zu]: dst is missing", i);
	if (cir_cidr_parse(dst, CIR_CIDR_NETWORK, &d, err) < 0) {
		err->code = CIR_CNI_INVALID_CONFIG;
		return cir_err_wrap(err, "ipam: routes[%zu]", i);
	}
	if (cir_json_str(o, "gw", &gw, err) < 0)
		return cir_err_wrap(err, "ipam: routes[%zu]", i);
	if (gw && cir_ip_parse(gw, &g, err) < 0) {
		err->code = CIR_CNI_INVALID_CONFIG;
		return cir_err_wrap(err, "ipam: routes[%zu]: gw", i);
	}
	snprintf(c->routes[c->n_routes].dst, sizeof(c->routes[0].dst), "%s", dst);
	snprintf(c->routes[c->n_routes].gw, sizeof(c->routes[0].gw), "%s", gw ? gw : "");
	c->n_routes++;
	return 0;
}

/* Requested addresses, most specific first: runtimeConfig.ips,
 * args.cni.ips, CNI_ARGS IP= (the first source that names any wins). */
static int parse_requests(const struct cir_cni_conf *conf, const struct cir_cni_env *env,
			  struct cir_ipam_cni_conf *c, struct cir_error *err)
{
	const struct cir_jnode *args = NULL, *cni = NULL, *arr = NULL;
	char ipbuf[CIR_CIDR_STRLEN];
	char *save = NULL;
	int r;

	if (conf->runtime_config) {
		r = cir_json_arr(conf->runtime_config, "ips", &arr, err);
		if (r < 0)
			return cir_err_wrap(err, "runtimeConfig");
		if (r > 0 && parse_req_array(c, arr, "runtimeConfig.ips", err) < 0)
			return -err->errnum;
	}
	if (c->n_req == 0 && cir_json_obj(conf->root, "args", &args, err) > 0 &&
	    cir_json_obj(args, "cni", &cni, err) > 0) {
		arr = NULL;
		r = cir_json_arr(cni, "ips", &arr, err);
		if (r < 0)
			return cir_err_wrap(err, "args.cni");
		if (r > 0 && parse_req_array(c, arr, "args.cni.ips", err) < 0)
			return -err->errnum;
	}
	if (c->n_req || !env || !env->args)
		return 0;
	r = cir_cni_args_get(env->args, "IP", ipbuf, sizeof(ipbuf), err);
	if (r <= 0)
		return r;
	/* CNI_ARGS IP= may list several, comma-separated. */
	for (char *t = strtok_r(ipbuf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (add_req(c, t, err) < 0)
			return -err->errnum;
	return 0;
}

int cir_ipam_cni_parse(const struct cir_cni_conf *conf, const struct cir_cni_env *env,
		       struct cir_ipam_cni_conf *c, struct cir_error *err)
{
	const struct cir_jnode *ipam = conf->ipam, *routes = NULL;
	int r;

	memset(c, 0, sizeof(*c));
	if (!ipam)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL, "ipam section is missing");
	if (cir_json_str(ipam, "dataDir", &c->data_dir, err) < 0)
		return cir_err_wrap(err, "ipam");
	r = parse_ranges(ipam, &c->cfg, err);
	if (r < 0)
		return r;
	r = parse_cluster(ipam, c, err);
	if (r < 0)
		return r;
	r = cir_json_arr(ipam, "routes", &routes, err);
	if (r < 0)
		return cir_err_wrap(err, "ipam");
	for (size_t i = 0; r > 0 && i < cir_jnode_len(routes); i++)
		if (parse_route(cir_jnode_at(routes, i), i, c, err) < 0)
			return -err->errnum;
	return parse_requests(conf, env, c, err);
}

/* Open the network's allocations.  With !create (DEL, GC) nothing is ever
 * created: -ENOENT when the network has no state, which those verbs treat
 * as "nothing to release" so that a DEL after `circuit network delete`
 * leaves no trace. */
static int open_net(const struct cir_cni_ctx *ctx, const struct cir_ipam_cni_conf *c,
		    bool create, struct cir_store *st, struct cir_ipam *h, struct cir_error *err)
{
	int r;

	r = cir_store_data_dir_check(c->data_dir, create, err);
	if (r >= 0)
		r = cir_store_openf(st, c->data_dir, NULL,
				    create ? CIR_STORE_CREATE : CIR_STORE_EXISTING, NULL, err);
	if (r == -ENOENT && !create)
		return r;
	if (r < 0) {
		/* A symlinked, relative or non-directory dataDir is a config
		 * error; anything else is the disk's. */
		if (!err->code)
			err->code = (r == -ELOOP || r == -ENOTDIR || r == -EINVAL)
					    ? CIR_CNI_INVALID_CONFIG
					    : CIR_CNI_IO;
		return cir_err_wrap(err, "ipam");
	}
	r = create ? cir_ipam_open(h, st, ctx->conf->name, err)
		   : cir_ipam_open_existing(h, st, ctx->conf->name, err);
	if (r < 0) {
		cir_store_close(st);
		if (r == -ENOENT && !create)
			return r;
		return cir_err_wrap(err, "ipam store");
	}
	return 0;
}

static void close_net(struct cir_store *st, struct cir_ipam *h)
{
	cir_ipam_close(h);
	cir_store_close(st);
}

/* Every range set and configured route fits a result. */
_Static_assert(CIR_IPAM_MAX_SETS <= CIR_CNI_MAX_IPS, "a result holds every range set");
_Static_assert(CIR_IPAM_MAX_ROUTES <= CIR_CNI_MAX_ROUTES, "a result holds every route");

static int fill_result(struct cir_cni_result *res, const struct cir_ipam_cni_conf *c,
		       const struct cir_ipam_result *a, struct cir_error *err)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < a->n; i++) {
		char addr[CIR_CIDR_STRLEN], gw[CIR_IP_STRLEN] = "";

		cir_cidr_format(&a->ips[i].addr, addr, sizeof(addr));
		if (a->ips[i].gateway.af)
			cir_ip_format(&a->ips[i].gateway, gw, sizeof(gw));
		r = cir_cni_result_add_ip(res, addr, gw, -1, err);
	}
	for (size_t i = 0; r >= 0 && i < c->n_routes; i++)
		r = cir_cni_result_add_route(res, c->routes[i].dst, c->routes[i].gw, err);
	return r < 0 ? r : 0;
}

/* A member of a cluster network published in etcd (spec/cluster.md
 * "Members across hosts"), or its key deleted (a == NULL): best effort,
 * within CIR_IPAM_MEMBER_MS, so that an ADD inside a held block succeeds
 * while etcd is unreachable; one warning line on stderr (the plugin's
 * diagnostics stream; stdout is the CNI result) and the agent's sync
 * publishes it later. */
#define CIR_IPAM_MEMBER_MS 1000u
static void member_publish(const struct cir_cni_ctx *ctx, const char *network,
			   const struct cir_ipam_result *a)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	char mac[18] = "";
	int r = cir_cluster_open(&cl, NULL, &e);

	if (r >= 0 && !cl)
		return;
	/* The interface's MAC, for the peers' FDB entries: the container end
	 * of circuit-bridge's veth, made before its IPAM runs.  Unknown (no
	 * such veth: another main plugin) is left out. */
	if (r >= 0 && a && cir_cluster_member_mac(NULL, ctx->env->containerid, ctx->env->ifname,
						  mac, &e) < 0) {
		cir_err_clear(&e);
		mac[0] = '\0';
	}
	if (r >= 0)
		r = a ? cir_cluster_member_put(cl, network, ctx->env->containerid,
					       ctx->env->ifname, a, mac, CIR_IPAM_MEMBER_MS, &e)
		      : cir_cluster_member_del(cl, network, ctx->env->containerid,
					       ctx->env->ifname, CIR_IPAM_MEMBER_MS, &e);
	if (r < 0)
		fprintf(stderr, "circuit-ipam: warning: network %s: member %s %s in etcd: %s "
			"(the agent will catch up)\n", network, ctx->env->containerid,
			a ? "not published" : "not removed", e.msg);
}

/* After the IPAM lock is released: this host's agent is poked
 * (cluster_poke.h) and runs the network's members sync itself.  Its queue
 * full (EAGAIN, a burst of ADDs) is delivered too: the agent syncs every
 * network after reading a full queue.  Without one listening (no socket,
 * refused, any other error) the key is written here as before. */
static void member_changed(const struct cir_cni_ctx *ctx, const struct cir_ipam_cni_conf *c,
			   const char *network, const struct cir_ipam_result *a)
{
	int r = cir_cluster_poke_send(c->data_dir, network);

	if (r == 0 || r == -EAGAIN || r == -EWOULDBLOCK)
		return;
	member_publish(ctx, network, a);
}

int cir_ipam_cni_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_ipam_cni_conf c;
	struct cir_store st = CIR_STORE_INIT;
	struct cir_ipam h = CIR_IPAM_INIT;
	struct cir_ipam_result a;
	int r;

	r = cir_ipam_cni_parse(ctx->conf, ctx->env, &c, err);
	if (r < 0)
		return r;
	r = open_net(ctx, &c, true, &st, &h, err);
	if (r < 0)
		return r;
	cir_ipam_set_netns(&h, ctx->env->netns);
	if (c.cluster_block)
		r = cir_cluster_alloc(&h, &c.cfg.sets[0].r[0], c.cluster_block,
				      ctx->env->containerid, ctx->env->ifname,
				      c.n_req ? c.req : NULL, c.n_req, &a, err);
	else
		r = cir_ipam_alloc(&h, &c.cfg, ctx->env->containerid, ctx->env->ifname,
				   c.n_req ? c.req : NULL, c.n_req, &a, err);
	if (r >= 0) {
		r = fill_result(ctx->result, &c, &a, err);
		/* No result, no reservation. */
		if (r < 0) {
			struct cir_error e2 = CIR_ERROR_INIT;

			(void)cir_ipam_release(&h, ctx->env->containerid, ctx->env->ifname, &e2);
		}
	}
	close_net(&st, &h);
	if (r >= 0 && c.cluster_block)
		member_changed(ctx, &c, h.network, &a);
	return r < 0 ? r : 0;
}

int cir_ipam_cni_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_ipam_cni_conf c;
	struct cir_store st = CIR_STORE_INIT;
	struct cir_ipam h = CIR_IPAM_INIT;
	int r;

	r = cir_ipam_cni_parse(ctx->conf, ctx->env, &c, err);
	if (r < 0)
		return r;
	r = open_net(ctx, &c, false, &st, &h, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	if (c.cluster_block) {
		r = cir_cluster_release(&h, ctx->env->containerid, ctx->env->ifname, err);
	} else {
		r = cir_ipam_release(&h, ctx->env->containerid, ctx->env->ifname, err);
	}
	close_net(&st, &h);
	if (c.cluster_block && r > 0)
		member_changed(ctx, &c, h.network, NULL);
	return r < 0 ? r : 0;
}

bool cir_ipam_cni_is_cluster(const struct cir_cni_conf *conf)
{
	const struct cir_jnode *cl = NULL;

	return conf && conf->ipam && cir_json_obj(conf->ipam, "cluster", &cl, NULL) > 0;
}

int cir_ipam_cni_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_ipam_cni_conf c;
	struct cir_store st = CIR_STORE_INIT;
	struct cir_ipam h = CIR_IPAM_INIT;
	struct cir_ipam_result a;
	int r;

	r = cir_ipam_cni_parse(ctx->conf, ctx->env, &c, err);
	if (r < 0)
		return r;
	r = open_net(ctx, &c, false, &st, &h, err);
	if (r == -ENOENT)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "network %s has no allocations here", ctx->conf->name);
	if (r < 0)
		return r;
	r = cir_ipam_get(&h, ctx->env->containerid, ctx->env->ifname, &a, err);
	close_net(&st, &h);
	if (r < 0)
		return cir_err_wrap(err, "container %s interface %s", ctx->env->containerid,
				    ctx->env->ifname);
	return 0;
}

struct gc_list {
	struct cir_ipam_attachment *v;
	size_t n, cap;
};

static int gc_collect(const char *cid, const char *ifname, void *arg)
{
	struct gc_list *l = arg;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->v, nc * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = nc;
	}
	l->v[l->n].cid = cid;
	l->v[l->n].ifname = ifname;
	l->n++;
	return 0;
}

int cir_ipam_cni_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_ipam_cni_conf c;
	struct cir_store st = CIR_STORE_INIT;
	struct cir_ipam h = CIR_IPAM_INIT;
	struct gc_list l = { 0 };
	int r;

	r = cir_ipam_cni_parse(ctx->conf, ctx->env, &c, err);
	if (r < 0)
		return r;
	r = cir_cni_valid_attachments(ctx->conf, gc_collect, &l, err);
	if (r < 0)
		goto out;
	r = open_net(ctx, &c, false, &st, &h, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	r = cir_ipam_gc_flags(&h, l.v, l.n, cir_cni_gc_keep_live(ctx->conf) ? CIR_IPAM_GC_KEEP_LIVE : 0,
			      err);
	close_net(&st, &h);
out:
	free(l.v);
	return r < 0 ? r : 0;
}

int cir_ipam_cni_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_ipam_cni_conf c;
	struct cir_store st = CIR_STORE_INIT;
	struct cir_ipam h = CIR_IPAM_INIT;
	int r;

	r = cir_ipam_cni_parse(ctx->conf, ctx->env, &c, err);
	if (r < 0)
		return r;
	r = open_net(ctx, &c, true, &st, &h, err);
	if (r >= 0) {
		r = cir_ipam_status(&h, &c.cfg, err);
		close_net(&st, &h);
	}
	if (r < 0)
		err->code = CIR_CNI_NOT_AVAILABLE;
	return r < 0 ? r : 0;
}

const struct cir_cni_plugin cir_ipam_plugin = {
	.name = CIR_IPAM_PLUGIN,
	.about = "Circuit IPAM plugin: host-local compatible, flat cost per ADD/DEL",
	.add = cir_ipam_cni_add,
	.del = cir_ipam_cni_del,
	.check = cir_ipam_cni_check,
	.gc = cir_ipam_cni_gc,
	.status = cir_ipam_cni_status,
};
