/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit.h - Check suites register themselves; main.c runs them all.
 *
 *   static Suite *my_suite(void) { ... }
 *   CIR_UNIT_SUITE(my_suite)
 *
 * Suites need no privileges and touch no network.  CIR_SRCDIR (set by the
 * Makefile) points at the source tree for golden files.
 */
#ifndef CIR_UNIT_H
#define CIR_UNIT_H

#include <check.h>

typedef Suite *(*cir_suite_fn)(void);
void cir_unit_register(cir_suite_fn fn);

#define CIR_UNIT_SUITE(fn)                                              \
	static void __attribute__((constructor)) cir_reg_##fn(void)     \
	{                                                               \
		cir_unit_register(fn);                                  \
	}

/* Path of a file under the source tree (tests/unit/golden/...). */
const char *cir_unit_path(const char *rel);

#endif
