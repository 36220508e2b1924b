// SPDX-License-Identifier: Apache-2.0
/*
 * output.c - a table or JSON from the same print calls (output.h).
 */
#include <errno.h>
#include <stdio.h>
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

int cli_out_begin(struct cli_out *o, bool json, const struct cli_col *cols, unsigned int hide,
		  struct cir_error *err)
{
	int r;

	*o = (struct cli_out){ .cols = cols, .hide = hide };
	if (json) {
		r = cli_json_new(&o->g, err);
		if (r >= 0)
			cir_jgen_arr_open(o->g);
		return r;
	}
	o->t = cli_table_new();
	if (!o->t || table_row(o, true) < 0)
		return cir_err(err, ENOMEM, "out of memory");
	return 0;
}

void cli_out_row(struct cli_out *o)
{
	memset(o->set, 0, sizeof(o->set));
	if (o->g)
		cir_jgen_map_open(o->g);
}

int cli_out_row_end(struct cli_out *o)
{
	int r = 0;

	if (o->g)
		cir_jgen_map_close(o->g);
	else
		r = table_row(o, false);
	if (r < 0 && !o->failed)
		o->failed = r;
	return r;
}

static void cell(struct cli_out *o, const char *key, const char *s)
{
	int i = o->t ? col_of(o, key) : -1;

	if (i < 0)
		return;
	snprintf(o->cell[i], sizeof(o->cell[i]), "%s", s);
	o->set[i] = true;
}

void cli_print_str(struct cli_out *o, enum cli_print w, const char *key, const char *s)
{
	if (o->g && (w & CLI_PRINT_JSON))
		cir_jgen_kstr(o->g, key, s);
	if (o->t && (w & CLI_PRINT_TABLE))
		cell(o, key, s);
}

void cli_print_int(struct cli_out *o, enum cli_print w, const char *key, long long v,
		   const char *text)
{
	char buf[24];

	if (o->g && (w & CLI_PRINT_JSON))
		cir_jgen_kint(o->g, key, v);
	if (o->t && (w & CLI_PRINT_TABLE)) {
		snprintf(buf, sizeof(buf), "%lld", v);
		cell(o, key, text ? text : buf);
	}
}

void cli_print_bool(struct cli_out *o, enum cli_print w, const char *key, bool v)
{
	if (o->g && (w & CLI_PRINT_JSON))
		cir_jgen_kbool(o->g, key, v);
	if (o->t && (w & CLI_PRINT_TABLE))
		cell(o, key, v ? "true" : "false");
}

struct cir_jgen *cli_out_jgen(struct cli_out *o)
{
	return o->g;
}

void cli_out_free(struct cli_out *o)
{
	cli_table_free(o->t);
	o->t = NULL;
	cir_jgen_free(o->g);
	o->g = NULL;
}

int cli_out_end(struct cli_out *o, struct cir_error *err)
{
	int r = 0;

	if (o->failed) {
		r = cir_err(err, -o->failed, "out of memory");
	} else if (o->g) {
		cir_jgen_arr_close(o->g);
		r = cli_json_print(o->g, err);
	} else if (o->t) {
		cli_table_print(o->t, stdout);
	}
	cli_out_free(o);
	return r;
}
