// SPDX-License-Identifier: Apache-2.0
/*
 * restore.c - the restore/gc sweep (restore.h): networks, their members,
 * foreign attachments of managed networks, then the modules' own state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ipam.h"
#include "lb.h"
#include "qos.h"
#include "qosnet.h"
#include "restore.h"
#include "store.h"

struct sweep {
	const struct cir_sweep_ctx *ctx;
	struct cir_netdb *db;
	struct cir_network *n;
	int changes;
	int failures;
	struct cir_chain_attachment *valid;   /* the members still there (gc keeps them) */
	size_t n_valid;
	size_t cap_valid;
};

static void report(const struct cir_sweep_ctx *ctx, struct cir_sweep_event ev)
{
	ctx->report(ctx->arg, &ev);
}

/* A failure: reported and counted. */
static void fail(struct sweep *s, struct cir_sweep_event ev)
{
	report(s->ctx, ev);
	s->failures++;
}

/* A change: reported and counted. */
static void changed(struct sweep *s, struct cir_sweep_event ev)
{
	report(s->ctx, ev);
	s->changes++;
}

static const char *net_name(const struct sweep *s)
{
	return s->n->conf.name;
}

/* ---- Circuit's members ---- */

static int keep_valid(struct sweep *s, const struct cir_member *m)
{
	struct cir_chain_attachment *v;

	if (s->n_valid == s->cap_valid) {
		size_t nc = s->cap_valid ? s->cap_valid * 2 : 16;

		v = reallocarray(s->valid, nc, sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->valid = v;
		s->cap_valid = nc;
	}
	v = &s->valid[s->n_valid];
	v->cid = strdup(m->cid);
	v->ifname = strdup(m->ifname);
	if (!v->cid || !v->ifname) {
		free((char *)v->cid);
		free((char *)v->ifname);
		return -ENOMEM;
	}
	s->n_valid++;
	return 0;
}

static void valid_free(struct sweep *s)
{
	for (size_t i = 0; i < s->n_valid; i++) {
		free((char *)s->valid[i].cid);
		free((char *)s->valid[i].ifname);
	}
	free(s->valid);
	s->valid = NULL;
	s->n_valid = s->cap_valid = 0;
}

static bool is_member(const struct sweep *s, const char *cid, const char *ifname)
{
	for (size_t i = 0; i < s->n_valid; i++)
		if (strcmp(s->valid[i].cid, cid) == 0 && strcmp(s->valid[i].ifname, ifname) == 0)
			return true;
	return false;
}

/* m's record as stored (*cur, its cached result in *result when result is
 * not NULL) and its capability arguments for the chain, in *rt. */
static int member_rt(struct sweep *s, const struct cir_member *m, struct cir_member *cur,
		     char **result, struct cir_json **caps, struct cir_chain_rt *rt,
		     struct cir_error *err)
{
	int r;

	r = cir_member_get(s->n, m->cid, cur, result, err);
	if (r >= 0)
		r = cir_net_member_caps(cur, caps, err);
	if (r < 0)
		return r;
	/* Published ports again too (the portMappings capability). */
	*rt = (struct cir_chain_rt){ .cid = cur->cid, .netns = cur->netns, .ifname = cur->ifname,
				     .path = s->ctx->net->plugin_path,
				     .caps = *caps ? cir_json_root(*caps) : NULL };
	return 0;
}

/* DEL what is left of m's attachment, then ADD it again as it was. */
static int reattach(struct sweep *s, const struct cir_member *m, struct cir_error *err)
{
	_cleanup_free_ char *old = NULL, *result = NULL;
	_cleanup_json_ struct cir_json *caps = NULL;
	struct cir_member cur, upd;
	struct cir_cni_result res;
	struct cir_chain_rt rt;
	struct cir_error e2 = CIR_ERROR_INIT;
	char args[128] = "";
	int r;

	r = member_rt(s, m, &cur, &old, &caps, &rt, err);
	if (r < 0)
		return r;
	cir_chain_del(s->n->conflist, &rt, old, &e2);
	/* The same addresses again, one per family on a dual-stack network. */
	cir_member_ip_args(&cur, args, sizeof(args));
	if (args[0])
		rt.args = args;
	r = cir_chain_add(s->n->conflist, &rt, &result, &res, err);
	if (r < 0)
		return r;
	upd = cur;
	cir_member_set_addresses(&upd, &res);
	return cir_member_put(s->n, &upd, result, err);
}

/* A pending member (its connect was killed) or one whose process is gone:
 * disconnect it. */
static int sweep_release(struct sweep *s, const struct cir_member *m)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_sweep_event ev = { .network = net_name(s), .cid = m->cid, .pid = m->pid };

	if (cir_net_disconnect(s->ctx->net, s->n, m, &e) < 0) {
		ev.what = m->pending ? CIR_SWEEP_ROLLBACK_FAILED : CIR_SWEEP_RELEASE_FAILED;
		ev.msg = e.msg;
		fail(s, ev);
	} else {
		ev.what = m->pending ? CIR_SWEEP_ROLLED_BACK : CIR_SWEEP_RELEASED;
		changed(s, ev);
	}
	return 0;
}

/* Does the chain still hold for a running member?  1 yes (or cannot
 * tell), 0 it needs re-attaching. */
static int member_in_place(struct sweep *s, const struct cir_member *m)
{
	_cleanup_free_ char *result = NULL;
	_cleanup_json_ struct cir_json *caps = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_sweep_event ev = { .network = net_name(s), .cid = m->cid,
				      .ifname = m->ifname, .msg = e.msg };
	struct cir_member cur;
	struct cir_chain_rt rt;
	int r;

	r = member_rt(s, m, &cur, &result, &caps, &rt, &e);
	if (r >= 0)
		r = cir_chain_check(s->n->conflist, &rt, result, &e);
	ev.what = r == -ENOTSUP ? CIR_SWEEP_UNCHECKABLE
		: r >= 0        ? CIR_SWEEP_IN_PLACE : CIR_SWEEP_STALE;
	report(s->ctx, ev);
	return ev.what != CIR_SWEEP_STALE;
}

static int sweep_member(const struct cir_member *m, void *arg)
{
	struct sweep *s = arg;
	struct cir_error e = CIR_ERROR_INIT;

	/* Pending: we hold the network's lock, so nobody is still making this
	 * attachment.  Its connect was killed; the user saw it fail.  Undo
	 * it, as the connect itself would have. */
	if (m->pending || !cir_member_alive(m))
		return sweep_release(s, m);
	if (keep_valid(s, m) < 0)
		return -ENOMEM;
	if (!s->ctx->restore || member_in_place(s, m))
		return 0;
	if (reattach(s, m, &e) < 0)
		fail(s, (struct cir_sweep_event){ CIR_SWEEP_REATTACH_FAILED, .network = net_name(s),
						  .cid = m->cid, .msg = e.msg });
	else
		changed(s, (struct cir_sweep_event){ CIR_SWEEP_REATTACHED, .network = net_name(s),
						     .cid = m->cid, .pid = m->pid });
	return 0;
}

/* ---- attachments made by other runtimes (gc of a managed network) ---- */

struct orphans {
	struct sweep *s;
	struct cir_ipam *h;
	struct {
		char cid[CIR_CNI_ID_MAX + 1];
		char ifname[CIR_IFNAMSIZ];
		char addr[CIR_CIDR_STRLEN];
	} *v;
	size_t n, cap;
};

static int orphan_collect(const char *cid, const char *ifname, const struct cir_ipam_result *res,
			  void *arg)
{
	struct orphans *o = arg;
	struct cir_member m;
	struct cir_error e = CIR_ERROR_INIT;

	/* Circuit's own members were swept above; what is left is another
	 * runtime's (podman, containerd on the exported conflist) or a
	 * crash's, and goes only when its namespace is provably gone. */
	if (is_member(o->s, cid, ifname) ||
	    cir_member_get(o->s->n, cid, &m, NULL, &e) == 0 ||
	    !cir_ipam_proven_dead(o->h, cid, ifname))
		return 0;
	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 16;
		void *p = reallocarray(o->v, nc, sizeof(*o->v));

		if (!p)
			return -ENOMEM;
		o->v = p;
		o->cap = nc;
	}
	snprintf(o->v[o->n].cid, sizeof(o->v[o->n].cid), "%s", cid);
	snprintf(o->v[o->n].ifname, sizeof(o->v[o->n].ifname), "%s", ifname);
	o->v[o->n].addr[0] = '\0';
	if (res->n)
		cir_cidr_format(&res->ips[0].addr, o->v[o->n].addr, sizeof(o->v[o->n].addr));
	o->n++;
	return 0;
}

/* The attachments circuit-ipam holds for s->n that Circuit does not know
 * and whose namespace is gone, into o (none when nothing is stored). */
static int orphans_list(struct sweep *s, struct orphans *o, struct cir_error *err)
{
	_cleanup_store_ struct cir_store st = CIR_STORE_INIT;
	_cleanup_ipam_ struct cir_ipam h = CIR_IPAM_INIT;
	int r;

	o->h = &h;
	r = cir_store_openf(&st, NULL, NULL, CIR_STORE_EXISTING, NULL, err);
	if (r >= 0)
		r = cir_ipam_open_existing(&h, &st, net_name(s), err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r >= 0)
		r = cir_ipam_list(&h, orphan_collect, o, err);
	o->h = NULL;
	return r;
}

/*
 * A managed network's addresses are circuit-ipam's, in this store: list
 * them, and DEL (through the whole chain, so veth, shaping and masquerade
 * go too) each attachment Circuit does not know whose namespace is gone.
 * What is alive, or cannot be proven dead, stays.
 */
static int sweep_orphans(struct sweep *s, struct cir_error *err)
{
	struct orphans o = { .s = s };
	int r;

	r = orphans_list(s, &o, err);
	for (size_t i = 0; r >= 0 && i < o.n; i++) {
		struct cir_chain_rt rt = { .cid = o.v[i].cid, .ifname = o.v[i].ifname,
					   .path = s->ctx->net->plugin_path };
		struct cir_error e = CIR_ERROR_INIT;
		struct cir_sweep_event ev = { .network = net_name(s), .cid = o.v[i].cid,
					      .ifname = o.v[i].ifname, .addr = o.v[i].addr };

		if (cir_chain_del(s->n->conflist, &rt, NULL, &e) < 0) {
			ev.what = CIR_SWEEP_ORPHAN_FAILED;
			ev.msg = e.msg;
			fail(s, ev);
		} else {
			ev.what = CIR_SWEEP_ORPHAN_RELEASED;
			changed(s, ev);
		}
	}
	free(o.v);
	return r;
}

/* ---- networks ---- */

static void net_failed(struct sweep *s, const char *name, const struct cir_error *e)
{
	fail(s, (struct cir_sweep_event){ CIR_SWEEP_NET_FAILED, .network = name, .msg = e->msg });
}

/* gc of n beyond its members: foreign attachments, then the plugins' CNI GC. */
static void collect(struct sweep *s, struct cir_network *n, struct cir_error *e)
{
	if (n->conf.managed && sweep_orphans(s, e) < 0)
		net_failed(s, n->conf.name, e);
	if (cir_chain_gc(n->conflist, s->ctx->net->plugin_path, s->valid, s->n_valid, true,
			 e) < 0)
		net_failed(s, n->conf.name, e);
}

/* One network: re-create it (restore) or GC it.  *remove when it was made
 * by the hook and its last container is gone. */
static int sweep_one(struct sweep *s, const char *name, bool *remove, struct cir_error *e)
{
	_cleanup_network_ struct cir_network n = CIR_NETWORK_INIT;
	int r;

	r = cir_network_open(s->db, name, true, &n, e);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	s->n = &n;
	if (s->ctx->restore) {
		r = cir_net_ensure(s->ctx->net, &n.conf, e);
		if (r < 0)
			net_failed(s, name, e);
		else if (r > 0) {
			report(s->ctx, (struct cir_sweep_event){ CIR_SWEEP_NET_RESTORED,
								 .network = name, .count = r });
			s->changes += r;
		}
	}
	r = cir_member_list(&n, sweep_member, s, e);
	if (r == -ENOMEM)
		r = cir_err(e, ENOMEM, "out of memory");
	if (r >= 0 && !s->ctx->restore)
		collect(s, &n, e);
	valid_free(s);
	s->n = NULL;
	if (r < 0)
		return r;
	*remove = n.conf.hook && cir_member_list(&n, NULL, NULL, e) == 0;
	return 0;
}

static int sweep_network(const char *name, void *arg)
{
	struct sweep *s = arg;
	struct cir_error e = CIR_ERROR_INIT;
	bool remove = false;

	if (sweep_one(s, name, &remove, &e) < 0) {
		net_failed(s, name, &e);
		return 0;
	}
	if (!remove)
		return 0;
	/* Its last container is gone and its poststop never came. */
	if (cir_net_delete(s->ctx->net, s->db, name, &e) < 0)
		net_failed(s, name, &e);
	else
		changed(s, (struct cir_sweep_event){ CIR_SWEEP_NET_DELETED, .network = name });
	return 0;
}

/* ---- the modules ---- */

struct qos_walk {
	const struct cir_sweep_ctx *ctx;
	struct cir_netdb *db;
	int changes;
	int failures;
};

static int qos_restore_network(const char *name, void *arg)
{
	struct qos_walk *w = arg;
	struct cir_error e = CIR_ERROR_INIT;
	_cleanup_network_ struct cir_network n = CIR_NETWORK_INIT;
	int r;

	if (cir_network_open(w->db, name, true, &n, &e) < 0)
		return 0;        /* deleted meanwhile */
	r = cir_qosnet_restore(&n, &e);
	if (r < 0) {
		report(w->ctx, (struct cir_sweep_event){ CIR_SWEEP_QOS_FAILED, .network = name,
							 .msg = e.msg });
		w->failures++;
		return 0;
	}
	if (r)
		report(w->ctx, (struct cir_sweep_event){ CIR_SWEEP_QOS_RESTORED,
							 .network = name, .count = r });
	w->changes += r;
	return 0;
}

/* Every network's recorded shaping, then ifbs left without a device. */
static int qos_restore(const struct cir_sweep_ctx *ctx, struct cir_netdb *db,
		       struct cir_error *err)
{
	struct qos_walk w = { ctx, db, 0, 0 };
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	r = cir_netdb_list(db, qos_restore_network, &w, err);
	if (r < 0)
		return r;
	r = cir_qos_ifb_gc(&e2);
	if (r > 0)
		w.changes += r;
	if (w.failures)
		return cir_err(err, EIO, "%d networks could not be restored", w.failures);
	return w.changes;
}

static int lb_restore(const struct cir_sweep_ctx *ctx, struct cir_netdb *db,
		      struct cir_error *err)
{
	int r = cir_lb_restore(&db->st, err);

	if (r > 0)
		report(ctx, (struct cir_sweep_event){ CIR_SWEEP_LB_RESTORED, .count = r });
	return r;
}

/* Every module with state of its own to see to, in the order they run; a
 * new one adds its line here. */
static const struct cir_sweep_module sweep_modules[] = {
	{ "network qos", qos_restore, NULL },
	{ "lb", lb_restore, NULL },
};

static void sweep_modules_run(struct sweep *s)
{
	for (size_t i = 0; i < sizeof(sweep_modules) / sizeof(sweep_modules[0]); i++) {
		const struct cir_sweep_module *m = &sweep_modules[i];
		int (*fn)(const struct cir_sweep_ctx *, struct cir_netdb *, struct cir_error *) =
			s->ctx->restore ? m->restore : m->gc;
		struct cir_error e = CIR_ERROR_INIT;
		int r;

		if (!fn)
			continue;
		r = fn(s->ctx, s->db, &e);
		if (r < 0)
			fail(s, (struct cir_sweep_event){ CIR_SWEEP_MODULE_FAILED, .module = m->name,
							  .msg = e.msg });
		else
			s->changes += r;
	}
}

int cir_sweep(const struct cir_sweep_ctx *ctx, struct cir_netdb *db, struct cir_error *err)
{
	struct sweep s = { .ctx = ctx, .db = db };
	_cleanup_close_ int lock = -1;
	int r;

	r = lock = cir_netdb_lock(db, err);
	if (r >= 0)
		r = cir_netdb_list(db, sweep_network, &s, err);
	if (r < 0)
		return r;
	sweep_modules_run(&s);
	if (s.failures)
		return cir_err(err, EIO, "%s: %d failures (see warnings above)",
			       ctx->restore ? "restore" : "gc", s.failures);
	return s.changes;
}
