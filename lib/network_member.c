// SPDX-License-Identifier: Apache-2.0
/*
 * network_member.c - a network's members: connect (the process checked,
 * its namespace locked, duplicates refused, an unfinished connect taken
 * over, the first free ethN, published ports, a pending member written
 * before the chain ADD runs), disconnect (chain DEL with the cached
 * result), and the member a disconnect names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "link.h"
#include "netns.h"
#include "network_int.h"
#include "nl.h"
#include "portmap.h"

/* ---- connect ---- */

struct dup_scan {
	const struct cir_net_ctx *ctx;
	struct cir_network *n;
	const char *cid;
	dev_t dev;
	ino_t ino;
	long long pid;
	struct cir_member found;
	int dup;         /* 1: its namespace is already attached; 2: same member, same process */
	char takeover[CIR_IFNAMSIZ];   /* interface of an unfinished connect rolled back */
	struct cir_error *err;
};

static bool same_netns(const struct cir_member *m, const struct dup_scan *s)
{
	struct stat st;

	return stat(m->netns, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

static int dup_check(const struct cir_member *m, void *arg)
{
	struct dup_scan *s = arg;
	bool alive = cir_member_alive(m);
	bool mine = strcmp(m->cid, s->cid) == 0;

	if (m->pending && (mine || (alive && same_netns(m, s)))) {
		/* A connect of this container that never finished (we hold
		 * the network's lock, so nobody is still running it): undo
		 * what it made, then attach again on the same interface, so
		 * that the container ends with one interface on the network
		 * and the network's routes. */
		int r;

		net_debug(s->ctx, "network %s: rolling back the unfinished connect of %s (%s)",
			  s->n->conf.name, m->cid, m->ifname);
		r = cir_net_disconnect(s->ctx, s->n, m, s->err);
		if (r < 0)
			return cir_err_wrap(s->err, "unfinished connect of %s", m->cid);
		snprintf(s->takeover, sizeof(s->takeover), "%s", m->ifname);
		return 0;
	}
	if (mine) {
		if (alive) {
			s->found = *m;
			s->dup = m->pid == s->pid ? 2 : 1;
			return -EEXIST;
		}
		/* A member left by a process that is gone: clear it first. */
		struct cir_error e = CIR_ERROR_INIT;

		net_debug(s->ctx, "network %s: clearing stale member %s", s->n->conf.name, m->cid);
		cir_net_disconnect(s->ctx, s->n, m, &e);
		return 0;
	}
	if (alive && same_netns(m, s)) {
		s->found = *m;
		s->dup = 1;
		return -EEXIST;
	}
	return 0;
}

struct free_if {
	char name[CIR_IFNAMSIZ];
};

static int first_free_eth(void *arg, struct cir_error *err)
{
	struct free_if *f = arg;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	for (int i = 0; i < 1000; i++) {
		snprintf(f->name, sizeof(f->name), "eth%d", i);
		r = cir_link_get(sk, f->name, NULL, err);
		if (r == -ENODEV) {
			cir_err_clear(err);
			return 0;
		}
		if (r < 0)
			return r;
	}
	return cir_err(err, ENOSPC, "no free interface name eth0..eth999");
}

int cir_net_member_caps(const struct cir_member *m, struct cir_json **caps, struct cir_error *err)
{
	struct cir_publish p[CIR_MEMBER_PUBLISH_MAX];
	_cleanup_free_ char *doc = NULL;
	int r;

	*caps = NULL;
	if (!m->n_publish)
		return 0;
	for (unsigned int i = 0; i < m->n_publish; i++) {
		r = cir_publish_parse(m->publish[i], &p[i], err);
		if (r < 0)
			return r;
	}
	r = cir_publish_caps_json(p, m->n_publish, &doc, err);
	if (r < 0)
		return r;
	return cir_json_parse(doc, strlen(doc), caps, err);
}

/* Check att's --publish values against n's chain and keep their canonical
 * text in m: one line of error for the first bad one. */
static int publish_set(struct cir_network *n, const struct cir_net_attach *att,
		       struct cir_member *m, struct cir_error *err)
{
	struct cir_publish p[CIR_MEMBER_PUBLISH_MAX];
	_cleanup_free_ struct cir_portmap *all = NULL;
	size_t total = 0;
	int r;

	if (att->n_publish <= 0)
		return 0;
	if (att->n_publish > CIR_MEMBER_PUBLISH_MAX)
		return cir_err(err, E2BIG, "at most %d --publish values", CIR_MEMBER_PUBLISH_MAX);
	for (int i = 0; i < att->n_publish; i++) {
		r = cir_publish_parse(att->publish[i], &p[i], err);
		if (r < 0)
			return r;
	}
	all = calloc(CIR_PORTMAP_MAX, sizeof(*all));
	if (!all)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	r = cir_publish_expand(p, (size_t)att->n_publish, all, &total, CIR_PORTMAP_MAX, err);
	if (r < 0)
		return cir_err_wrap(err, "publish");
	if (!cir_conflist_has_capability(n->conflist, "portMappings"))
		return cir_err(err, EOPNOTSUPP, "network %s cannot publish ports: no plugin of its "
			       "chain has the portMappings capability (add {\"type\": \"%s\", "
			       "\"capabilities\": {\"portMappings\": true}} to it)", n->conf.name,
			       CIR_NETCONF_PORTMAP_PLUGIN);
	for (int i = 0; i < att->n_publish; i++)
		cir_publish_format(&p[i], m->publish[i], sizeof(m->publish[i]));
	m->n_publish = (unsigned int)att->n_publish;
	return 0;
}

/* Who connects: the process, its published ports (bad input refused
 * before anything is looked at), its container id.  *caps gets the
 * capability arguments. */
static int connect_who(struct cir_network *n, const struct cir_net_attach *att,
		       struct cir_member *m, struct cir_json **caps, struct cir_error *err)
{
	int r;

	r = cir_member_set_process(m, att->pid, err);
	if (r < 0)
		return r;
	r = publish_set(n, att, m, err);
	if (r >= 0)
		r = cir_net_member_caps(m, caps, err);
	if (r < 0)
		return r;
	if (att->cid)
		snprintf(m->cid, sizeof(m->cid), "%s", att->cid);
	else
		snprintf(m->cid, sizeof(m->cid), "pid-%lld", att->pid);
	r = cir_cni_check_containerid(m->cid, err);
	if (r < 0)
		return r;
	m->hook = att->hook;
	return 0;
}

/* The process's network namespace (*nsfd, identity in *st), locked. */
static int connect_netns(const struct cir_net_attach *att, int *nsfd, struct stat *st,
			 struct cir_error *err)
{
	int r;

	r = cir_netns_open_pid((pid_t)att->pid, nsfd, err);
	if (r < 0)
		return r;
	/* A process sharing the host's namespace (no netns of its own, or
	 * PID 1's): attaching it would give the host an eth0, an address and
	 * a default route.  Checked before anything else is looked at. */
	r = cir_netns_is_host(*nsfd, err);
	if (r < 0)
		return r;
	if (r > 0)
		return cir_err(err, EPERM, "process %lld is in the host's network namespace: "
			       "refusing to connect it", att->pid);
	if (fstat(*nsfd, st) < 0)
		return cir_err(err, errno, "netns of %lld: %s", att->pid, strerror(errno));
	/* Connects of one container to two networks run under two network
	 * locks: without this both would pick the same free ethN. */
	return cir_netns_lock(*nsfd, err);
}

/* The members of n against this one: an unfinished connect rolled back
 * (its interface into ds->takeover), a stale one cleared, a duplicate
 * refused.  1 when the hook's second call finds its own member (*out). */
static int connect_dups(const struct cir_net_ctx *ctx, struct cir_network *n,
			const struct cir_net_attach *att, const struct cir_member *m,
			const struct stat *st, struct dup_scan *ds, struct cir_member *out,
			struct cir_error *err)
{
	char who[32];
	int r;

	*ds = (struct dup_scan){ .ctx = ctx, .n = n, .cid = m->cid, .dev = st->st_dev,
				 .ino = st->st_ino, .pid = att->pid, .err = err };
	r = cir_member_list(n, dup_check, ds, err);
	if (ds->dup == 2 && att->hook) {
		/* prestart and createRuntime both calling us: already done. */
		if (out)
			*out = ds->found;
		return 1;
	}
	if (!ds->dup)
		return r < 0 ? r : 0;
	snprintf(who, sizeof(who), "%lld", att->pid);
	return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
			    "container %s is already connected to network %s (as %s, %s)",
			    att->name ? att->name : who, n->conf.name, ds->found.cid,
			    ds->found.ifname);
}

/* The container's interface: asked for, taken over, or the first free ethN. */
static int connect_ifname(const struct cir_net_attach *att, const char *takeover, int nsfd,
			  struct cir_member *m, struct cir_error *err)
{
	struct free_if fi = { { 0 } };
	int r;

	if (att->ifname) {
		r = cir_cni_check_ifname(att->ifname, err);
		if (r < 0)
			return r;
		snprintf(m->ifname, sizeof(m->ifname), "%s", att->ifname);
	} else if (takeover[0]) {
		snprintf(m->ifname, sizeof(m->ifname), "%s", takeover);
	} else {
		r = cir_netns_run(nsfd, first_free_eth, &fi, err);
		if (r < 0)
			return cir_err_wrap(err, "container %lld", att->pid);
		snprintf(m->ifname, sizeof(m->ifname), "%s", fi.name);
	}
	return 0;
}

/* Intent first, then the chain ADD, then the member with its result: a
 * connect killed in between leaves a pending member that the next connect,
 * disconnect, gc or restore of this network rolls back (never an
 * attachment nobody knows). */
static int connect_run(const struct cir_net_ctx *ctx, struct cir_network *n,
		       struct cir_member *m, const struct cir_chain_rt *rt,
		       struct cir_error *err)
{
	_cleanup_free_ char *result = NULL;
	struct cir_error e2 = CIR_ERROR_INIT;
	struct cir_cni_result res;
	int r;

	net_debug(ctx, "network %s: ADD %s %s %s (plugins from %s)",
		  n->conf.name, m->cid, m->netns, m->ifname, ctx->plugin_path);
	m->pending = true;
	r = cir_member_put(n, m, NULL, err);
	if (r < 0)
		return r;
	r = cir_chain_add(n->conflist, rt, &result, &res, err);
	if (r < 0) {
		cir_member_del(n, m->cid, &e2);
		return r;
	}
	m->pending = false;
	cir_member_set_addresses(m, &res);
	r = cir_member_put(n, m, result, err);
	if (r < 0 && cir_chain_del(n->conflist, rt, result, &e2) >= 0)
		cir_member_del(n, m->cid, &e2);
	return r;
}

int cir_net_connect(const struct cir_net_ctx *ctx, struct cir_network *n,
		    const struct cir_net_attach *att, struct cir_member *out,
		    struct cir_error *err)
{
	_cleanup_json_ struct cir_json *caps = NULL;
	_cleanup_close_ int nsfd = -1;
	struct cir_member m = { 0 };
	struct dup_scan ds;
	struct cir_chain_rt rt;
	char args[128] = "";
	struct stat st;
	int r;

	r = connect_who(n, att, &m, &caps, err);
	if (r >= 0)
		r = connect_netns(att, &nsfd, &st, err);
	if (r >= 0)
		r = connect_dups(ctx, n, att, &m, &st, &ds, out, err);
	if (r != 0)
		return r < 0 ? r : 0;
	r = connect_ifname(att, ds.takeover, nsfd, &m, err);
	if (r < 0)
		return r;
	if (att->ip) {
		struct cir_ip ip;

		r = cir_ip_parse(att->ip, &ip, err);
		if (r < 0)
			return r;
		snprintf(args, sizeof(args), "IgnoreUnknown=1;IP=%s", att->ip);
	}
	rt = (struct cir_chain_rt){ .cid = m.cid, .netns = m.netns, .ifname = m.ifname,
				    .args = args[0] ? args : NULL, .path = ctx->plugin_path,
				    .caps = caps ? cir_json_root(caps) : NULL };
	r = connect_run(ctx, n, &m, &rt, err);
	if (r >= 0 && out)
		*out = m;
	return r < 0 ? r : 0;
}

int cir_net_disconnect(const struct cir_net_ctx *ctx, struct cir_network *n,
		       const struct cir_member *m, struct cir_error *err)
{
	_cleanup_free_ char *result = NULL;
	_cleanup_json_ struct cir_json *caps = NULL;
	struct cir_error e2 = CIR_ERROR_INIT;
	struct cir_member cur;
	struct cir_chain_rt rt;
	int r;

	r = cir_member_get(n, m->cid, &cur, &result, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	/* libcni passes the capability arguments on DEL too; a record whose
	 * values no longer parse must not block the teardown. */
	cir_net_member_caps(&cur, &caps, &e2);
	rt = (struct cir_chain_rt){ .cid = cur.cid,
				    .netns = cir_member_alive(&cur) ? cur.netns : NULL,
				    .ifname = cur.ifname, .path = ctx->plugin_path,
				    .caps = caps ? cir_json_root(caps) : NULL };
	net_debug(ctx, "network %s: DEL %s %s", n->conf.name, cur.cid, cur.ifname);
	r = cir_chain_del(n->conflist, &rt, result, err);
	if (r < 0)
		return r;
	r = cir_member_del(n, cur.cid, err);
	if (r >= 0)
		r = ctx->member_gone ? ctx->member_gone(ctx->arg, n, cur.cid, err) : 0;
	return r < 0 ? r : 0;
}

/* ---- the member a disconnect names ---- */

struct pid_scan {
	long long pid;
	const struct cir_runc_state *runc;   /* match runc's process instead of pid */
	struct cir_member m;
	int found;           /* 2: alive match, 1: recorded with this pid */
};

static int find_pid(const struct cir_member *m, void *arg)
{
	struct pid_scan *s = arg;

	if (s->runc ? !cir_runc_is_member(s->runc, m) : m->pid != s->pid)
		return 0;
	if (cir_member_alive(m)) {
		s->m = *m;
		s->found = 2;
		return -EEXIST;
	}
	if (!s->found) {
		s->m = *m;
		s->found = 1;
	}
	return 0;
}

int cir_net_find_member(struct cir_network *n, const char *id, long long pid,
			struct cir_member *out, struct cir_error *err)
{
	struct pid_scan ps = { .pid = pid };
	struct cir_runc_state rs;
	int r;

	if (id) {
		r = cir_member_get(n, id, out, NULL, err);
		if (r != -ENOENT)
			return r < 0 ? r : 0;
		cir_err_clear(err);
		r = cir_runc_state_read(NULL, id, &rs, err);
		if (r < 0)
			return r;
		ps.runc = &rs;
	}
	r = cir_member_list(n, find_pid, &ps, err);
	if (r < 0 && r != -EEXIST)
		return r;
	if (ps.found) {
		*out = ps.m;
		return 0;
	}
	if (id)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "container %s is not connected to network %s", id, n->conf.name);
	if (cir_member_set_process(&ps.m, pid, err) < 0)
		return -ESRCH;
	return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
			    "container %lld is not connected to network %s", pid, n->conf.name);
}
