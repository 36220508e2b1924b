// SPDX-License-Identifier: Apache-2.0
/* test_log.c - logrus text layout of log lines. */
#include <string.h>

#include "log.h"
#include "unit.h"

START_TEST(layout)
{
	char buf[128];

	ck_assert_str_eq(cir_log_format(buf, sizeof(buf), CIR_LOG_INFO, 0, "sandbox created"),
			 "INFO[0000] sandbox created");
	ck_assert_str_eq(cir_log_format(buf, sizeof(buf), CIR_LOG_ERROR, 12, "x\n"),
			 "ERRO[0012] x");
	ck_assert_str_eq(cir_log_format(buf, sizeof(buf), CIR_LOG_DEBUG, -1, "d"), "DEBU[0000] d");
	ck_assert_str_eq(cir_log_label(CIR_LOG_WARN), "WARN");
}
END_TEST

/* A name holding a newline cannot forge a log line of its own. */
START_TEST(control_characters_quoted)
{
	char buf[128];

	ck_assert_str_eq(cir_log_format(buf, sizeof(buf), CIR_LOG_INFO, 0,
					"connected c1\nERRO[0000] forged"),
			 "INFO[0000] connected c1\\nERRO[0000] forged");
	ck_assert_str_eq(cir_log_format(buf, sizeof(buf), CIR_LOG_INFO, 0, "a\tb\rc\x1b[31m\x7f"),
			 "INFO[0000] a\\tb\\rc\\x1b[31m\\x7f");
	ck_assert_ptr_null(strchr(cir_log_format(buf, 16, CIR_LOG_INFO, 0, "\n\n\n\n\n\n"), '\n'));
	ck_assert_uint_lt(strlen(buf), 16);
	/* UTF-8 passes through. */
	ck_assert_str_eq(cir_log_format(buf, sizeof(buf), CIR_LOG_INFO, 0, "r\xc3\xa9seau"),
			 "INFO[0000] r\xc3\xa9seau");
}
END_TEST

START_TEST(levels)
{
	cir_log_init(NULL, CIR_LOG_INFO);
	ck_assert(cir_log_enabled(CIR_LOG_INFO));
	ck_assert(!cir_log_enabled(CIR_LOG_DEBUG));
	cir_log_set_level(CIR_LOG_DEBUG);
	ck_assert(cir_log_enabled(CIR_LOG_DEBUG));
	cir_log_set_level(CIR_LOG_INFO);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, layout);
	tcase_add_test(tc, control_characters_quoted);
	tcase_add_test(tc, levels);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(log_suite)
