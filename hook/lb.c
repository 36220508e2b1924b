// SPDX-License-Identifier: Apache-2.0
/*
 * lb.c - "circuit lb create|ls|add|remove|delete": IPVS load-balanced
 * services kept in the state store (lib/lb) and the callbacks `circuit
 * restore` and `circuit network delete` call.
 *
 * Store checks (unknown service, duplicate name or VIP) come before the
 * kernel is asked, so a host without IPVS gets them as usual, and every
 * verb that needs the kernel fails there with lib/ipvs's clear message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "ipvs.h"
#include "lb.h"
#include "nft.h"

static int db_open(struct cli *c, struct cir_lb_db *db, struct cir_error *err)
{
	int r = cir_lb_db_open(db, c->state_dir, err);

	return r < 0 ? cir_err_wrap(err, "state %s", cir_store_root(c->state_dir)) : 0;
}

static int db_open_ro(struct cli *c, struct cir_lb_db *db, struct cir_error *err)
{
	/* Its errors name the state directory already. */
	return cir_lb_db_open_ro(db, c->state_dir, err);
}

static int cmd_create(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 };
	const char *sched = cli_opt(a, "scheduler"), *proto = cli_opt(a, "protocol");
	const char *pers = cli_opt(a, "persistent");
	unsigned long long v;

	if (cir_name_check("service name", a->pos[0], &err) < 0)
		return cli_usage(c, "%s", err.msg);
	snprintf(s.name, sizeof(s.name), "%s", a->pos[0]);
	if (cir_lb_addr_parse("address", a->pos[1], &s.vip, &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (cir_lb_sched_check(sched ? sched : CIR_LB_DEFAULT_SCHED, &err) < 0)
		return cli_usage(c, "--scheduler: %s", err.msg);
	snprintf(s.sched, sizeof(s.sched), "%s", sched ? sched : CIR_LB_DEFAULT_SCHED);
	if (cir_lb_proto_parse(proto ? proto : "tcp", &s.protocol, &err) < 0)
		return cli_usage(c, "--protocol: %s", err.msg);
	if (pers) {
		if (cli_parse_uint(pers, 1, 31 * 24 * 3600, &v) < 0)
			return cli_usage(c, "--persistent: want seconds, 1..2678400, got \"%s\"",
					 pers);
		s.persistent = (uint32_t)v;
	}
	if (db_open(c, &db, &err) < 0 || cir_lb_create(&db, &s, &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s created", s.name);
	return CLI_OK;
}

/* ---- ls ---- */

struct ls_ctx {
	struct cir_lb_db *db;
	struct cli_table *t;
	struct cir_jgen *g;
	bool details;
	bool kernel;                 /* IPVS answered: live counters */
};

/* The kernel's dests of s (NULL, 0 when it has none or no service);
 * *present says whether the service is there. */
static int live_dests(struct ls_ctx *x, const struct cir_lb_service *s,
		      struct cir_ipvs_dest **out, size_t *n, bool *present, struct cir_error *err)
{
	struct cir_ipvs_service k;
	int r;

	*out = NULL;
	*n = 0;
	*present = false;
	if (!x->kernel)
		return 0;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_service_get(x->db->ipvs, &k, NULL, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	*present = true;
	return cir_ipvs_dest_dump(x->db->ipvs, &k, out, n, err);
}

static const struct cir_ipvs_dest *live_find(const struct cir_ipvs_dest *d, size_t n,
					     const struct cir_lb_target *t)
{
	struct cir_ipvs_dest w;

	cir_lb_target_to_ipvs(t, &w);
	for (size_t i = 0; i < n; i++)
		if (cir_ipvs_dest_key_eq(&d[i], &w, w.af))
			return &d[i];
	return NULL;
}

static int ls_one(const struct cir_lb_service *s, void *arg)
{
	struct ls_ctx *x = arg;
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_free_ struct cir_ipvs_dest *live = NULL;
	char addr[CIR_LB_ADDR_STRLEN], sched[64];
	size_t nlive = 0;
	bool present = false;
	int r;

	if (x->details) {
		r = live_dests(x, s, &live, &nlive, &present, &err);
		if (r < 0)
			cli_warn("service %s: %s", s->name, err.msg);
		else if (x->kernel && !present)
			cli_warn("service %s is not in the kernel's IPVS table (run circuit restore)",
				 s->name);
	}
	cir_lb_addr_format(&s->vip, addr, sizeof(addr));
	if (x->g) {
		cir_jgen_map_open(x->g);
		cir_jgen_kstr(x->g, "name", s->name);
		cir_jgen_kstr(x->g, "address", addr);
		cir_jgen_kstr(x->g, "protocol", cir_lb_proto_name(s->protocol));
		cir_jgen_kstr(x->g, "scheduler", s->sched);
		cir_jgen_kint(x->g, "persistent", s->persistent);
		if (x->details && x->kernel)
			cir_jgen_kbool(x->g, "programmed", present);
		cir_jgen_key(x->g, "targets");
		cir_jgen_arr_open(x->g);
		for (size_t i = 0; i < s->n_targets; i++) {
			const struct cir_lb_target *t = &s->targets[i];
			const struct cir_ipvs_dest *d = live_find(live, nlive, t);

			cir_jgen_map_open(x->g);
			cir_jgen_kstr(x->g, "address",
				      cir_lb_addr_format(&t->addr, addr, sizeof(addr)));
			cir_jgen_kint(x->g, "weight", t->weight);
			cir_jgen_kstr(x->g, "method", cir_lb_method_name(t->method));
			if (t->owner.cid[0]) {
				cir_jgen_kstr(x->g, "network", t->owner.network);
				cir_jgen_kstr(x->g, "container", t->owner.cid);
				cir_jgen_kstr(x->g, "interface", t->owner.ifname);
			}
			if (x->details && x->kernel) {
				cir_jgen_kbool(x->g, "programmed", d != NULL);
				cir_jgen_kint(x->g, "active", d ? d->active_conns : 0);
				cir_jgen_kint(x->g, "inactive", d ? d->inact_conns : 0);
			}
			cir_jgen_map_close(x->g);
		}
		cir_jgen_arr_close(x->g);
		cir_jgen_map_close(x->g);
		return 0;
	}
	if (s->persistent)
		snprintf(sched, sizeof(sched), "%s persistent %u", s->sched, s->persistent);
	else
		snprintf(sched, sizeof(sched), "%s", s->sched);
	r = cli_table_row(x->t, s->name, addr, cir_lb_proto_name(s->protocol), sched, NULL);
	for (size_t i = 0; r >= 0 && x->details && i < s->n_targets; i++) {
		const struct cir_lb_target *t = &s->targets[i];
		const struct cir_ipvs_dest *d = live_find(live, nlive, t);
		char line[256];

		cir_lb_addr_format(&t->addr, addr, sizeof(addr));
		if (!x->kernel)
			snprintf(line, sizeof(line), "  -> %s weight=%u method=%s", addr, t->weight,
				 cir_lb_method_name(t->method));
		else if (d)
			snprintf(line, sizeof(line),
				 "  -> %s weight=%u method=%s active=%u inactive=%u", addr,
				 t->weight, cir_lb_method_name(t->method), d->active_conns,
				 d->inact_conns);
		else
			snprintf(line, sizeof(line), "  -> %s weight=%u method=%s not-programmed",
				 addr, t->weight, cir_lb_method_name(t->method));
		r = cli_table_row(x->t, line, NULL);
	}
	return r < 0 ? -ENOMEM : 0;
}

static int cmd_ls(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	const char *fmt = cli_opt(a, "format");
	struct ls_ctx x = { .db = &db, .details = cli_opt(a, "details") != NULL };
	struct cir_ipvs *h;
	int r;

	if (fmt && strcmp(fmt, "table") != 0 && strcmp(fmt, "json") != 0)
		return cli_usage(c, "--format: want table or json, got \"%s\"", fmt);
	if (db_open_ro(c, &db, &err) < 0)
		return cli_fail(c, &err);
	if (x.details) {
		r = cir_lb_db_ipvs(&db, &h, &err);
		if (r < 0)
			cli_warn("no live counters: %s", err.msg);
		x.kernel = r >= 0;
		cir_err_clear(&err);
	}
	if (fmt && strcmp(fmt, "json") == 0) {
		r = cli_json_new(&g, &err);
		if (r < 0)
			return cli_fail(c, &err);
		x.g = g;
		cir_jgen_arr_open(g);
		r = cir_lb_list(&db, ls_one, &x, &err);
		cir_jgen_arr_close(g);
		if (r >= 0)
			r = cli_json_print(g, &err);
		return r < 0 ? cli_fail(c, &err) : CLI_OK;
	}
	x.t = cli_table_new();
	if (!x.t) {
		cir_err(&err, ENOMEM, "out of memory");
		return cli_fail(c, &err);
	}
	r = cli_table_row(x.t, "NAME", "ADDR", "PROTOCOL", "SCHEDULER", NULL);
	if (r >= 0)
		r = cir_lb_list(&db, ls_one, &x, &err);
	if (r == -ENOMEM)
		r = cir_err(&err, ENOMEM, "out of memory");
	if (r >= 0)
		cli_table_print(x.t, stdout);
	cli_table_free(x.t);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

/* ---- targets ---- */

static int cmd_add(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lb_target t = { 0 };
	const char *w = cli_opt(a, "weight"), *m = cli_opt(a, "method");
	unsigned long long v = 1;

	if (cir_name_check("service name", a->pos[0], &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (cir_lb_addr_parse("target", a->pos[1], &t.addr, &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (w && cli_parse_uint(w, 0, 65535, &v) < 0)
		return cli_usage(c, "--weight: want 0..65535, got \"%s\"", w);
	t.weight = (uint32_t)v;
	t.method = CIR_IPVS_FWD_MASQ;
	if (m && cir_ipvs_fwd_parse(m, &t.method, &err) < 0)
		return cli_usage(c, "--method: want nat, dr or tunnel, got \"%s\"", m);
	if (db_open(c, &db, &err) < 0 || cir_lb_target_add(&db, a->pos[0], &t, &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s updated", a->pos[0]);
	return CLI_OK;
}

static int cmd_remove(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lb_addr addr;

	if (cir_name_check("service name", a->pos[0], &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (cir_lb_addr_parse("target", a->pos[1], &addr, &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (db_open(c, &db, &err) < 0 ||
	    cir_lb_target_remove(&db, a->pos[0], &addr, false, &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s updated", a->pos[0]);
	return CLI_OK;
}

static int cmd_delete(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_error err = CIR_ERROR_INIT;

	if (cir_name_check("service name", a->pos[0], &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (db_open(c, &db, &err) < 0 || cir_lb_delete(&db, a->pos[0], &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s removed", a->pos[0]);
	return CLI_OK;
}

/* ---- callbacks ---- */

int cli_lb_restore(struct cli *c, struct cir_netdb *db, struct cir_error *err)
{
	int r = cir_lb_restore(&db->st, err);

	if (r > 0)
		cli_info("restored load balancers (%d kernel changes)", r);
	return r;
}

int cli_lb_network_delete(struct cli *c, struct cir_network *n, struct cir_error *err)
{
	int r;

	/* The hairpin masquerade of the network's bridge goes with it. */
	if (!n->conf.bridge[0] || !n->conf.managed)
		return 0;
	r = cir_nft_hairpin_del(n->conf.bridge, err);
	return r < 0 ? cir_err_wrap(err, "lb: hairpin %s", n->conf.bridge) : 0;
}

const struct cli_cmd cli_lb_cmds[] = {
	{ "create", "NAME ADDR:PORT [--scheduler S] [--protocol tcp|udp] [--persistent SEC]",
	  "create a load-balanced service (IPVS virtual server) on a VIP",
	  "Examples:\n"
	  "  circuit lb create demo 192.168.100.235:80\n"
	  "  circuit lb create demo-wrr --scheduler wrr 192.168.100.235:80\n"
	  "  circuit lb create dns 10.96.0.53:53 --protocol udp\n"
	  "  circuit lb create sticky [fd00:96::10]:443 --scheduler sh --persistent 300\n"
	  "The VIP is put on the dummy device " CIR_LB_DEVICE " so that it answers from\n"
	  "this host, from namespaces routed through it and from containers.\n"
	  "Schedulers: rr (default) wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos.\n",
	  { { "scheduler", true, "S", "IPVS scheduler (default rr)" },
	    { "protocol", true, "PROTO", "tcp (default) or udp" },
	    { "persistent", true, "SEC", "client persistence timeout in seconds" } },
	  2, 2, cmd_create },
	{ "ls", "[--details] [--format table|json]", "list load-balanced services",
	  "With --details each target follows its service with its weight, method and\n"
	  "the kernel's active/inactive connection counts.\n"
	  "Examples:\n  circuit lb ls\n  circuit lb ls --details\n  circuit lb ls --format json\n",
	  { { "details", false, NULL, "show targets and live counters" },
	    { "format", true, "FORMAT", "table (default) or json" } },
	  0, 0, cmd_ls },
	{ "add", "NAME TARGET:PORT [--weight N] [--method nat|dr|tunnel]",
	  "add a target to a service (or change its weight and method)",
	  "Examples:\n  circuit lb add demo 10.254.1.196:80\n"
	  "  circuit lb add demo-wrr 10.254.1.197:80 --weight 3\n"
	  "nat (default) works with targets on Circuit networks; dr and tunnel need the\n"
	  "VIP configured on the targets themselves (see spec/lb.md).\n",
	  { { "weight", true, "N", "relative weight, 0 = drain (default 1)" },
	    { "method", true, "M", "nat (default), dr or tunnel" } },
	  2, 2, cmd_add },
	{ "remove", "NAME TARGET:PORT", "remove a target from a service",
	  "Example:\n  circuit lb remove demo 10.254.1.196:80\n", { { NULL } }, 2, 2, cmd_remove },
	{ "delete", "NAME", "delete a service and its targets",
	  "Example:\n  circuit lb delete demo\n", { { NULL } }, 1, 1, cmd_delete },
	{ NULL },
};
