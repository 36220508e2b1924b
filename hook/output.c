// SPDX-License-Identifier: Apache-2.0
/*
 * output.c - a table or JSON from the same print calls (output.h).
 *
 * Rows, lists and subs open and close on one stack; each level keeps where
 * it shows (its own w masked by its parents'), so a field printed inside a
 * level the table leaves out never reaches a cell.  A table row's detail
 * lines wait in lines[], in the order their subs opened, until the row ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static int col_of(const struct cli_out *o, const char *key)
{
	for (int i = 0; i < CLI_OUT_COLS && o->cols[i].key; i++)
		if (strcmp(o->cols[i].key, key) == 0)
			return i;
	return -1;
}

static bool shown(const struct cli_out *o, int i)
{
	return o->cols[i].header && !(o->hide & (1u << i));
}

/* The shown cells of a row, in column order: a table row. */
static int table_row(struct cli_out *o, bool header)
{
	const char *v[CLI_OUT_COLS];
	size_t n = 0;

	for (int i = 0; i < CLI_OUT_COLS && o->cols[i].key; i++)
		if (shown(o, i))
			v[n++] = header ? o->cols[i].header : o->set[i] ? o->cell[i] : "";
	return cli_table_rowv(o->t, v, n);
}

static void fail(struct cli_out *o, int r)
{
	if (!o->failed)
		o->failed = r;
}

/* The open row, list or sub (NULL: none). */
static struct cli_out_level *level(struct cli_out *o)
{
	/* Past CLI_OUT_DEPTH (a failed output already): shown nowhere. */
	static struct cli_out_level nowhere = { .kind = CLI_OUT_LIST };

	if (o->depth > CLI_OUT_DEPTH)
		return &nowhere;
	return o->depth ? &o->lv[o->depth - 1] : NULL;
}

/* Where a field printed now goes: nowhere directly in a list, only JSON
 * outside every row (the keys of cli_out_begin_map's map). */
static enum cli_print where(struct cli_out *o, enum cli_print w)
{
	const struct cli_out_level *l = level(o);

	if (!l)
		return w & CLI_PRINT_JSON;
	return l->kind == CLI_OUT_LIST ? 0 : w & l->w;
}

static void lines_free(struct cli_out *o)
{
	for (size_t i = 0; i < o->n_lines; i++)
		free(o->lines[i]);
	o->n_lines = 0;
}

/* Keep a place for a detail line: its index, or -ENOMEM. */
static int line_reserve(struct cli_out *o, size_t *slot)
{
	if (o->n_lines == o->cap_lines) {
		size_t nc = o->cap_lines ? o->cap_lines * 2 : 16;
		char **nl = realloc(o->lines, nc * sizeof(*nl));

		if (!nl)
			return -ENOMEM;
		o->lines = nl;
		o->cap_lines = nc;
	}
	o->lines[o->n_lines] = NULL;
	*slot = o->n_lines++;
	return 0;
}

static int begin(struct cli_out *o, bool json, bool map, const struct cli_col *cols,
		 unsigned int hide, struct cir_error *err)
{
	int r;

	*o = (struct cli_out){ .cols = cols, .hide = hide, .map = map };
	if (json) {
		r = cli_json_new(&o->g, err);
		if (r >= 0 && map)
			cir_jgen_map_open(o->g);
		else if (r >= 0)
			cir_jgen_arr_open(o->g);
		return r;
	}
	o->t = cli_table_new();
	if (!o->t || table_row(o, true) < 0)
		return cir_err(err, ENOMEM, "out of memory");
	return 0;
}

int cli_out_begin(struct cli_out *o, bool json, const struct cli_col *cols, unsigned int hide,
		  struct cir_error *err)
{
	return begin(o, json, false, cols, hide, err);
}

int cli_out_begin_map(struct cli_out *o, bool json, const struct cli_col *cols,
		      unsigned int hide, struct cir_error *err)
{
	return begin(o, json, true, cols, hide, err);
}

/* Open a level where w and its parent say; NULL when there is no room
 * (the output fails). */
static struct cli_out_level *push(struct cli_out *o, enum cli_out_kind kind, enum cli_print w)
{
	const struct cli_out_level *p = level(o);
	struct cli_out_level *l;

	if (p)
		w &= p->w;
	if (o->depth >= CLI_OUT_DEPTH) {
		fail(o, -EOVERFLOW);
		o->depth++;
		return NULL;
	}
	l = &o->lv[o->depth++];
	*l = (struct cli_out_level){ .kind = kind, .w = w };
	return l;
}

/* Close the open level: its cells freed. */
static void pop(struct cli_out *o)
{
	struct cli_out_level *l = o->depth && o->depth <= CLI_OUT_DEPTH ? level(o) : NULL;

	for (int i = 0; l && i < CLI_OUT_FIELDS; i++) {
		free(l->cell[i]);
		l->cell[i] = NULL;
	}
	if (o->depth)
		o->depth--;
}

/* A JSON map or array opens, under key unless NULL. */
static void json_open(struct cli_out *o, const struct cli_out_level *l, const char *key,
		      bool arr)
{
	if (!l || !o->g || !(l->w & CLI_PRINT_JSON))
		return;
	if (key)
		cir_jgen_key(o->g, key);
	if (arr)
		cir_jgen_arr_open(o->g);
	else
		cir_jgen_map_open(o->g);
}

void cli_out_row_as(struct cli_out *o, enum cli_print w, const char *key)
{
	struct cli_out_level *l = push(o, CLI_OUT_ROW, w);

	memset(o->set, 0, sizeof(o->set));
	lines_free(o);
	json_open(o, l, key, false);
}

void cli_out_row(struct cli_out *o)
{
	cli_out_row_as(o, CLI_PRINT_ANY, NULL);
}

/* The row's line, then its detail lines in the order their subs opened. */
int cli_out_row_end(struct cli_out *o)
{
	const struct cli_out_level *l = level(o);
	enum cli_print w = l ? l->w : 0;
	int r = 0;

	pop(o);
	if (o->g && (w & CLI_PRINT_JSON))
		cir_jgen_map_close(o->g);
	if (o->t && (w & CLI_PRINT_TABLE)) {
		r = table_row(o, false);
		for (size_t i = 0; r >= 0 && i < o->n_lines; i++) {
			const char *line = o->lines[i] ? o->lines[i] : "";

			r = cli_table_rowv(o->t, &line, 1);
		}
	}
	lines_free(o);
	if (r < 0)
		fail(o, r);
	return r;
}

void cli_out_list(struct cli_out *o, enum cli_print w, const char *key)
{
	json_open(o, push(o, CLI_OUT_LIST, w), key, true);
}

void cli_out_list_end(struct cli_out *o)
{
	const struct cli_out_level *l = level(o);

	if (l && o->g && (l->w & CLI_PRINT_JSON))
		cir_jgen_arr_close(o->g);
	pop(o);
}

void cli_out_sub(struct cli_out *o, enum cli_print w, const char *key, const char *indent,
		 const struct cli_field *line)
{
	struct cli_out_level *l = push(o, CLI_OUT_SUB, w);

	if (!l)
		return;
	l->line = line;
	l->indent = indent;
	json_open(o, l, key, false);
	if (o->t && (l->w & CLI_PRINT_TABLE) && line_reserve(o, &l->slot) < 0) {
		fail(o, -ENOMEM);
		l->w &= ~CLI_PRINT_TABLE;
	}
}

/* indent + pre value post of each field set, in the layout's order. */
static char *line_join(const struct cli_out_level *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs(l->indent ? l->indent : "", f);
	for (int i = 0; i < CLI_OUT_FIELDS && l->line[i].pre; i++)
		if (l->cell[i])
			fprintf(f, "%s%s%s", l->line[i].pre, l->cell[i],
				l->line[i].post ? l->line[i].post : "");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int cli_out_sub_end(struct cli_out *o)
{
	const struct cli_out_level *l = level(o);
	int r = 0;

	if (l && o->g && (l->w & CLI_PRINT_JSON))
		cir_jgen_map_close(o->g);
	if (l && o->t && (l->w & CLI_PRINT_TABLE) && l->kind == CLI_OUT_SUB) {
		o->lines[l->slot] = line_join(l);
		if (!o->lines[l->slot])
			r = -ENOMEM;
	}
	pop(o);
	if (r < 0)
		fail(o, r);
	return r;
}

/* A table value: the cell of the row's column key, or of the open sub's
 * field key. */
static void cell(struct cli_out *o, const char *key, const char *s)
{
	struct cli_out_level *l = level(o);
	int i = -1;

	if (l && l->kind == CLI_OUT_SUB) {
		for (int k = 0; k < CLI_OUT_FIELDS && l->line[k].pre; k++)
			if (strcmp(l->line[k].key, key) == 0)
				i = k;
		if (i < 0)
			return;
		free(l->cell[i]);
		l->cell[i] = strdup(s);
		if (!l->cell[i])
			fail(o, -ENOMEM);
		return;
	}
	i = l && l->kind == CLI_OUT_ROW && o->t ? col_of(o, key) : -1;
	if (i < 0)
		return;
	snprintf(o->cell[i], sizeof(o->cell[i]), "%s", s);
	o->set[i] = true;
}

void cli_print_str(struct cli_out *o, enum cli_print w, const char *key, const char *s)
{
	w = where(o, w);
	if (o->g && (w & CLI_PRINT_JSON))
		cir_jgen_kstr(o->g, key, s);
	if (o->t && (w & CLI_PRINT_TABLE))
		cell(o, key, s);
}

void cli_print_int(struct cli_out *o, enum cli_print w, const char *key, long long v,
		   const char *text)
{
	char buf[24];

	w = where(o, w);
	if (o->g && (w & CLI_PRINT_JSON))
		cir_jgen_kint(o->g, key, v);
	if (o->t && (w & CLI_PRINT_TABLE)) {
		snprintf(buf, sizeof(buf), "%lld", v);
		cell(o, key, text ? text : buf);
	}
}

void cli_print_bool(struct cli_out *o, enum cli_print w, const char *key, bool v)
{
	w = where(o, w);
	if (o->g && (w & CLI_PRINT_JSON))
		cir_jgen_kbool(o->g, key, v);
	if (o->t && (w & CLI_PRINT_TABLE))
		cell(o, key, v ? "true" : "false");
}

struct cir_jgen *cli_out_jgen(struct cli_out *o)
{
	return where(o, CLI_PRINT_JSON) ? o->g : NULL;
}

void cli_out_free(struct cli_out *o)
{
	while (o->depth)
		pop(o);
	lines_free(o);
	free(o->lines);
	o->lines = NULL;
	o->cap_lines = 0;
	cli_table_free(o->t);
	o->t = NULL;
	cir_jgen_free(o->g);
	o->g = NULL;
}

int cli_out_end(struct cli_out *o, struct cir_error *err)
{
	int r = 0;

	if (o->failed == -EOVERFLOW) {
		r = cir_err(err, EOVERFLOW, "output: more than %d nested levels", CLI_OUT_DEPTH);
	} else if (o->failed) {
		r = cir_err(err, -o->failed, "out of memory");
	} else if (o->g) {
		if (o->map)
			cir_jgen_map_close(o->g);
		else
			cir_jgen_arr_close(o->g);
		r = cli_json_print(o->g, err);
	} else if (o->t) {
		cli_table_print(o->t, stdout);
	}
	cli_out_free(o);
	return r;
}
