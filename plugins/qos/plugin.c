// SPDX-License-Identifier: Apache-2.0
/*
 * plugin.c - circuit-qos ADD/DEL/CHECK/GC/STATUS.
 *
 * A chained plugin: the host-side veth comes from prevResult (the
 * interface without a sandbox that is a veth; when there are several, the
 * peer of the container's interface), and the ADD result is prevResult
 * passed through.  ADD shapes both directions through lib/qos
 * (cir_qos_link_apply: HTB on the veth, HTB on an ifb fed by an ingress
 * redirect, netem leaves); DEL removes the trees and the ifb and tolerates
 * a missing link; CHECK reads the kernel back and compares; GC deletes
 * ifbs whose device is gone.  The config (the chain entry the CLI writes)
 * is read by lib/qosnet.c's cir_qos_entry_for_container.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "link.h"
#include "names.h"
#include "netns.h"
#include "nl.h"
#include "plugin.h"
#include "qosnet.h"
#include "store.h"

/* ---- the host-side interface ---- */

struct peer_query {
	const char *ifname;
	int peer;            /* IFLA_LINK of the container interface */
};

static int peer_index(void *arg, struct cir_error *err)
{
	struct peer_query *q = arg;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = cir_link_get(sk, q->ifname, &li, err);
	if (r < 0)
		return r;
	q->peer = li.link;
	return 0;
}

/*
 * The host-side veth of this attachment: among prevResult's interfaces
 * without a sandbox, the one that exists here and is a veth; with several,
 * the peer of the container's interface.
 */
static int host_iface(const struct cir_cni_ctx *ctx, char out[CIR_IFNAMSIZ],
		      struct cir_error *err)
{
	const struct cir_cni_result *prev = &ctx->conf->prev_result;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	int idx[CIR_CNI_MAX_IFACES];
	size_t cand[CIR_CNI_MAX_IFACES], n = 0;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < prev->n_ifaces; i++) {
		if (prev->ifaces[i].sandbox[0])
			continue;
		if (cir_link_get(sk, prev->ifaces[i].name, &li, NULL) < 0 ||
		    strcmp(li.kind, "veth") != 0)
			continue;
		idx[n] = li.ifindex;
		cand[n++] = i;
	}
	if (n == 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, ENODEV,
				    "prevResult names no host-side veth that exists (circuit-qos "
				    "chains after a plugin that makes a veth pair)");
	if (n > 1) {
		_cleanup_close_ int nsfd = -1;
		struct peer_query q = { .ifname = ctx->env->ifname };

		r = cir_netns_open(ctx->env->netns, &nsfd, err);
		if (r < 0)
			return r;
		r = cir_netns_run(nsfd, peer_index, &q, err);
		if (r < 0)
			return cir_err_wrap(err, "container interface");
		for (size_t i = 0; i < n; i++)
			if (idx[i] == q.peer) {
				cand[0] = cand[i];
				n = 1;
				break;
			}
		if (n != 1)
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, ENODEV,
					    "none of prevResult's host veths is the peer of %s",
					    ctx->env->ifname);
	}
	snprintf(out, CIR_IFNAMSIZ, "%s", prev->ifaces[cand[0]].name);
	return 0;
}

/* ---- what each attachment shaped: <root>/qos/<network>/<cid>@<ifname> ----
 * One small record per shaped attachment holds the host device's name, so
 * that GC can find the shaping of an attachment that is no longer valid
 * while its veth still exists (nothing else says which network a veth
 * belongs to).  Written without fsync: after a crash the veths are gone too.
 */
static int rec_open(const struct cir_cni_ctx *ctx, bool create, struct cir_store *st,
		    struct cir_error *err)
{
	_cleanup_close_ int top = -1;
	int fd;

	/* DEL and GC never create: a DEL after the network is gone leaves
	 * no trace (-ENOENT: nothing recorded). */
	fd = cir_store_openf(st, NULL, NULL, create ? CIR_STORE_CREATE : CIR_STORE_EXISTING, NULL,
			     err);
	if (fd < 0)
		return fd;
	top = cir_store_dir(st->fd, CIR_QOS_STATE_DIR, create, err);
	fd = top < 0 ? top : cir_store_dir(top, ctx->conf->name, create, err);
	if (fd < 0)
		cir_store_close(st);
	return fd;
}

static void rec_name(const char *cid, const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, "%s@%s", cid, ifname);
}

static int rec_put(const struct cir_cni_ctx *ctx, const char *host, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	char name[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];
	int fd, r;

	fd = rec_open(ctx, true, &st, err);
	if (fd < 0)
		return cir_err_wrap(err, "qos state");
	rec_name(ctx->env->containerid, ctx->env->ifname, name, sizeof(name));
	r = cir_store_overwrite(fd, name, host, strlen(host), err);
	close(fd);
	cir_store_close(&st);
	return r < 0 ? cir_err_wrap(err, "qos state") : 0;
}

/* Forget this attachment's record; host (may be NULL) gets the device it
 * named, "" when there was none. */
static void rec_del(const struct cir_cni_ctx *ctx, char host[CIR_IFNAMSIZ])
{
	struct cir_store st = CIR_STORE_INIT;
	char name[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];
	int fd;

	if (host)
		host[0] = '\0';
	fd = rec_open(ctx, false, &st, NULL);
	if (fd < 0)
		return;
	rec_name(ctx->env->containerid, ctx->env->ifname, name, sizeof(name));
	if (host && cir_store_read(fd, name, host, CIR_IFNAMSIZ, NULL) <= 0)
		host[0] = '\0';
	cir_store_unlink(fd, name, NULL);
	close(fd);
	cir_store_close(&st);
}

/* ---- verbs ---- */

static int qos_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_qos_dirs qc;
	char host[CIR_IFNAMSIZ];
	int r;

	if (!ctx->conf->has_prev_result)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "circuit-qos is a chained plugin: prevResult is required");
	r = cir_qos_entry_for_container(ctx->conf, ctx->env->containerid, &qc, err);
	if (r < 0)
		return r;
	*ctx->result = ctx->conf->prev_result;
	if (cir_qos_is_empty(&qc.ingress) && cir_qos_is_empty(&qc.egress))
		return 0;
	r = host_iface(ctx, host, err);
	if (r < 0)
		return r;
	/* Into the container = what the host veth sends. */
	r = cir_qos_link_apply(host, &qc.ingress, &qc.egress, err);
	if (r == -EOPNOTSUPP && !err->code)
		err->code = CIR_CNI_KERNEL;      /* no netem: the kernel lacks a feature */
	if (r < 0)
		return cir_err_wrap(err, "qos");
	r = rec_put(ctx, host, err);
	if (r < 0)
		cir_qos_link_clear(host, NULL);
	return r;
}

static int qos_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	const struct cir_cni_result *prev = &ctx->conf->prev_result;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	char host[CIR_IFNAMSIZ];
	int r, first = 0;

	/* Nothing here needs the config to be valid: undo whatever is there. */
	rec_del(ctx, host);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	if (!ctx->conf->has_prev_result) {
		/* No prevResult (an old runtime, or the rollback of a connect
		 * that never finished): the device our record names, else
		 * Circuit's own veth name. */
		if (!host[0] || cir_cni_check_ifname(host, NULL) < 0)
			cir_name_host_veth(ctx->env->containerid, ctx->env->ifname, host);
		r = cir_qos_link_clear(host, err);
		return r < 0 ? cir_err_wrap(err, "qos") : 0;
	}
	for (size_t i = 0; i < prev->n_ifaces; i++) {
		struct cir_link_info li;
		struct cir_error e2 = CIR_ERROR_INIT;
		const char *name = prev->ifaces[i].name;

		if (prev->ifaces[i].sandbox[0] || !name[0])
			continue;
		r = cir_link_get(sk, name, &li, NULL);
		/* A veth: clear it.  Missing: it was the veth, delete its ifb.
		 * Anything else (the bridge) is not ours. */
		if (r == 0 && strcmp(li.kind, "veth") != 0)
			continue;
		if (r < 0 && r != -ENODEV)
			continue;
		r = cir_qos_link_clear(name, &e2);
		if (r < 0 && !first) {
			*err = e2;
			first = cir_err_wrap(err, "qos");
		}
	}
	return first;
}

static int qos_check(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_qos_dirs qc;
	struct cir_qos in, out;
	char host[CIR_IFNAMSIZ], want[160], have[160];
	int r;

	if (!ctx->conf->has_prev_result)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL, "CHECK needs prevResult");
	r = cir_qos_entry_for_container(ctx->conf, ctx->env->containerid, &qc, err);
	if (r < 0)
		return r;
	r = host_iface(ctx, host, err);
	if (r < 0)
		return r;
	r = cir_qos_link_get(host, &in, &out, err);
	if (r < 0)
		return cir_err_wrap(err, "qos");
	if (!cir_qos_matches(&qc.ingress, &in)) {
		cir_qos_format(&qc.ingress, want, sizeof(want));
		cir_qos_format(&in, have, sizeof(have));
		return cir_err(err, ENOENT, "qos on %s into the container: want %s, kernel has %s",
			       host, want, have);
	}
	if (!cir_qos_matches(&qc.egress, &out)) {
		cir_qos_format(&qc.egress, want, sizeof(want));
		cir_qos_format(&out, have, sizeof(have));
		return cir_err(err, ENOENT,
			       "qos on %s out of the container: want %s, kernel has %s", host, want,
			       have);
	}
	return 0;
}

struct gc_walk {
	const struct cir_cni_conf *conf;
	int fd;
	bool keep_live;
};

static int gc_is_valid(const char *cid, const char *ifname, void *arg)
{
	const char *rec = arg;
	char name[CIR_CNI_ID_MAX + CIR_IFNAMSIZ + 2];

	rec_name(cid, ifname, name, sizeof(name));
	return strcmp(name, rec) == 0 ? -EEXIST : 0;   /* stop: found */
}

static bool link_exists(const char *name)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;

	return cir_nl_route_open(&sk, NULL) >= 0 && cir_link_get(sk, name, NULL, NULL) == 0;
}

/* An attachment this network shaped that the runtime no longer lists:
 * clear the shaping on its device (if it still exists) and its ifb. */
static int gc_one(const char *name, void *arg)
{
	struct gc_walk *w = arg;
	struct cir_error e = CIR_ERROR_INIT;
	char host[CIR_IFNAMSIZ];

	if (cir_cni_valid_attachments(w->conf, gc_is_valid, (void *)name, &e) == -EEXIST)
		return 0;
	if (cir_store_read(w->fd, name, host, sizeof(host), &e) > 0) {
		/* Keep-live GC: a host veth that exists has its container end
		 * in a namespace that exists: not provably dead. */
		if (w->keep_live && link_exists(host))
			return 0;
		cir_qos_link_clear(host, &e);
	}
	cir_store_unlink(w->fd, name, NULL);
	return 0;
}

/*
 * GC: clear the shaping of this network's attachments that are not in
 * cni.dev/valid-attachments (from the records above), then delete every
 * Circuit ifb whose device is gone (any network's: all are garbage).
 */
static int qos_gc(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	struct gc_walk w = { .conf = ctx->conf, .keep_live = cir_cni_gc_keep_live(ctx->conf) };
	int r;

	w.fd = rec_open(ctx, false, &st, err);
	if (w.fd == -ENOENT) {
		cir_err_clear(err);     /* nothing shaped on this network */
		return cir_qos_ifb_gc(err) < 0 ? cir_err_wrap(err, "qos gc") : 0;
	}
	if (w.fd < 0)
		return cir_err_wrap(err, "qos gc");
	r = cir_store_list(w.fd, gc_one, &w, err);
	close(w.fd);
	cir_store_close(&st);
	if (r >= 0)
		r = cir_qos_ifb_gc(err);
	return r < 0 ? cir_err_wrap(err, "qos gc") : 0;
}

static int qos_status(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	struct cir_qos_dirs qc;

	return cir_qos_entry_for_container(ctx->conf, NULL, &qc, err);
}

const struct cir_cni_plugin cir_qos_plugin = {
	.name = "circuit-qos",
	.about = "Circuit QoS plugin: rate, ceiling, burst, delay, jitter, loss on a container link",
	.add = qos_add,
	.del = qos_del,
	.check = qos_check,
	.gc = qos_gc,
	.status = qos_status,
};
