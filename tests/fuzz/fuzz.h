/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz.h - helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Header only: every .c file in tests/fuzz is one harness (one executable).  A
 * harness feeds its input to library entry points the way outside input
 * reaches them, checks the contract on both outcomes (an error has a
 * message, a success reads back the same) and frees everything it made:
 * LeakSanitizer runs after every input.  No harness applies lib/sandbox.
 */
#ifndef CIR_FUZZ_H
#define CIR_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken contract is a crash, so that libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                                     \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* A failed call reports a positive errno and a message. */
#define FUZZ_CHECK_ERR(r, e)                                                          \
	do {                                                                          \
		FUZZ_CHECK((r) < 0);                                                  \
		FUZZ_CHECK((e)->errnum > 0 && -(r) == (e)->errnum);                   \
		FUZZ_CHECK((e)->msg[0] != '\0');                                      \
		FUZZ_CHECK(memchr((e)->msg, '\0', sizeof((e)->msg)) != NULL);         \
	} while (0)

/* data[0..size) as a malloc'd NUL-terminated string (stops at a NUL). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Split data at NUL bytes into at most max NUL-terminated fields pointing
 * into buf (a copy the caller frees).  Returns the number of fields.
 */
static inline size_t fuzz_split(const uint8_t *data, size_t size, char **buf, char **fields,
				size_t max)
{
	size_t n = 0;
	char *p, *end;

	*buf = fuzz_str(data, size);
	p = *buf;
	end = *buf + size;
	while (n < max && p <= end) {
		fields[n++] = p;
		p += strlen(p) + 1;
	}
	return n;
}

#endif
