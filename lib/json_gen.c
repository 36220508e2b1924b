// SPDX-License-Identifier: Apache-2.0
/*
 * json_gen.c - JSON emission with yajl_gen (UTF-8 validated), the first
 * failure latched so that a caller checks once, at cir_jgen_finish.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>

#include "json_int.h"

struct cir_jgen {
	yajl_gen g;
	yajl_gen_status st;     /* first failure, latched */
	bool pretty;
	char *tidy;             /* pretty output with empty containers closed up */
};

int cir_jgen_new(struct cir_jgen **out, bool pretty, struct cir_error *err)
{
	struct cir_jgen *g = calloc(1, sizeof(*g));

	if (!g)
		return cir_err(err, ENOMEM, "json: out of memory");
	g->g = yajl_gen_alloc(NULL);
	if (!g->g) {
		free(g);
		return cir_err(err, ENOMEM, "json: out of memory");
	}
	yajl_gen_config(g->g, yajl_gen_validate_utf8, 1);
	g->pretty = pretty;
	if (pretty) {
		yajl_gen_config(g->g, yajl_gen_beautify, 1);
		yajl_gen_config(g->g, yajl_gen_indent_string, "    ");
	}
	*out = g;
	return 0;
}

void cir_jgen_free(struct cir_jgen *g)
{
	if (!g)
		return;
	yajl_gen_free(g->g);
	free(g->tidy);
	free(g);
}

static void latch(struct cir_jgen *g, yajl_gen_status st)
{
	if (g->st == yajl_gen_status_ok && st != yajl_gen_status_ok)
		g->st = st;
}

void cir_jgen_map_open(struct cir_jgen *g) { latch(g, yajl_gen_map_open(g->g)); }
void cir_jgen_map_close(struct cir_jgen *g) { latch(g, yajl_gen_map_close(g->g)); }
void cir_jgen_arr_open(struct cir_jgen *g) { latch(g, yajl_gen_array_open(g->g)); }
void cir_jgen_arr_close(struct cir_jgen *g) { latch(g, yajl_gen_array_close(g->g)); }
void cir_jgen_null(struct cir_jgen *g) { latch(g, yajl_gen_null(g->g)); }
void cir_jgen_bool(struct cir_jgen *g, bool v) { latch(g, yajl_gen_bool(g->g, v)); }
void cir_jgen_int(struct cir_jgen *g, long long v) { latch(g, yajl_gen_integer(g->g, v)); }

void cir_jgen_str(struct cir_jgen *g, const char *s)
{
	latch(g, yajl_gen_string(g->g, (const unsigned char *)s, strlen(s)));
}

void cir_jgen_key(struct cir_jgen *g, const char *k)
{
	cir_jgen_str(g, k);
}

void cir_jgen_uint(struct cir_jgen *g, unsigned long long v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", v);

	latch(g, yajl_gen_number(g->g, buf, n));
}

void cir_jgen_kstr(struct cir_jgen *g, const char *k, const char *s)
{
	cir_jgen_key(g, k);
	cir_jgen_str(g, s);
}

void cir_jgen_kint(struct cir_jgen *g, const char *k, long long v)
{
	cir_jgen_key(g, k);
	cir_jgen_int(g, v);
}

void cir_jgen_kbool(struct cir_jgen *g, const char *k, bool v)
{
	cir_jgen_key(g, k);
	cir_jgen_bool(g, v);
}

const char *cir_time_rfc3339(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	long off;
	size_t n;
	int k;

	if (!len)
		return buf;
	buf[0] = '\0';
	if ((long long)tt != t || !localtime_r(&tt, &tm))
		return buf;
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0) {
		buf[0] = '\0';
		return buf;
	}
	off = tm.tm_gmtoff;
	if (off == 0)
		k = snprintf(buf + n, len - n, "Z");
	else
		k = snprintf(buf + n, len - n, "%c%02ld:%02ld", off < 0 ? '-' : '+',
			     labs(off) / 3600, labs(off) % 3600 / 60);
	if (k < 0 || (size_t)k >= len - n)
		buf[0] = '\0';
	return buf;
}

void cir_jgen_ktime(struct cir_jgen *g, const char *k, long long t)
{
	char buf[CIR_TIME_STRLEN];

	cir_jgen_key(g, k);
	if (t == 0 || !cir_time_rfc3339(t, buf, sizeof(buf))[0])
		cir_jgen_null(g);
	else
		cir_jgen_str(g, buf);
}

void cir_jgen_node(struct cir_jgen *g, const struct cir_jnode *n)
{
	switch (cir_jnode_type(n)) {
	case CIR_JSTRING:
		cir_jgen_str(g, n->s);
		break;
	case CIR_JNUMBER:
		latch(g, yajl_gen_number(g->g, n->s, strlen(n->s)));
		break;
	case CIR_JBOOL:
		cir_jgen_bool(g, n->b);
		break;
	case CIR_JARRAY:
		cir_jgen_arr_open(g);
		for (size_t i = 0; i < n->n; i++)
			cir_jgen_node(g, n->m[i].v);
		cir_jgen_arr_close(g);
		break;
	case CIR_JOBJECT:
		cir_jgen_map_open(g);
		cir_jgen_members_except(g, n, NULL);
		cir_jgen_map_close(g);
		break;
	default:
		cir_jgen_null(g);
		break;
	}
}

void cir_jgen_members_except(struct cir_jgen *g, const struct cir_jnode *n,
			     const char *const *skip)
{
	if (cir_jnode_type(n) != CIR_JOBJECT)
		return;
	for (size_t i = 0; i < n->n; i++) {
		bool skipped = false;

		for (const char *const *s = skip; s && *s; s++)
			if (strcmp(*s, n->m[i].key) == 0)
				skipped = true;
		if (skipped)
			continue;
		cir_jgen_key(g, n->m[i].key);
		cir_jgen_node(g, n->m[i].v);
	}
}

int cir_jgen_finish(struct cir_jgen *g, const char **buf, size_t *len, struct cir_error *err)
{
	const unsigned char *b;
	size_t l;

	if (g->st != yajl_gen_status_ok)
		return cir_err(err, EINVAL, "json emission failed (%s)",
			       g->st == yajl_gen_invalid_string ? "invalid UTF-8 string"
							       : "generator state error");
	if (yajl_gen_get_buf(g->g, &b, &l) != yajl_gen_status_ok)
		return cir_err(err, EINVAL, "json emission failed");
	if (g->pretty) {
		/* yajl beautifies an empty {} or [] over three lines with a
		 * blank one between; close them up.  Strings cannot hold a raw
		 * newline, so the pattern only ever matches structure. */
		char *t = realloc(g->tidy, l + 1);
		size_t o = 0;

		if (!t)
			return cir_err(err, ENOMEM, "json: out of memory");
		g->tidy = t;
		for (size_t i = 0; i < l; i++) {
			t[o++] = b[i];
			if ((b[i] == '{' || b[i] == '[') && i + 1 < l && b[i + 1] == '\n') {
				size_t j = i + 1;

				while (j < l && (b[j] == '\n' || b[j] == ' '))
					j++;
				if (j < l && b[j] == (b[i] == '{' ? '}' : ']')) {
					t[o++] = b[j];
					i = j;
				}
			}
		}
		t[o] = '\0';
		b = (const unsigned char *)t;
		l = o;
	}
	*buf = (const char *)b;
	if (len)
		*len = l;
	return 0;
}

int cir_jgen_finish_dup(struct cir_jgen *g, char **out, struct cir_error *err)
{
	const char *buf;
	size_t len;
	char *copy;
	int r;

	r = cir_jgen_finish(g, &buf, &len, err);
	if (r < 0)
		return r;
	copy = strndup(buf, len);
	if (!copy)
		return cir_err(err, ENOMEM, "json: out of memory");
	*out = copy;
	return 0;
}
