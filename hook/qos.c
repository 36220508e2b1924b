// SPDX-License-Identifier: Apache-2.0
/*
 * qos.c - "circuit network qos set|reset|show" (see spec/qos.md, "The
 * CLI").
 *
 * Three targets, three records:
 *  - the network (no target option): the bridge's egress, i.e. what the
 *    host sends into the network (replies from the gateway, routed and
 *    NATed traffic).  Recorded in networks/<name>/qos.json.
 *  - --default: every member's link, both directions, present and future.
 *    Recorded as the top-level settings of a circuit-qos entry appended to
 *    the network's conflist, so the chain applies it to every new member
 *    and `circuit restore` re-applies it with the chain.
 *  - --container ID|PID / --interface IF: one member's link, both
 *    directions.  Recorded in the same entry's "containers" map, so the
 *    chain (ADD, CHECK, DEL) knows it too.
 * Setting merges field by field into what the target has (rate then delay:
 * both stay); reset removes a target's settings (a link falls back to the
 * default).  Everything is validated before the kernel is touched, and a
 * kernel or store failure puts the previous state back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "cli.h"
#include "link.h"
#include "names.h"
#include "nl.h"
#include "qos.h"
#include "qos_cli.h"
#include "runc.h"

#define QOS_RECORD "qos.json"
#define QOS_PLUGIN "circuit-qos"
#define QOS_RECORD_MAX 4096

struct qos_override {
	char cid[CIR_CNI_ID_MAX + 1];
	struct cir_qos q;
};

struct qos_state {
	struct cir_qos net;             /* bridge egress (qos.json) */
	struct cir_qos def;             /* members' default (chain entry) */
	struct qos_override *ov;        /* per-member (chain entry "containers") */
	size_t n_ov;
	bool bandwidth;                 /* the chain has the reference bandwidth plugin */
};

static void state_free(struct qos_state *st)
{
	free(st->ov);
	memset(st, 0, sizeof(*st));
}

static struct qos_override *override_find(struct qos_state *st, const char *cid)
{
	for (size_t i = 0; i < st->n_ov; i++)
		if (strcmp(st->ov[i].cid, cid) == 0)
			return &st->ov[i];
	return NULL;
}

static int override_set(struct qos_state *st, const char *cid, const struct cir_qos *q)
{
	struct qos_override *o = override_find(st, cid), *n;

	if (!o) {
		n = realloc(st->ov, (st->n_ov + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		st->ov = n;
		o = &st->ov[st->n_ov++];
		snprintf(o->cid, sizeof(o->cid), "%s", cid);
	}
	o->q = *q;
	return 0;
}

static void override_drop(struct qos_state *st, const char *cid)
{
	struct qos_override *o = override_find(st, cid);

	if (!o)
		return;
	*o = st->ov[--st->n_ov];
}

/* The chain's circuit-qos entry, or NULL. */
static const struct cir_jnode *chain_entry(const struct cir_network *n, bool *bandwidth)
{
	const struct cir_jnode *plugins = cir_jnode_get(cir_json_root(n->conflist), "plugins");
	const struct cir_jnode *found = NULL;

	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		const struct cir_jnode *p = cir_jnode_at(plugins, i);
		const char *type = cir_jnode_str(cir_jnode_get(p, "type"));

		if (type && strcmp(type, QOS_PLUGIN) == 0)
			found = p;
		else if (type && strcmp(type, "bandwidth") == 0 && bandwidth)
			*bandwidth = true;
	}
	return found;
}

static int state_load(struct cir_network *n, struct qos_state *st, struct cir_error *err)
{
	char buf[QOS_RECORD_MAX];
	const struct cir_jnode *e, *ctrs;
	int r;

	memset(st, 0, sizeof(*st));
	r = cir_store_read(n->fd, QOS_RECORD, buf, sizeof(buf), err);
	if (r >= 0) {
		_cleanup_json_ struct cir_json *j = NULL;
		const struct cir_jnode *net = NULL;

		r = cir_json_parse(buf, (size_t)r, &j, err);
		if (r >= 0)
			r = cir_json_obj(cir_json_root(j), "network", &net, err);
		if (r > 0)
			r = cir_qos_conf_parse(net, &st->net, err);
		if (r < 0)
			return cir_err_wrap(err, "network %s: %s", n->conf.name, QOS_RECORD);
	} else if (r != -ENOENT) {
		return r;
	}
	cir_err_clear(err);
	e = chain_entry(n, &st->bandwidth);
	if (!e)
		return 0;
	r = cir_qos_conf_parse(e, &st->def, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: %s in the chain", n->conf.name, QOS_PLUGIN);
	ctrs = cir_jnode_get(e, "containers");
	for (size_t i = 0; i < cir_jnode_nkeys(ctrs); i++) {
		struct cir_qos q = { 0 };

		r = cir_qos_conf_parse(cir_jnode_value_at(ctrs, i), &q, err);
		if (r < 0) {
			state_free(st);
			return cir_err_wrap(err, "network %s: %s containers.%s", n->conf.name,
					    QOS_PLUGIN, cir_jnode_key_at(ctrs, i));
		}
		if (override_set(st, cir_jnode_key_at(ctrs, i), &q) < 0) {
			state_free(st);
			return cir_err(err, ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* Rewrite qos.json for the network-level settings (removed when empty). */
static int record_write(struct cir_network *n, const struct cir_qos *net, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	const char *buf;
	size_t len;
	int r;

	if (cir_qos_is_empty(net)) {
		r = cir_store_unlink(n->fd, QOS_RECORD, err);
		return r < 0 ? r : 0;
	}
	r = cir_jgen_new(&g, true, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_key(g, "network");
	cir_jgen_map_open(g);
	cir_qos_conf_emit(g, net);
	cir_jgen_map_close(g);
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, &buf, &len, err);
	if (r < 0)
		return r;
	return cir_store_write(n->fd, QOS_RECORD, buf, len, err);
}

/* Rewrite the conflist with the circuit-qos entry for st (dropped when it
 * holds nothing), and swap the new document into n. */
static int chain_write(struct cir_network *n, const struct qos_state *st, struct cir_error *err)
{
	static const char *const skip[] = { "plugins", NULL };
	const struct cir_jnode *root = cir_json_root(n->conflist);
	const struct cir_jnode *plugins = cir_jnode_get(root, "plugins");
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_json_ struct cir_json *j = NULL;
	_cleanup_free_ char *raw = NULL;
	const char *buf;
	size_t len;
	int r;

	r = cir_jgen_new(&g, true, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_members_except(g, root, skip);
	cir_jgen_key(g, "plugins");
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		const struct cir_jnode *p = cir_jnode_at(plugins, i);
		const char *type = cir_jnode_str(cir_jnode_get(p, "type"));

		if (!type || strcmp(type, QOS_PLUGIN) != 0)
			cir_jgen_node(g, p);
	}
	if (!cir_qos_is_empty(&st->def) || st->n_ov) {
		cir_jgen_map_open(g);
		cir_jgen_kstr(g, "type", QOS_PLUGIN);
		cir_qos_conf_emit(g, &st->def);
		if (st->n_ov) {
			cir_jgen_key(g, "containers");
			cir_jgen_map_open(g);
			for (size_t i = 0; i < st->n_ov; i++) {
				cir_jgen_key(g, st->ov[i].cid);
				cir_jgen_map_open(g);
				cir_qos_conf_emit(g, &st->ov[i].q);
				cir_jgen_map_close(g);
			}
			cir_jgen_map_close(g);
		}
		cir_jgen_map_close(g);
	}
	cir_jgen_arr_close(g);
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, &buf, &len, err);
	if (r < 0)
		return r;
	r = cir_json_parse(buf, len, &j, err);
	if (r < 0)
		return r;
	r = cir_conflist_check(cir_json_root(j), err);
	if (r < 0)
		return r;
	raw = strndup(buf, len);
	if (!raw)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_store_write(n->fd, CIR_NETCONF_CONFLIST, buf, len, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: conflist", n->conf.name);
	cir_json_free(n->conflist);
	n->conflist = TAKE_PTR(j);
	free(n->conflist_raw);
	n->conflist_raw = TAKE_PTR(raw);
	return 0;
}

/* ---- members and their links ---- */

struct members {
	struct cir_member *m;
	size_t n;
};

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

/*
 * The host-side veth of member m, from its cached chain result: an
 * interface without a sandbox that exists and is a veth (Circuit's own
 * name for it first).  -ENODEV when there is none.
 */
static int member_link(struct cir_network *n, const struct cir_member *m,
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

/* The settings in force for member cid: its own, else the default. */
static const struct cir_qos *member_settings(struct qos_state *st, const char *cid)
{
	struct qos_override *o = override_find(st, cid);

	return o ? &o->q : &st->def;
}

static int link_set(const char *host, const struct cir_qos *q, struct cir_error *err)
{
	if (cir_qos_is_empty(q))
		return cir_qos_link_clear(host, err);
	/* Same settings both ways: into and out of the container. */
	return cir_qos_link_apply(host, q, q, err);
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
 * Apply the settings st gives to the running members (all, or only cid),
 * remembering what each link had.  On failure every link already changed
 * is put back.  Members whose link is gone are skipped.
 */
static int links_apply(struct cir_network *n, struct qos_state *st, const char *only,
		       struct link_undo **undo, size_t *n_undo, struct cir_error *err)
{
	struct members ms;
	struct link_undo *u = NULL;
	size_t k = 0;
	int r;

	r = members_load(n, &ms, err);
	if (r < 0)
		return r;
	u = calloc(ms.n + 1, sizeof(*u));
	if (!u) {
		free(ms.m);
		return cir_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < ms.n && r >= 0; i++) {
		const struct cir_member *m = &ms.m[i];
		struct cir_error e2 = CIR_ERROR_INIT;

		if (only && strcmp(m->cid, only) != 0)
			continue;
		if (!cir_member_alive(m) || member_link(n, m, u[k].host, &e2) < 0)
			continue;
		r = cir_qos_link_get(u[k].host, &u[k].egress, &u[k].ingress, err);
		if (r >= 0)
			r = link_set(u[k].host, member_settings(st, m->cid), err);
		if (r < 0) {
			cir_err_wrap(err, "container %s", m->cid);
			links_undo(u, k + 1);
			break;
		}
		k++;
	}
	free(ms.m);
	if (r < 0) {
		free(u);
		return r;
	}
	*undo = u;
	*n_undo = k;
	return 0;
}

/* Find a member by --container or by --interface (its host-side veth).
 * --container is a container id (the hook's, "pid-N", or a runc ID a
 * member was connected by), the pid of a running member, or a runc
 * container ID whose recorded process is a running member (connected by
 * PID). */
static int member_find(struct cir_network *n, const char *ctr, const char *iface,
		       struct cir_member *out, struct cir_error *err)
{
	struct members ms;
	struct cir_runc_state rs;
	unsigned long long pid = 0;
	bool runc = false;
	int r, found = 0;

	if (ctr && cli_arg_is_pid(ctr) && cli_parse_uint(ctr, 1, 4194304, &pid) < 0)
		pid = 0;
	r = members_load(n, &ms, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ms.n && !found; i++) {
		const struct cir_member *m = &ms.m[i];

		if (ctr) {
			found = strcmp(m->cid, ctr) == 0 ||
				(pid && (unsigned long long)m->pid == pid && cir_member_alive(m));
		} else {
			char host[CIR_IFNAMSIZ];
			struct cir_error e2 = CIR_ERROR_INIT;

			found = member_link(n, m, host, &e2) == 0 && strcmp(host, iface) == 0;
		}
		if (found)
			*out = *m;
	}
	if (!found && ctr && !cli_arg_is_pid(ctr)) {
		struct cir_error e2 = CIR_ERROR_INIT;

		/* Not known by that id: a runc container connected by PID? */
		runc = cir_runc_state_read(NULL, ctr, &rs, &e2) == 0;
		cli_debug("--container %s: %s", ctr, runc ? "found in runc's state" : e2.msg);
	}
	for (size_t i = 0; runc && i < ms.n && !found; i++) {
		found = cir_runc_is_member(&rs, &ms.m[i]) && cir_member_alive(&ms.m[i]);
		if (found)
			*out = ms.m[i];
	}
	free(ms.m);
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

/* ---- options ---- */

struct qos_patch {
	struct cir_qos v;
	bool rate, ceil, burst, delay, jitter, loss, corr;
};

static bool patch_any(const struct qos_patch *p)
{
	return p->rate || p->ceil || p->burst || p->delay || p->jitter || p->loss || p->corr;
}

static void patch_merge(struct cir_qos *q, const struct qos_patch *p)
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

static int patch_parse(const struct cli_args *a, struct qos_patch *p, struct cir_error *err)
{
	const char *s;
	int r = 0;

	memset(p, 0, sizeof(*p));
	if ((s = cli_opt(a, "rate")) && (p->rate = true))
		r = cir_qos_parse_rate(s, &p->v.rate_kbit, err);
	if (r >= 0 && (s = cli_opt(a, "ceiling")) && (p->ceil = true))
		r = cir_qos_parse_rate(s, &p->v.ceil_kbit, err);
	if (r >= 0 && (s = cli_opt(a, "burst")) && (p->burst = true))
		r = cir_qos_parse_size(s, &p->v.burst_bytes, err);
	if (r >= 0 && (s = cli_opt(a, "delay")) && (p->delay = true))
		r = cir_qos_parse_duration(s, &p->v.delay_us, err);
	if (r >= 0 && (s = cli_opt(a, "jitter")) && (p->jitter = true))
		r = cir_qos_parse_duration(s, &p->v.jitter_us, err);
	if (r >= 0 && (s = cli_opt(a, "loss")) && (p->loss = true))
		r = cir_qos_parse_percent(s, &p->v.loss_ppm, err);
	if (r >= 0 && (s = cli_opt(a, "loss-correlation")) && (p->corr = true))
		r = cir_qos_parse_percent(s, &p->v.loss_corr_ppm, err);
	return r;
}

enum qos_target { T_NETWORK, T_DEFAULT, T_MEMBER };

static int target_parse(struct cli *c, const struct cli_args *a, enum qos_target *t)
{
	int n = !!cli_opt(a, "default") + !!cli_opt(a, "container") + !!cli_opt(a, "interface");

	if (n > 1)
		return cli_usage(c, "--default, --container and --interface exclude each other");
	*t = cli_opt(a, "default") ? T_DEFAULT : n ? T_MEMBER : T_NETWORK;
	return 0;
}

/* Open network name and load its qos state: locked for a change, or
 * read-only (creating nothing) for show. */
static int qos_open(struct cli *c, const char *name, bool ro, struct cir_netdb *db,
		    struct cir_network *n, struct qos_state *st, struct cir_error *err)
{
	int r;

	r = ro ? cli_db_open_ro(c, db, err) : cli_db_open(c, db, err);
	if (r >= 0)
		r = cir_network_open(db, name, !ro, n, err);
	if (r >= 0)
		r = state_load(n, st, err);
	return r;
}

/* ---- set ---- */

static int set_network(struct cir_network *n, struct qos_state *st, const struct qos_patch *p,
		       struct cir_error *err)
{
	struct cir_error ignored = CIR_ERROR_INIT;
	struct cir_qos want = st->net, had;
	int br, r, have;

	patch_merge(&want, p);
	r = cir_qos_validate(&want, err);
	if (r < 0)
		return r;
	br = bridge_index(n, err);
	if (br < 0)
		return br;
	have = cir_qos_get(br, &had, NULL);
	r = cir_qos_apply(br, &want, err);
	if (r < 0)
		return r;
	r = record_write(n, &want, err);
	if (r < 0) {
		if (have == 0)
			cir_qos_apply(br, &had, &ignored);
		else
			cir_qos_clear(br, &ignored);
	}
	return r;
}

/* Change the members' settings (the default, or one member's) to *next
 * and apply them to the running links (only = that member) and the chain. */
static int set_links(struct cir_network *n, struct qos_state *st, const char *only,
		     struct cir_error *err)
{
	struct link_undo *u = NULL;
	size_t nu = 0;
	int r;

	if (st->bandwidth)
		return cir_err(err, EINVAL, "network %s: its chain has the bandwidth plugin, which "
				       "shapes the same links: remove it to use circuit qos on "
				       "members", n->conf.name);
	r = links_apply(n, st, only, &u, &nu, err);
	if (r < 0)
		return r;
	r = chain_write(n, st, err);
	if (r < 0)
		links_undo(u, nu);
	free(u);
	return r;
}

static int cmd_set(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct qos_state st = { 0 };
	struct qos_patch p;
	struct cir_member m;
	enum qos_target t;
	const char *net = a->pos[0];
	int r;

	r = target_parse(c, a, &t);
	if (r)
		return r;
	if (patch_parse(a, &p, &err) < 0)
		return cli_fail(c, &err);
	if (!patch_any(&p))
		return cli_usage(c, "nothing to set: give --rate, --ceiling, --burst, --delay, "
				    "--jitter, --loss or --loss-correlation");
	r = qos_open(c, net, false, &db, &n, &st, &err);
	if (r >= 0 && t == T_NETWORK) {
		r = set_network(&n, &st, &p, &err);
	} else if (r >= 0 && t == T_DEFAULT) {
		patch_merge(&st.def, &p);
		r = cir_qos_validate(&st.def, &err);
		if (r < 0)
			cir_err_wrap(&err, "default");
		else
			r = set_links(&n, &st, NULL, &err);
	} else if (r >= 0) {
		r = member_find(&n, cli_opt(a, "container"), cli_opt(a, "interface"), &m, &err);
		if (r >= 0) {
			struct cir_qos q = *member_settings(&st, m.cid);

			patch_merge(&q, &p);
			r = cir_qos_validate(&q, &err);
			if (r < 0)
				cir_err_wrap(&err, "container %s", m.cid);
			else if (override_set(&st, m.cid, &q) < 0)
				r = cir_err(&err, ENOMEM, "out of memory");
			else
				r = set_links(&n, &st, m.cid, &err);
		}
	}
	state_free(&st);
	cir_network_close(&n);
	cir_netdb_close(&db);
	if (r < 0)
		return cli_fail(c, &err);
	if (t == T_NETWORK)
		cli_info("qos configured for %s", net);
	else if (t == T_DEFAULT)
		cli_info("qos configured for every member of %s", net);
	else
		cli_info("qos configured for container %s on %s", m.cid, net);
	return CLI_OK;
}

/* ---- reset ---- */

static int cmd_reset(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct qos_state st = { 0 };
	struct cir_member m;
	enum qos_target t;
	const char *net = a->pos[0];
	int r;

	r = target_parse(c, a, &t);
	if (r)
		return r;
	r = qos_open(c, net, false, &db, &n, &st, &err);
	if (r >= 0 && t == T_NETWORK) {
		int br = bridge_index(&n, &err);

		/* No bridge (an imported chain, or one already gone): nothing
		 * in the kernel to clear. */
		r = br < 0 ? 0 : cir_qos_clear(br, &err);
		if (r >= 0)
			r = record_write(&n, &(struct cir_qos){ 0 }, &err);
	} else if (r >= 0 && t == T_DEFAULT) {
		memset(&st.def, 0, sizeof(st.def));
		r = set_links(&n, &st, NULL, &err);
	} else if (r >= 0) {
		r = member_find(&n, cli_opt(a, "container"), cli_opt(a, "interface"), &m, &err);
		if (r == -ENOENT && cli_opt(a, "container") &&
		    override_find(&st, cli_opt(a, "container"))) {
			/* Its container left: forget the settings. */
			snprintf(m.cid, sizeof(m.cid), "%s", cli_opt(a, "container"));
			r = 0;
		}
		if (r >= 0) {
			override_drop(&st, m.cid);
			r = set_links(&n, &st, m.cid, &err);
		}
	}
	if (r >= 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		cir_qos_ifb_gc(&e2);
	}
	state_free(&st);
	cir_network_close(&n);
	cir_netdb_close(&db);
	if (r < 0)
		return cli_fail(c, &err);
	if (t == T_NETWORK)
		cli_info("qos reset for %s", net);
	else if (t == T_DEFAULT)
		cli_info("qos reset for every member of %s", net);
	else
		cli_info("qos reset for container %s on %s", m.cid, net);
	return CLI_OK;
}

/* ---- show ---- */

static void fmt(const struct cir_qos *q, char *buf, size_t len)
{
	if (cir_qos_is_empty(q))
		snprintf(buf, len, "-");
	else
		cir_qos_format(q, buf, len);
}

static void fmt_link(const struct cir_qos *in, const struct cir_qos *out, char *buf, size_t len)
{
	char a[160], b[160];

	fmt(in, a, sizeof(a));
	fmt(out, b, sizeof(b));
	if (strcmp(a, b) == 0)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "in: %s; out: %s", a, b);
}

static void emit_qos(struct cir_jgen *g, const char *key, const struct cir_qos *q)
{
	cir_jgen_key(g, key);
	if (cir_qos_is_empty(q)) {
		cir_jgen_null(g);
		return;
	}
	cir_jgen_map_open(g);
	cir_qos_conf_emit(g, q);
	cir_jgen_map_close(g);
}

struct show_row {
	const char *target;
	const char *iface;
	const struct cir_qos *want;
	const char *source;              /* "network", "default", "container" */
	struct cir_qos in, out;          /* kernel: into / out of it */
	bool has_kernel;
};

static int show_rows(struct cli *c, struct cir_network *n, struct qos_state *st,
		     struct cli_table *t, struct cir_jgen *g, struct cir_error *err)
{
	struct members ms;
	char cfg[200], krn[400], bridge_if[CIR_IFNAMSIZ] = "-";
	struct cir_qos have = { 0 };
	int br, r;

	/* The network: the bridge's egress. */
	br = bridge_index(n, NULL);
	if (br > 0) {
		snprintf(bridge_if, sizeof(bridge_if), "%s", n->conf.bridge);
		cir_qos_get(br, &have, NULL);
	}
	/* The kernel always has a burst; show it only when one was set. */
	if (!st->net.burst_bytes)
		have.burst_bytes = 0;
	if (t) {
		fmt(&st->net, cfg, sizeof(cfg));
		fmt(&have, krn, sizeof(krn));
		if (cli_table_row(t, "network", bridge_if, cfg, krn, NULL) < 0 ||
		    (fmt(&st->def, cfg, sizeof(cfg)),
		     cli_table_row(t, "default", "(every member)", cfg, "-", NULL) < 0))
			return cir_err(err, ENOMEM, "out of memory");
	} else {
		cir_jgen_kstr(g, "network", n->conf.name);
		cir_jgen_key(g, "bridge");
		cir_jgen_map_open(g);
		cir_jgen_kstr(g, "interface", n->conf.bridge);
		emit_qos(g, "configured", &st->net);
		emit_qos(g, "kernel", &have);
		cir_jgen_map_close(g);
		emit_qos(g, "default", &st->def);
		cir_jgen_key(g, "members");
		cir_jgen_arr_open(g);
	}
	r = members_load(n, &ms, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ms.n; i++) {
		const struct cir_member *m = &ms.m[i];
		struct qos_override *o = override_find(st, m->cid);
		const struct cir_qos *want = o ? &o->q : &st->def;
		char host[CIR_IFNAMSIZ] = "-";
		struct cir_qos in = { 0 }, out = { 0 };
		bool k = false;
		struct cir_error e2 = CIR_ERROR_INIT;

		if (member_link(n, m, host, &e2) == 0)
			k = cir_qos_link_get(host, &in, &out, &e2) == 0;
		if (!want->burst_bytes)
			in.burst_bytes = out.burst_bytes = 0;
		if (t) {
			fmt(want, cfg, sizeof(cfg));
			if (!o && !cir_qos_is_empty(want))
				strncat(cfg, " (default)", sizeof(cfg) - strlen(cfg) - 1);
			if (k)
				fmt_link(&in, &out, krn, sizeof(krn));
			else
				snprintf(krn, sizeof(krn), "(no link)");
			r = cli_table_row(t, m->cid, host, cfg, krn, NULL);
			if (r < 0)
				break;
		} else {
			cir_jgen_map_open(g);
			cir_jgen_kstr(g, "container", m->cid);
			cir_jgen_kstr(g, "interface", k ? host : "");
			cir_jgen_kstr(g, "source", o ? "container" : "default");
			emit_qos(g, "configured", want);
			emit_qos(g, "kernel_in", &in);
			emit_qos(g, "kernel_out", &out);
			cir_jgen_map_close(g);
		}
	}
	free(ms.m);
	if (r < 0)
		return cir_err(err, ENOMEM, "out of memory");
	if (!t)
		cir_jgen_arr_close(g);
	return 0;
}

static int cmd_show(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct qos_state st = { 0 };
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cli_table *t = NULL;
	const char *f = cli_opt(a, "format");
	int r;

	if (f && strcmp(f, "table") != 0 && strcmp(f, "json") != 0)
		return cli_usage(c, "unknown --format \"%s\" (table or json)", f);
	r = qos_open(c, a->pos[0], true, &db, &n, &st, &err);
	if (r >= 0 && f && strcmp(f, "json") == 0) {
		r = cli_json_new(&g, &err);
		if (r >= 0) {
			cir_jgen_map_open(g);
			r = show_rows(c, &n, &st, NULL, g, &err);
			cir_jgen_map_close(g);
		}
		if (r >= 0)
			r = cli_json_print(g, &err);
	} else if (r >= 0) {
		t = cli_table_new();
		if (!t || cli_table_row(t, "TARGET", "INTERFACE", "CONFIGURED", "KERNEL", NULL) < 0)
			r = cir_err(&err, ENOMEM, "out of memory");
		if (r >= 0)
			r = show_rows(c, &n, &st, t, NULL, &err);
		if (r >= 0)
			cli_table_print(t, stdout);
		cli_table_free(t);
	}
	state_free(&st);
	cir_network_close(&n);
	cir_netdb_close(&db);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

/* ---- callbacks ---- */

struct restore_walk {
	struct cli *c;
	struct cir_netdb *db;
	int changes;
	int failures;
};

static int restore_network(const char *name, void *arg)
{
	struct restore_walk *w = arg;
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct qos_state st = { 0 };
	struct members ms = { 0 };
	int r, changes = 0;

	r = cir_network_open(w->db, name, true, &n, &e);
	if (r < 0)
		return 0;        /* deleted meanwhile */
	r = state_load(&n, &st, &e);
	if (r >= 0 && !cir_qos_is_empty(&st.net)) {
		struct cir_qos have;
		int br = bridge_index(&n, &e);

		r = br;
		if (br > 0 && (cir_qos_get(br, &have, NULL) < 0 || !cir_qos_matches(&st.net, &have))) {
			r = cir_qos_apply(br, &st.net, &e);
			changes++;
		}
	}
	if (r >= 0)
		r = members_load(&n, &ms, &e);
	for (size_t i = 0; r >= 0 && i < ms.n; i++) {
		const struct cir_member *m = &ms.m[i];
		const struct cir_qos *want = member_settings(&st, m->cid);
		struct cir_qos in, out;
		char host[CIR_IFNAMSIZ];
		struct cir_error e2 = CIR_ERROR_INIT;

		if (!cir_member_alive(m) || member_link(&n, m, host, &e2) < 0)
			continue;
		if (cir_qos_link_get(host, &in, &out, &e2) == 0 && cir_qos_matches(want, &in) &&
		    cir_qos_matches(want, &out))
			continue;
		r = link_set(host, want, &e);
		if (r < 0)
			cir_err_wrap(&e, "container %s", m->cid);
		changes++;
	}
	free(ms.m);
	state_free(&st);
	cir_network_close(&n);
	if (r < 0) {
		cli_warn("network %s: qos: %s", name, e.msg);
		w->failures++;
		return 0;
	}
	if (changes)
		cli_info("restored qos for %s", name);
	w->changes += changes;
	return 0;
}

int cli_qos_restore(struct cli *c, struct cir_netdb *db, struct cir_error *err)
{
	struct restore_walk w = { c, db, 0, 0 };
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	r = cir_netdb_list(db, restore_network, &w, err);
	if (r < 0)
		return r;
	r = cir_qos_ifb_gc(&e2);
	if (r > 0)
		w.changes += r;
	if (w.failures)
		return cir_err(err, EIO, "%d networks could not be restored", w.failures);
	return w.changes;
}

int cli_qos_network_delete(struct cli *c, struct cir_network *n, struct cir_error *err)
{
	int r = cir_qos_ifb_gc(err);

	return r < 0 ? cir_err_wrap(err, "qos") : 0;
}

int cli_qos_network_inspect(struct cli *c, struct cir_network *n, struct cir_jgen *g,
			    struct cir_error *err)
{
	struct qos_state st = { 0 };
	int r;

	r = state_load(n, &st, err);
	if (r < 0)
		return r;
	cir_jgen_key(g, "qos");
	cir_jgen_map_open(g);
	emit_qos(g, "network", &st.net);
	emit_qos(g, "default", &st.def);
	cir_jgen_key(g, "containers");
	cir_jgen_map_open(g);
	for (size_t i = 0; i < st.n_ov; i++)
		emit_qos(g, st.ov[i].cid, &st.ov[i].q);
	cir_jgen_map_close(g);
	cir_jgen_map_close(g);
	state_free(&st);
	return 0;
}

int cli_qos_member_gone(struct cli *c, struct cir_network *n, const char *cid,
			struct cir_error *err)
{
	struct qos_state st = { 0 };
	int r;

	r = state_load(n, &st, err);
	if (r >= 0 && override_find(&st, cid)) {
		override_drop(&st, cid);
		r = chain_write(n, &st, err);
	}
	state_free(&st);
	return r < 0 ? r : 0;
}

/* ---- the command table ---- */

#define QOS_SETTING_OPTS                                                                   \
	{ "rate", true, "RATE", "guaranteed rate: kbit/s (5000) or with a unit (5mbit)" },  \
	{ "ceiling", true, "RATE", "maximum rate when there is spare capacity (>= rate)" }, \
	{ "burst", true, "SIZE", "bytes sent at line speed before the rate applies (32k)" },\
	{ "delay", true, "TIME", "added latency (50ms, 1.5s); 0 removes it" },              \
	{ "jitter", true, "TIME", "random variation of the delay (needs --delay)" },         \
	{ "loss", true, "PERCENT", "random packet loss (10 or 10%); 0 removes it" },         \
	{ "loss-correlation", true, "PERCENT", "correlation of successive losses" }

#define QOS_TARGET_OPTS                                                                    \
	{ "default", false, NULL, "every member's link, present and future (via the chain)" }, \
	{ "container", true, "ID|PID", "one member's link, both directions" },              \
	{ "interface", true, "IF", "one member's link, by its host-side interface" }

const struct cli_cmd cli_qos_cmds[] = {
	{ "set", "[OPTIONS] NETWORK", "shape a network, its members, or one member's link",
	  "Without a target option the network's bridge is shaped: what the host sends\n"
	  "into the network (replies from the gateway, traffic routed in from outside).\n"
	  "--default, --container and --interface shape members' links in both\n"
	  "directions (each direction gets the full delay: +2x on a round trip).\n"
	  "Setting again changes only the given fields; rate and delay combine.\n"
	  "Examples:\n"
	  "  circuit network qos set --rate 5000 --ceiling 6000 sandbox\n"
	  "  circuit network qos set --delay 50ms sandbox\n"
	  "  circuit network qos set --default --rate 10mbit sandbox\n"
	  "  circuit network qos set --container web-00 --delay 20ms --loss 1% sandbox\n",
	  { QOS_SETTING_OPTS, QOS_TARGET_OPTS }, 1, 1, cmd_set },
	{ "reset", "[--default | --container ID|PID | --interface IF] NETWORK",
	  "remove shaping (idempotent)",
	  "A member's link goes back to the network default, if there is one.\n"
	  "Examples:\n"
	  "  circuit network qos reset sandbox\n"
	  "  circuit network qos reset --container web-00 sandbox\n",
	  { QOS_TARGET_OPTS }, 1, 1, cmd_reset },
	{ "show", "[--format table|json] NETWORK", "what is configured and what the kernel has",
	  "KERNEL for a member shows \"in: ...; out: ...\" (into / out of the container)\n"
	  "when the two directions differ.\n"
	  "Example:\n  circuit network qos show sandbox\n",
	  { { "format", true, "FORMAT", "table (default) or json" } }, 1, 1, cmd_show },
	{ NULL },
};
