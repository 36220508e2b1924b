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

#define CLI_OUT_COLS 8
#define CLI_OUT_CELL 256

struct cli_out {
	const struct cli_col *cols;
	unsigned int hide;           /* bit i: column i not shown in the table */
	struct cli_table *t;         /* table output, or */
	struct cir_jgen *g;          /* JSON output */
	char cell[CLI_OUT_COLS][CLI_OUT_CELL];
	bool set[CLI_OUT_COLS];
	int failed;                  /* -ENOMEM from a table row */
};

/* Start a table (its header row) or a JSON array.  hide: columns left out
 * of the table.  -ENOMEM. */
int cli_out_begin(struct cli_out *o, bool json, const struct cli_col *cols, unsigned int hide,
		  struct cir_error *err);
/* One record: a JSON map opens; the table collects its cells. */
void cli_out_row(struct cli_out *o);
int cli_out_row_end(struct cli_out *o);
/* A field.  text: the table's form of the value (NULL = decimal, or
 * "true"/"false"). */
void cli_print_str(struct cli_out *o, enum cli_print w, const char *key, const char *s);
void cli_print_int(struct cli_out *o, enum cli_print w, const char *key, long long v,
		   const char *text);
void cli_print_bool(struct cli_out *o, enum cli_print w, const char *key, bool v);
/* The JSON generator inside the open row, NULL for a table. */
struct cir_jgen *cli_out_jgen(struct cli_out *o);
/* Close and print (the table, or the JSON array with a newline). */
int cli_out_end(struct cli_out *o, struct cir_error *err);
/* Free what a failed output left (cli_out_end frees on its own). */
void cli_out_free(struct cli_out *o);
#define _cleanup_out_ _cleanup_(cli_out_free)

#endif
