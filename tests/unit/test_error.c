// SPDX-License-Identifier: Apache-2.0
/* test_error.c - error struct composition and libnl code mapping. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/errno.h>

#include "error.h"
#include "unit.h"
#include "utf8.h"

START_TEST(wrap_composes)
{
	struct cir_error e = CIR_ERROR_INIT;
	int r;

	r = cir_err(&e, EEXIST, "address %s", "10.0.0.1/24");
	ck_assert_int_eq(r, -EEXIST);
	r = cir_err_wrap(&e, "bridge %s", "c-x");
	ck_assert_int_eq(r, -EEXIST);
	ck_assert_str_eq(e.msg, "bridge c-x: address 10.0.0.1/24");
	ck_assert_uint_eq(cir_err_cni_code(&e), CIR_CNI_EXISTS);
}
END_TEST

START_TEST(explicit_code_wins)
{
	struct cir_error e = CIR_ERROR_INIT;

	cir_err_code(&e, CIR_CNI_POOL_EXHAUSTED, ENOSPC, "no free address in network %s", "n");
	ck_assert_uint_eq(cir_err_cni_code(&e), CIR_CNI_POOL_EXHAUSTED);
	cir_err_clear(&e);
	ck_assert_uint_eq(cir_err_cni_code(&e), 0);
}
END_TEST

START_TEST(nl_mapping)
{
	ck_assert_int_eq(cir_nl_errno(-NLE_EXIST), EEXIST);
	ck_assert_int_eq(cir_nl_errno(NLE_OBJ_NOTFOUND), ENOENT);
	ck_assert_int_eq(cir_nl_errno(-NLE_NODEV), ENODEV);
	ck_assert_int_eq(cir_nl_errno(-NLE_PERM), EPERM);
	ck_assert_int_eq(cir_nl_errno(-NLE_OPNOTSUPP), EOPNOTSUPP);
	ck_assert_int_eq(cir_nl_errno(0), 0);
	ck_assert_int_eq(cir_nl_errno(-9999), EIO);
}
END_TEST

#define EURO "\xe2\x82\xac"     /* U+20AC, three bytes */

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

START_TEST(message_of_buffer_size_not_cut_in_a_character)
{
	struct cir_error e = CIR_ERROR_INIT;
	char text[CIR_ERROR_MSG_MAX + 8];

	/* 509 ASCII bytes and a three-byte character: exactly the buffer's
	 * size, so the terminating NUL would land inside the character. */
	memset(text, 'a', CIR_ERROR_MSG_MAX - 3);
	memcpy(text + CIR_ERROR_MSG_MAX - 3, EURO, 4);
	ck_assert_uint_eq(strlen(text), CIR_ERROR_MSG_MAX);
	cir_err(&e, EINVAL, "%s", text);
	ck_assert(cir_utf8_valid(e.msg, strlen(e.msg)));
	ck_assert_uint_lt(strlen(e.msg), CIR_ERROR_MSG_MAX);
	ck_assert(ends_with(e.msg, "..."));

	/* One byte shorter fits whole: nothing cut, no marker. */
	text[CIR_ERROR_MSG_MAX - 4] = '\0';
	memcpy(text + CIR_ERROR_MSG_MAX - 6, EURO, 4);
	cir_err(&e, EINVAL, "%s", text);
	ck_assert_str_eq(e.msg, text);

	/* A run of multi-byte characters whatever the alignment. */
	for (int shift = 0; shift < 3; shift++) {
		size_t o = 0;

		memset(text, 'b', (size_t)shift);
		o = (size_t)shift;
		while (o + 3 < sizeof(text) - 1) {
			memcpy(text + o, EURO, 3);
			o += 3;
		}
		text[o] = '\0';
		cir_err(&e, EINVAL, "name %s", text);
		ck_assert(cir_utf8_valid(e.msg, strlen(e.msg)));
		ck_assert(ends_with(e.msg, "..."));
	}
}
END_TEST

START_TEST(wrap_overflow_not_cut_in_a_character)
{
	struct cir_error e = CIR_ERROR_INIT;
	char name[400];
	size_t o = 0;

	while (o + 2 < sizeof(name) - 1) {
		memcpy(name + o, "\xc3\xa9", 2);        /* é */
		o += 2;
	}
	name[o] = '\0';
	cir_err(&e, ENOENT, "plugin \"%s\" not found", name);
	ck_assert(cir_utf8_valid(e.msg, strlen(e.msg)));
	for (int i = 0; i < 4; i++) {
		cir_err_wrap(&e, "ipam " EURO "%d %s", i, name);
		ck_assert(cir_utf8_valid(e.msg, strlen(e.msg)));
		ck_assert_uint_lt(strlen(e.msg), CIR_ERROR_MSG_MAX);
	}
	ck_assert(ends_with(e.msg, "..."));
	ck_assert_int_eq(cir_err_wrap(&e, "x"), -ENOENT);

	/* A wrap that fits keeps everything. */
	cir_err(&e, EEXIST, "exists");
	cir_err_wrap(&e, "%s", e.msg);          /* arguments may alias the message */
	ck_assert_str_eq(e.msg, "exists: exists");
}
END_TEST

START_TEST(append_says_what_happened)
{
	struct cir_error e = CIR_ERROR_INIT;

	cir_err(&e, EOPNOTSUPP, "kernel has no netem qdisc");
	ck_assert_int_eq(cir_err_append(&e, "; shaping on %s left as it was", "c-x"), -EOPNOTSUPP);
	ck_assert_str_eq(e.msg, "kernel has no netem qdisc; shaping on c-x left as it was");
}
END_TEST

START_TEST(shown_is_printable_and_whole)
{
	char buf[CIR_ERR_SHOWN_MAX], small[12];

	/* Quotes and backslashes escaped, controls and invalid bytes as \xNN,
	 * valid characters kept, a bidi override made visible. */
	cir_err_shown("a\"b\\c\n\x01\xc3\xa9\xff\xe2\x80\xae", buf, sizeof(buf));
	ck_assert_str_eq(buf, "a\\\"b\\\\c\\n\\x01\xc3\xa9\\xff\\u202e");
	ck_assert_str_eq(cir_err_shown_n("sa\0nd", 5, buf, sizeof(buf)), "sa\\x00nd");
	/* Long input: cut between characters, never inside one or inside an
	 * escape, and marked. */
	cir_err_shown(EURO EURO EURO EURO EURO, small, sizeof(small));
	ck_assert_str_eq(small, EURO EURO "...");
	cir_err_shown("\x01\x01\x01\x01", small, sizeof(small));
	ck_assert_str_eq(small, "\\x01\\x01...");
	cir_err_shown("short", small, sizeof(small));
	ck_assert_str_eq(small, "short");
	cir_err_shown("exactly-11!", small, sizeof(small));
	ck_assert_str_eq(small, "exactly-11!");
	ck_assert_str_eq(cir_err_shown("abc", small, 3), "");
	ck_assert_str_eq(cir_err_shown(NULL, small, sizeof(small)), "");
}
END_TEST

START_TEST(utf8_primitives)
{
	char out[16];

	ck_assert(cir_utf8_valid("a" EURO "\xf0\x9f\x98\x80", 8));
	ck_assert(!cir_utf8_valid("\xc0\xaf", 2));              /* overlong */
	ck_assert(!cir_utf8_valid("\xed\xa0\x80", 3));          /* surrogate */
	ck_assert(!cir_utf8_valid("\xf4\x90\x80\x80", 4));      /* > U+10FFFF */
	ck_assert(!cir_utf8_valid(EURO, 2));                    /* truncated */
	ck_assert_uint_eq(cir_utf8_floor("a" EURO, 3), 1);
	ck_assert_uint_eq(cir_utf8_floor("a" EURO, 4), 4);
	ck_assert_uint_eq(cir_utf8_floor("a" EURO, 1), 1);
	ck_assert_uint_eq(cir_utf8_floor("\xf0\x9f\x98\x80", 3), 0);
	ck_assert_uint_eq(cir_utf8_sanitize("a\xff" "b", out, sizeof(out)), 5);
	ck_assert_str_eq(out, "a" CIR_UTF8_REPLACEMENT "b");
	/* Cut at a character boundary when out is small. */
	ck_assert_uint_eq(cir_utf8_sanitize(EURO EURO, out, 6), 3);
	ck_assert_str_eq(out, EURO);
}
END_TEST

START_TEST(kernel_feature_says_what_to_load)
{
	struct cir_error e = CIR_ERROR_INIT;

	ck_assert_int_eq(cir_err_kernel_lacks(&e, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_NETEM,
					      "netem qdisc 10: on ifindex 3"), -EOPNOTSUPP);
	ck_assert_str_eq(e.msg, "netem qdisc 10: on ifindex 3: kernel has no netem qdisc: "
				"load module sch_netem (CONFIG_NET_SCH_NETEM)");
	ck_assert_uint_eq(cir_err_cni_code(&e), CIR_CNI_KERNEL);
	cir_err_kernel_lacks(&e, CIR_CNI_NOT_AVAILABLE, EPROTONOSUPPORT, CIR_KF_IPVS, NULL);
	ck_assert_str_eq(e.msg, "kernel has no IPVS support: load module ip_vs (CONFIG_IP_VS)");
	ck_assert_uint_eq(cir_err_cni_code(&e), CIR_CNI_NOT_AVAILABLE);
	for (int f = CIR_KF_NETEM; f <= CIR_KF_NFT_MASQ; f++) {
		cir_err_kernel_lacks(&e, CIR_CNI_KERNEL, EOPNOTSUPP, (enum cir_kfeature)f, "x");
		ck_assert_ptr_nonnull(strstr(e.msg, "x: kernel has no "));
		ck_assert_ptr_nonnull(strstr(e.msg, "(CONFIG_"));
	}
}
END_TEST

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, wrap_composes);
	tcase_add_test(tc, explicit_code_wins);
	tcase_add_test(tc, nl_mapping);
	tcase_add_test(tc, message_of_buffer_size_not_cut_in_a_character);
	tcase_add_test(tc, wrap_overflow_not_cut_in_a_character);
	tcase_add_test(tc, append_says_what_happened);
	tcase_add_test(tc, shown_is_printable_and_whole);
	tcase_add_test(tc, utf8_primitives);
	tcase_add_test(tc, kernel_feature_says_what_to_load);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(error_suite)
