// SPDX-License-Identifier: Apache-2.0
/*
 * test_output.c - hook/output: one set of print calls gives the table and
 * the JSON; nested lists and subs (a table's detail lines), a map at the
 * top, table-only and JSON-only levels, too deep a nesting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hook/output.h"
#include "cleanup.h"
#include "unit.h"

static const struct cli_col cols[] = {
	{ "NAME", "name" },
	{ "ADDR", "address" },
	{ NULL, NULL },
};

static const struct cli_field tline[] = {
	{ "-> ", "address", "" },
	{ " weight=", "weight", "" },
	{ " state=", "state", "" },
	{ " error=\"", "error", "\"" },
	{ NULL, NULL, NULL },
};

static const struct cli_field cline[] = {
	{ "check ", "type", "" },
	{ " every=", "interval", "ms" },
	{ NULL, NULL, NULL },
};

/* Run fn(o) between begin and end with stdout in a file: what it printed
 * (malloc'd) and the end's return in *rc. */
static char *render(bool json, bool map, void (*fn)(struct cli_out *o), int *rc)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cli_out o = { 0 };
	FILE *f = tmpfile();
	char *buf;
	long n;
	int saved;

	ck_assert_ptr_nonnull(f);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(f), STDOUT_FILENO), 0);
	*rc = map ? cli_out_begin_map(&o, json, cols, 0, &e) : cli_out_begin(&o, json, cols, 0, &e);
	if (*rc >= 0) {
		fn(&o);
		*rc = cli_out_end(&o, &e);
	}
	cli_out_free(&o);
	fflush(stdout);
	ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
	close(saved);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	rewind(f);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* A service with a check (a table line only with "details") and two
 * targets, the second with a check of its own; fields printed out of the
 * layout's order. */
static void service(struct cli_out *o, enum cli_print dw)
{
	cli_out_row(o);
	cli_print_str(o, CLI_PRINT_ANY, "name", "web");
	cli_print_str(o, CLI_PRINT_JSON, "scheduler", "rr");
	cli_print_str(o, CLI_PRINT_ANY, "address", "10.96.0.1:80");
	cli_out_sub(o, dw, "check", "  ", cline);
	cli_print_int(o, CLI_PRINT_ANY, "interval", 500, NULL);
	cli_print_str(o, CLI_PRINT_ANY, "type", "tcp");
	cli_out_sub_end(o);
	cli_out_list(o, dw, "targets");
	cli_out_sub(o, dw, NULL, "  ", tline);
	cli_print_str(o, CLI_PRINT_ANY, "error", "refused");
	cli_print_str(o, CLI_PRINT_ANY, "address", "10.0.0.2:80");
	cli_print_int(o, CLI_PRINT_ANY, "weight", 1, NULL);
	cli_print_str(o, CLI_PRINT_JSON, "container", "c1");
	cli_out_sub_end(o);
	cli_out_sub(o, dw, NULL, "  ", tline);
	cli_print_str(o, CLI_PRINT_ANY, "address", "10.0.0.3:80");
	cli_out_sub(o, dw, "check", "     ", cline);
	cli_print_str(o, CLI_PRINT_ANY, "type", "http");
	cli_out_sub_end(o);
	cli_print_str(o, CLI_PRINT_TABLE, "state", "up");
	cli_out_sub_end(o);
	cli_out_list_end(o);
	cli_out_row_end(o);
}

static void service_details(struct cli_out *o)
{
	service(o, CLI_PRINT_ANY);
}

static void service_plain(struct cli_out *o)
{
	service(o, CLI_PRINT_JSON);
}

START_TEST(nested_table)
{
	_cleanup_free_ char *d = NULL, *p = NULL;
	int rc;

	d = render(false, false, service_details, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(d, "NAME                ADDR\n"
			    "web                 10.96.0.1:80\n"
			    "  check tcp every=500ms\n"
			    "  -> 10.0.0.2:80 weight=1 error=\"refused\"\n"
			    "  -> 10.0.0.3:80 state=up\n"
			    "     check http\n");
	p = render(false, false, service_plain, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(p, "NAME                ADDR\n"
			    "web                 10.96.0.1:80\n");
}
END_TEST

START_TEST(nested_json)
{
	_cleanup_free_ char *d = NULL, *p = NULL;
	int rc;

	d = render(true, false, service_details, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(d, "[\n"
			    "    {\n"
			    "        \"name\": \"web\",\n"
			    "        \"scheduler\": \"rr\",\n"
			    "        \"address\": \"10.96.0.1:80\",\n"
			    "        \"check\": {\n"
			    "            \"interval\": 500,\n"
			    "            \"type\": \"tcp\"\n"
			    "        },\n"
			    "        \"targets\": [\n"
			    "            {\n"
			    "                \"error\": \"refused\",\n"
			    "                \"address\": \"10.0.0.2:80\",\n"
			    "                \"weight\": 1,\n"
			    "                \"container\": \"c1\"\n"
			    "            },\n"
			    "            {\n"
			    "                \"address\": \"10.0.0.3:80\",\n"
			    "                \"check\": {\n"
			    "                    \"type\": \"http\"\n"
			    "                }\n"
			    "            }\n"
			    "        ]\n"
			    "    }\n"
			    "]\n");
	/* JSON-only levels are JSON all the same. */
	p = render(true, false, service_plain, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(p, d);
}
END_TEST

/* One map: a key outside rows, a keyed row, a table-only row, a list of
 * rows. */
static void top_map(struct cli_out *o)
{
	cli_print_str(o, CLI_PRINT_ANY, "network", "sandbox");
	cli_out_row_as(o, CLI_PRINT_ANY, "bridge");
	cli_print_str(o, CLI_PRINT_TABLE, "name", "network");
	cli_print_str(o, CLI_PRINT_ANY, "address", "c-sandbox");
	cli_out_row_end(o);
	cli_out_row_as(o, CLI_PRINT_TABLE, NULL);
	cli_print_str(o, CLI_PRINT_ANY, "name", "default");
	cli_out_row_end(o);
	cli_out_list(o, CLI_PRINT_ANY, "members");
	cli_out_row(o);
	cli_print_str(o, CLI_PRINT_ANY, "name", "ctr1");
	cli_out_row_end(o);
	cli_out_list_end(o);
}

START_TEST(map_at_top)
{
	_cleanup_free_ char *t = NULL, *j = NULL;
	int rc;

	t = render(false, true, top_map, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(t, "NAME                ADDR\n"
			    "network             c-sandbox\n"
			    "default             \n"
			    "ctr1                \n");
	j = render(true, true, top_map, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(j, "{\n"
			    "    \"network\": \"sandbox\",\n"
			    "    \"bridge\": {\n"
			    "        \"address\": \"c-sandbox\"\n"
			    "    },\n"
			    "    \"members\": [\n"
			    "        {\n"
			    "            \"name\": \"ctr1\"\n"
			    "        }\n"
			    "    ]\n"
			    "}\n");
}
END_TEST

static void too_deep(struct cli_out *o)
{
	cli_out_row(o);
	for (int i = 0; i < CLI_OUT_DEPTH + 2; i++)
		cli_out_sub(o, CLI_PRINT_ANY, "x", "", tline);
	cli_print_str(o, CLI_PRINT_ANY, "address", "lost");
	for (int i = 0; i < CLI_OUT_DEPTH + 2; i++)
		cli_out_sub_end(o);
	cli_out_row_end(o);
}

START_TEST(nesting_limit)
{
	_cleanup_free_ char *t = NULL, *j = NULL;
	int rc;

	t = render(false, false, too_deep, &rc);
	ck_assert_int_eq(rc, -EOVERFLOW);
	ck_assert_str_eq(t, "");
	j = render(true, false, too_deep, &rc);
	ck_assert_int_eq(rc, -EOVERFLOW);
	ck_assert_str_eq(j, "");
}
END_TEST

static Suite *output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *c = tcase_create("layer");

	tcase_add_test(c, nested_table);
	tcase_add_test(c, nested_json);
	tcase_add_test(c, map_at_top);
	tcase_add_test(c, nesting_limit);
	suite_add_tcase(s, c);
	return s;
}

CIR_UNIT_SUITE(output_suite)
