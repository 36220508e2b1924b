// SPDX-License-Identifier: Apache-2.0
/*
 * plugin.c - circuit-portmap ADD/DEL/CHECK/GC/STATUS.
 *
 * ADD publishes runtimeConfig.portMappings towards the container's
 * addresses taken from prevResult (one per family, preferably on the
 * sandbox interface CNI_IFNAME) and passes prevResult through; without
 * mappings it does nothing at all.  DEL unpublishes what the attachment's
 * record says (neither prevResult nor the namespace is needed).  CHECK
 * compares record and kernel with the mappings asked for.  GC releases the
 * network's attachments missing from cni.dev/valid-attachments (with
 * Circuit's keep-live rule: only those whose namespace is gone).  All the
 * work is in lib/portmap*.c; nothing here enters the container's namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "ip.h"
#include "netns.h"
#include "plugin.h"
#include "store.h"

void portmap_conf_free(struct portmap_conf *pc)
{
	free(pc->m);
	pc->m = NULL;
}

int portmap_conf_parse(const struct cir_cni_conf *conf, struct portmap_conf *pc,
		       struct cir_error *err)
{
	const struct cir_jnode *arr = NULL;
	int r;

	memset(pc, 0, sizeof(*pc));
	if (cir_json_str(conf->root, "dataDir", &pc->data_dir, err) < 0)
		goto bad;
	if (conf->runtime_config &&
	    cir_json_arr(conf->runtime_config, "portMappings", &arr, err) < 0) {
		cir_err_wrap(err, "runtimeConfig");
		goto bad;
	}
	if (!arr || cir_jnode_len(arr) == 0)
		return 0;
	pc->m = calloc(CIR_PORTMAP_MAX, sizeof(*pc->m));
	if (!pc->m)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	r = cir_portmap_parse_json(arr, pc->m, &pc->n, CIR_PORTMAP_MAX, err);
	if (r < 0) {
		cir_err_wrap(err, "runtimeConfig");
		portmap_conf_free(pc);
		goto bad;
	}
	return 0;
bad:
	err->code = CIR_CNI_INVALID_CONFIG;
	return -err->errnum;
}

static void owner_of(const struct cir_cni_ctx *ctx, struct cir_portmap_owner *o)
{
	*o = (struct cir_portmap_owner){ .network = ctx->conf->name,
					 .cid = ctx->env->containerid,
					 .ifname = ctx->env->ifname,
					 .netns = ctx->env->netns };
}

/* Addresses (one per family, the sandbox interface CNI_IFNAME's first)
 * and the bridge (the first host-side interface) from prevResult. */
static int target_of(const struct cir_cni_ctx *ctx, struct cir_portmap_target *t,
		     struct cir_error *err)
{
	const struct cir_cni_result *res = &ctx->conf->prev_result;
	bool on_if[2] = { false, false };

	memset(t, 0, sizeof(*t));
	if (!ctx->conf->has_prev_result)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "circuit-portmap is a chained plugin: prevResult is required "
				    "(put it after the plugin that creates the interface)");
	/* bridge and veth results list the bridge first, then the host
	 * end of the container's link. */
	for (size_t i = 0, k = 0; i < res->n_ifaces && k < 2; i++) {
		if (res->ifaces[i].sandbox[0] || !res->ifaces[i].name[0])
			continue;
		snprintf(k ? t->port : t->bridge, sizeof(t->bridge), "%s", res->ifaces[i].name);
		k++;
	}
	for (size_t i = 0; i < res->n_ips; i++) {
		struct cir_cidr c;
		int k = res->ips[i].iface, f;
		bool mine;
		struct cir_ip *slot;

		if (cir_cidr_parse(res->ips[i].address, 0, &c, err) < 0)
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "prevResult: ips[%zu]: %s", i, err->msg);
		f = c.ip.af == AF_INET6;
		slot = f ? &t->addr6 : &t->addr4;
		mine = k >= 0 && (size_t)k < res->n_ifaces && res->ifaces[k].sandbox[0] &&
		       strcmp(res->ifaces[k].name, ctx->env->ifname) == 0;
		if (!slot->af || (mine && !on_if[f])) {
			*slot = c.ip;
			*(f ? &t->net6 : &t->net4) = c;
			on_if[f] = mine;
		}
	}
	return 0;
}

static int pm_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(portmap_conf_free) struct portmap_conf pc = { 0 };
	struct cir_portmap_target t;
	struct cir_portmap_owner o;
	int r;

	r = portmap_conf_parse(ctx->conf, &pc, err);
	if (r < 0)
		return r;
	r = target_of(ctx, &t, err);
	if (r < 0)
		return r;
	owner_of(ctx, &o);
	if (pc.n) {
		r = cir_portmap_attach(pc.data_dir, &o, pc.m, pc.n, &t, err);
		if (r < 0)
			return r;
	} else {
		/* Nothing asked for: drop what an earlier ADD published. */
		r = cir_portmap_detach(pc.data_dir, &o, err);
		if (r < 0)
			return r;
	}
	/* A chained plugin's result is its prevResult. */
	*ctx->result = ctx->conf->prev_result;
	return 0;
}

static int pm_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(portmap_conf_free) struct portmap_conf pc = { 0 };
	struct cir_portmap_owner o;
	int r;

	/* A DEL must work with a config it cannot fully parse: only
	 * dataDir matters here. */
	r = portmap_conf_parse(ctx->conf, &pc, err);
	if (r < 0 && cir_json_str(ctx->conf->root, "dataDir", &pc.data_dir, err) < 0)
		return r;
	cir_err_clear(err);
	owner_of(ctx, &o);
	return cir_portmap_detach(pc.data_dir, &o, err);
}

static int pm_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(portmap_conf_free) struct portmap_conf pc = { 0 };
	struct cir_portmap_owner o;
	int r;

	r = portmap_conf_parse(ctx->conf, &pc, err);
	if (r < 0)
		return r;
	owner_of(ctx, &o);
	return cir_portmap_verify(pc.data_dir, &o, pc.m, pc.n, err);
}

struct gc_valid {
	const struct cir_cni_conf *conf;
	bool keep_live;
};

static int att_match(const char *cid, const char *ifname, void *arg)
{
	const char **want = arg;

	return strcmp(cid, want[0]) == 0 && strcmp(ifname, want[1]) == 0 ? -EEXIST : 0;
}

static bool netns_alive(const char *path)
{
	struct cir_error e = CIR_ERROR_INIT;
	int fd = -1, r;

	if (!path || !*path)
		return false;
	r = cir_netns_open(path, &fd, &e);
	if (r >= 0) {
		close(fd);
		return true;
	}
	return !(r == -ENOENT || r == -ESRCH);
}

static bool gc_keep(const char *cid, const char *ifname, const char *netns, void *arg)
{
	struct gc_valid *g = arg;
	struct cir_error e = CIR_ERROR_INIT;
	const char *want[2] = { cid, ifname };

	if (cir_cni_valid_attachments(g->conf, att_match, want, &e) == -EEXIST)
		return true;
	/* Another runtime's attachment is not in Circuit's list: keep it
	 * while its namespace exists. */
	return g->keep_live && netns_alive(netns);
}

static int pm_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(portmap_conf_free) struct portmap_conf pc = { 0 };
	const struct cir_jnode *arr = NULL;
	struct gc_valid g = { ctx->conf, cir_cni_gc_keep_live(ctx->conf) };
	int r;

	r = portmap_conf_parse(ctx->conf, &pc, err);
	if (r < 0)
		return r;
	/* Without the list we cannot tell live from gone: keep everything. */
	r = cir_json_arr(ctx->conf->root, "cni.dev/valid-attachments", &arr, err);
	if (r <= 0)
		return r;
	r = cir_portmap_gc(pc.data_dir, ctx->conf->name, gc_keep, &g, err);
	return r < 0 ? r : 0;
}

static int pm_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	_cleanup_(portmap_conf_free) struct portmap_conf pc = { 0 };
	int r;

	r = portmap_conf_parse(ctx->conf, &pc, err);
	if (r < 0)
		return r;
	r = cir_store_data_dir_check(pc.data_dir, false, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		r = 0;
	}
	return r < 0 ? r : 0;
}

const struct cir_cni_plugin cir_portmap_plugin = {
	.name = "circuit-portmap",
	.about = "CNI chained plugin publishing container ports on the host (portMappings)",
	.add = pm_add,
	.del = pm_del,
	.check = pm_check,
	.gc = pm_gc,
	.status = pm_status,
};
