// SPDX-License-Identifier: Apache-2.0
/*
 * lb_ls.c - "circuit lb ls": the services in the state store (lib/lb),
 * with --details what the data plane says of them, and with a cluster
 * configured the cluster's services this host has no copy of yet.  The
 * other verbs are hook/lb.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "output.h"
#include "cluster.h"
#include "cluster_local.h"
#include "ipvs.h"
#include "lb.h"
#include "lb_cluster.h"
#include "lbbackend.h"

static int db_open_ro(struct cli *c, struct cir_lb_db *db, struct cir_error *err)
{
	/* Its errors name the state directory already. */
	return cir_lb_db_open_ro(db, c->state_dir, err);
}

/* lb ls (hook/output.h): a service per row, JSON adds what the table
 * leaves out; --details adds the table's detail lines.  A new field is a
 * column here (if the table shows it) and a cli_print_* call in
 * ls_service. */
static const struct cli_col ls_cols[] = {
	{ "NAME", "name" },
	{ "ADDR", "address" },
	{ "PROTOCOL", "protocol" },
	{ "SCHEDULER", "scheduler" },
	{ "BACKEND", "backend" },
#define LS_COL_SCOPE 5
	{ "SCOPE", "scope" },
	{ NULL, NULL },
};

/* "  check http:/x expect=200 interval=2000ms timeout=1000ms rise=2 fall=3" */
static const struct cli_field ls_check_line[] = {
	{ "check ", "spec", "" },
	{ " expect=", "expect", "" },
	{ " interval=", "interval", "ms" },
	{ " timeout=", "timeout", "ms" },
	{ " rise=", "rise", "" },
	{ " fall=", "fall", "" },
	{ NULL, NULL, NULL },
};

/* "  -> ADDR weight=W method=M [active=A inactive=I|not-programmed]
 * [state=S] [last-error="E"]" */
static const struct cli_field ls_target_line[] = {
	{ "-> ", "address", "" },
	{ " weight=", "weight", "" },
	{ " method=", "method", "" },
	{ " active=", "active", "" },
	{ " inactive=", "inactive", "" },
	{ " ", "programmed", "" },      /* "not-programmed" */
	{ " state=", "state", "" },
	{ " last-error=\"", "last_error", "\"" },
	{ NULL, NULL, NULL },
};

struct ls_ctx {
	struct cir_lb_db *db;
	struct cli_out *o;
	bool details;
	bool kernel;                 /* IPVS answered: live counters */
	bool scope;                  /* a cluster is configured: a SCOPE column */
	bool away;                   /* this row: a cluster service with no copy here */
	char no_kernel[CIR_ERROR_MSG_MAX]; /* why not, said once for the first IPVS service */
};

/* What the data plane says of s (--details), into st[], *live (it could
 * be asked) and *present, with a warning where it cannot tell or s is not
 * there. */
static void ls_live(struct ls_ctx *x, const struct cir_lb_service *s,
		    struct cir_lb_target_status *st, bool *live, bool *present)
{
	struct cir_error err = CIR_ERROR_INIT;
	bool ipvs = s->backend == CIR_LB_BACKEND_IPVS;

	*live = false;
	*present = false;
	if (ipvs && !x->kernel) {
		if (x->no_kernel[0])
			cli_warn("no live counters: %s", x->no_kernel);
		x->no_kernel[0] = '\0';
		return;
	}
	if (cir_lb_backend_ops(s->backend)->status(x->db, s, present, st, &err) < 0) {
		cli_warn("service %s: %s", s->name, err.msg);
		return;
	}
	*live = true;
	if (!*present && ipvs)
		cli_warn("service %s is not in the kernel's IPVS table (run circuit restore)",
			 s->name);
	else if (!*present)
		cli_warn("service %s is not in %s (run circuit restore)", s->name,
			 cir_lb_backend_name(s->backend));
}

/* A check: the records' own "check" map in JSON, a detail line in the
 * table. */
static void ls_check(struct cli_out *o, enum cli_print w, const char *indent,
		     const struct cir_lb_check *ck)
{
	struct cir_jgen *g = w & CLI_PRINT_JSON ? cli_out_jgen(o) : NULL;
	char spec[CIR_LB_CHECK_PATH_MAX + 8];

	if (g)
		cir_lb_check_emit(g, ck);
	cli_out_sub(o, w & CLI_PRINT_TABLE, NULL, indent, ls_check_line);
	cli_print_str(o, CLI_PRINT_TABLE, "spec", cir_lb_check_format(ck, spec, sizeof(spec)));
	if (ck->type == CIR_LB_CHECK_HTTP)
		cli_print_int(o, CLI_PRINT_TABLE, "expect", ck->expect, NULL);
	cli_print_int(o, CLI_PRINT_TABLE, "interval", ck->interval_ms, NULL);
	cli_print_int(o, CLI_PRINT_TABLE, "timeout", ck->timeout_ms, NULL);
	cli_print_int(o, CLI_PRINT_TABLE, "rise", ck->rise, NULL);
	cli_print_int(o, CLI_PRINT_TABLE, "fall", ck->fall, NULL);
	cli_out_sub_end(o);
}

/* One target; d is its live status (NULL: not programmed, or not asked),
 * live whether the data plane was asked. */
static void ls_target(struct cli_out *o, enum cli_print w, const struct cir_lb_service *s,
		      const struct cir_lb_target *t, const struct cir_lb_target_status *d,
		      bool live)
{
	char addr[CIR_LB_ADDR_STRLEN];
	const char *state;
	enum cli_print counted = d ? CLI_PRINT_ANY : CLI_PRINT_JSON;

	cli_out_sub(o, w, NULL, "  ", ls_target_line);
	cli_print_str(o, CLI_PRINT_ANY, "address",
		      cir_lb_addr_format(&t->addr, addr, sizeof(addr)));
	cli_print_int(o, CLI_PRINT_ANY, "weight", t->weight, NULL);
	cli_print_str(o, CLI_PRINT_ANY, "method", cir_lb_method_name(t->method));
	if (t->owner.cid[0]) {
		cli_print_str(o, CLI_PRINT_JSON, "network", t->owner.network);
		cli_print_str(o, CLI_PRINT_JSON, "container", t->owner.cid);
		cli_print_str(o, CLI_PRINT_JSON, "interface", t->owner.ifname);
	}
	if (t->check.type != CIR_LB_CHECK_NONE)
		ls_check(o, w, "     ", &t->check);
	if ((state = cir_lb_target_shown_state(s, t, d)))
		cli_print_str(o, CLI_PRINT_ANY, "state", state);
	if (t->error[0])
		cli_print_str(o, CLI_PRINT_ANY, "last_error", t->error);
	if (live) {
		cli_print_bool(o, CLI_PRINT_JSON, "programmed", d != NULL);
		if (!d)
			cli_print_str(o, CLI_PRINT_TABLE, "programmed", "not-programmed");
		cli_print_int(o, counted, "active", d ? d->active : 0, NULL);
		cli_print_int(o, counted, "inactive", d ? d->inactive : 0, NULL);
	}
	cli_out_sub_end(o);
}

/* One service: its row, its check and its targets (the table's detail
 * lines with --details only); with a cluster configured its scope, and in
 * JSON whether this host has a copy. */
static int ls_service(struct ls_ctx *x, const struct cir_lb_service *s,
		      const struct cir_lb_target_status *st, bool live, bool present)
{
	struct cli_out *o = x->o;
	enum cli_print dw = x->details ? CLI_PRINT_ANY : CLI_PRINT_JSON;
	char addr[CIR_LB_ADDR_STRLEN], sched[64];
	bool hap = s->backend == CIR_LB_BACKEND_HAPROXY;
	size_t l;

	snprintf(sched, sizeof(sched), "%s%s%s", s->sched, s->mh_fallback ? " mh-fallback" : "",
		 s->mh_port ? " mh-port" : "");
	l = strlen(sched);
	if (s->persistent)
		snprintf(sched + l, sizeof(sched) - l, " persistent %u", s->persistent);
	cli_out_row(o);
	cli_print_str(o, CLI_PRINT_ANY, "name", s->name);
	cli_print_str(o, CLI_PRINT_ANY, "address", cir_lb_addr_format(&s->vip, addr, sizeof(addr)));
	cli_print_str(o, CLI_PRINT_ANY, "protocol", cir_lb_proto_name(s->protocol));
	cli_print_str(o, CLI_PRINT_JSON, "scheduler", s->sched);
	cli_print_str(o, CLI_PRINT_TABLE, "scheduler", sched);
	cli_print_str(o, CLI_PRINT_JSON, "backend", cir_lb_backend_name(s->backend));
	cli_print_str(o, CLI_PRINT_TABLE, "backend", hap && s->mode == CIR_LB_MODE_HTTP
			      ? "haproxy http" : cir_lb_backend_name(s->backend));
	if (hap)
		cli_print_str(o, CLI_PRINT_JSON, "mode", cir_lb_mode_name(s->mode));
	cli_print_int(o, CLI_PRINT_JSON, "persistent", s->persistent, NULL);
	if (strcmp(s->sched, "mh") == 0) {
		cli_print_bool(o, CLI_PRINT_JSON, "mh_fallback", s->mh_fallback);
		cli_print_bool(o, CLI_PRINT_JSON, "mh_port", s->mh_port);
	}
	if (s->check.type != CIR_LB_CHECK_NONE)
		ls_check(o, dw, "  ", &s->check);
	if (live)
		cli_print_bool(o, CLI_PRINT_JSON, "programmed", present);
	if (x->scope) {
		cli_print_str(o, CLI_PRINT_ANY, "scope", s->cluster ? "cluster" : "local");
		cli_print_bool(o, CLI_PRINT_JSON, "local", !x->away);
	}
	cli_out_list(o, dw, "targets");
	for (size_t i = 0; i < s->n_targets; i++)
		ls_target(o, dw, s, &s->targets[i], live && st[i].programmed ? &st[i] : NULL,
			  live);
	cli_out_list_end(o);
	return cli_out_row_end(o);
}

static int ls_one(const struct cir_lb_service *s, void *arg)
{
	struct ls_ctx *x = arg;
	_cleanup_free_ struct cir_lb_target_status *st = calloc(s->n_targets + 1, sizeof(*st));
	bool present = false, live = false;

	if (!st)
		return -ENOMEM;
	/* A cluster service with no copy here has nothing live to ask. */
	if (x->details && !x->away)
		ls_live(x, s, st, &live, &present);
	return ls_service(x, s, st, live, present);
}

/* With a cluster configured: the cluster's services this host has no copy
 * of yet (its agent programs them), after the local listing. */
static int ls_cluster(struct cli *c, struct ls_ctx *x)
{
	struct cir_lb_service *v = NULL;
	size_t n = 0;
	int r = 0;

	if (!x->scope || cli_lb_cluster_catalog(c, &v, &n) <= 0)
		return 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct cir_error e2 = CIR_ERROR_INIT;
		struct cir_lb_service here = { 0 };
		bool copy = cir_lb_get(x->db, v[i].name, &here, &e2) >= 0 && here.cluster;

		cir_lb_service_clear(&here);
		if (copy)
			continue;
		x->away = true;
		r = ls_one(&v[i], x);
		x->away = false;
	}
	cir_lb_cluster_list_free(v, n);
	return r;
}

int cli_lb_ls(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	_cleanup_out_ struct cli_out o = { 0 };
	struct cir_error err = CIR_ERROR_INIT;
	const char *fmt = cli_opt(a, "format");
	struct ls_ctx x = { .db = &db, .o = &o, .details = cli_opt(a, "details") != NULL };
	struct cir_ipvs *h;
	int r;

	if (fmt && strcmp(fmt, "table") != 0 && strcmp(fmt, "json") != 0)
		return cli_usage(c, "--format: want table or json, got \"%s\"", fmt);
	if (db_open_ro(c, &db, &err) < 0)
		return cli_fail(c, &err);
	x.scope = cir_cluster_configured(c->state_dir);
	if (x.details) {
		r = cir_lb_db_ipvs(&db, &h, &err);
		if (r < 0)
			snprintf(x.no_kernel, sizeof(x.no_kernel), "%s", err.msg);
		x.kernel = r >= 0;
		cir_err_clear(&err);
	}
	/* The SCOPE column only with a cluster configured. */
	r = cli_out_begin(&o, fmt && strcmp(fmt, "json") == 0, ls_cols, x.scope ? 0 : 1u << LS_COL_SCOPE,
			  &err);
	if (r >= 0)
		r = cir_lb_list(&db, ls_one, &x, &err);
	if (r >= 0)
		r = ls_cluster(c, &x);
	if (r == -ENOMEM)
		r = cir_err(&err, ENOMEM, "out of memory");
	if (r >= 0)
		r = cli_out_end(&o, &err);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}
