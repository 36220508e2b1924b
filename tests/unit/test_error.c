// SPDX-License-Identifier: Apache-2.0
/* test_error.c - error struct composition and libnl code mapping. */
#include <errno.h>
#include <string.h>

#include <netlink/errno.h>

#include "error.h"
#include "unit.h"

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

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, wrap_composes);
	tcase_add_test(tc, explicit_code_wins);
	tcase_add_test(tc, nl_mapping);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(error_suite)
