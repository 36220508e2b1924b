// SPDX-License-Identifier: Apache-2.0
/*
 * lb.c - "circuit lb create|add|remove|delete" (ls: hook/lb_ls.c):
 * load-balanced services kept in the state store (lib/lb) and the callback
 * `circuit network delete` calls (`circuit restore` reaches lib/lb through
 * lib/restore.c).
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
#include "output.h"
#include "cluster.h"
#include "cluster_local.h"
#include "ipvs.h"
#include "lb.h"
#include "lb_cluster.h"
#include "lbbackend.h"
#include "nft.h"

static int db_open(struct cli *c, struct cir_lb_db *db, struct cir_error *err)
{
	int r = cir_lb_db_open(db, c->state_dir, err);

	/* The CLI may start the haproxy data service (spec/lb.md). */
	db->may_spawn = true;
	return r < 0 ? cir_err_wrap(err, "state %s", cir_store_root(c->state_dir)) : 0;
}

/* --check and its numbers into *c; CLI_OK, or the usage error's status. */
static int parse_check(struct cli *c, const struct cli_args *a, struct cir_lb_check *out)
{
	static const char *const ckopt[] = { "interval", "timeout", "rise", "fall",
					     "expect-status" };
	struct cir_error err = CIR_ERROR_INIT;
	const char *chk = cli_opt(a, "check"), *o;
	unsigned long long v;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; !chk && i < sizeof(ckopt) / sizeof(ckopt[0]); i++)
		if (cli_opt(a, ckopt[i]))
			return cli_usage(c, "--%s needs --check", ckopt[i]);
	if (!chk)
		return CLI_OK;
	if (cir_lb_check_parse(chk, out, &err) < 0)
		return cli_usage(c, "--check: %s", err.msg);
	if ((o = cli_opt(a, "interval")) && cir_lb_duration_parse(o, &out->interval_ms, &err) < 0)
		return cli_usage(c, "--interval: %s", err.msg);
	if ((o = cli_opt(a, "timeout")) && cir_lb_duration_parse(o, &out->timeout_ms, &err) < 0)
		return cli_usage(c, "--timeout: %s", err.msg);
	if ((o = cli_opt(a, "rise"))) {
		if (cli_parse_uint(o, 1, 100, &v) < 0)
			return cli_usage(c, "--rise: want 1..100, got \"%s\"", o);
		out->rise = (uint32_t)v;
	}
	if ((o = cli_opt(a, "fall"))) {
		if (cli_parse_uint(o, 1, 100, &v) < 0)
			return cli_usage(c, "--fall: want 1..100, got \"%s\"", o);
		out->fall = (uint32_t)v;
	}
	if ((o = cli_opt(a, "expect-status"))) {
		if (out->type != CIR_LB_CHECK_HTTP || cli_parse_uint(o, 100, 599, &v) < 0)
			return cli_usage(c, "--expect-status: an HTTP status 100..599 "
					 "with --check http");
		out->expect = (uint16_t)v;
	}
	if (cir_lb_check_valid(out, &err) < 0)
		return cli_usage(c, "%s", err.msg);
	return CLI_OK;
}

/* lb create's scheduler sched (--scheduler or --sched; NULL: the default),
 * --mh-fallback and --mh-port into s. */
static int create_sched(struct cli *c, const struct cli_args *a, const char *sched,
			struct cir_lb_service *s)
{
	struct cir_error err = CIR_ERROR_INIT;

	if (cir_lb_sched_check(sched ? sched : CIR_LB_DEFAULT_SCHED, &err) < 0)
		return cli_usage(c, "--scheduler: %s", err.msg);
	snprintf(s->sched, sizeof(s->sched), "%s", sched ? sched : CIR_LB_DEFAULT_SCHED);
	s->mh_fallback = cli_opt(a, "mh-fallback") != NULL;
	s->mh_port = cli_opt(a, "mh-port") != NULL;
	if ((s->mh_fallback || s->mh_port) && strcmp(s->sched, "mh") != 0)
		return cli_usage(c, "--mh-fallback and --mh-port need --scheduler mh");
	return CLI_OK;
}

/* lb create's --protocol, --persistent and the check options into s. */
static int create_traffic(struct cli *c, const struct cli_args *a, struct cir_lb_service *s)
{
	struct cir_error err = CIR_ERROR_INIT;
	const char *proto = cli_opt(a, "protocol"), *pers = cli_opt(a, "persistent");
	unsigned long long v;

	if (cir_lb_proto_parse(proto ? proto : "tcp", &s->protocol, &err) < 0)
		return cli_usage(c, "--protocol: %s", err.msg);
	if (pers) {
		if (cli_parse_uint(pers, 1, 31 * 24 * 3600, &v) < 0)
			return cli_usage(c, "--persistent: want seconds, 1..2678400, got \"%s\"",
					 pers);
		s->persistent = (uint32_t)v;
	}
	return parse_check(c, a, &s->check);
}

/* lb create's --backend and --mode into s, checked by that backend. */
static int create_backend(struct cli *c, const struct cli_args *a, struct cir_lb_service *s)
{
	struct cir_error err = CIR_ERROR_INIT;
	const char *backend = cli_opt(a, "backend"), *mode = cli_opt(a, "mode");

	if (backend && cir_lb_backend_parse(backend, &s->backend, &err) < 0)
		return cli_usage(c, "--backend: %s", err.msg);
	if (mode && s->backend != CIR_LB_BACKEND_HAPROXY)
		return cli_usage(c, "--mode is for --backend haproxy");
	if (mode && cir_lb_mode_parse(mode, &s->mode, &err) < 0)
		return cli_usage(c, "--mode: %s", err.msg);
	if (cir_lb_backend_ops(s->backend)->validate(s, &err) < 0)
		return cli_usage(c, "--backend %s: %s", cir_lb_backend_name(s->backend), err.msg);
	return CLI_OK;
}

/* lb create --scope cluster: s recorded in the cluster's etcd. */
static int create_cluster(struct cli *c, const struct cir_lb_service *s)
{
	struct cir_error err = CIR_ERROR_INIT;

	if (s->backend != CIR_LB_BACKEND_IPVS)
		return cli_usage(c, "--scope cluster works with the ipvs backend only, "
				 "not --backend %s", cir_lb_backend_name(s->backend));
	if (cli_lb_cluster_create(c, s, &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s created in the cluster (every host's circuit agent "
		 "programs it)", s->name);
	return CLI_OK;
}

static int cmd_create(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 };
	const char *scope = cli_opt(a, "scope"), *sched = cli_opt(a, "scheduler");
	int r;

	if (cli_opt(a, "sched")) {
		if (sched && strcmp(sched, cli_opt(a, "sched")) != 0)
			return cli_usage(c, "--sched and --scheduler differ");
		sched = cli_opt(a, "sched");
	}
	if (cir_name_check("service name", a->pos[0], &err) < 0)
		return cli_usage(c, "%s", err.msg);
	snprintf(s.name, sizeof(s.name), "%s", a->pos[0]);
	if (cir_lb_addr_parse("address", a->pos[1], &s.vip, &err) < 0)
		return cli_usage(c, "%s", err.msg);
	r = create_sched(c, a, sched, &s);
	if (r == CLI_OK)
		r = create_traffic(c, a, &s);
	if (r == CLI_OK)
		r = create_backend(c, a, &s);
	if (r != CLI_OK)
		return r;
	if (scope && strcmp(scope, "local") != 0 && strcmp(scope, "cluster") != 0)
		return cli_usage(c, "--scope: want local or cluster, got \"%.32s\"", scope);
	if (scope && strcmp(scope, "cluster") == 0)
		return create_cluster(c, &s);
	if (db_open(c, &db, &err) < 0 || cir_lb_create(&db, &s, &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s created", s.name);
	return CLI_OK;
}

/* ---- targets ---- */

static int cmd_add(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lb_target t = { 0 };
	const char *w = cli_opt(a, "weight"), *m = cli_opt(a, "method");
	unsigned long long v = 1;
	int r;

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
	r = parse_check(c, a, &t.check);
	if (r != CLI_OK)
		return r;
	r = cli_lb_scope(c, a->pos[0], &cl, &err);
	if (r > 0 && cir_lb_cluster_target_add(cl, a->pos[0], &t, &err) >= 0) {
		cli_info("service %s updated in the cluster", a->pos[0]);
		return CLI_OK;
	}
	if (r != 0 || db_open(c, &db, &err) < 0 ||
	    cir_lb_target_add(&db, a->pos[0], &t, &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s updated", a->pos[0]);
	return CLI_OK;
}

static int cmd_remove(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lb_addr addr;
	const char *drain = cli_opt(a, "drain");
	uint32_t tmo = 300 * 1000, left = 0;
	int r;

	if (cir_name_check("service name", a->pos[0], &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (cir_lb_addr_parse("target", a->pos[1], &addr, &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (drain && *drain && cir_lb_duration_parse(drain, &tmo, &err) < 0)
		return cli_usage(c, "--drain: %s", err.msg);
	r = cli_lb_scope(c, a->pos[0], &cl, &err);
	if (r < 0)
		return cli_fail(c, &err);
	if (r > 0 && drain)
		return cli_usage(c, "--drain is for local services: give the target of cluster "
				 "service %s --weight 0 with lb add first, then remove it", a->pos[0]);
	if (r > 0) {
		if (cir_lb_cluster_target_remove(cl, a->pos[0], &addr, &err) < 0)
			return cli_fail(c, &err);
		cli_info("service %s updated in the cluster", a->pos[0]);
		return CLI_OK;
	}
	if (drain) {
		if (db_open(c, &db, &err) < 0 ||
		    cir_lb_target_drain(&db, a->pos[0], &addr, tmo, &left, &err) < 0)
			return cli_fail(c, &err);
		if (left)
			cli_warn("service %s: drain timed out with %u active connections", a->pos[0],
				 left);
		cli_info("service %s updated", a->pos[0]);
		return CLI_OK;
	}
	if (db_open(c, &db, &err) < 0 ||
	    cir_lb_target_remove(&db, a->pos[0], &addr, false, &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s updated", a->pos[0]);
	return CLI_OK;
}

static int cmd_delete(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	int r;

	if (cir_name_check("service name", a->pos[0], &err) < 0)
		return cli_usage(c, "%s", err.msg);
	r = cli_lb_scope(c, a->pos[0], &cl, &err);
	if (r > 0 && cir_lb_cluster_delete(cl, a->pos[0], &err) >= 0) {
		cli_info("service %s removed from the cluster", a->pos[0]);
		return CLI_OK;
	}
	if (r != 0 || db_open(c, &db, &err) < 0 || cir_lb_delete(&db, a->pos[0], &err) < 0)
		return cli_fail(c, &err);
	cli_info("service %s removed", a->pos[0]);
	return CLI_OK;
}

/* ---- callbacks ---- */

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
	{ "create", "NAME ADDR:PORT [--scheduler|--sched S] [--mh-fallback] [--mh-port] "
	  "[--protocol tcp|udp] [--persistent SEC] "
	  "[--check tcp|http:/PATH|udp[:PAYLOAD]|exec:/PATH] [--interval D] [--timeout D] "
	  "[--rise N] [--fall N] [--expect-status N] [--backend ipvs|haproxy] [--mode tcp|http] "
	  "[--scope local|cluster]",
	  "create a load-balanced service (IPVS virtual server or HAProxy proxy) on a VIP",
	  "Examples:\n"
	  "  circuit lb create demo 192.168.100.235:80\n"
	  "  circuit lb create demo-wrr --scheduler wrr 192.168.100.235:80\n"
	  "  circuit lb create dns 10.96.0.53:53 --protocol udp\n"
	  "  circuit lb create sticky [fd00:96::10]:443 --scheduler sh --persistent 300\n"
	  "  circuit lb create web 10.96.0.10:80 --check http:/healthz --interval 2s \\\n"
	  "      --timeout 1s --rise 2 --fall 3\n"
	  "  circuit lb create maglev 10.96.0.11:80 --sched mh --mh-fallback --mh-port\n"
	  "  circuit lb create web6 [fd00::1]:80\n"
	  "  circuit lb create dns 10.96.0.53:53 --protocol udp --check udp:ping\n"
	  "  circuit lb create px 10.96.0.20:80 --backend haproxy --mode http \\\n"
	  "      --check http:/\n"
	  "--backend haproxy serves the VIP from an HAProxy process Circuit starts and\n"
	  "changes live through its runtime API (tcp, rr/wrr/lc/wlc/sh/mh, tcp and\n"
	  "http checks run by HAProxy itself; spec/lb.md).\n"
	  "A udp check passes when the target answers the datagram within the\n"
	  "timeout; an exec check runs the program (an absolute path, root's, not\n"
	  "writable by others) with CIRCUIT_TARGET_ADDRESS and CIRCUIT_TARGET_PORT\n"
	  "set, and passes when it exits 0.\n"
	  "Checks run in 'circuit agent'; a failing target gets weight 0 until it\n"
	  "passes again.\n"
	  "The VIP is put on the dummy device " CIR_LB_DEVICE " so that it answers from\n"
	  "this host, from namespaces routed through it and from containers.\n"
	  "Schedulers: rr (default) wrr lc wlc lblc lblcr dh sh sed nq mh fo ovf twos.\n"
	  "--scope cluster records the service in the cluster's etcd (ipvs only): every\n"
	  "host's circuit agent programs it, lb add/remove/delete work on it from any\n"
	  "host (spec/cluster.md).\n",
	  { { "scheduler", true, "S", "IPVS scheduler (default rr)" },
	    { "sched", true, "S", "the same as --scheduler" },
	    { "mh-fallback", false, NULL, "mh: skip a target with weight 0 (down, draining)" },
	    { "mh-port", false, NULL, "mh: hash the client's port too, not only its address" },
	    { "protocol", true, "PROTO", "tcp (default) or udp" },
	    { "persistent", true, "SEC", "client persistence timeout in seconds" },
	    { "check", true, "CHECK",
	      "health check: tcp, http[:/PATH], udp[:PAYLOAD], exec:/PATH (circuit agent)" },
	    { "interval", true, "DUR", "between checks (default 2s)" },
	    { "timeout", true, "DUR", "one check's limit (default 1s)" },
	    { "rise", true, "N", "passes that bring a target back (default 2)" },
	    { "fall", true, "N", "failures that take a target out (default 3)" },
	    { "expect-status", true, "N", "HTTP status wanted (default 200)" },
	    { "backend", true, "B", "ipvs (default) or haproxy" },
	    { "mode", true, "M", "haproxy: tcp (default) or http" },
	    { "scope", true, "SCOPE", "local (default) or cluster: every host's agent programs it" } },
	  2, 2, cmd_create },
	{ "ls", "[--details] [--format table|json]", "list load-balanced services",
	  "With --details each target follows its service with its weight, method and\n"
	  "the kernel's active/inactive connection counts.\n"
	  "Examples:\n  circuit lb ls\n  circuit lb ls --details\n  circuit lb ls --format json\n",
	  { { "details", false, NULL, "show targets and live counters" },
	    { "format", true, "FORMAT", "table (default) or json" } },
	  0, 0, cli_lb_ls },
	{ "add", "NAME TARGET:PORT [--weight N] [--method nat|dr|tunnel] [--check CHECK] "
	  "[--interval D] [--timeout D] [--rise N] [--fall N] [--expect-status N]",
	  "add a target to a service (or change its weight, method and check)",
	  "Examples:\n  circuit lb add demo 10.254.1.196:80\n"
	  "  circuit lb add demo-wrr 10.254.1.197:80 --weight 3\n"
	  "  circuit lb add web 10.254.1.198:80 --check exec:/usr/local/lib/check-web\n"
	  "A target's own --check replaces the service's for that target; without\n"
	  "--check the target follows the service's check.\n"
	  "nat (default) works with targets on Circuit networks; dr and tunnel need the\n"
	  "VIP configured on the targets themselves (see spec/lb.md).\n",
	  { { "weight", true, "N", "relative weight, 0 = drain (default 1)" },
	    { "method", true, "M", "nat (default), dr or tunnel" },
	    { "check", true, "CHECK", "this target's own health check (as lb create's)" },
	    { "interval", true, "DUR", "between checks (default 2s)" },
	    { "timeout", true, "DUR", "one check's limit (default 1s)" },
	    { "rise", true, "N", "passes that bring the target back (default 2)" },
	    { "fall", true, "N", "failures that take the target out (default 3)" },
	    { "expect-status", true, "N", "HTTP status wanted (default 200)" } },
	  2, 2, cmd_add },
	{ "remove", "NAME TARGET:PORT [--drain[=TIMEOUT]]", "remove a target from a service",
	  "With --drain the target first gets weight 0 and is removed when IPVS counts\n"
	  "no active connection to it, or after TIMEOUT (default 5m).\n"
	  "Examples:\n  circuit lb remove demo 10.254.1.196:80\n"
	  "  circuit lb remove demo 10.254.1.196:80 --drain=30s\n",
	  { { "drain", true, "[=TIMEOUT]", "let active connections finish first" } }, 2, 2,
	  cmd_remove },
	{ "delete", "NAME", "delete a service and its targets",
	  "Example:\n  circuit lb delete demo\n", { { NULL } }, 1, 1, cmd_delete },
	{ NULL },
};
