// SPDX-License-Identifier: Apache-2.0
/*
 * cli.c - shared CLI helpers: option values, error and usage lines,
 * tabwriter-compatible tables, JSON output, the state database.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "runc.h"

const char *cli_opt(const struct cli_args *a, const char *name)
{
	for (int i = 0; i < CLI_MAX_OPTS && a->cmd->opts[i].name; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0)
			return a->opt[i];
	return NULL;
}

int cli_opt_all(const struct cli_args *a, const char *name, const char *const **vals)
{
	for (int i = 0; i < CLI_MAX_OPTS && a->cmd->opts[i].name; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0) {
			*vals = a->rep[i];
			return a->nrep[i];
		}
	*vals = NULL;
	return 0;
}

int cli_fail(struct cli *c, const struct cir_error *err)
{
	cir_log(CIR_LOG_ERROR, "%s", err->msg[0] ? err->msg : strerror(err->errnum));
	return CLI_FAIL;
}

int cli_usage(struct cli *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cir_log(CIR_LOG_ERROR, "%s", msg);
	if (c->cmd) {
		const char *g = c->group && c->group->name[0] ? c->group->name : NULL;

		fprintf(stderr, "Usage: circuit %s%s%s%s%s\n", g ? g : "", g ? " " : "",
			c->cmd->name, c->cmd->args && *c->cmd->args ? " " : "",
			c->cmd->args ? c->cmd->args : "");
		fprintf(stderr, "Run 'circuit %s%s%s --help' for more.\n", g ? g : "", g ? " " : "",
			c->cmd->name);
	}
	return CLI_USAGE;
}

bool cli_arg_is_pid(const char *s)
{
	return cir_arg_is_pid(s);
}

int cli_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		   unsigned long long *out)
{
	unsigned long long v;
	char *end;

	/* strtoull() would also take leading blanks ("\t64") and a sign. */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* ---- tables ---- */

struct cli_row {
	char **cells;
	size_t n;
};

struct cli_table {
	struct cli_row *rows;
	size_t n, cap;
};

#define TAB_MINWIDTH 20
#define TAB_PADDING 3

struct cli_table *cli_table_new(void)
{
	return calloc(1, sizeof(struct cli_table));
}

int cli_table_rowv(struct cli_table *t, const char *const *cells, size_t k)
{
	struct cli_row row = { 0 };

	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct cli_row *nr = realloc(t->rows, nc * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		t->rows = nr;
		t->cap = nc;
	}
	row.cells = calloc(k ? k : 1, sizeof(char *));
	if (!row.cells)
		return -ENOMEM;
	for (; row.n < k; row.n++) {
		row.cells[row.n] = strdup(cells[row.n]);
		if (!row.cells[row.n])
			break;
	}
	t->rows[t->n++] = row;
	return row.n == k ? 0 : -ENOMEM;
}

int cli_table_row(struct cli_table *t, ...)
{
	const char *cells[CLI_TABLE_COLS];
	size_t k = 0;
	va_list ap;

	va_start(ap, t);
	while (k < CLI_TABLE_COLS && (cells[k] = va_arg(ap, const char *)))
		k++;
	va_end(ap);
	return cli_table_rowv(t, cells, k);
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	_cleanup_free_ size_t *width = NULL;
	size_t maxcols = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].n > maxcols)
			maxcols = t->rows[i].n;
	width = calloc(t->n * (maxcols ? maxcols : 1), sizeof(size_t));
	if (!width)
		return;
	/* Column j of a block of consecutive rows that all have a cell after j. */
	for (size_t j = 0; j + 1 < maxcols; j++) {
		size_t i = 0;

		while (i < t->n) {
			size_t b = i, w = TAB_MINWIDTH;

			if (t->rows[i].n <= j + 1) {
				i++;
				continue;
			}
			while (i < t->n && t->rows[i].n > j + 1) {
				size_t l = strlen(t->rows[i].cells[j]) + TAB_PADDING;

				if (l > w)
					w = l;
				i++;
			}
			for (size_t k = b; k < i; k++)
				width[k * maxcols + j] = w;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct cli_row *r = &t->rows[i];

		for (size_t j = 0; j < r->n; j++) {
			if (j + 1 < r->n)
				fprintf(out, "%-*s", (int)width[i * maxcols + j], r->cells[j]);
			else
				fputs(r->cells[j], out);
		}
		fputc('\n', out);
	}
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->rows[i].n; j++)
			free(t->rows[i].cells[j]);
		free(t->rows[i].cells);
	}
	free(t->rows);
	free(t);
}

/* ---- JSON ---- */

int cli_json_new(struct cir_jgen **g, struct cir_error *err)
{
	return cir_jgen_new(g, true, err);
}

int cli_json_print(struct cir_jgen *g, struct cir_error *err)
{
	const char *buf;
	size_t len;
	int r;

	r = cir_jgen_finish(g, &buf, &len, err);
	if (r < 0)
		return r;
	fwrite(buf, 1, len, stdout);
	if (len == 0 || buf[len - 1] != '\n')
		fputc('\n', stdout);
	fflush(stdout);
	return 0;
}

int cli_db_open(struct cli *c, struct cir_netdb *db, struct cir_error *err)
{
	int r = cir_netdb_open(db, c->state_dir, err);

	if (r < 0)
		return cir_err_wrap(err, "state %s", cir_store_root(c->state_dir));
	return 0;
}

int cli_db_open_ro(struct cli *c, struct cir_netdb *db, struct cir_error *err)
{
	/* Its errors name the state directory already. */
	return cir_netdb_open_ro(db, c->state_dir, err);
}
