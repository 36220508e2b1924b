// SPDX-License-Identifier: Apache-2.0
/*
 * json.c - yajl tree parsing with typed getters, and yajl_gen emission.
 * Every yajl call in Circuit lives in this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cleanup.h"
#include "json.h"

struct cir_json {
	yajl_val root;
};

#define V(n) ((yajl_val)(n))
#define N(v) ((const struct cir_jnode *)(v))

/*
 * yajl frees its tree recursively, and so does cir_jgen_node() re-emit it: a
 * document of a few MiB of '[' would overflow the stack there instead of
 * failing.  Nesting is bounded before yajl sees the document; for the part
 * of a document yajl accepts, brackets outside strings are exactly its
 * nesting.
 */
#define JSON_MAX_DEPTH 10000

static bool too_deep(const char *buf, size_t len)
{
	size_t depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return true;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return false;
}

int cir_json_parse(const char *buf, size_t len, struct cir_json **out, struct cir_error *err)
{
	_cleanup_free_ char *copy = NULL;
	_cleanup_free_ struct cir_json *j = NULL;
	char ebuf[256] = "";
	char *nl;

	if (len > CIR_JSON_MAX)
		return cir_err_code(err, CIR_CNI_DECODE, EFBIG, "json document larger than %u bytes",
				    CIR_JSON_MAX);
	if (memchr(buf, '\0', len))
		return cir_err_code(err, CIR_CNI_DECODE, EBADMSG, "json: embedded NUL byte");
	if (too_deep(buf, len))
		return cir_err_code(err, CIR_CNI_DECODE, EBADMSG,
				    "invalid json: nested deeper than %d levels", JSON_MAX_DEPTH);
	copy = malloc(len + 1);
	j = calloc(1, sizeof(*j));
	if (!copy || !j)
		return cir_err(err, ENOMEM, "json: out of memory");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	j->root = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if (!j->root) {
		/* yajl's message spans lines with a caret; keep the first. */
		nl = strchr(ebuf, '\n');
		if (nl)
			*nl = '\0';
		return cir_err_code(err, CIR_CNI_DECODE, EBADMSG, "invalid json: %s",
				    ebuf[0] ? ebuf : "parse error");
	}
	*out = TAKE_PTR(j);
	return 0;
}

void cir_json_free(struct cir_json *j)
{
	if (!j)
		return;
	yajl_tree_free(j->root);
	free(j);
}

const struct cir_jnode *cir_json_root(const struct cir_json *j)
{
	return j ? N(j->root) : NULL;
}

enum cir_jtype cir_jnode_type(const struct cir_jnode *n)
{
	yajl_val v = V(n);

	if (!v)
		return CIR_JNONE;
	switch (v->type) {
	case yajl_t_string:
		return CIR_JSTRING;
	case yajl_t_number:
		return CIR_JNUMBER;
	case yajl_t_object:
		return CIR_JOBJECT;
	case yajl_t_array:
		return CIR_JARRAY;
	case yajl_t_true:
	case yajl_t_false:
		return CIR_JBOOL;
	case yajl_t_null:
		return CIR_JNULL;
	default:
		return CIR_JNONE;
	}
}

const struct cir_jnode *cir_jnode_get(const struct cir_jnode *n, const char *key)
{
	yajl_val v = V(n);

	if (!v || v->type != yajl_t_object)
		return NULL;
	for (size_t i = 0; i < v->u.object.len; i++)
		if (strcmp(v->u.object.keys[i], key) == 0)
			return N(v->u.object.values[i]);
	return NULL;
}

size_t cir_jnode_len(const struct cir_jnode *n)
{
	yajl_val v = V(n);

	return (v && v->type == yajl_t_array) ? v->u.array.len : 0;
}

const struct cir_jnode *cir_jnode_at(const struct cir_jnode *n, size_t i)
{
	yajl_val v = V(n);

	if (!v || v->type != yajl_t_array || i >= v->u.array.len)
		return NULL;
	return N(v->u.array.values[i]);
}

size_t cir_jnode_nkeys(const struct cir_jnode *n)
{
	yajl_val v = V(n);

	return (v && v->type == yajl_t_object) ? v->u.object.len : 0;
}

const char *cir_jnode_key_at(const struct cir_jnode *n, size_t i)
{
	yajl_val v = V(n);

	if (!v || v->type != yajl_t_object || i >= v->u.object.len)
		return NULL;
	return v->u.object.keys[i];
}

const struct cir_jnode *cir_jnode_value_at(const struct cir_jnode *n, size_t i)
{
	yajl_val v = V(n);

	if (!v || v->type != yajl_t_object || i >= v->u.object.len)
		return NULL;
	return N(v->u.object.values[i]);
}

const char *cir_jnode_str(const struct cir_jnode *n)
{
	yajl_val v = V(n);

	return (v && v->type == yajl_t_string) ? v->u.string : NULL;
}

bool cir_jnode_bool(const struct cir_jnode *n)
{
	yajl_val v = V(n);

	return v && v->type == yajl_t_true;
}

static yajl_val member(const struct cir_jnode *obj, const char *key)
{
	yajl_val v = V(cir_jnode_get(obj, key));

	if (v && v->type == yajl_t_null)
		return NULL;
	return v;
}

static int type_err(struct cir_error *err, const char *key, const char *want)
{
	return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL, "%s: expected %s", key, want);
}

int cir_json_str(const struct cir_jnode *obj, const char *key, const char **out,
		 struct cir_error *err)
{
	yajl_val v = member(obj, key);

	if (!v)
		return 0;
	if (v->type != yajl_t_string)
		return type_err(err, key, "a string");
	*out = v->u.string;
	return 1;
}

int cir_json_bool(const struct cir_jnode *obj, const char *key, bool *out, struct cir_error *err)
{
	yajl_val v = member(obj, key);

	if (!v)
		return 0;
	if (v->type != yajl_t_true && v->type != yajl_t_false)
		return type_err(err, key, "a boolean");
	*out = v->type == yajl_t_true;
	return 1;
}

int cir_json_u64(const struct cir_jnode *obj, const char *key, uint64_t max, uint64_t *out,
		 struct cir_error *err)
{
	yajl_val v = member(obj, key);
	const char *r;
	char *end;
	unsigned long long x;

	if (!v)
		return 0;
	if (v->type != yajl_t_number)
		return type_err(err, key, "a number");
	r = v->u.number.r;
	/* Accept plain non-negative integers only (also beyond int64). */
	if (!r || r[0] < '0' || r[0] > '9')
		return type_err(err, key, "a non-negative integer");
	errno = 0;
	x = strtoull(r, &end, 10);
	if (*end != '\0')
		return type_err(err, key, "an integer");
	if (errno == ERANGE || x > max)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, ERANGE,
				    "%s: %s out of range (max %llu)", key, r, (unsigned long long)max);
	*out = x;
	return 1;
}

int cir_json_u32(const struct cir_jnode *obj, const char *key, uint32_t max, uint32_t *out,
		 struct cir_error *err)
{
	uint64_t x;
	int r = cir_json_u64(obj, key, max, &x, err);

	if (r > 0)
		*out = (uint32_t)x;
	return r;
}

int cir_json_double(const struct cir_jnode *obj, const char *key, double *out,
		    struct cir_error *err)
{
	yajl_val v = member(obj, key);

	if (!v)
		return 0;
	if (v->type != yajl_t_number || !(v->u.number.flags & YAJL_NUMBER_DOUBLE_VALID) ||
	    !isfinite(v->u.number.d))
		return type_err(err, key, "a number");
	*out = v->u.number.d;
	return 1;
}

int cir_json_obj(const struct cir_jnode *obj, const char *key, const struct cir_jnode **out,
		 struct cir_error *err)
{
	yajl_val v = member(obj, key);

	if (!v)
		return 0;
	if (v->type != yajl_t_object)
		return type_err(err, key, "an object");
	*out = N(v);
	return 1;
}

int cir_json_arr(const struct cir_jnode *obj, const char *key, const struct cir_jnode **out,
		 struct cir_error *err)
{
	yajl_val v = member(obj, key);

	if (!v)
		return 0;
	if (v->type != yajl_t_array)
		return type_err(err, key, "an array");
	*out = N(v);
	return 1;
}

/* ---- emission ---- */

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
	yajl_val v = V(n);

	if (!v) {
		cir_jgen_null(g);
		return;
	}
	switch (v->type) {
	case yajl_t_string:
		cir_jgen_str(g, v->u.string);
		break;
	case yajl_t_number:
		latch(g, yajl_gen_number(g->g, v->u.number.r, strlen(v->u.number.r)));
		break;
	case yajl_t_true:
		cir_jgen_bool(g, true);
		break;
	case yajl_t_false:
		cir_jgen_bool(g, false);
		break;
	case yajl_t_null:
		cir_jgen_null(g);
		break;
	case yajl_t_array:
		cir_jgen_arr_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			cir_jgen_node(g, N(v->u.array.values[i]));
		cir_jgen_arr_close(g);
		break;
	case yajl_t_object:
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
	yajl_val v = V(n);

	if (!v || v->type != yajl_t_object)
		return;
	for (size_t i = 0; i < v->u.object.len; i++) {
		bool skipped = false;

		for (const char *const *s = skip; s && *s; s++)
			if (strcmp(*s, v->u.object.keys[i]) == 0)
				skipped = true;
		if (skipped)
			continue;
		cir_jgen_key(g, v->u.object.keys[i]);
		cir_jgen_node(g, N(v->u.object.values[i]));
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
