// SPDX-License-Identifier: Apache-2.0
/*
 * qosnet_apply.c - a network's QoS in the kernel: finding members and
 * their host-side veths, set and reset of the three targets (the bridge,
 * the members' default, one member) with rollback, restore, and what
 * `qos show` reads back.  The records are qosnet.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "link.h"
#include "names.h"
#include "nl.h"
#include "qosnet.h"
#include "runc.h"

/*
 * An error nobody reads, for calls whose failure only means "no" or "skip".
 * Not NULL: with NULL, a callee's cir_err_wrap turns an -ENOENT the caller
 * tests for into -EIO.
 */
#define SCRATCH (&(struct cir_error)CIR_ERROR_INIT)

/* ---- members and their links ---- */

struct members {
	struct cir_member *m;
	size_t n;
};

static void members_free(struct members *ms)
{
	free(ms->m);
}

static int members_add(const struct cir_member *m, void *arg)
{
	struct members *ms = arg;
	struct cir_member *p = realloc(ms->m, (ms->n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	ms->m = p;
	ms->m[ms->n++] = *m;
	return 0;
}

static int members_load(struct cir_network *n, struct members *ms, struct cir_error *err)
{
	int r;

	ms->m = NULL;
	ms->n = 0;
	r = cir_member_list(n, members_add, ms, err);
	if (r == -ENOMEM)
		return cir_err(err, ENOMEM, "out of memory");
	return r < 0 ? r : 0;
}

int cir_member_host_link(struct cir_network *n, const struct cir_member *m,
			 char host[CIR_IFNAMSIZ], struct cir_error *err)
{
	_cleanup_free_ char *result = NULL;
	_cleanup_json_ struct cir_json *j = NULL;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_cni_result res;
	struct cir_member cur;
	char mine[CIR_IFNAMSIZ];
	int r, found = 0;

	r = cir_member_get(n, m->cid, &cur, &result, err);
	if (r < 0)
		return r;
	if (!result)
		return cir_err(err, ENODEV, "container %s: no cached result to find its link",
			       m->cid);
	r = cir_json_parse(result, strlen(result), &j, err);
	if (r >= 0)
		r = cir_cni_result_parse(cir_json_root(j), &res, err);
	if (r < 0)
		return cir_err_wrap(err, "container %s: cached result", m->cid);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	cir_name_host_veth(m->cid, m->ifname, mine);
	for (size_t i = 0; i < res.n_ifaces; i++) {
		struct cir_link_info li;

		if (res.ifaces[i].sandbox[0] ||
		    cir_link_get(sk, res.ifaces[i].name, &li, NULL) < 0 ||
		    strcmp(li.kind, "veth") != 0)
			continue;
		if (!found || strcmp(res.ifaces[i].name, mine) == 0)
			snprintf(host, CIR_IFNAMSIZ, "%s", res.ifaces[i].name);
		found = 1;
	}
	if (!found)
		return cir_err(err, ENODEV, "container %s: its host-side veth is gone", m->cid);
	return 0;
}

/* Does member m match --container ctr (its id, or the pid of a running
 * member) or --interface iface (its host-side veth)? */
static bool member_matches(struct cir_network *n, const struct cir_member *m, const char *ctr,
			   long long pid, const char *iface)
{
	char host[CIR_IFNAMSIZ];

	if (ctr)
		return strcmp(m->cid, ctr) == 0 || (pid && m->pid == pid && cir_member_alive(m));
	return cir_member_host_link(n, m, host, SCRATCH) == 0 && strcmp(host, iface) == 0;
}

/* Find a member by --container or by --interface.  --container is a
 * container id (the hook's, "pid-N", or a runc ID a member was connected
 * by), the pid of a running member, or a runc container ID whose recorded
 * process is a running member (connected by PID). */
static int member_find(struct cir_network *n, const char *ctr, const char *iface,
		       struct cir_member *out, struct cir_error *err)
{
	struct members ms;
	struct cir_runc_state rs;
	long long pid = 0;
	bool runc = false;
	int r, found = 0;

	if (cir_arg_is_pid(ctr)) {
		unsigned long long v = strtoull(ctr, NULL, 10);   /* saturates */

		pid = v >= 1 && v <= 4194304 ? (long long)v : 0;
	}
	r = members_load(n, &ms, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ms.n && !found; i++)
		if ((found = member_matches(n, &ms.m[i], ctr, pid, iface)))
			*out = ms.m[i];
	/* Not known by that id: a runc container connected by PID? */
	if (!found && ctr && !cir_arg_is_pid(ctr))
		runc = cir_runc_state_read(NULL, ctr, &rs, SCRATCH) == 0;
	for (size_t i = 0; runc && i < ms.n && !found; i++) {
		found = cir_runc_is_member(&rs, &ms.m[i]) && cir_member_alive(&ms.m[i]);
		if (found)
			*out = ms.m[i];
	}
	members_free(&ms);
	if (found)
		return 0;
	if (ctr)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "container %s is not connected to network %s", ctr,
				    n->conf.name);
	return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
			    "interface %s is not the link of a member of network %s", iface,
			    n->conf.name);
}

static int link_set(const char *host, const struct cir_qos_dirs *d, struct cir_error *err)
{
	if (cir_qos_dirs_is_empty(d))
		return cir_qos_link_clear(host, err);
	/* Into the container = what the host veth sends. */
	return cir_qos_link_apply(host, &d->ingress, &d->egress, err);
}

/* What a link had before we changed it, to put it back on failure. */
struct link_undo {
	char host[CIR_IFNAMSIZ];
	struct cir_qos egress, ingress;
};

static void links_undo(const struct link_undo *u, size_t n)
{
	struct cir_error ignored = CIR_ERROR_INIT;

	for (size_t i = 0; i < n; i++) {
		if (cir_qos_is_empty(&u[i].egress) && cir_qos_is_empty(&u[i].ingress))
			cir_qos_link_clear(u[i].host, &ignored);
		else
			cir_qos_link_apply(u[i].host, &u[i].egress, &u[i].ingress, &ignored);
	}
}

/*
 * Apply the settings e gives to the running members (all, or only cid),
 * remembering what each link had.  On failure every link already changed
 * is put back.  Members whose link is gone are skipped.
 */
static int links_apply(struct cir_network *n, const struct cir_qos_entry *e, const char *only,
		       struct link_undo **undo, size_t *n_undo, struct cir_error *err)
{
	struct members ms;
	_cleanup_free_ struct link_undo *u = NULL;
	size_t k = 0;
	int r;

	r = members_load(n, &ms, err);
	if (r < 0)
		return r;
	u = calloc(ms.n + 1, sizeof(*u));
	if (!u) {
		members_free(&ms);
		return cir_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < ms.n && r >= 0; i++) {
		const struct cir_member *m = &ms.m[i];

		if (only && strcmp(m->cid, only) != 0)
			continue;
		if (!cir_member_alive(m) || cir_member_host_link(n, m, u[k].host, SCRATCH) < 0)
			continue;
		r = cir_qos_link_get(u[k].host, &u[k].egress, &u[k].ingress, err);
		if (r >= 0)
			r = link_set(u[k].host, cir_qos_entry_get(e, m->cid), err);
		if (r < 0) {
			cir_err_wrap(err, "container %s", m->cid);
			links_undo(u, k + 1);
			break;
		}
		k++;
	}
	members_free(&ms);
	if (r < 0)
		return r;
	*undo = TAKE_PTR(u);
	*n_undo = k;
	return 0;
}

/* Give the members the settings of e (apply to the running links, only =
 * that member, then record the chain); the links go back on failure. */
static int members_set(struct cir_network *n, const struct cir_qosnet *st,
		       const struct cir_qos_entry *e, const char *only, struct cir_error *err)
{
	_cleanup_free_ struct link_undo *u = NULL;
	size_t nu = 0;
	int r;

	if (st->bandwidth)
		return cir_err(err, EINVAL, "network %s: its chain has the bandwidth plugin, which "
				       "shapes the same links: remove it to use circuit qos on "
				       "members", n->conf.name);
	r = links_apply(n, e, only, &u, &nu, err);
	if (r < 0)
		return r;
	r = cir_qosnet_chain_write(n, e, err);
	if (r < 0)
		links_undo(u, nu);
	return r;
}

/* ---- the bridge ---- */

static int bridge_index(const struct cir_network *n, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	int r;

	if (!n->conf.bridge[0])
		return cir_err(err, ENODEV, "network %s names no bridge: shape a member with "
				       "--container or --interface", n->conf.name);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, n->conf.bridge, &li, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: bridge %s", n->conf.name, n->conf.bridge);
	return li.ifindex;
}

void cir_qosnet_bridge_state(struct cir_network *n, const struct cir_qosnet *st,
			     char iface[CIR_IFNAMSIZ], struct cir_qos *have)
{
	int br = bridge_index(n, NULL);

	memset(have, 0, sizeof(*have));
	snprintf(iface, CIR_IFNAMSIZ, "-");
	if (br > 0) {
		snprintf(iface, CIR_IFNAMSIZ, "%s", n->conf.bridge);
		cir_qos_get(br, have, NULL);
	}
	/* The kernel always has a burst; show it only when one was set. */
	if (!st->net.burst_bytes)
		have->burst_bytes = 0;
}

static int network_set(struct cir_network *n, const struct cir_qos *want, struct cir_error *err)
{
	struct cir_error ignored = CIR_ERROR_INIT;
	struct cir_qos had;
	int br, r, have;

	br = bridge_index(n, err);
	if (br < 0)
		return br;
	have = cir_qos_get(br, &had, NULL);
	r = cir_qos_apply(br, want, err);
	if (r < 0)
		return r;
	r = cir_qosnet_record_write(n, want, err);
	if (r < 0) {
		if (have == 0)
			cir_qos_apply(br, &had, &ignored);
		else
			cir_qos_clear(br, &ignored);
	}
	return r;
}

/* ---- set and reset ---- */

bool cir_qos_patch_any(const struct cir_qos_patch *p)
{
	return p->rate || p->ceil || p->burst || p->delay || p->jitter || p->loss || p->corr;
}

static void patch_merge(struct cir_qos *q, const struct cir_qos_patch *p)
{
	if (p->rate)
		q->rate_kbit = p->v.rate_kbit;
	if (p->ceil)
		q->ceil_kbit = p->v.ceil_kbit;
	if (p->burst)
		q->burst_bytes = p->v.burst_bytes;
	if (p->delay)
		q->delay_us = p->v.delay_us;
	if (p->jitter)
		q->jitter_us = p->v.jitter_us;
	if (p->loss)
		q->loss_ppm = p->v.loss_ppm;
	if (p->corr)
		q->loss_corr_ppm = p->v.loss_corr_ppm;
}

/* Merge p into both directions of *d and validate them. */
static int dirs_patch(struct cir_qos_dirs *d, const struct cir_qos_patch *p,
		      struct cir_error *err)
{
	int r;

	patch_merge(&d->ingress, p);
	patch_merge(&d->egress, p);
	r = cir_qos_validate(&d->ingress, err);
	return r < 0 ? r : cir_qos_validate(&d->egress, err);
}

int cir_qosnet_set(struct cir_network *n, struct cir_qosnet *st, struct cir_qos_target *t,
		   const struct cir_qos_patch *p, struct cir_error *err)
{
	struct cir_qos_dirs d;
	struct cir_member m;
	int r;

	if (t->kind == CIR_QOS_NETWORK) {
		struct cir_qos want = st->net;

		patch_merge(&want, p);
		r = cir_qos_validate(&want, err);
		return r < 0 ? r : network_set(n, &want, err);
	}
	if (t->kind == CIR_QOS_DEFAULT) {
		r = dirs_patch(&st->chain.def, p, err);
		return r < 0 ? cir_err_wrap(err, "default") : members_set(n, st, &st->chain, NULL, err);
	}
	r = member_find(n, t->container, t->iface, &m, err);
	if (r < 0)
		return r;
	snprintf(t->cid, sizeof(t->cid), "%s", m.cid);
	d = *cir_qos_entry_get(&st->chain, m.cid);
	r = dirs_patch(&d, p, err);
	if (r < 0)
		return cir_err_wrap(err, "container %s", m.cid);
	if (cir_qos_entry_set(&st->chain, m.cid, &d) < 0)
		return cir_err(err, ENOMEM, "out of memory");
	return members_set(n, st, &st->chain, m.cid, err);
}

static int reset_target(struct cir_network *n, struct cir_qosnet *st, struct cir_qos_target *t,
			struct cir_error *err)
{
	struct cir_member m;
	int r;

	if (t->kind == CIR_QOS_NETWORK) {
		int br = bridge_index(n, NULL);

		/* No bridge (an imported chain, or one already gone): nothing
		 * in the kernel to clear. */
		r = br < 0 ? 0 : cir_qos_clear(br, err);
		return r < 0 ? r : cir_qosnet_record_write(n, &(struct cir_qos){ 0 }, err);
	}
	if (t->kind == CIR_QOS_DEFAULT) {
		memset(&st->chain.def, 0, sizeof(st->chain.def));
		return members_set(n, st, &st->chain, NULL, err);
	}
	r = member_find(n, t->container, t->iface, &m, err);
	if (r == -ENOENT && t->container && cir_qos_entry_has(&st->chain, t->container)) {
		/* Its container left: forget the settings. */
		snprintf(m.cid, sizeof(m.cid), "%s", t->container);
		cir_err_clear(err);
		r = 0;
	}
	if (r < 0)
		return r;
	snprintf(t->cid, sizeof(t->cid), "%s", m.cid);
	cir_qos_entry_drop(&st->chain, m.cid);
	return members_set(n, st, &st->chain, m.cid, err);
}

int cir_qosnet_reset(struct cir_network *n, struct cir_qosnet *st, struct cir_qos_target *t,
		     struct cir_error *err)
{
	int r = reset_target(n, st, t, err);

	if (r >= 0)
		cir_qos_ifb_gc(SCRATCH);
	return r;
}

int cir_qosnet_member_gone(struct cir_network *n, const char *cid, struct cir_error *err)
{
	_cleanup_qosnet_ struct cir_qosnet st = { 0 };
	int r;

	r = cir_qosnet_load(n, &st, err);
	if (r < 0 || !cir_qos_entry_has(&st.chain, cid))
		return r < 0 ? r : 0;
	cir_qos_entry_drop(&st.chain, cid);
	r = cir_qosnet_chain_write(n, &st.chain, err);
	return r < 0 ? r : 0;
}

/* ---- restore and show ---- */

/* The bridge's recorded shaping, where the kernel differs: 1 if changed. */
static int restore_bridge(struct cir_network *n, const struct cir_qosnet *st,
			  struct cir_error *err)
{
	struct cir_qos have;
	int br, r;

	if (cir_qos_is_empty(&st->net))
		return 0;
	br = bridge_index(n, err);
	if (br < 0)
		return br;
	if (cir_qos_get(br, &have, NULL) == 0 && cir_qos_matches(&st->net, &have))
		return 0;
	r = cir_qos_apply(br, &st->net, err);
	return r < 0 ? r : 1;
}

/* Member m's link settings, where the kernel differs: 1 if changed. */
static int restore_member(struct cir_network *n, const struct cir_qosnet *st,
			  const struct cir_member *m, struct cir_error *err)
{
	const struct cir_qos_dirs *want = cir_qos_entry_get(&st->chain, m->cid);
	struct cir_qos in, out;
	char host[CIR_IFNAMSIZ];
	int r;

	if (!cir_member_alive(m) || cir_member_host_link(n, m, host, SCRATCH) < 0)
		return 0;
	if (cir_qos_link_get(host, &in, &out, SCRATCH) == 0 &&
	    cir_qos_matches(&want->ingress, &in) && cir_qos_matches(&want->egress, &out))
		return 0;
	r = link_set(host, want, err);
	return r < 0 ? cir_err_wrap(err, "container %s", m->cid) : 1;
}

int cir_qosnet_restore(struct cir_network *n, struct cir_error *err)
{
	_cleanup_qosnet_ struct cir_qosnet st = { 0 };
	struct members ms = { 0 };
	int r, changes = 0;

	r = cir_qosnet_load(n, &st, err);
	if (r >= 0)
		r = restore_bridge(n, &st, err);
	if (r >= 0) {
		changes += r;
		r = members_load(n, &ms, err);
	}
	for (size_t i = 0; r >= 0 && i < ms.n; i++) {
		r = restore_member(n, &st, &ms.m[i], err);
		if (r > 0)
			changes += r;
	}
	members_free(&ms);
	return r < 0 ? r : changes;
}

int cir_qosnet_members_state(struct cir_network *n, const struct cir_qosnet *st,
			     int (*fn)(const struct cir_qos_member_state *m, void *arg),
			     void *arg, struct cir_error *err)
{
	struct members ms;
	int r;

	r = members_load(n, &ms, err);
	for (size_t i = 0; r >= 0 && i < ms.n; i++) {
		struct cir_qos_member_state s = { .cid = ms.m[i].cid, .iface = "-" };

		s.own = cir_qos_entry_has(&st->chain, s.cid);
		s.want = cir_qos_entry_get(&st->chain, s.cid);
		if (cir_member_host_link(n, &ms.m[i], s.iface, SCRATCH) == 0)
			s.has_link = cir_qos_link_get(s.iface, &s.in, &s.out, SCRATCH) == 0;
		if (!s.want->ingress.burst_bytes)
			s.in.burst_bytes = 0;
		if (!s.want->egress.burst_bytes)
			s.out.burst_bytes = 0;
		r = fn(&s, arg);
	}
	members_free(&ms);
	return r;
}
