// SPDX-License-Identifier: Apache-2.0
/*
 * cluster.c - "circuit host ..." (the host registry) and "circuit cluster
 * ..." (address blocks of cluster networks), over lib/cluster.
 * spec/cluster.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "output.h"
#include "cluster.h"

static int open_cluster(struct cli *c, struct cir_cluster **cl, struct cir_error *err)
{
	int r = cir_cluster_open(cl, c->state_dir, err);

	if (r < 0)
		return r;
	if (!*cl)
		return cir_cluster_err_none(err);
	return 0;
}

static int want_json(struct cli *c, const struct cli_args *a, bool *json)
{
	const char *fmt = cli_opt(a, "format");

	*json = fmt && strcmp(fmt, "json") == 0;
	if (fmt && !*json && strcmp(fmt, "table") != 0)
		return cli_usage(c, "--format: want table or json, got \"%.32s\"", fmt);
	return 0;
}

/* host ls: the table's columns and their JSON keys ("lease" is JSON only). */
static const struct cli_col host_cols[] = {
	{ "NAME", "name" }, { "UNDERLAY", "underlay" }, { NULL, "lease" }, { "TTL", "ttl" },
	{ "BLOCKS", "blocks" }, { NULL, NULL },
};

static void host_row(struct cli_out *o, const struct cir_cluster_host *h)
{
	char lease[24], ttl[24];

	snprintf(lease, sizeof(lease), "%" PRIx64, h->lease);
	if (h->ttl >= 0)
		snprintf(ttl, sizeof(ttl), "%" PRId64 "s", h->ttl);
	else
		snprintf(ttl, sizeof(ttl), "-");
	cli_out_row(o);
	cli_print_str(o, CLI_PRINT_ANY, "name", h->name);
	cli_print_str(o, CLI_PRINT_ANY, "underlay", h->underlay);
	cli_print_str(o, CLI_PRINT_JSON, "lease", lease);
	cli_print_int(o, CLI_PRINT_ANY, "ttl", h->ttl, ttl);
	cli_print_int(o, CLI_PRINT_ANY, "blocks", h->blocks, NULL);
	cli_out_row_end(o);
}

static int run_host_ls(struct cli *c, const struct cli_args *a)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	_cleanup_free_ struct cir_cluster_host *h = NULL;
	_cleanup_out_ struct cli_out o = { 0 };
	struct cir_error err = CIR_ERROR_INIT;
	size_t n = 0;
	bool json;
	int r = want_json(c, a, &json);

	if (r)
		return r;
	if (open_cluster(c, &cl, &err) < 0 || cir_cluster_hosts(cl, &h, &n, &err) < 0 ||
	    cli_out_begin(&o, json, host_cols, 0, &err) < 0)
		return cli_fail(c, &err);
	for (size_t i = 0; i < n; i++)
		host_row(&o, &h[i]);
	return cli_out_end(&o, &err) < 0 ? cli_fail(c, &err) : CLI_OK;
}

static int run_claim(struct cli *c, const struct cli_args *a)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cidr subnet, b;
	unsigned long long size = 0;
	const char *bs = cli_opt(a, "block-size");
	char out[CIR_CIDR_STRLEN];

	if (bs && cli_parse_uint(bs[0] == '/' ? bs + 1 : bs, 1, 126, &size) < 0)
		return cli_usage(c, "--block-size: want a prefix length, got \"%.32s\"", bs);
	if (cir_cidr_parse(a->pos[1], CIR_CIDR_NETWORK, &subnet, &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (open_cluster(c, &cl, &err) < 0 ||
	    cir_cluster_block_claim(cl, a->pos[0], &subnet, (unsigned int)size, &b, &err) < 0)
		return cli_fail(c, &err);
	printf("%s\n", cir_cidr_format(&b, out, sizeof(out)));
	return CLI_OK;
}

static int run_release(struct cli *c, const struct cli_args *a)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cidr b;
	int r;

	if (cir_cidr_parse(a->pos[1], CIR_CIDR_NETWORK, &b, &err) < 0)
		return cli_usage(c, "%s", err.msg);
	if (open_cluster(c, &cl, &err) < 0)
		return cli_fail(c, &err);
	r = cir_cluster_block_free(cl, a->pos[0], &b, &err);
	if (r < 0)
		return cli_fail(c, &err);
	cli_info("block %s of %s %s", a->pos[1], a->pos[0], r ? "freed" : "was already free");
	return CLI_OK;
}

/* cluster blocks: the table's columns and their JSON keys. */
static const struct cli_col block_cols[] = {
	{ "NETWORK", "network" }, { "BLOCK", "block" }, { "HOST", "host" }, { NULL, NULL },
};

static int run_blocks(struct cli *c, const struct cli_args *a)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	_cleanup_free_ struct cir_cluster_block *b = NULL;
	_cleanup_out_ struct cli_out o = { 0 };
	struct cir_error err = CIR_ERROR_INIT;
	size_t n = 0;
	bool json;
	int r = want_json(c, a, &json);

	if (r)
		return r;
	if (open_cluster(c, &cl, &err) < 0 ||
	    cir_cluster_blocks(cl, a->npos ? a->pos[0] : NULL, &b, &n, &err) < 0 ||
	    cli_out_begin(&o, json, block_cols, 0, &err) < 0)
		return cli_fail(c, &err);
	for (size_t i = 0; i < n; i++) {
		char s[CIR_CIDR_STRLEN];

		cli_out_row(&o);
		cli_print_str(&o, CLI_PRINT_ANY, "network", b[i].network);
		cli_print_str(&o, CLI_PRINT_ANY, "block", cir_cidr_format(&b[i].block, s, sizeof(s)));
		cli_print_str(&o, CLI_PRINT_ANY, "host", b[i].host);
		cli_out_row_end(&o);
	}
	return cli_out_end(&o, &err) < 0 ? cli_fail(c, &err) : CLI_OK;
}

static void print_event(void *arg, bool joined, const char *name)
{
	printf("%s %s\n", joined ? "joined" : "left", name);
	fflush(stdout);
}

static volatile sig_atomic_t never;

static int run_host_watch(struct cli *c, const struct cli_args *a)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	unsigned long long secs = 0;
	const char *f = cli_opt(a, "for");

	if (f && cli_parse_uint(f, 1, 86400, &secs) < 0)
		return cli_usage(c, "--for: want 1 to 86400 seconds, got \"%.32s\"", f);
	if (open_cluster(c, &cl, &err) < 0)
		return cli_fail(c, &err);
	if (cir_cluster_hosts_watch(cl, (unsigned int)secs * 1000, &never, print_event, NULL,
				    &err) < 0)
		return cli_fail(c, &err);
	return CLI_OK;
}

const struct cli_cmd cli_host_cmds[] = {
	{ "ls", "[--format table|json]", "list the hosts of the cluster",
	  "Every host whose `circuit agent` keeps its lease alive: its name, underlay\n"
	  "address, the seconds its lease has left and how many address blocks it holds.\n"
	  "Examples:\n  circuit --cluster http://10.0.0.1:2379 host ls\n"
	  "  circuit host ls --format json\n",
	  { { "format", true, "FORMAT", "table (default) or json" } }, 0, 0, run_host_ls },
	{ "watch", "[--for SECONDS]", "print hosts joining and leaving the cluster",
	  "One line per change, \"joined NAME\" (registered or renewed its record) or\n"
	  "\"left NAME\" (its lease expired), until interrupted or for SECONDS.\n"
	  "Example:\n  circuit host watch --for 60\n",
	  { { "for", true, "SECONDS", "stop after this long" } }, 0, 0, run_host_watch },
	{ NULL },
};

const struct cli_cmd cli_cluster_cmds[] = {
	{ "claim", "NETWORK SUBNET [--block-size N]",
	  "claim a free address block of a cluster network for this host",
	  "Prints the block.  It is tied to this host's lease (`circuit agent` must run)\n"
	  "and freed by etcd when the lease expires.  Default size /26 (IPv4), /122 (IPv6).\n"
	  "Example:\n  circuit cluster claim blue 10.128.0.0/16\n",
	  { { "block-size", true, "N", "prefix length of a block" } }, 2, 2, run_claim },
	{ "release", "NETWORK BLOCK", "free one of this host's (empty) blocks",
	  "Example:\n  circuit cluster release blue 10.128.3.64/26\n", { { NULL } }, 2, 2,
	  run_release },
	{ "blocks", "[NETWORK] [--format table|json]", "list the claimed address blocks",
	  "Example:\n  circuit cluster blocks blue\n",
	  { { "format", true, "FORMAT", "table (default) or json" } }, 0, 1, run_blocks },
	{ NULL },
};
