/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8.h - strict UTF-8 for text that crosses a trust boundary.
 *
 * "Valid" means what Go's unicode/utf8 accepts (and so what every Go CNI
 * runtime reads back): shortest-form sequences of scalar values, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF.  Error messages are
 * cut only at character boundaries, and text bound for JSON is made valid
 * by replacing each invalid byte with U+FFFD, as Go's encoder does.
 */
#ifndef CIR_UTF8_H
#define CIR_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CIR_UTF8_REPLACEMENT "\xef\xbf\xbd"     /* U+FFFD */

/* Length (1-4) of the valid sequence that starts s[0..n), storing its code
 * point in *cp when cp is non-NULL; 0 when s does not start with one. */
size_t cir_utf8_seq(const char *s, size_t n, uint32_t *cp);

/* True when s[0..n) is valid UTF-8 (NUL bytes count as valid). */
bool cir_utf8_valid(const char *s, size_t n);

/* The largest m <= n such that s[0..m) does not end inside a sequence that
 * continues past m: where to cut s to at most n bytes. */
size_t cir_utf8_floor(const char *s, size_t n);

/* Copy NUL-terminated s into out (len > 0), each invalid byte replaced by
 * U+FFFD, cut at a character boundary when out is too small.  Returns the
 * output length. */
size_t cir_utf8_sanitize(const char *s, char *out, size_t len);

#endif
