// SPDX-License-Identifier: Apache-2.0
/*
 * json_get.c - walking a parsed document: node accessors, and typed
 * getters (cir_json_str, _u32, _bool, _obj ...) that check a member's type
 * and range and name the key in their error.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"

enum cir_jtype cir_jnode_type(const struct cir_jnode *n)
{
	return n ? n->type : CIR_JNONE;
}

const struct cir_jnode *cir_jnode_get(const struct cir_jnode *n, const char *key)
{
	if (!n || n->type != CIR_JOBJECT)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->m[i].key, key) == 0)
			return n->m[i].v;
	return NULL;
}

size_t cir_jnode_len(const struct cir_jnode *n)
{
	return (n && n->type == CIR_JARRAY) ? n->n : 0;
}

const struct cir_jnode *cir_jnode_at(const struct cir_jnode *n, size_t i)
{
	if (!n || n->type != CIR_JARRAY || i >= n->n)
		return NULL;
	return n->m[i].v;
}

size_t cir_jnode_nkeys(const struct cir_jnode *n)
{
	return (n && n->type == CIR_JOBJECT) ? n->n : 0;
}

const char *cir_jnode_key_at(const struct cir_jnode *n, size_t i)
{
	if (!n || n->type != CIR_JOBJECT || i >= n->n)
		return NULL;
	return n->m[i].key;
}

const struct cir_jnode *cir_jnode_value_at(const struct cir_jnode *n, size_t i)
{
	if (!n || n->type != CIR_JOBJECT || i >= n->n)
		return NULL;
	return n->m[i].v;
}

const char *cir_jnode_str(const struct cir_jnode *n)
{
	return (n && n->type == CIR_JSTRING) ? n->s : NULL;
}

bool cir_jnode_bool(const struct cir_jnode *n)
{
	return n && n->type == CIR_JBOOL && n->b;
}

static int type_err(struct cir_error *err, const char *key, const char *want)
{
	return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL, "%s: expected %s", key, want);
}

/* Member key of obj into *v when it is of type t: 1; 0 when absent or
 * null; -EINVAL naming key and want when of another type. */
static int typed(const struct cir_jnode *obj, const char *key, enum cir_jtype t,
		 const char *want, const struct cir_jnode **v, struct cir_error *err)
{
	*v = cir_jnode_get(obj, key);
	if (!*v || (*v)->type == CIR_JNULL)
		return 0;
	if ((*v)->type != t)
		return type_err(err, key, want);
	return 1;
}

int cir_json_str(const struct cir_jnode *obj, const char *key, const char **out,
		 struct cir_error *err)
{
	const struct cir_jnode *v;
	int r = typed(obj, key, CIR_JSTRING, "a string", &v, err);

	if (r > 0)
		*out = v->s;
	return r;
}

int cir_json_bool(const struct cir_jnode *obj, const char *key, bool *out, struct cir_error *err)
{
	const struct cir_jnode *v;
	int r = typed(obj, key, CIR_JBOOL, "a boolean", &v, err);

	if (r > 0)
		*out = v->b;
	return r;
}

int cir_json_u64(const struct cir_jnode *obj, const char *key, uint64_t max, uint64_t *out,
		 struct cir_error *err)
{
	const struct cir_jnode *v;
	const char *r;
	char *end;
	unsigned long long x;
	int t = typed(obj, key, CIR_JNUMBER, "a number", &v, err);

	if (t <= 0)
		return t;
	r = v->s;
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
	const struct cir_jnode *v;
	double d;
	char *end;
	int r = typed(obj, key, CIR_JNUMBER, "a number", &v, err);

	if (r <= 0)
		return r;
	d = strtod(v->s, &end);
	if (*end != '\0' || !isfinite(d))
		return type_err(err, key, "a number");
	*out = d;
	return 1;
}

int cir_json_obj(const struct cir_jnode *obj, const char *key, const struct cir_jnode **out,
		 struct cir_error *err)
{
	const struct cir_jnode *v;
	int r = typed(obj, key, CIR_JOBJECT, "an object", &v, err);

	if (r > 0)
		*out = v;
	return r;
}

int cir_json_arr(const struct cir_jnode *obj, const char *key, const struct cir_jnode **out,
		 struct cir_error *err)
{
	const struct cir_jnode *v;
	int r = typed(obj, key, CIR_JARRAY, "an array", &v, err);

	if (r > 0)
		*out = v;
	return r;
}
