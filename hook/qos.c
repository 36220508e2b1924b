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
 * default).  Every decision is lib/qosnet.h's: this file parses the
 * options, calls it and prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "output.h"
#include "qos_cli.h"
#include "qosnet.h"

/* ---- options ---- */

static int patch_parse(const struct cli_args *a, struct cir_qos_patch *p, struct cir_error *err)
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

static int target_parse(struct cli *c, const struct cli_args *a, struct cir_qos_target *t)
{
	int n = !!cli_opt(a, "default") + !!cli_opt(a, "container") + !!cli_opt(a, "interface");

	if (n > 1)
		return cli_usage(c, "--default, --container and --interface exclude each other");
	memset(t, 0, sizeof(*t));
	t->kind = cli_opt(a, "default") ? CIR_QOS_DEFAULT : n ? CIR_QOS_MEMBER : CIR_QOS_NETWORK;
	t->container = cli_opt(a, "container");
	t->iface = cli_opt(a, "interface");
	return 0;
}

/* Open network name and load its qos state: locked for a change, or
 * read-only (creating nothing) for show. */
static int qos_open(struct cli *c, const char *name, bool ro, struct cir_netdb *db,
		    struct cir_network *n, struct cir_qosnet *st, struct cir_error *err)
{
	int r;

	r = ro ? cli_db_open_ro(c, db, err) : cli_db_open(c, db, err);
	if (r >= 0)
		r = cir_network_open(db, name, !ro, n, err);
	if (r >= 0)
		r = cir_qosnet_load(n, st, err);
	return r;
}

/* "qos configured for ..." / "qos reset for ...". */
static void say_done(const char *what, const struct cir_qos_target *t, const char *net)
{
	if (t->kind == CIR_QOS_NETWORK)
		cli_info("qos %s for %s", what, net);
	else if (t->kind == CIR_QOS_DEFAULT)
		cli_info("qos %s for every member of %s", what, net);
	else
		cli_info("qos %s for container %s on %s", what, t->cid, net);
}

/* ---- set and reset ---- */

static int cmd_set(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	_cleanup_network_ struct cir_network n = CIR_NETWORK_INIT;
	_cleanup_qosnet_ struct cir_qosnet st = { 0 };
	struct cir_qos_patch p;
	struct cir_qos_target t;
	int r;

	r = target_parse(c, a, &t);
	if (r)
		return r;
	if (patch_parse(a, &p, &err) < 0)
		return cli_fail(c, &err);
	if (!cir_qos_patch_any(&p))
		return cli_usage(c, "nothing to set: give --rate, --ceiling, --burst, --delay, "
				    "--jitter, --loss or --loss-correlation");
	r = qos_open(c, a->pos[0], false, &db, &n, &st, &err);
	if (r >= 0)
		r = cir_qosnet_set(&n, &st, &t, &p, &err);
	if (r < 0)
		return cli_fail(c, &err);
	say_done("configured", &t, a->pos[0]);
	return CLI_OK;
}

static int cmd_reset(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	_cleanup_network_ struct cir_network n = CIR_NETWORK_INIT;
	_cleanup_qosnet_ struct cir_qosnet st = { 0 };
	struct cir_qos_target t;
	int r;

	r = target_parse(c, a, &t);
	if (r)
		return r;
	r = qos_open(c, a->pos[0], false, &db, &n, &st, &err);
	if (r >= 0)
		r = cir_qosnet_reset(&n, &st, &t, &err);
	if (r < 0)
		return cli_fail(c, &err);
	say_done("reset", &t, a->pos[0]);
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

static void emit_one(struct cir_jgen *g, const char *key, const struct cir_qos *q)
{
	struct cir_qos_dirs d = { *q, *q };

	if (g)
		cir_qosnet_emit_settings(g, key, &d);
}

/* qos show: the table's rows are the network's bridge, the default and one
 * per member; JSON is one map with the same parts (their settings in
 * lib/qosnet's own form). */
static const struct cli_col show_cols[] = {
	{ "TARGET", "target" },
	{ "INTERFACE", "interface" },
	{ "CONFIGURED", "configured" },
	{ "KERNEL", "kernel" },
	{ NULL, NULL },
};

static int show_member(const struct cir_qos_member_state *m, void *arg)
{
	struct cli_out *o = arg;
	struct cir_jgen *g;
	char cfg[400], krn[400];

	fmt_link(&m->want->ingress, &m->want->egress, cfg, sizeof(cfg));
	if (!m->own && !cir_qos_dirs_is_empty(m->want))
		strncat(cfg, " (default)", sizeof(cfg) - strlen(cfg) - 1);
	if (m->has_link)
		fmt_link(&m->in, &m->out, krn, sizeof(krn));
	else
		snprintf(krn, sizeof(krn), "(no link)");
	cli_out_row(o);
	cli_print_str(o, CLI_PRINT_JSON, "container", m->cid);
	cli_print_str(o, CLI_PRINT_TABLE, "target", m->cid);
	cli_print_str(o, CLI_PRINT_TABLE, "interface", m->iface);
	cli_print_str(o, CLI_PRINT_JSON, "interface", m->has_link ? m->iface : "");
	cli_print_str(o, CLI_PRINT_JSON, "source", m->own ? "container" : "default");
	cli_print_str(o, CLI_PRINT_TABLE, "configured", cfg);
	cli_print_str(o, CLI_PRINT_TABLE, "kernel", krn);
	if ((g = cli_out_jgen(o))) {
		cir_qosnet_emit_settings(g, "configured", m->want);
		emit_one(g, "kernel_in", &m->in);
		emit_one(g, "kernel_out", &m->out);
	}
	return cli_out_row_end(o);
}

static int show_rows(struct cir_network *n, const struct cir_qosnet *st, struct cli_out *o,
		     struct cir_error *err)
{
	char cfg[400], krn[400], bridge_if[CIR_IFNAMSIZ];
	struct cir_qos have;
	int r;

	cir_qosnet_bridge_state(n, st, bridge_if, &have);
	cli_print_str(o, CLI_PRINT_JSON, "network", n->conf.name);
	fmt(&st->net, cfg, sizeof(cfg));
	fmt(&have, krn, sizeof(krn));
	cli_out_row_as(o, CLI_PRINT_ANY, "bridge");
	cli_print_str(o, CLI_PRINT_TABLE, "target", "network");
	cli_print_str(o, CLI_PRINT_TABLE, "interface", bridge_if);
	cli_print_str(o, CLI_PRINT_JSON, "interface", n->conf.bridge);
	cli_print_str(o, CLI_PRINT_TABLE, "configured", cfg);
	emit_one(cli_out_jgen(o), "configured", &st->net);
	cli_print_str(o, CLI_PRINT_TABLE, "kernel", krn);
	emit_one(cli_out_jgen(o), "kernel", &have);
	if (cli_out_row_end(o) < 0)
		return cir_err(err, ENOMEM, "out of memory");
	fmt_link(&st->chain.def.ingress, &st->chain.def.egress, cfg, sizeof(cfg));
	cli_out_row_as(o, CLI_PRINT_TABLE, NULL);
	cli_print_str(o, CLI_PRINT_TABLE, "target", "default");
	cli_print_str(o, CLI_PRINT_TABLE, "interface", "(every member)");
	cli_print_str(o, CLI_PRINT_TABLE, "configured", cfg);
	cli_print_str(o, CLI_PRINT_TABLE, "kernel", "-");
	if (cli_out_row_end(o) < 0)
		return cir_err(err, ENOMEM, "out of memory");
	if (cli_out_jgen(o))
		cir_qosnet_emit_settings(cli_out_jgen(o), "default", &st->chain.def);
	cli_out_list(o, CLI_PRINT_ANY, "members");
	r = cir_qosnet_members_state(n, st, show_member, o, err);
	cli_out_list_end(o);
	if (r == -ENOMEM)
		return cir_err(err, ENOMEM, "out of memory");
	return r < 0 ? r : 0;
}

static int cmd_show(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	_cleanup_network_ struct cir_network n = CIR_NETWORK_INIT;
	_cleanup_qosnet_ struct cir_qosnet st = { 0 };
	_cleanup_out_ struct cli_out o = { 0 };
	const char *f = cli_opt(a, "format");
	int r;

	if (f && strcmp(f, "table") != 0 && strcmp(f, "json") != 0)
		return cli_usage(c, "unknown --format \"%s\" (table or json)", f);
	r = qos_open(c, a->pos[0], true, &db, &n, &st, &err);
	if (r >= 0)
		r = cli_out_begin_map(&o, f && strcmp(f, "json") == 0, show_cols, 0, &err);
	if (r >= 0)
		r = show_rows(&n, &st, &o, &err);
	if (r >= 0)
		r = cli_out_end(&o, &err);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

/* ---- callbacks ---- */

int cli_qos_network_delete(struct cli *c, struct cir_network *n, struct cir_error *err)
{
	int r = cir_qos_ifb_gc(err);

	return r < 0 ? cir_err_wrap(err, "qos") : 0;
}

int cli_qos_network_inspect(struct cli *c, struct cir_network *n, struct cir_jgen *g,
			    struct cir_error *err)
{
	_cleanup_qosnet_ struct cir_qosnet st = { 0 };
	int r;

	r = cir_qosnet_load(n, &st, err);
	if (r < 0)
		return r;
	cir_qosnet_emit(g, &st);
	return 0;
}

int cli_qos_member_gone(struct cli *c, struct cir_network *n, const char *cid,
			struct cir_error *err)
{
	return cir_qosnet_member_gone(n, cid, err);
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
