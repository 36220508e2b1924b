// SPDX-License-Identifier: Apache-2.0
/*
 * restore.c - "circuit restore", "circuit gc", "circuit version" and the
 * top-level command table.
 *
 * restore re-creates what the kernel lost (after a reboot the store is
 * intact and the kernel is empty): every managed network's bridge, gateway
 * and masquerade; members whose process still runs and whose chain CHECK
 * fails are re-attached (DEL, then ADD with the same interface and
 * address); members whose process is gone are released.  Then each verb
 * group's restore callback runs (QoS, load balancers).  Running it on a
 * healthy host changes nothing: every step looks before it writes.
 *
 * gc releases members whose process is gone, DELs a managed network's
 * foreign attachments whose namespace is gone, and asks Circuit's own
 * plugins in every chain (CNI GC, sent at cniVersion 1.1.0 whatever the
 * conflist's version) to drop allocations of attachments Circuit does not
 * know.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "ipam.h"

struct sweep {
	struct cli *c;
	struct cir_netdb *db;
	struct cir_network *n;
	bool restore;            /* restore (re-attach live members) or gc */
	int changes;
	int failures;
	struct cir_chain_attachment *valid;
	size_t n_valid;
	size_t cap_valid;
};

static int keep_valid(struct sweep *s, const struct cir_member *m)
{
	struct cir_chain_attachment *v;

	if (s->n_valid == s->cap_valid) {
		size_t nc = s->cap_valid ? s->cap_valid * 2 : 16;

		v = realloc(s->valid, nc * sizeof(*v));
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

	r = cir_member_get(s->n, m->cid, &cur, &old, err);
	if (r >= 0)
		r = cir_net_member_caps(&cur, &caps, err);
	if (r < 0)
		return r;
	/* Published ports again too (the portMappings capability). */
	rt = (struct cir_chain_rt){ .cid = cur.cid, .netns = cur.netns, .ifname = cur.ifname,
				    .path = s->c->plugin_path,
				    .caps = caps ? cir_json_root(caps) : NULL };
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
 * disconnect it, one line either way. */
static int sweep_release(struct sweep *s, const struct cir_member *m)
{
	struct cir_error e = CIR_ERROR_INIT;
	const char *name = s->n->conf.name;

	if (cir_net_disconnect(cli_net_ctx(s->c), s->n, m, &e) < 0) {
		cli_warn("network %s: %s %s: %s", name, m->pending ? "roll back" : "release",
			 m->cid, e.msg);
		s->failures++;
	} else if (m->pending) {
		cli_info("rolled back the unfinished connect of container %s to network %s",
			 m->cid, name);
		s->changes++;
	} else {
		cli_info("released container %s from network %s (process %lld is gone)", m->cid,
			 name, m->pid);
		s->changes++;
	}
	return 0;
}

/* Does the chain still hold for a running member?  1 yes (or cannot
 * tell), 0 it needs re-attaching. */
static int member_in_place(struct sweep *s, const struct cir_member *m)
{
	_cleanup_free_ char *result = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_member cur;
	struct cir_chain_rt rt = { .cid = m->cid, .netns = m->netns, .ifname = m->ifname,
				   .path = s->c->plugin_path };
	_cleanup_json_ struct cir_json *caps = NULL;
	const char *name = s->n->conf.name;
	int r;

	r = cir_member_get(s->n, m->cid, &cur, &result, &e);
	if (r >= 0)
		r = cir_net_member_caps(&cur, &caps, &e);
	if (r >= 0) {
		rt.caps = caps ? cir_json_root(caps) : NULL;
		r = cir_chain_check(s->n->conflist, &rt, result, &e);
	}
	if (r == -ENOTSUP) {
		cli_debug("network %s: %s: cannot check (%s)", name, m->cid, e.msg);
		return 1;
	}
	if (r >= 0) {
		cli_debug("network %s: %s %s is in place", name, m->cid, m->ifname);
		return 1;
	}
	cli_debug("network %s: %s needs re-attaching: %s", name, m->cid, e.msg);
	return 0;
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
	if (!s->restore || member_in_place(s, m))
		return 0;
	if (reattach(s, m, &e) < 0) {
		cli_warn("network %s: re-attach %s: %s", s->n->conf.name, m->cid, e.msg);
		s->failures++;
		return 0;
	}
	cli_info("reattached container %s (pid %lld) to network %s", m->cid, m->pid,
		 s->n->conf.name);
	s->changes++;
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

static bool is_member(const struct sweep *s, const char *cid, const char *ifname)
{
	for (size_t i = 0; i < s->n_valid; i++)
		if (strcmp(s->valid[i].cid, cid) == 0 && strcmp(s->valid[i].ifname, ifname) == 0)
			return true;
	return false;
}

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
		r = cir_ipam_open_existing(&h, &st, s->n->conf.name, err);
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
 * go too) each attachment Circuit does not know whose namespace is gone,
 * one line each.  What is alive, or cannot be proven dead, stays.
 */
static int sweep_orphans(struct sweep *s, struct cir_error *err)
{
	struct orphans o = { .s = s };
	int r;

	r = orphans_list(s, &o, err);
	for (size_t i = 0; r >= 0 && i < o.n; i++) {
		struct cir_chain_rt rt = { .cid = o.v[i].cid, .ifname = o.v[i].ifname,
					   .path = s->c->plugin_path };
		struct cir_error e = CIR_ERROR_INIT;

		if (cir_chain_del(s->n->conflist, &rt, NULL, &e) < 0) {
			cli_warn("network %s: release %s %s: %s", s->n->conf.name, o.v[i].cid,
				 o.v[i].ifname, e.msg);
			s->failures++;
			continue;
		}
		cli_info("released %s of container %s from network %s (its network namespace "
			 "is gone)", o.v[i].addr[0] ? o.v[i].addr : o.v[i].ifname, o.v[i].cid,
			 s->n->conf.name);
		s->changes++;
	}
	free(o.v);
	return r;
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
	if (s->restore) {
		r = cir_net_ensure(cli_net_ctx(s->c), &n.conf, e);
		if (r < 0) {
			cli_warn("network %s: %s", name, e->msg);
			s->failures++;
		} else if (r > 0) {
			cli_info("restored network %s", name);
			s->changes += r;
		}
	}
	r = cir_member_list(&n, sweep_member, s, e);
	if (r == -ENOMEM)
		r = cir_err(e, ENOMEM, "out of memory");
	if (r >= 0 && !s->restore && n.conf.managed && sweep_orphans(s, e) < 0) {
		cli_warn("network %s: %s", name, e->msg);
		s->failures++;
	}
	if (r >= 0 && !s->restore &&
	    cir_chain_gc(n.conflist, s->c->plugin_path, s->valid, s->n_valid, true, e) < 0) {
		cli_warn("network %s: %s", name, e->msg);
		s->failures++;
	}
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
		cli_warn("network %s: %s", name, e.msg);
		s->failures++;
		return 0;
	}
	if (!remove)
		return 0;
	/* Its last container is gone and its poststop never came. */
	if (cir_net_delete(cli_net_ctx(s->c), s->db, name, &e) < 0) {
		cli_warn("network %s: %s", name, e.msg);
		s->failures++;
	} else {
		cli_info("%s deleted", name);
		s->changes++;
	}
	return 0;
}

static int sweep_all(struct cli *c, bool restore)
{
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct sweep s = { .c = c, .db = &db, .restore = restore };
	_cleanup_close_ int lock = -1;
	int r;

	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = lock = cir_netdb_lock(&db, &err);
	if (r >= 0)
		r = cir_netdb_list(&db, sweep_network, &s, &err);
	for (const struct cli_group *g = cli_groups; restore && r >= 0 && g->name; g++) {
		struct cir_error e = CIR_ERROR_INIT;

		if (!g->restore)
			continue;
		r = g->restore(c, &db, &e);
		if (r < 0) {
			cli_warn("%s: %s", g->name, e.msg);
			s.failures++;
			r = 0;
		} else {
			s.changes += r;
		}
	}
	if (r < 0)
		return cli_fail(c, &err);
	if (s.failures) {
		cir_err(&err, EIO, "%s: %d failures (see warnings above)",
			restore ? "restore" : "gc", s.failures);
		return cli_fail(c, &err);
	}
	if (s.changes == 0)
		cli_info("%s", restore ? "nothing to restore" : "nothing to collect");
	return CLI_OK;
}

int cli_restore_run(struct cli *c, const struct cli_args *a)
{
	return sweep_all(c, true);
}

int cli_gc_run(struct cli *c, const struct cli_args *a)
{
	return sweep_all(c, false);
}

int cli_version_run(struct cli *c, const struct cli_args *a)
{
	printf("circuit version %s\n", CIR_VERSION);
	printf("CNI spec %s (", CIR_CNI_SPEC_VERSION);
	for (size_t i = 0; cir_cni_versions[i]; i++)
		printf("%s%s", i ? ", " : "", cir_cni_versions[i]);
	printf(")\n");
	return CLI_OK;
}

const struct cli_cmd cli_top_cmds[] = {
	{ "hook", "", "run as an OCI hook: read the container state from stdin",
	  "runc calls 'circuit' with no arguments; 'circuit hook' is the same.\n"
	  "Status \"creating\" connects the container, \"stopped\" disconnects it.\n"
	  "Network: $NETWORK, annotation circuit.network, else the container id.\n"
	  "Subnet: $SUBNET, annotation circuit.subnet, else the first free /24 of\n"
	  "$CIRCUIT_POOL or annotation circuit.pool (default 10.254.0.0/16).\n"
	  "config.json:\n"
	  "  \"hooks\": {\n"
	  "    \"prestart\": [ { \"path\": \"/usr/local/bin/circuit\" } ],\n"
	  "    \"poststop\": [ { \"path\": \"/usr/local/bin/circuit\" } ]\n"
	  "  }\n",
	  { { NULL } }, 0, 0, cli_hook_run },
	{ "restore", "", "re-create networks, members and services after a reboot",
	  "Idempotent: on a healthy host it changes nothing.  conf/circuit-restore.service\n"
	  "runs it at boot.\nExample:\n  circuit restore\n", { { NULL } }, 0, 0,
	  cli_restore_run },
	{ "gc", "", "release attachments of containers that no longer exist",
	  "Example:\n  circuit gc\n", { { NULL } }, 0, 0, cli_gc_run },
	{ "agent", "", "the daemon: health checks of services, the cluster lease",
	  "Runs until SIGTERM.  A target failing its service's checks (--check of\n"
	  "'circuit lb create') gets weight 0 until it passes again; its state is kept\n"
	  "in the store.  With a cluster configured it also registers this host and\n"
	  "keeps its lease alive (spec/cluster.md).  conf/circuit-agent.service runs it.\n"
	  "Example:\n  circuit agent\n",
	  { { NULL } }, 0, 0, cli_agent_run },
	{ "version", "", "print the version", NULL, { { NULL } }, 0, 0, cli_version_run },
	{ NULL },
};
