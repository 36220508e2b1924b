// SPDX-License-Identifier: Apache-2.0
/* test_names.c - derived interface names fit IFNAMSIZ, are stable, and do
 * not collide where truncation would make them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "unit.h"

START_TEST(bridge_short_and_long)
{
	char a[16], b[16];

	cir_name_bridge("sandbox", a);
	ck_assert_str_eq(a, "c-sandbox");
	cir_name_bridge("abcdefghijklm", a);           /* 2 + 13 = 15: fits */
	ck_assert_str_eq(a, "c-abcdefghijklm");
	cir_name_bridge("abcdefghijklmn", a);          /* 16: hashed */
	ck_assert_uint_eq(strlen(a), 15);
	ck_assert_int_eq(strncmp(a, "c-abcdefg-", 10), 0);
	/* Two long names sharing their first 7 bytes differ. */
	cir_name_bridge("production-frontend", a);
	cir_name_bridge("production-backend", b);
	ck_assert_uint_eq(strlen(a), 15);
	ck_assert_str_ne(a, b);
	/* Stable. */
	cir_name_bridge("production-backend", a);
	ck_assert_str_eq(a, b);
}
END_TEST

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(veth_unique_and_bounded)
{
	char names[2000][16];
	char cid[64];

	for (int i = 0; i < 1000; i++) {
		snprintf(cid, sizeof(cid), "container-%d", i);
		cir_name_host_veth(cid, "eth0", names[2 * i]);
		cir_name_host_veth(cid, "eth1", names[2 * i + 1]);
	}
	for (int i = 0; i < 2000; i++) {
		ck_assert_uint_eq(strlen(names[i]), 15);
		ck_assert_int_eq(strncmp(names[i], "cv", 2), 0);
	}
	qsort(names, 2000, sizeof(names[0]), cmp_name);
	for (int i = 1; i < 2000; i++)
		ck_assert_str_ne(names[i], names[i - 1]);
	/* (cid "ab", if "c") and (cid "a", if "bc") must differ. */
	cir_name_host_veth("ab", "c", names[0]);
	cir_name_host_veth("a", "bc", names[1]);
	ck_assert_str_ne(names[0], names[1]);
}
END_TEST

START_TEST(fnv_known_vector)
{
	/* FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c. */
	ck_assert_uint_eq(cir_fnv1a(CIR_FNV_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
}
END_TEST

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, bridge_short_and_long);
	tcase_add_test(tc, veth_unique_and_bounded);
	tcase_add_test(tc, fnv_known_vector);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(names_suite)
