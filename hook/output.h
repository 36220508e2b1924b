/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output.h - one output layer for listing verbs: a table or JSON rendered
 * from the same calls, after iproute2's print_*() with PRINT_ANY.
 *
 * A verb declares its columns once (table header and JSON key of each),
 * then for every record opens a row and prints its fields:
 *
 *   static const struct cli_col cols[] = { { "NAME", "name" },
 *                                          { "TTL", "ttl" }, { NULL } };
 *   cli_out_begin(&o, json, cols, 0, &err);
 *   cli_out_row(&o);
 *   cli_print_str(&o, CLI_PRINT_ANY, "name", h->name);
 *   cli_print_int(&o, CLI_PRINT_ANY, "ttl", h->ttl, h->ttl < 0 ? "-" : NULL);
 *   cli_out_row_end(&o);
 *   cli_out_end(&o, &err);        (prints the table or the JSON array)
 *
 * CLI_PRINT_JSON fields only reach JSON (in call order, so the key order
 * is the order of the calls); CLI_PRINT_TABLE fields only the cell of the
 * column with that key; CLI_PRINT_ANY both.  A record that has its own
 * emitter in lib/ writes its JSON keys through cli_out_jgen() (NULL for a
 * table).  A table row's cells follow the columns' order, whatever the
 * order of the calls.
 *
 * Nested records (iproute2's open_json_object/open_json_array): inside a
 * row, cli_out_sub() opens a JSON map (under a key, or as the next item of
 * a list cli_out_list() opened) whose table form is a one-cell detail line
 * printed after the row's own line, in the order the subs were opened:
 *
 *   static const struct cli_field tline[] = { { "-> ", "address", "" },
 *                     { " weight=", "weight", "" }, { NULL, NULL, NULL } };
 *   cli_out_list(&o, CLI_PRINT_ANY, "targets");
 *   cli_out_sub(&o, CLI_PRINT_ANY, NULL, "  ", tline);
 *   cli_print_str(&o, CLI_PRINT_ANY, "address", "10.0.0.2:80");
 *   cli_print_int(&o, CLI_PRINT_ANY, "weight", 1, NULL);
 *   cli_out_sub_end(&o);
 *   cli_out_list_end(&o);
 *
 * gives "targets": [ { "address": "10.0.0.2:80", "weight": 1 } ] and the
 * line "  -> 10.0.0.2:80 weight=1": the indent, then each field of the
 * layout that was printed as pre + value + post, in the layout's order.
 * The w of a list or sub says where it shows at all (CLI_PRINT_JSON: a
 * table leaves it out, fields and nested subs included).  Outside a row, in
 * the map of cli_out_begin_map(), a list holds rows: "members": [ ... ] in
 * JSON, and their lines in the table.
 */
#ifndef CIR_HOOK_OUTPUT_H
#define CIR_HOOK_OUTPUT_H

#include <stdbool.h>

#include "cli.h"

enum cli_print {
	CLI_PRINT_TABLE = 1,
	CLI_PRINT_JSON = 2,
	CLI_PRINT_ANY = CLI_PRINT_TABLE | CLI_PRINT_JSON,
};

/* A column: its table header (NULL: JSON only) and JSON key.  A table
 * ends at a NULL key. */
struct cli_col {
	const char *header;
	const char *key;
};

/* A field of a detail line: pre + value + post (pre NULL ends a layout). */
struct cli_field {
	const char *pre;
	const char *key;
	const char *post;
};

#define CLI_OUT_COLS 8
#define CLI_OUT_CELL 256
#define CLI_OUT_DEPTH 6              /* rows, lists and subs open at once */
#define CLI_OUT_FIELDS 12            /* fields of a detail line's layout */

enum cli_out_kind { CLI_OUT_ROW, CLI_OUT_LIST, CLI_OUT_SUB };

/* An open row, list or sub. */
struct cli_out_level {
	enum cli_out_kind kind;
	enum cli_print w;            /* where it shows: its own w and its parents' */
	const struct cli_field *line; /* a sub's layout */
	const char *indent;
	size_t slot;                 /* a sub's line in lines[] */
	char *cell[CLI_OUT_FIELDS];
};

struct cli_out {
	const struct cli_col *cols;
	unsigned int hide;           /* bit i: column i not shown in the table */
	struct cli_table *t;         /* table output, or */
	struct cir_jgen *g;          /* JSON output */
	bool map;                    /* JSON: one map, not an array of rows */
	char cell[CLI_OUT_COLS][CLI_OUT_CELL];
	bool set[CLI_OUT_COLS];
	int failed;                  /* -ENOMEM from a table row */
	struct cli_out_level lv[CLI_OUT_DEPTH];
	int depth;
	char **lines;                /* the open row's detail lines (table) */
	size_t n_lines, cap_lines;
};

/* Start a table (its header row) or a JSON array.  hide: columns left out
 * of the table.  -ENOMEM. */
int cli_out_begin(struct cli_out *o, bool json, const struct cli_col *cols, unsigned int hide,
		  struct cir_error *err);
/* The same with one JSON map around everything instead of an array: its
 * keys are the fields printed outside rows (JSON only), the keyed rows
 * (cli_out_row_as) and lists of rows. */
int cli_out_begin_map(struct cli_out *o, bool json, const struct cli_col *cols,
		      unsigned int hide, struct cir_error *err);
/* One record: a JSON map opens; the table collects its cells.  The end
 * prints the table's line and its detail lines; -ENOMEM, also kept for
 * cli_out_end. */
void cli_out_row(struct cli_out *o);
int cli_out_row_end(struct cli_out *o);
/* A row that shows where w says (CLI_PRINT_TABLE: a table row with no
 * JSON), as the JSON map under key (NULL: the next item of an array). */
void cli_out_row_as(struct cli_out *o, enum cli_print w, const char *key);
/* A field.  text: the table's form of the value (NULL = decimal, or
 * "true"/"false"). */
void cli_print_str(struct cli_out *o, enum cli_print w, const char *key, const char *s);
void cli_print_int(struct cli_out *o, enum cli_print w, const char *key, long long v,
		   const char *text);
void cli_print_bool(struct cli_out *o, enum cli_print w, const char *key, bool v);
/* A nested list under key (JSON "key": [...]; nothing of its own in the
 * table) and its end. */
void cli_out_list(struct cli_out *o, enum cli_print w, const char *key);
void cli_out_list_end(struct cli_out *o);
/* A nested record: a JSON map under key (NULL: the next item of the open
 * list); its table form, the detail line indent + line's fields.  -ENOMEM
 * from the end, also kept for cli_out_end. */
void cli_out_sub(struct cli_out *o, enum cli_print w, const char *key, const char *indent,
		 const struct cli_field *line);
int cli_out_sub_end(struct cli_out *o);
/* The JSON generator inside the open row, NULL for a table. */
struct cir_jgen *cli_out_jgen(struct cli_out *o);
/* Close and print (the table, or the JSON array with a newline). */
int cli_out_end(struct cli_out *o, struct cir_error *err);
/* Free what a failed output left (cli_out_end frees on its own). */
void cli_out_free(struct cli_out *o);
#define _cleanup_out_ _cleanup_(cli_out_free)

#endif
