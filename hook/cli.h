/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - the `circuit` command's shared parts: the command table, option
 * parsing, logrus-style output, tables, JSON output, plugin lookup, and the
 * context the network operations of lib/network.h get (network.c).
 *
 * Adding a verb group (e.g. hook/qos.c for "circuit network qos ..."):
 *   1. define `const struct cli_cmd cli_qos_cmds[] = { {...}, { NULL } };`
 *      each with name, args synopsis, summary, help (examples), options and
 *      a run function `int run(struct cli *c, const struct cli_args *a)`;
 *   2. declare it below and add one line to cli_groups[] in main.c:
 *      { "network qos", "quality of service for a network", cli_qos_cmds,
 *        qos_network_delete, qos_network_inspect },
 *      the two optional callbacks are called when a network is deleted and
 *      by `network inspect`.  What `circuit restore` and `gc` must see to is
 *      registered in lib/restore.c, not here.
 * A run function returns CLI_OK, CLI_FAIL (after cli_fail) or CLI_USAGE
 * (after cli_usage); it prints results on stdout and messages through
 * cli_info() (stderr, "INFO[0000] ...").
 */
#ifndef CIR_HOOK_CLI_H
#define CIR_HOOK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "cleanup.h"
#include "error.h"
#include "ip.h"
#include "json.h"
#include "log.h"
#include "netconf.h"
#include "network.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CLI_MAX_OPTS 16
#define CLI_MAX_POS 16
#define CLI_MAX_REPEAT 32            /* values of one repeated option (--publish) */

/* One option of a command: "--name VALUE" (has_arg) or a flag "--name". */
struct cli_opt {
	const char *name;
	bool has_arg;
	const char *arg;             /* placeholder in help ("IP") */
	const char *help;
};

struct cli;
struct cli_args;

struct cli_cmd {
	const char *name;            /* NULL ends a table */
	const char *args;            /* positional synopsis: "NAME SUBNET" */
	const char *summary;         /* one line */
	const char *help;            /* longer text with examples, may be NULL */
	struct cli_opt opts[CLI_MAX_OPTS];   /* ends at name == NULL */
	int min_pos, max_pos;        /* positional count bounds; max -1 = any */
	int (*run)(struct cli *c, const struct cli_args *a);
};

struct cir_network;

struct cli_group {
	const char *name;            /* "network", "network qos", "lb"; "" = top level */
	const char *summary;
	const struct cli_cmd *cmds;
	/* Optional: remove this group's state of a network being deleted
	 * (called with the network locked, before its bridge goes). */
	int (*network_delete)(struct cli *c, struct cir_network *n, struct cir_error *err);
	/* Optional: add this group's keys ("qos": {...}) to the open map of
	 * `circuit network inspect`. */
	int (*network_inspect)(struct cli *c, struct cir_network *n, struct cir_jgen *g,
			       struct cir_error *err);
};

extern const struct cli_group cli_groups[];

struct cli_args {
	const struct cli_cmd *cmd;
	const char *pos[CLI_MAX_POS];
	int npos;
	const char *opt[CLI_MAX_OPTS];   /* value by index into cmd->opts; flags get "" */
	/* Every value of an option given more than once, in order (opt[]
	 * holds the last). */
	const char *rep[CLI_MAX_OPTS][CLI_MAX_REPEAT];
	int nrep[CLI_MAX_OPTS];
};

/* Process-wide context. */
struct cli {
	const char *state_dir;       /* --state DIR, else NULL ($CIRCUIT_STATE_DIR / default) */
	bool debug;
	const struct cli_group *group;
	const struct cli_cmd *cmd;
	char plugin_path[8192];      /* CNI_PATH handed to plugins */
	struct cir_net_ctx net;      /* cli_net_ctx() */
};

/* Value of option `name` of the running command: NULL when not given, ""
 * for a given flag. */
const char *cli_opt(const struct cli_args *a, const char *name);
/* Every value option `name` was given, in order: their count, *vals set
 * (0 when not given). */
int cli_opt_all(const struct cli_args *a, const char *name, const char *const **vals);

/* Output.  Messages go to stderr as logrus text lines. */
#define cli_info(...) cir_log(CIR_LOG_INFO, __VA_ARGS__)
#define cli_warn(...) cir_log(CIR_LOG_WARN, __VA_ARGS__)
#define cli_debug(...) cir_log(CIR_LOG_DEBUG, __VA_ARGS__)

/* Print err as one "ERRO[0000] ..." line on stderr; returns CLI_FAIL. */
int cli_fail(struct cli *c, const struct cir_error *err);
/* Print a usage error and the command's synopsis on stderr; returns CLI_USAGE. */
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A container on the command line: all digits is a PID, anything else a
 * runc container ID (lib/runc.h). */
bool cli_arg_is_pid(const char *s);

/* Parse an unsigned decimal in [min, max]. */
int cli_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		   unsigned long long *out);

/*
 * Tables in the layout Go's text/tabwriter gives with minwidth 20 and
 * padding 3 (the original tool's): every cell but a row's last is padded to
 * its column's width, computed over the block of consecutive rows that have
 * a cell after it.  A one-cell row ("  -> 10.0.0.2:80") ends the block.
 */
struct cli_table;
struct cli_table *cli_table_new(void);
/* Append a row of cells (NULL-terminated, at most CLI_TABLE_COLS).
 * Returns 0 or -ENOMEM. */
#define CLI_TABLE_COLS 16
int cli_table_row(struct cli_table *t, ...) __attribute__((sentinel));
/* The same from an array of k cells. */
int cli_table_rowv(struct cli_table *t, const char *const *cells, size_t k);
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);
CIR_DEFINE_CLEANUP(struct cli_table, cli_table_free)
#define _cleanup_table_ _cleanup_(cli_table_freep)

/* JSON output: a pretty generator, and printing it to stdout with a newline. */
int cli_json_new(struct cir_jgen **g, struct cir_error *err);
int cli_json_print(struct cir_jgen *g, struct cir_error *err);

/* Open the network database of --state / $CIRCUIT_STATE_DIR. */
int cli_db_open(struct cli *c, struct cir_netdb *db, struct cir_error *err);
/* The same for commands that only look: creates nothing, and a --state
 * directory that does not exist is an error (cir_netdb_open_ro). */
int cli_db_open_ro(struct cli *c, struct cir_netdb *db, struct cir_error *err);

/* ---- the network operations' context (network.c) ---- */

/* The context lib/network.h's operations get from the CLI: the plugin
 * path, message lines through cir_log, the verb groups' member_gone (QoS)
 * and network_delete callbacks.  Valid while c is. */
struct cir_net_ctx;
const struct cir_net_ctx *cli_net_ctx(struct cli *c);

/* Command tables of the verb groups. */
extern const struct cli_cmd cli_network_cmds[];
extern const struct cli_cmd cli_top_cmds[];
/* circuit network ls, inspect, export (hook/network_show.c) */
int cli_network_ls(struct cli *c, const struct cli_args *a);
int cli_network_inspect(struct cli *c, const struct cli_args *a);
int cli_network_export(struct cli *c, const struct cli_args *a);

/* circuit lb (hook/lb.c) */
extern const struct cli_cmd cli_lb_cmds[];
/* circuit lb ls (hook/lb_ls.c) */
int cli_lb_ls(struct cli *c, const struct cli_args *a);
int cli_lb_network_delete(struct cli *c, struct cir_network *n, struct cir_error *err);
/* Cluster services (hook/lb_cluster.c): lb create --scope cluster (etcd
 * only: every host's agent programs it); the scope of service name (0
 * local, 1 the cluster's with *cl open; a local record decides without
 * etcd, no cluster configured = local); the cluster's services for lb ls
 * (0 with none when no cluster is configured or etcd fails: a warning). */
struct cir_lb_service;
struct cir_cluster;
int cli_lb_cluster_create(struct cli *c, const struct cir_lb_service *s, struct cir_error *err);
int cli_lb_scope(struct cli *c, const char *name, struct cir_cluster **cl,
		 struct cir_error *err);
int cli_lb_cluster_catalog(struct cli *c, struct cir_lb_service **out, size_t *n);
/* circuit host, circuit cluster (hook/cluster.c) */
extern const struct cli_cmd cli_host_cmds[];
extern const struct cli_cmd cli_cluster_cmds[];
/* Cluster networks (hook/cluster_net.c). */
/* network create NAME SUBNET --scope cluster [--vni N] [--block-size N]:
 * the record in etcd (every host sees it; made on a host when used). */
int cli_cluster_net_create(struct cli *c, const char *name, const char *subnet,
			   const char *vni, const char *block, struct cir_error *err);
/* Rows of `network ls` (hook/output.h) for the cluster networks that
 * LISTED(ARG, name) says the local listing did not show; 1 when a cluster is
 * configured, 0 when not, -ENOMEM.  A network made here on first use,
 * cluster_configured and the cluster's part of `network delete` are
 * lib/cluster_local.h's; the agent's sync is lib/cluster_sync.h's. */
struct cli_out;
int cli_cluster_net_ls(struct cli *c, struct cli_out *o,
		       bool (*listed)(void *arg, const char *name), void *arg);
/* circuit agent (hook/agent.c) */
int cli_agent_run(struct cli *c, const struct cli_args *a);

/* Top-level verbs living in their own files. */
int cli_hook_run(struct cli *c, const struct cli_args *a);
int cli_restore_run(struct cli *c, const struct cli_args *a);
int cli_gc_run(struct cli *c, const struct cli_args *a);
/* `circuit version`, `circuit --version`, `circuit -v` (a may be NULL). */
int cli_version_run(struct cli *c, const struct cli_args *a);

#endif
