// SPDX-License-Identifier: Apache-2.0
/*
 * network_show.c - "circuit network ls|inspect|export": what the state
 * store (and, with a cluster configured, etcd) says of the networks,
 * printed.  The verbs that change them are hook/network.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "cli.h"
#include "cluster_local.h"
#include "cluster_members.h"
#include "network.h"
#include "nl.h"
#include "output.h"
#include "portmap.h"
#include "qos_cli.h"
#include "runc.h"

/* network ls: the table's columns and their JSON keys (a network's other
 * keys are its record's, cir_netconf_emit_shown). */
enum { NET_COL_SCOPE = 2 };
static const struct cli_col net_cols[] = {
	{ "NAME", "name" }, { "SUBNET", "subnet" }, { "SCOPE", "scope" }, { NULL, NULL },
};

struct ls_scan {
	struct cir_netdb *db;
	struct cli_out *o;
	struct nl_sock **sk;         /* for cir_net_shown_mtu() */
	char **names;                /* the networks listed, for cli_cluster_net_ls() */
	size_t n, cap;
};

/* Remember NAME as listed.  The cluster's networks are listed after the
 * local ones, minus those listed here: "minus those the store has" would
 * drop one an agent materialises between the two listings. */
static int ls_listed_add(struct ls_scan *s, const char *name)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		char **v = reallocarray(s->names, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->names = v;
		s->cap = cap;
	}
	s->names[s->n] = strdup(name);
	if (!s->names[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static bool ls_listed(void *arg, const char *name)
{
	const struct ls_scan *s = arg;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return true;
	return false;
}

static void ls_scan_free(struct ls_scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
}

static int ls_one(const char *name, void *arg)
{
	struct ls_scan *s = arg;
	_cleanup_network_ struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	char subnets[CIR_NETCONF_SUBNETS_MAX * (CIR_CIDR_STRLEN + 1)] = "-";
	struct cir_jgen *g = cli_out_jgen(s->o);
	size_t off = 0;
	int r;

	if (cir_network_open(s->db, name, false, &n, &e) < 0)
		return 0;   /* deleted meanwhile */
	for (unsigned int i = 0; i < n.conf.n_subnets; i++)
		off += (size_t)snprintf(subnets + off, sizeof(subnets) - off, "%s%s",
					i ? "," : "", n.conf.subnets[i]);
	cli_out_row(s->o);
	cli_print_str(s->o, CLI_PRINT_TABLE, "name", n.conf.name);
	cli_print_str(s->o, CLI_PRINT_TABLE, "subnet", subnets);
	cli_print_str(s->o, CLI_PRINT_TABLE, "scope", n.conf.cluster ? "cluster" : "local");
	if (g) {
		cir_netconf_emit_shown(g, &n.conf, cir_net_shown_mtu(s->sk, &n.conf));
		r = cir_member_list(&n, NULL, NULL, &e);
		cli_print_int(s->o, CLI_PRINT_JSON, "members", r < 0 ? 0 : r, NULL);
	}
	r = cli_out_row_end(s->o);
	return r < 0 ? r : ls_listed_add(s, n.conf.name);
}

static int check_format(struct cli *c, const struct cli_args *a, bool *json)
{
	const char *f = cli_opt(a, "format");

	*json = false;
	if (!f || strcmp(f, "table") == 0)
		return 0;
	if (strcmp(f, "json") == 0) {
		*json = true;
		return 0;
	}
	return cli_usage(c, "unknown --format \"%s\" (table or json)", f);
}

int cli_network_ls(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_out_ struct cli_out o = { 0 };
	struct ls_scan s = { &db, &o, &sk, NULL, 0, 0 };
	bool json, scope = false;
	int r;

	r = check_format(c, a, &json);
	if (r)
		return r;
	r = cli_db_open_ro(c, &db, &err);
	if (r < 0)
		return cli_fail(c, &err);
	if (!json)
		scope = cir_cluster_configured(c->state_dir);
	r = cli_out_begin(&o, json, net_cols, scope ? 0 : 1u << NET_COL_SCOPE, &err);
	if (r >= 0)
		r = cir_netdb_list(&db, ls_one, &s, &err);
	if (r >= 0 && (json || scope))
		r = cli_cluster_net_ls(c, &o, ls_listed, &s) < 0 ? -ENOMEM : 0;
	ls_scan_free(&s);
	if (r == -ENOMEM)
		r = cir_err(&err, ENOMEM, "out of memory");
	if (r >= 0)
		r = cli_out_end(&o, &err);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

struct inspect_scan {
	struct cir_jgen *g;
	const char *host;            /* a cluster network: this host's name */
};

static int inspect_member(const struct cir_member *m, void *arg)
{
	struct inspect_scan *is = arg;

	cir_jgen_map_open(is->g);
	cir_member_emit(is->g, m);
	cir_jgen_kbool(is->g, "running", cir_member_alive(m));
	if (is->host)
		cir_jgen_kstr(is->g, "host", is->host);
	cir_jgen_map_close(is->g);
	return 0;
}

/* A cluster network's members on the other hosts, from their keys in etcd
 * (spec/cluster.md "Members across hosts"), after this host's own.  etcd
 * unreachable: one warning, this host's members only. */
static void inspect_remote(struct cir_jgen *g, struct cir_cluster *cl, const char *network)
{
	_cleanup_free_ struct cir_cluster_member *m = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	size_t n = 0;

	if (cir_cluster_members(cl, network, NULL, &m, &n, &e) < 0) {
		cli_warn("network %s: members of other hosts unknown: %s", network, e.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(m[i].host, cl->conf.host_name) == 0)
			continue;
		cir_jgen_map_open(g);
		cir_jgen_kstr(g, "container", m[i].cid);
		cir_jgen_kstr(g, "interface", m[i].ifname);
		cir_jgen_kstr(g, "address", m[i].naddrs ? m[i].addrs[0] : "");
		cir_jgen_key(g, "addresses");
		cir_jgen_arr_open(g);
		for (size_t k = 0; k < m[i].naddrs; k++)
			cir_jgen_str(g, m[i].addrs[k]);
		cir_jgen_arr_close(g);
		cir_jgen_kstr(g, "host", m[i].host);
		if (m[i].mac[0])
			cir_jgen_kstr(g, "mac", m[i].mac);
		cir_jgen_map_close(g);
	}
}

int cli_network_inspect(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct inspect_scan is = { NULL, NULL };
	int r;

	r = cli_db_open_ro(c, &db, &err);
	if (r >= 0)
		r = cir_network_open(&db, a->pos[0], false, &n, &err);
	/* A cluster network: every host's members (no cluster configured, or
	 * a local network: no etcd, as before). */
	if (r >= 0 && n.conf.cluster) {
		struct cir_error e2 = CIR_ERROR_INIT;

		if (cir_cluster_open(&cl, c->state_dir, &e2) < 0)
			cli_warn("network %s: members of other hosts unknown: %s", a->pos[0],
				 e2.msg);
		else if (cl)
			is.host = cl->conf.host_name;
	}
	if (r >= 0)
		r = cli_json_new(&g, &err);
	if (r >= 0) {
		is.g = g;
		cir_jgen_map_open(g);
		cir_netconf_emit_shown(g, &n.conf, cir_net_shown_mtu(&sk, &n.conf));
		cir_jgen_key(g, "members");
		cir_jgen_arr_open(g);
		r = cir_member_list(&n, inspect_member, &is, &err);
		if (r >= 0 && cl)
			inspect_remote(g, cl, n.conf.name);
		cir_jgen_arr_close(g);
		for (const struct cli_group *gr = cli_groups; r >= 0 && gr->name; gr++)
			if (gr->network_inspect)
				r = gr->network_inspect(c, &n, g, &err);
		cir_jgen_map_close(g);
	}
	if (r >= 0)
		r = cli_json_print(g, &err);
	cir_network_close(&n);
	cir_netdb_close(&db);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

int cli_network_export(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	const char *version = cli_opt(a, "cni-version");
	_cleanup_free_ char *doc = NULL;
	const char *text;
	int r;

	if (version && !cir_cni_version_supported(version))
		return cli_usage(c, "invalid --cni-version \"%s\" (%s)", version,
				 CIR_CNI_VERSIONS_TEXT);
	r = cli_db_open_ro(c, &db, &err);
	if (r >= 0)
		r = cir_network_open(&db, a->pos[0], false, &n, &err);
	if (r == -ENOENT && cir_cluster_configured(c->state_dir)) {
		/* A cluster network not made here yet: make it. */
		cir_netdb_close(&db);
		r = cli_db_open(c, &db, &err);
		if (r >= 0)
			r = cir_cluster_net_open_any(cli_net_ctx(c), c->state_dir, &db, false,
						     a->pos[0], false, &n, &err);
	}
	/* Another version for another runtime: the same chain, re-emitted. */
	if (r >= 0 && version)
		r = cir_conflist_normalize(n.conflist_raw, strlen(n.conflist_raw), NULL, version,
					   &doc, &err);
	if (r >= 0) {
		size_t len;

		text = doc ? doc : n.conflist_raw;
		len = strlen(text);
		fputs(text, stdout);
		if (len == 0 || text[len - 1] != '\n')
			fputc('\n', stdout);
	}
	cir_network_close(&n);
	cir_netdb_close(&db);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}
