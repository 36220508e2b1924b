// SPDX-License-Identifier: Apache-2.0
/* test_oci.c - the OCI state a hook reads: what it takes, what it refuses,
 * and that a refused document keeps nothing. */
#include <errno.h>
#include <string.h>

#include "oci.h"
#include "unit.h"

static int parse(const char *doc, struct cir_oci_state *s, struct cir_error *err)
{
	return cir_oci_state_parse(doc, strlen(doc), s, err);
}

START_TEST(state_fields)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_oci_state s;

	ck_assert_int_eq(parse("{\"ociVersion\":\"1.0.2\",\"id\":\"web-00\",\"status\":\"creating\","
			       "\"pid\":4668,\"bundle\":\"/root/web-00\","
			       "\"annotations\":{\"circuit.network\":\"sandbox\",\"n\":1}}",
			       &s, &err), 0);
	ck_assert_str_eq(s.id, "web-00");
	ck_assert_str_eq(s.status, "creating");
	ck_assert_int_eq(s.pid, 4668);
	ck_assert_str_eq(cir_oci_state_annotation(&s, "circuit.network"), "sandbox");
	ck_assert_ptr_null(cir_oci_state_annotation(&s, "n"));        /* not a string */
	ck_assert_ptr_null(cir_oci_state_annotation(&s, "circuit.subnet"));
	cir_oci_state_free(&s);
	ck_assert_ptr_null(s.doc);
	cir_oci_state_free(&s);                                       /* twice is fine */

	ck_assert_int_eq(parse("{\"id\":\"x\",\"status\":\"stopped\"}", &s, &err), 0);
	ck_assert_int_eq(s.pid, 0);
	ck_assert_ptr_null(s.annotations);
	ck_assert_ptr_null(cir_oci_state_annotation(&s, "circuit.network"));
	cir_oci_state_free(&s);
}
END_TEST

START_TEST(state_refused)
{
	static const char *const bad[] = {
		"", "{", "[]", "\"id\"", "{}", "{\"id\":7}", "{\"id\":\"x\",\"status\":1}",
		"{\"id\":\"x\",\"pid\":-1}", "{\"id\":\"x\",\"pid\":2147483648}",
		"{\"id\":\"x\",\"pid\":1.5}", "{\"id\":\"x\",\"annotations\":[]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cir_error err = CIR_ERROR_INIT;
		struct cir_oci_state s;

		ck_assert_msg(parse(bad[i], &s, &err) < 0, "accepted %s", bad[i]);
		ck_assert_ptr_null(s.doc);
		ck_assert_msg(err.msg[0], "no message for %s", bad[i]);
	}
}
END_TEST

static Suite *oci_suite(void)
{
	Suite *s = suite_create("oci");
	TCase *tc = tcase_create("state");

	tcase_add_test(tc, state_fields);
	tcase_add_test(tc, state_refused);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(oci_suite)
