// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - collect every registered Check suite into one runner.
 * Run one suite or case with Check's own CK_RUN_SUITE / CK_RUN_CASE.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

#define MAX_SUITES 64

static cir_suite_fn suites[MAX_SUITES];
static int n_suites;

void cir_unit_register(cir_suite_fn fn)
{
	if (n_suites < MAX_SUITES)
		suites[n_suites++] = fn;
}

const char *cir_unit_path(const char *rel)
{
	static char buf[PATH_MAX];
	const char *src = getenv("CIR_SRCDIR");

	snprintf(buf, sizeof(buf), "%s/%s", src ? src : ".", rel);
	return buf;
}

int main(void)
{
	SRunner *sr = NULL;
	int failed;

	for (int i = 0; i < n_suites; i++) {
		Suite *s = suites[i]();

		if (!sr)
			sr = srunner_create(s);
		else
			srunner_add_suite(sr, s);
	}
	if (!sr) {
		fprintf(stderr, "unit-tests: no suite matches\n");
		return 2;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
