// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - `circuit`: command table, global options and dispatch.
 *
 *   circuit [--state DIR] [--debug] GROUP... VERB [ARGS] [OPTIONS]
 *   circuit                  (no arguments, OCI state on stdin: the runc hook)
 *
 * Each verb group lives in its own file and contributes one line to
 * cli_groups[] below.  Options may follow or precede positional arguments;
 * "--" ends options.  Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../plugins/bridge/bridge.h"
#include "../plugins/ovs/plugin.h"
#include "../plugins/lb/chain.h"
#include "../plugins/portmap/plugin.h"
#include "../plugins/qos/plugin.h"
#include "cli.h"
#include "ipam_cni.h"
#include "qos_cli.h"
#include "sandbox.h"

const struct cli_group cli_groups[] = {
	{ "network", "create, list, connect and delete networks", cli_network_cmds,
	  NULL, NULL },
	{ "network qos", "quality of service for a network and its members", cli_qos_cmds,
	  cli_qos_network_delete, cli_qos_network_inspect },
	{ "lb", "load-balanced services (IPVS)", cli_lb_cmds, cli_lb_network_delete, NULL },
	{ "host", "hosts of the cluster", cli_host_cmds, NULL, NULL },
	{ "cluster", "address blocks of cluster networks", cli_cluster_cmds, NULL, NULL },
	{ "", "other commands", cli_top_cmds, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct cli_opt global_opts[] = {
	{ "state", true, "DIR", "state directory (default $CIRCUIT_STATE_DIR or /var/lib/circuit)" },
	{ "debug", false, NULL, "print debug messages" },
	{ "cluster", true, "URL[,URL...]",
	  "etcd endpoints of the cluster (default $CIRCUIT_CLUSTER, else cluster = in "
	  "/etc/circuit/circuit.conf, else no cluster)" },
	{ "host-name", true, "NAME", "this host's name in the cluster (default "
	  "$CIRCUIT_HOST_NAME, else the hostname)" },
	{ "help", false, NULL, "show help" },
	{ "version", false, NULL, "print the version, as 'circuit version' (also -v)" },
};

/* Help fits in 80 columns: a left column (command, option) and its text
 * start at HELP_COL; longer text wraps there, and a left part too long for
 * the column gets a line of its own (as argparse does). */
#define HELP_WIDTH 80
#define HELP_COL 27

/* Print text from column col on, wrapping at spaces outside [...] so that
 * no line passes HELP_WIDTH; continuation lines start at column indent.
 * A single word longer than a line is printed whole.  Ends the line. */
static void print_wrapped(FILE *out, const char *text, int col, int indent)
{
	const char *p = text;
	bool first = true;

	while (*p) {
		const char *w = p;
		int depth = 0, len;

		while (*p && (depth > 0 || *p != ' ')) {
			depth += *p == '[' ? 1 : *p == ']' && depth > 0 ? -1 : 0;
			p++;
		}
		len = (int)(p - w);
		while (*p == ' ')
			p++;
		if (!first && col + 1 + len > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", len, w);
		col += len;
		first = false;
	}
	fputc('\n', out);
}

/* "  LEFT     text" in two columns. */
static void print_row(FILE *out, const char *left, const char *text)
{
	int l = (int)strlen(left);

	fprintf(out, "  ");
	if (2 + l + 2 > HELP_COL) {
		print_wrapped(out, left, 2, 6);
		fprintf(out, "%*s", HELP_COL, "");
	} else {
		fprintf(out, "%s%*s", left, HELP_COL - 2 - l, "");
	}
	print_wrapped(out, text ? text : "", HELP_COL, HELP_COL);
}

static void print_opts(FILE *out, const struct cli_opt *o, size_t n)
{
	for (size_t i = 0; i < n && o[i].name; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", o[i].name, o[i].has_arg ? " " : "",
			 o[i].has_arg ? (o[i].arg ? o[i].arg : "VALUE") : "");
		print_row(out, left, o[i].help);
	}
}

static void help_main(FILE *out)
{
	fprintf(out, "circuit - container networks for runc\n\n"
		     "Usage:\n  circuit [--state DIR] [--debug] COMMAND [ARGS]\n"
		     "  circuit                (as an OCI hook: state JSON on stdin)\n\nCommands:\n");
	for (const struct cli_group *g = cli_groups; g->name; g++)
		for (const struct cli_cmd *c = g->cmds; c->name; c++) {
			char left[64];

			snprintf(left, sizeof(left), "%s%s%s", g->name, g->name[0] ? " " : "",
				 c->name);
			print_row(out, left, c->summary);
		}
	fprintf(out, "\nGlobal options:\n");
	print_opts(out, global_opts, sizeof(global_opts) / sizeof(global_opts[0]));
	fprintf(out, "\nRun 'circuit COMMAND --help' for a command's options and examples.\n");
}

static void help_group(FILE *out, const struct cli_group *g)
{
	char head[128];

	snprintf(head, sizeof(head), "circuit %s - %s", g->name, g->summary);
	print_wrapped(out, head, 0, 2);
	fprintf(out, "\nCommands:\n");
	for (const struct cli_cmd *c = g->cmds; c->name; c++) {
		char left[128];

		snprintf(left, sizeof(left), "%s%s%s", c->name, c->args && *c->args ? " " : "",
			 c->args ? c->args : "");
		print_row(out, left, c->summary);
	}
	fprintf(out, "\nRun 'circuit %s COMMAND --help' for details.\n", g->name);
}

static void help_cmd(FILE *out, const struct cli_group *g, const struct cli_cmd *c)
{
	char usage[256];

	snprintf(usage, sizeof(usage), "Usage: circuit %s%s%s%s%s", g->name,
		 g->name[0] ? " " : "", c->name, c->args && *c->args ? " " : "",
		 c->args ? c->args : "");
	print_wrapped(out, usage, 0, 7);
	fputc('\n', out);
	print_wrapped(out, c->summary, 0, 0);
	if (c->opts[0].name) {
		fprintf(out, "\nOptions:\n");
		print_opts(out, c->opts, CLI_MAX_OPTS);
	}
	if (c->help)
		fprintf(out, "\n%s", c->help);
}

/* Plugin search path: CIRCUIT_PLUGIN_PATH, <exe>/../libexec/circuit,
 * CNI_PATH, /opt/cni/bin, /usr/lib/cni.  Needs no PATH (runc hooks). */
static void plugin_path_init(struct cli *c)
{
	char exe[PATH_MAX], *p = c->plugin_path;
	size_t left = sizeof(c->plugin_path);
	const char *parts[5] = { getenv("CIRCUIT_PLUGIN_PATH"), NULL, getenv("CNI_PATH"),
				 "/opt/cni/bin", "/usr/lib/cni" };
	char libexec[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(libexec, sizeof(libexec), "%s/../libexec/circuit", exe);
			parts[1] = libexec;
		}
	}
	*p = '\0';
	for (size_t i = 0; i < 5; i++) {
		int k;

		if (!parts[i] || !*parts[i])
			continue;
		k = snprintf(p, left, "%s%s", p == c->plugin_path ? "" : ":", parts[i]);
		if (k < 0 || (size_t)k >= left)
			break;
		p += k;
		left -= k;
	}
}

/* Is s one of the global options?  Consumes its value.  1 yes, 0 no,
 * -1 usage error. */
static int global_opt(struct cli *c, int argc, char **argv, int *i, bool *help)
{
	const char *s = argv[*i];

	if (strcmp(s, "--debug") == 0) {
		c->debug = true;
		cir_log_set_level(CIR_LOG_DEBUG);
		return 1;
	}
	if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
		*help = true;
		return 1;
	}
	if (strcmp(s, "--state") == 0) {
		if (*i + 1 >= argc)
			return -1;
		c->state_dir = argv[++*i];
		return 1;
	}
	if (strncmp(s, "--state=", 8) == 0) {
		c->state_dir = s + 8;
		return 1;
	}
	/* The cluster options reach lib/cluster (and the plugins circuit
	 * runs) the way --state does: through the environment. */
	for (size_t k = 0; k < 2; k++) {
		static const char *const opt[] = { "--cluster", "--host-name" };
		static const char *const env[] = { "CIRCUIT_CLUSTER", "CIRCUIT_HOST_NAME" };
		size_t l = strlen(opt[k]);

		if (strncmp(s, opt[k], l) != 0 || (s[l] && s[l] != '='))
			continue;
		if (!s[l] && *i + 1 >= argc)
			return -1;
		setenv(env[k], s[l] ? s + l + 1 : argv[++*i], 1);
		return 1;
	}
	return 0;
}

/* The option of cmd named by the first nl characters of name, or -1. */
static int find_opt(const struct cli_cmd *cmd, const char *name, size_t nl)
{
	int found = -1;

	for (int j = 0; j < CLI_MAX_OPTS && cmd->opts[j].name; j++)
		if (strlen(cmd->opts[j].name) == nl && strncmp(cmd->opts[j].name, name, nl) == 0)
			found = j;
	return found;
}

/* argv[*i], "--name", "--name=VALUE" or "--name VALUE" (consumed), into
 * a: 0, or a usage error's status. */
static int parse_opt(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv, int *i,
		     struct cli_args *a)
{
	const char *s = argv[*i], *eq = strchr(s, '=');
	size_t nl = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
	int found = find_opt(cmd, s + 2, nl);
	const struct cli_opt *o;

	if (found < 0)
		return cli_usage(c, "unknown option %.*s", (int)nl + 2, s);
	o = &cmd->opts[found];
	if (!o->has_arg) {
		if (eq)
			return cli_usage(c, "option --%s takes no value", o->name);
		a->opt[found] = "";
		return 0;
	}
	if (eq)
		a->opt[found] = eq + 1;
	else if (o->arg && o->arg[0] == '[')
		a->opt[found] = "";     /* --opt[=VALUE] without a value */
	else if (*i + 1 < argc)
		a->opt[found] = argv[++*i];
	else
		return cli_usage(c, "option --%s needs a value", o->name);
	if (a->nrep[found] == CLI_MAX_REPEAT)
		return cli_usage(c, "option --%s given too often", o->name);
	a->rep[found][a->nrep[found]++] = a->opt[found];
	return 0;
}

static int parse_cmd(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv,
		     struct cli_args *a, bool *help)
{
	bool dashdash = false;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		int k;

		if (!dashdash && strcmp(s, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (!dashdash && s[0] == '-' && s[1]) {
			k = global_opt(c, argc, argv, &i, help);
			if (k < 0)
				return cli_usage(c, "option %s needs a value", s);
			if (k > 0)
				continue;
			if (s[1] != '-')
				return cli_usage(c, "unknown option %s", s);
			k = parse_opt(c, cmd, argc, argv, &i, a);
			if (k != 0)
				return k;
			continue;
		}
		if (a->npos >= CLI_MAX_POS)
			return cli_usage(c, "too many arguments");
		a->pos[a->npos++] = s;
	}
	if (*help)
		return 0;
	if (a->npos < cmd->min_pos)
		return cli_usage(c, "missing arguments");
	if (cmd->max_pos >= 0 && a->npos > cmd->max_pos)
		return cli_usage(c, "unexpected argument \"%s\"", a->pos[cmd->max_pos]);
	return 0;
}

/* What a verb printed is what a user or a script reads: when stdout did
 * not take all of it (a full disk, a closed descriptor), say so and fail,
 * whatever the verb returned. */
static void close_stdout(void)
{
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		int e = errno ? errno : EIO;

		cir_log(CIR_LOG_ERROR, "writing to stdout: %s", strerror(e));
		_exit(CLI_FAIL);
	}
}

/* Words of a group name ("network qos") matched against argv: how many,
 * or -1. */
static int group_match(const char *name, int argc, char **argv)
{
	int n = 0;
	const char *p = name;

	if (!*name)
		return 0;
	while (*p) {
		size_t l = strcspn(p, " ");

		if (n >= argc || strlen(argv[n]) != l || strncmp(argv[n], p, l) != 0)
			return -1;
		n++;
		p += l;
		while (*p == ' ')
			p++;
	}
	return n;
}

/* The group whose name matches the most words of argv (the top level's
 * "" matches none), *n those words; NULL when none matches. */
static const struct cli_group *find_group(int argc, char **argv, int *n)
{
	const struct cli_group *group = NULL;
	int best = -1;

	for (const struct cli_group *g = cli_groups; g->name; g++) {
		int k = group_match(g->name, argc, argv);

		if (k > best) {
			best = k;
			group = g;
		}
	}
	*n = best;
	return group;
}

/* The group's help: on stdout when asked for, on stderr (a usage error)
 * when the verb is missing. */
static int group_help(const struct cli_group *group, bool asked)
{
	FILE *out = asked ? stdout : stderr;

	if (group->name[0])
		help_group(out, group);
	else
		help_main(out);
	return asked ? CLI_OK : CLI_USAGE;
}

/* argv[0] is the verb of group: find it, parse its arguments, run it. */
static int run_verb(struct cli *c, const struct cli_group *group, int argc, char **argv,
		    bool help)
{
	const struct cli_cmd *cmd = NULL;
	struct cli_args a;
	int r;

	for (const struct cli_cmd *k = group->cmds; k->name; k++)
		if (strcmp(k->name, argv[0]) == 0)
			cmd = k;
	if (!cmd) {
		/* "circuit network qos ..." when no such group exists yet. */
		cir_log(CIR_LOG_ERROR, "unknown command \"%s%s%s\"", group->name,
			group->name[0] ? " " : "", argv[0]);
		return group_help(group, false);
	}
	c->cmd = cmd;
	r = parse_cmd(c, cmd, argc - 1, argv + 1, &a, &help);
	if (r != 0)
		return r;
	if (help) {
		help_cmd(stdout, group, cmd);
		return CLI_OK;
	}
	if (c->state_dir && *c->state_dir)
		setenv(CIR_STORE_ENV, c->state_dir, 1);
	cli_debug("state %s, plugins from %s", cir_store_root(c->state_dir), c->plugin_path);
	return cmd->run(c, &a);
}

/* Input comes from users and runtimes: only the calls circuit and the
 * plugins it runs in-process or executes need (lib/sandbox.h), before
 * anything but the global options is read.  `lb` and `restore` may start
 * haproxy, which inherits the filter: theirs adds what it needs
 * (spec/security.md).  cmd is the first word after the global options. */
static int sandbox(const char *cmd)
{
	struct cir_error err = CIR_ERROR_INIT;
	bool serve = cmd && (strcmp(cmd, "lb") == 0 || strcmp(cmd, "restore") == 0);

	if (cir_sandbox_apply(serve ? CIR_SANDBOX_CIRCUIT_SERVE : CIR_SANDBOX_CIRCUIT,
			      CIR_SANDBOX_EXEC, &err) < 0) {
		cir_log(CIR_LOG_ERROR, "%s", err.msg);
		return CLI_FAIL;
	}
	return 0;
}

/* No command: the OCI hook (state on stdin), or help. */
static int no_command(struct cli *c, bool help)
{
	struct cli_args a = { 0 };

	if (help) {
		help_main(stdout);
		return CLI_OK;
	}
	if (isatty(STDIN_FILENO)) {
		help_main(stderr);
		return CLI_USAGE;
	}
	return cli_hook_run(c, &a);
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	const struct cli_group *group;
	bool help = false;
	int i = 1, n, r;

	cir_log_init(stderr, CIR_LOG_INFO);
	atexit(close_stdout);
	/* Circuit's own plugins run in-process when a chain names them (same
	 * input and output as their executables, one fork+exec less each). */
	cir_cni_builtin_register(&cir_bridge_plugin);
	cir_cni_builtin_register(&cir_ovs_plugin);
	cir_cni_builtin_register(&cir_ipam_plugin);
	cir_cni_builtin_register(&cir_qos_plugin);
	cir_cni_builtin_register(&cir_lb_plugin);
	cir_cni_builtin_register(&cir_portmap_plugin);
	/* Global options before the command. */
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0)
			return cli_version_run(&c, NULL);
		r = global_opt(&c, argc, argv, &i, &help);
		if (r < 0)
			return cli_usage(&c, "option %s needs a value", argv[i]);
		if (r == 0)
			break;
	}
	r = sandbox(i < argc ? argv[i] : NULL);
	if (r != 0)
		return r;
	if (c.state_dir && *c.state_dir) {
		/* Plugins share the store: hand them the same root. */
		setenv(CIR_STORE_ENV, c.state_dir, 1);
	}
	plugin_path_init(&c);
	if (i >= argc)
		return no_command(&c, help);
	if (strcmp(argv[i], "help") == 0 && i + 1 == argc) {
		help_main(stdout);
		return CLI_OK;
	}
	group = find_group(argc - i, argv + i, &n);
	if (!group) {
		cir_log(CIR_LOG_ERROR, "unknown command \"%s\"", argv[i]);
		help_main(stderr);
		return CLI_USAGE;
	}
	i += n;
	c.group = group;
	if (i >= argc)
		return group_help(group, false);
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
	    strcmp(argv[i], "help") == 0)
		return group_help(group, true);
	return run_verb(&c, group, argc - i, argv + i, help);
}
