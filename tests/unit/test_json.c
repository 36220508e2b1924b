// SPDX-License-Identifier: Apache-2.0
/*
 * test_json.c - JSON read exactly as Go runtimes read it, or refused where
 * C would read it differently: NUL characters, repeated keys, comments,
 * invalid UTF-8, lone surrogate escapes, deep nesting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"
#include "utf8.h"

static int parse(const char *s, struct cir_json **j, struct cir_error *err)
{
	cir_err_clear(err);
	return cir_json_parse(s, strlen(s), j, err);
}

/* The document must be refused with code 6 and a message holding want. */
static void refused(const char *doc, const char *want)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;

	ck_assert_msg(parse(doc, &j, &err) == -EBADMSG, "accepted: %s", doc);
	ck_assert_ptr_null(j);
	ck_assert_uint_eq(cir_err_cni_code(&err), CIR_CNI_DECODE);
	ck_assert_msg(strstr(err.msg, want), "message \"%s\" lacks \"%s\"", err.msg, want);
	ck_assert(cir_utf8_valid(err.msg, strlen(err.msg)));
}

START_TEST(nul_character_refused)
{
	/* Before: "sand\u0000box" was stored as "sand", and a type of
	 * "circuit-ipam\u0000x" ran circuit-ipam. */
	refused("{\"name\":\"sand\\u0000box\"}", "\"name\": contains a NUL character");
	refused("{\"ipam\":{\"type\":\"circuit-ipam\\u0000x\"}}",
		"\"ipam.type\": contains a NUL character");
	refused("{\"ipam\":{\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}],[{\"subnet\":\"a\\u0000\"}]]}}",
		"\"ipam.ranges[1][0].subnet\": contains a NUL character");
	refused("{\"args\":[\"ok\",\"\\u0000\"]}", "\"args[1]\": contains a NUL character");
	/* In a key: named with the NUL shown. */
	refused("{\"sand\\u0000box\":1}", "\"sand\\x00box\": contains a NUL character");
	refused("\"\\u0000\"", "\"document\": contains a NUL character");
}
END_TEST

START_TEST(repeated_key_last_wins)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	const struct cir_jnode *r, *ipam = NULL;
	const char *s = NULL;
	uint32_t mtu = 0;

	ck_assert_int_eq(parse("{\"name\":\"first\",\"mtu\":1400,\"name\":\"last\","
			       "\"ipam\":{\"type\":\"a\",\"subnet\":\"10.0.0.0/24\"},"
			       "\"ipam\":{\"type\":\"b\"},\"mtu\":9000}", &j, &err), 0);
	r = cir_json_root(j);
	ck_assert_int_eq(cir_json_str(r, "name", &s, &err), 1);
	ck_assert_str_eq(s, "last");
	ck_assert_int_eq(cir_json_u32(r, "mtu", 65535, &mtu, &err), 1);
	ck_assert_uint_eq(mtu, 9000);
	/* The last value, whole: what a plugin sees after libcni decoded the
	 * configuration into a map and encoded it again. */
	ck_assert_int_eq(cir_json_obj(r, "ipam", &ipam, &err), 1);
	ck_assert_int_eq(cir_json_str(ipam, "type", &s, &err), 1);
	ck_assert_str_eq(s, "b");
	ck_assert_int_eq(cir_json_str(ipam, "subnet", &s, &err), 0);
	/* Iteration and re-emission see each key once. */
	ck_assert_uint_eq(cir_jnode_nkeys(r), 3);
	cir_json_free(j);
}
END_TEST

START_TEST(repeated_key_reemitted_once)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	struct cir_jgen *g = NULL;
	const char *out;

	ck_assert_int_eq(parse("{\"a\":1,\"b\":[{\"x\":1,\"x\":2}],\"a\":3}", &j, &err), 0);
	ck_assert_int_eq(cir_jgen_new(&g, false, &err), 0);
	cir_jgen_node(g, cir_json_root(j));
	ck_assert_int_eq(cir_jgen_finish(g, &out, NULL, &err), 0);
	ck_assert_str_eq(out, "{\"b\":[{\"x\":2}],\"a\":3}");
	cir_jgen_free(g);
	cir_json_free(j);
}
END_TEST

START_TEST(many_repeated_keys_are_cheap)
{
	/* 100,000 members of one key: a quadratic scan would take minutes. */
	size_t n = 100000, o = 0;
	char *doc = malloc(n * 12 + 16);
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	uint32_t v = 0;

	doc[o++] = '{';
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(doc + o, "%s\"k\":%zu", i ? "," : "", i % 1000);
	doc[o++] = '}';
	doc[o] = '\0';
	ck_assert_int_eq(cir_json_parse(doc, o, &j, &err), 0);
	ck_assert_uint_eq(cir_jnode_nkeys(cir_json_root(j)), 1);
	ck_assert_int_eq(cir_json_u32(cir_json_root(j), "k", 100000, &v, &err), 1);
	ck_assert_uint_eq(v, (n - 1) % 1000);
	cir_json_free(j);
	free(doc);
}
END_TEST

START_TEST(comments_refused)
{
	refused("{\"name\":\"a\" /* a comment */}", "comment");
	refused("{\"name\":\"a\"} // trailing", "invalid json");
	refused("// leading\n{\"name\":\"a\"}", "comment");
	refused("{\"name\":\"a\"} x", "invalid json");
	refused("{\"name\":\"a\"}{}", "invalid json");
	refused("", "invalid json");
}
END_TEST

START_TEST(invalid_utf8_refused)
{
	refused("{\"name\":\"a\xc0\xaf\"}", "\"name\": is not valid UTF-8");        /* overlong '/' */
	refused("{\"name\":\"\xe0\x80\xaf\"}", "\"name\": is not valid UTF-8");     /* overlong */
	refused("{\"name\":\"\xed\xa0\x80\"}", "\"name\": is not valid UTF-8");     /* U+D800 */
	refused("{\"name\":\"\xf4\x90\x80\x80\"}", "\"name\": is not valid UTF-8"); /* > U+10FFFF */
	refused("{\"k\xed\xb0\x80\":1}", "is not valid UTF-8");                   /* in a key */
	refused("{\"name\":\"\xff\"}", "\"name\": is not valid UTF-8");
	refused("{\"name\":\"\xc3\"}", "\"name\": is not valid UTF-8");
	refused("{\"name\":\"\xe2\x82\"}", "\"name\": is not valid UTF-8");  /* cut short */
	/* Escapes that are half a surrogate pair: yajl made '?' of a lone
	 * high one, a wrong character of a high one before any other \u, and
	 * invalid UTF-8 of a low one. */
	refused("{\"name\":\"ab\\ud800cd\"}", "\"name\": contains a \\u escape that is half");
	refused("{\"name\":\"\\udc00\"}", "\"name\": contains a \\u escape that is half");
	refused("{\"name\":\"\\ud800\\u0041\"}", "\"name\": contains a \\u escape that is half");
	refused("{\"a\":\"\\\\u\",\"b\":[\"x\",\"\\ud83d\"]}", "\"b[1]\": contains a \\u escape");
}
END_TEST

START_TEST(valid_text_kept)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	const char *s = NULL;

	/* A valid pair, an escaped backslash before "u", and raw UTF-8. */
	ck_assert_int_eq(parse("{\"a\":\"\\ud83d\\ude00\",\"b\":\"\\\\ud800\",\"c\":\"\xe2\x82\xac\"}",
			       &j, &err), 0);
	ck_assert_int_eq(cir_json_str(cir_json_root(j), "a", &s, &err), 1);
	ck_assert_str_eq(s, "\xf0\x9f\x98\x80");
	ck_assert_int_eq(cir_json_str(cir_json_root(j), "b", &s, &err), 1);
	ck_assert_str_eq(s, "\\ud800");
	ck_assert_int_eq(cir_json_str(cir_json_root(j), "c", &s, &err), 1);
	ck_assert_str_eq(s, "\xe2\x82\xac");
	cir_json_free(j);
}
END_TEST

START_TEST(lenient_repairs)
{
	const char *doc = "{\"cniVersion\":\"0.4.0\",\"name\":\"a\xc0\xaf\\u0000\",\"name2\":\"\xed\xa0\x80\"}";
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	const char *s = NULL;

	ck_assert_int_eq(cir_json_parse_lenient(doc, strlen(doc), &j, &err), 0);
	ck_assert_int_eq(cir_json_str(cir_json_root(j), "cniVersion", &s, &err), 1);
	ck_assert_str_eq(s, "0.4.0");
	ck_assert_int_eq(cir_json_str(cir_json_root(j), "name", &s, &err), 1);
	ck_assert_str_eq(s, "a" CIR_UTF8_REPLACEMENT CIR_UTF8_REPLACEMENT CIR_UTF8_REPLACEMENT);
	ck_assert_int_eq(cir_json_str(cir_json_root(j), "name2", &s, &err), 1);
	ck_assert_str_eq(s, CIR_UTF8_REPLACEMENT CIR_UTF8_REPLACEMENT CIR_UTF8_REPLACEMENT);
	cir_json_free(j);
	/* Comments are skipped; syntax errors are still refused. */
	ck_assert_int_eq(cir_json_parse_lenient("{/**/}", 6, &j, &err), 0);
	cir_json_free(j);
	ck_assert_int_eq(cir_json_parse_lenient("{\"a\":}", 6, &j, &err), -EBADMSG);
}
END_TEST

START_TEST(nesting_limit)
{
	size_t deep = 10000;
	char *doc = malloc(2 * deep + 4);
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;

	memset(doc, '[', deep);
	memset(doc + deep, ']', deep);
	ck_assert_int_eq(cir_json_parse(doc, 2 * deep, &j, &err), 0);
	cir_json_free(j);
	j = NULL;
	/* One more level: refused like Go's "exceeded max depth". */
	memset(doc, '[', deep + 1);
	memset(doc + deep + 1, ']', deep + 1);
	ck_assert_int_eq(cir_json_parse(doc, 2 * deep + 2, &j, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper than 10000 levels"));
	free(doc);
}
END_TEST

START_TEST(numbers_and_scalars)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	const struct cir_jnode *r;
	double d = 0;
	bool b = true;

	ck_assert_int_eq(parse("{\"d\":-1.5e2,\"huge\":1e999,\"t\":false,\"n\":null,\"s\":\"x\"}",
			       &j, &err), 0);
	r = cir_json_root(j);
	ck_assert_int_eq(cir_json_double(r, "d", &d, &err), 1);
	ck_assert(d == -150.0);
	ck_assert_int_eq(cir_json_double(r, "huge", &d, &err), -EINVAL);
	ck_assert_int_eq(cir_json_bool(r, "t", &b, &err), 1);
	ck_assert(!b);
	ck_assert_int_eq(cir_jnode_type(cir_jnode_get(r, "n")), CIR_JNULL);
	ck_assert_int_eq(cir_jnode_type(cir_jnode_get(r, "s")), CIR_JSTRING);
	ck_assert_ptr_null(cir_jnode_get(r, "none"));
	cir_json_free(j);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("go-compatible reading");

	tcase_add_test(tc, nul_character_refused);
	tcase_add_test(tc, repeated_key_last_wins);
	tcase_add_test(tc, repeated_key_reemitted_once);
	tcase_add_test(tc, many_repeated_keys_are_cheap);
	tcase_add_test(tc, comments_refused);
	tcase_add_test(tc, invalid_utf8_refused);
	tcase_add_test(tc, valid_text_kept);
	tcase_add_test(tc, lenient_repairs);
	tcase_add_test(tc, nesting_limit);
	tcase_add_test(tc, numbers_and_scalars);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(json_suite)
