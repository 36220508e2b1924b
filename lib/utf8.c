// SPDX-License-Identifier: Apache-2.0
/*
 * utf8.c - strict UTF-8 decoding, boundary-safe cuts and sanitising copies.
 */
#include <string.h>

#include "utf8.h"

size_t cir_utf8_seq(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	size_t len;

	if (n == 0)
		return 0;
	c = u[0];
	if (c < 0x80) {
		len = 1;
		min = 0;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;       /* continuation byte, C0/C1 (always overlong), F5..FF */
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	if (cp)
		*cp = c;
	return len;
}

bool cir_utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = cir_utf8_seq(s + i, n - i, NULL);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

size_t cir_utf8_floor(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = n, cont = 0, want;

	while (i > 0 && cont < 3 && (u[i - 1] & 0xc0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0)
		return n;               /* only continuation bytes: nothing to keep whole */
	if (u[i - 1] >= 0xf0)
		want = 4;
	else if (u[i - 1] >= 0xe0)
		want = 3;
	else if (u[i - 1] >= 0xc0)
		want = 2;
	else
		return n;               /* ASCII before the continuation bytes */
	return cont + 1 < want ? i - 1 : n;
}

size_t cir_utf8_sanitize(const char *s, char *out, size_t len)
{
	size_t n = strlen(s), o = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t k = cir_utf8_seq(s + i, n - i, NULL);
		const char *piece = k ? s + i : CIR_UTF8_REPLACEMENT;
		size_t plen = k ? k : 3;

		if (o + plen >= len)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += k ? k : 1;
	}
	out[o] = '\0';
	return o;
}
