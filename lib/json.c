// SPDX-License-Identifier: Apache-2.0
/*
 * json.c - the JSON reader: yajl's callbacks build Circuit's own tree
 * (lib/json_int.h) in one arena per document, and a document is read
 * whole from an fd.  The getters are in json_get.c, the generator in
 * json_gen.c; every yajl call in Circuit lives in these files.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "cleanup.h"
#include "json_int.h"
#include "utf8.h"

/*
 * Every node, string, key and member array of a document comes from its
 * arena: chunks handed out in order and freed together by cir_json_free.
 * A tree is never changed once parsed, so nothing is freed on its own; a
 * member array that grows is copied (at most doubling the space it used).
 * Parsing a record was half malloc and free before (callgrind: 10,000 LB
 * records, 2.1 G instructions, 36 % in the allocator).
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
	size_t next_cap;                /* the next chunk's size */
};

#define ARENA_FIRST 4096
#define ARENA_MAX 65536

static void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need = (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
	void *p;

	if (!c || c->cap - c->used < need) {
		size_t cap = a->next_cap ? a->next_cap : ARENA_FIRST;

		if (cap < need)
			cap = need;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		if (a->next_cap < ARENA_MAX)
			a->next_cap = a->next_cap ? a->next_cap * 2 : ARENA_FIRST * 2;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

static void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
	a->next_cap = 0;
}

struct cir_json {
	struct cir_jnode *root;
	struct arena arena;
};

/* ---- building the tree from yajl's callbacks ---- */

struct frame {
	struct cir_jnode *node;         /* an open object or array */
	char *key;                      /* object: the key whose value comes next */
};

struct builder {
	struct arena arena;             /* the document's, handed over on success */
	struct cir_jnode *root;
	struct frame *stack;
	size_t depth, cap;
	bool lenient;
	yajl_handle h;
	long bad_escape;                /* offset of a lone surrogate escape, or -1 */
	struct cir_error *err;
	int r;                          /* first error, latched */
};

/* Where in the document the parser is: "ipam.ranges[0][1].subnet", with
 * key (keylen bytes) appended when it is a key being read. */
static void where(const struct builder *b, const char *key, size_t keylen, char *buf,
		  size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i <= b->depth && o < len; i++) {
		char part[48];

		if (i == b->depth) {
			if (!key)
				break;
			cir_err_shown_n(key, keylen, part, sizeof(part));
		} else {
			const struct frame *f = &b->stack[i];
			const struct cir_jnode *n = f->node;
			bool top = i + 1 == b->depth;   /* its next value is being read */
			const char *k;

			if (n->type == CIR_JARRAY) {
				snprintf(part, sizeof(part), "[%zu]", top ? n->n : n->n - 1);
			} else {
				k = top ? f->key : n->m[n->n - 1].key;
				if (!k)
					continue;       /* the key itself is being read */
				cir_err_shown(k, part, sizeof(part));
			}
		}
		o += snprintf(buf + o, len - o, "%s%s", o && part[0] != '[' ? "." : "", part);
	}
	if (!buf[0])
		snprintf(buf, len, "document");
}

static int build_fail(struct builder *b, const char *key, size_t keylen, const char *what)
{
	char at[200];

	where(b, key, keylen, at, sizeof(at));
	b->r = cir_err_code(b->err, CIR_CNI_DECODE, EBADMSG, "\"%s\": %s", at, what);
	return 0;                       /* stop yajl */
}

static int build_oom(struct builder *b)
{
	b->r = cir_err(b->err, ENOMEM, "json: out of memory");
	return 0;
}

/*
 * A string or key as yajl decoded it: refuse (or, lenient, repair) what Go
 * would not read back the same: NUL characters, which C would cut the
 * string at, and invalid UTF-8.  Returns a malloc'ed NUL-terminated copy,
 * or NULL with b->r set.
 */
static char *build_text(struct builder *b, const unsigned char *s, size_t len, bool is_key)
{
	const char *c = (const char *)s;
	char *out, *o;

	/* A surrogate escape on its own: yajl turns it into '?' or into bytes
	 * that are no UTF-8; this string is the one holding it. */
	if (!b->lenient && b->bad_escape >= 0 &&
	    yajl_get_bytes_consumed(b->h) > (size_t)b->bad_escape) {
		build_fail(b, is_key ? c : NULL, len,
			   "contains a \\u escape that is half of a UTF-16 surrogate pair");
		return NULL;
	}
	if (!b->lenient) {
		if (memchr(c, '\0', len)) {
			build_fail(b, is_key ? c : NULL, len, "contains a NUL character");
			return NULL;
		}
		if (!cir_utf8_valid(c, len)) {
			build_fail(b, is_key ? c : NULL, len, "is not valid UTF-8");
			return NULL;
		}
		out = arena_strndup(&b->arena, c, len);
		if (!out)
			build_oom(b);
		return out;
	}
	/* Lenient: each NUL or invalid byte becomes U+FFFD. */
	out = arena_alloc(&b->arena, 3 * len + 1);
	if (!out) {
		build_oom(b);
		return NULL;
	}
	o = out;
	for (size_t i = 0; i < len;) {
		size_t k = c[i] ? cir_utf8_seq(c + i, len - i, NULL) : 0;

		if (k) {
			memcpy(o, c + i, k);
			o += k;
			i += k;
		} else {
			memcpy(o, CIR_UTF8_REPLACEMENT, 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc;
	void *np;

	if (need <= *cap)
		return true;
	nc = *cap ? *cap * 2 : 4;
	np = realloc(*p, nc * size);
	if (!np)
		return false;
	*p = np;
	*cap = nc;
	return true;
}

/* A node's member array, in the arena: copied when it grows. */
static bool grow_members(struct arena *a, struct cir_jnode *p)
{
	size_t nc;
	struct cir_jmember *nm;

	if (p->n < p->cap)
		return true;
	nc = p->cap ? p->cap * 2 : 4;
	nm = arena_alloc(a, nc * sizeof(*nm));
	if (!nm)
		return false;
	if (p->n)
		memcpy(nm, p->m, p->n * sizeof(*nm));
	p->m = nm;
	p->cap = nc;
	return true;
}

/* Attach a new node to whatever is open; takes ownership of n. */
static int build_add(struct builder *b, struct cir_jnode *n)
{
	struct frame *f;
	struct cir_jnode *p;

	if (!n)
		return build_oom(b);
	if (b->depth == 0) {
		b->root = n;
		return 1;
	}
	f = &b->stack[b->depth - 1];
	p = f->node;
	if (!grow_members(&b->arena, p))
		return build_oom(b);
	p->m[p->n].key = TAKE_PTR(f->key);      /* NULL in arrays */
	p->m[p->n++].v = n;
	return 1;
}

static struct cir_jnode *node_new(struct builder *b, enum cir_jtype t)
{
	struct cir_jnode *n = arena_zalloc(&b->arena, sizeof(*n));

	if (n)
		n->type = t;
	return n;
}

/* Go's decoder refuses documents nested deeper than this. */
#define MAX_DEPTH 10000

static int build_open(struct builder *b, enum cir_jtype t)
{
	struct cir_jnode *n;

	if (b->depth >= MAX_DEPTH) {
		b->r = cir_err_code(b->err, CIR_CNI_DECODE, EBADMSG,
				    "invalid json: nested deeper than %d levels", MAX_DEPTH);
		return 0;
	}
	if (!grow((void **)&b->stack, &b->cap, b->depth + 1, sizeof(*b->stack)))
		return build_oom(b);
	n = node_new(b, t);
	if (!build_add(b, n))
		return 0;
	b->stack[b->depth].node = n;
	b->stack[b->depth].key = NULL;
	b->depth++;
	return 1;
}

struct sort_key {
	const char *key;
	size_t i;
};

static int cmp_key(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Of each repeated key keep only the last member, where it stands (Go's
 * encoding/json: the last value wins).  O(n log n) for any object. */
static int dedup(struct cir_jnode *o)
{
	_cleanup_free_ struct sort_key *k = NULL;
	size_t w = 0;

	if (o->n < 2)
		return 0;
	k = malloc(o->n * sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < o->n; i++)
		k[i] = (struct sort_key){ o->m[i].key, i };
	qsort(k, o->n, sizeof(*k), cmp_key);
	for (size_t i = 0; i + 1 < o->n; i++) {
		if (strcmp(k[i].key, k[i + 1].key) == 0) {
			struct cir_jmember *m = &o->m[k[i].i];

			/* Its memory stays in the arena until the document goes. */
			m->key = NULL;
			m->v = NULL;
		}
	}
	for (size_t i = 0; i < o->n; i++)
		if (o->m[i].key)
			o->m[w++] = o->m[i];
	o->n = w;
	return 0;
}

static int build_close(struct builder *b)
{
	struct frame *f = &b->stack[b->depth - 1];

	if (f->node->type == CIR_JOBJECT && dedup(f->node) < 0)
		return build_oom(b);
	f->key = NULL;
	b->depth--;
	return 1;
}

static int cb_null(void *ctx)
{
	return build_add(ctx, node_new(ctx, CIR_JNULL));
}

static int cb_bool(void *ctx, int v)
{
	struct cir_jnode *n = node_new(ctx, CIR_JBOOL);

	if (n)
		n->b = v;
	return build_add(ctx, n);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct builder *b = ctx;
	struct cir_jnode *n = node_new(b, CIR_JNUMBER);

	if (n && !(n->s = arena_strndup(&b->arena, s, len)))
		n = NULL;
	return build_add(b, n);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;
	struct cir_jnode *n;
	char *text = build_text(b, s, len, false);

	if (!text)
		return 0;
	n = node_new(b, CIR_JSTRING);
	if (!n)
		return build_oom(b);
	n->s = text;
	return build_add(b, n);
}

static int cb_start_map(void *ctx)
{
	return build_open(ctx, CIR_JOBJECT);
}

static int cb_key(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;
	struct frame *f = &b->stack[b->depth - 1];

	f->key = build_text(b, s, len, true);
	return f->key != NULL;
}

static int cb_start_array(void *ctx)
{
	return build_open(ctx, CIR_JARRAY);
}

static int cb_end(void *ctx)
{
	return build_close(ctx);
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_bool,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

static void builder_done(struct builder *b)
{
	if (b->h)
		yajl_free(b->h);
	free(b->stack);
	arena_free(&b->arena);          /* empty when the document took it */
}

static int parse(const char *buf, size_t len, size_t max, bool lenient, struct cir_json **out,
		 struct cir_error *err)
{
	_cleanup_(builder_done) struct builder b = { .lenient = lenient, .bad_escape = -1,
						      .err = err };
	struct cir_json *j;
	yajl_status st;

	if (len > max)
		return cir_err_code(err, CIR_CNI_DECODE, EFBIG, "json document larger than %zu bytes",
				    max);
	if (memchr(buf, '\0', len))
		return cir_err_code(err, CIR_CNI_DECODE, EBADMSG, "json: embedded NUL byte");
	/* yajl's defaults are what Go does: no comments, one value and
	 * nothing after it.  UTF-8 is checked on each decoded string
	 * (build_text): stricter than yajl's lexer, and naming the key. */
	b.h = yajl_alloc(&callbacks, NULL, &b);
	if (!b.h)
		return cir_err(err, ENOMEM, "json: out of memory");
	yajl_config(b.h, yajl_dont_validate_strings, 1);
	if (lenient)
		yajl_config(b.h, yajl_allow_comments, 1);
	if (!lenient)
		b.bad_escape = cir_json_lone_surrogate(buf, len);
	st = yajl_parse(b.h, (const unsigned char *)buf, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(b.h);
	if (b.r < 0)
		return b.r;
	if (st != yajl_status_ok) {
		unsigned char *e = yajl_get_error(b.h, 0, (const unsigned char *)buf, len);
		char *nl = e ? strchr((char *)e, '\n') : NULL;
		int r;

		if (nl)
			*nl = '\0';
		r = cir_err_code(err, CIR_CNI_DECODE, EBADMSG, "invalid json: %s (at byte %zu)",
				 e && e[0] ? (char *)e : "parse error",
				 yajl_get_bytes_consumed(b.h));
		if (e)
			yajl_free_error(b.h, e);
		return r;
	}
	if (!b.root)
		return cir_err_code(err, CIR_CNI_DECODE, EBADMSG, "invalid json: empty document");
	if (!lenient && b.bad_escape >= 0)      /* the string holding it failed already */
		return cir_err_code(err, CIR_CNI_DECODE, EBADMSG,
				    "invalid json: half a UTF-16 surrogate pair at byte %ld",
				    b.bad_escape);
	j = calloc(1, sizeof(*j));
	if (!j)
		return cir_err(err, ENOMEM, "json: out of memory");
	j->root = TAKE_PTR(b.root);
	j->arena = b.arena;
	b.arena = (struct arena){ 0 };
	*out = j;
	return 0;
}

int cir_json_parse(const char *buf, size_t len, struct cir_json **out, struct cir_error *err)
{
	return parse(buf, len, CIR_JSON_MAX, false, out, err);
}

int cir_json_parse_max(const char *buf, size_t len, size_t max, struct cir_json **out,
		       struct cir_error *err)
{
	return parse(buf, len, max, false, out, err);
}

int cir_json_parse_lenient(const char *buf, size_t len, struct cir_json **out,
			   struct cir_error *err)
{
	return parse(buf, len, CIR_JSON_MAX, true, out, err);
}

void cir_json_free(struct cir_json *j)
{
	if (!j)
		return;
	arena_free(&j->arena);
	free(j);
}

const struct cir_jnode *cir_json_root(const struct cir_json *j)
{
	return j ? j->root : NULL;
}
