// SPDX-License-Identifier: Apache-2.0
/*
 * json_text.c - what the reader checks and reads around yajl
 * (lib/json_int.h): a \uXXXX that is half of a surrogate pair, found
 * before yajl decodes it wrongly; a document read whole from a file
 * descriptor, bounded.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_int.h"

static unsigned int hex4(const char *p)
{
	unsigned int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return 0x10000;  /* not hex: yajl refuses it */
	}
	return v;
}

/*
 * Offset of the first \uXXXX inside a string that is half of a surrogate
 * pair (a high one not followed by a low one, or a low one alone), or -1.
 * yajl decodes the first as '?' (or, followed by another \u escape, merges
 * the two into a wrong character) and the second into bytes that are not
 * UTF-8; Go reads each as U+FFFD.
 */
long cir_json_lone_surrogate(const char *s, size_t n)
{
	bool in = false;

	for (size_t i = 0; i < n; i++) {
		unsigned int u;

		if (!in) {
			in = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in = false;
			continue;
		}
		if (s[i] != '\\' || i + 1 >= n)
			continue;
		if (s[i + 1] != 'u' || i + 6 > n) {
			i++;            /* any other escape: skip its character */
			continue;
		}
		u = hex4(s + i + 2);
		if (u >= 0xdc00 && u <= 0xdfff)
			return (long)i;
		if (u >= 0xd800 && u <= 0xdbff) {
			unsigned int lo = i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u'
						  ? hex4(s + i + 8) : 0;

			if (lo < 0xdc00 || lo > 0xdfff)
				return (long)i;
			i += 6;
		}
		i += 5;
	}
	return -1;
}

/* ---- reading a document ---- */

int cir_json_read_fd(int fd, size_t max, char **out, size_t *len, struct cir_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0, n = 0;

	for (;;) {
		ssize_t k;

		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb)
				return cir_err(err, ENOMEM, "out of memory");
			buf = nb;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return cir_err_code(err, CIR_CNI_IO, errno, "read: %s", strerror(errno));
		if (k == 0)
			break;
		n += k;
		if (n > max)
			return cir_err_code(err, CIR_CNI_DECODE, EFBIG, "input larger than %zu bytes",
					    max);
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return cir_err(err, ENOMEM, "out of memory");
	}
	buf[n] = '\0';
	*out = TAKE_PTR(buf);
	*len = n;
	return 0;
}
