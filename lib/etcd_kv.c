// SPDX-License-Identifier: Apache-2.0
/*
 * etcd_kv.c - the requests' bodies (keys base64, a prefix as a range) and
 * the key-value calls: range, put, deleterange, txn, create-if-absent,
 * and every key under a prefix (cir_etcd_range_prefix, cir_etcd_list).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "etcd_int.h"

/* Emit key (base64 of s[0..len)) under k. */
void cir_etcd_gen_b64(struct cir_jgen *g, const char *k, const void *s, size_t len)
{
	_cleanup_free_ char *b = cir_base64_encode(s, len);

	cir_jgen_key(g, k);
	if (b)
		cir_jgen_str(g, b);
	else
		cir_jgen_null(g);       /* never sent: the key is checked below */
}

void cir_etcd_gen_i64(struct cir_jgen *g, const char *k, int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	cir_jgen_kstr(g, k, s);
}

/* key and, for a prefix, range_end = key with its last byte + 1. */
int cir_etcd_gen_range(struct cir_jgen *g, const char *key, bool prefix, struct cir_error *err)
{
	size_t l = strlen(key);
	_cleanup_free_ char *end = NULL;

	if (l == 0 || l > CIR_ETCD_KEY_MAX)
		return cir_err(err, EINVAL, "etcd key: empty or longer than %u bytes",
			       CIR_ETCD_KEY_MAX);
	cir_etcd_gen_b64(g, "key", key, l);
	if (!prefix)
		return 0;
	end = strdup(key);
	if (!end)
		return cir_err(err, ENOMEM, "out of memory");
	while (l > 0 && (unsigned char)end[l - 1] == 0xff)
		l--;
	if (l == 0) {
		cir_etcd_gen_b64(g, "range_end", "", 1);     /* "\0": everything */
		return 0;
	}
	end[l - 1]++;
	cir_etcd_gen_b64(g, "range_end", end, l);
	return 0;
}

/* A request of just a key or a prefix (range, deleterange). */
static int key_call(struct cir_etcd *e, enum cir_etcd_kind kind, const char *path,
		    const char *key, bool prefix, struct cir_etcd_resp *out, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r = cir_etcd_gen_new(&g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	r = cir_etcd_gen_range(g, key, prefix, err);
	if (r < 0)
		return r;
	cir_jgen_map_close(g);
	return cir_etcd_call(e, kind, path, g, out, err);
}

int cir_etcd_get(struct cir_etcd *e, const char *key, bool prefix, struct cir_etcd_resp *out,
		 struct cir_error *err)
{
	return key_call(e, CIR_ETCD_RANGE, "/v3/kv/range", key, prefix, out, err);
}

static int check_value(size_t vlen, struct cir_error *err)
{
	return vlen > CIR_ETCD_VALUE_MAX ? cir_err(err, EFBIG, "etcd value larger than %u bytes",
						   CIR_ETCD_VALUE_MAX) : 0;
}

int cir_etcd_put(struct cir_etcd *e, const char *key, const void *value, size_t vlen,
		 int64_t lease, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cir_etcd_resp resp = { 0 };
	int r = check_value(vlen, err);

	if (r >= 0)
		r = cir_etcd_gen_new(&g, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	r = cir_etcd_gen_range(g, key, false, err);
	if (r < 0)
		return r;
	cir_etcd_gen_b64(g, "value", value, vlen);
	if (lease)
		cir_etcd_gen_i64(g, "lease", lease);
	cir_jgen_map_close(g);
	r = cir_etcd_call(e, CIR_ETCD_PUT, "/v3/kv/put", g, &resp, err);
	cir_etcd_resp_free(&resp);
	return r;
}

int cir_etcd_delete(struct cir_etcd *e, const char *key, bool prefix, struct cir_error *err)
{
	struct cir_etcd_resp resp = { 0 };
	int r = key_call(e, CIR_ETCD_DELETE, "/v3/kv/deleterange", key, prefix, &resp, err);

	if (r >= 0)
		r = resp.deleted > INT32_MAX ? INT32_MAX : (int)resp.deleted;
	cir_etcd_resp_free(&resp);
	return r;
}

int cir_etcd_range_prefix(struct cir_etcd *e, const char *prefix, cir_etcd_kv_fn fn, void *arg,
			  int64_t *rev, struct cir_error *err)
{
	struct cir_etcd_resp resp = { 0 };
	int r = cir_etcd_get(e, prefix, true, &resp, err);

	for (size_t i = 0; r >= 0 && i < resp.nkvs; i++)
		r = fn(arg, &resp.kvs[i], err);
	if (r >= 0 && rev)
		*rev = resp.revision;
	cir_etcd_resp_free(&resp);
	return r < 0 ? r : 0;
}

int cir_etcd_list(struct cir_etcd *e, const char *prefix, const struct cir_etcd_list *how,
		  void *arg, void **out, size_t *n, int64_t *rev, struct cir_error *err)
{
	struct cir_etcd_resp resp = { 0 };
	_cleanup_free_ char *v = NULL;
	size_t k = 0;
	int r = cir_etcd_get(e, prefix, true, &resp, err);

	if (r < 0)
		return r;
	v = calloc(resp.nkvs ? resp.nkvs : 1, how->size);
	if (!v) {
		cir_etcd_resp_free(&resp);
		return cir_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < resp.nkvs; i++) {
		struct cir_error e2 = CIR_ERROR_INIT;
		void *rec = v + k * how->size;

		memset(rec, 0, how->size);
		if (how->parse(arg, &resp.kvs[i], rec, &e2) == 0)
			k++;
	}
	if (rev)
		*rev = resp.revision;
	cir_etcd_resp_free(&resp);
	if (how->cmp)
		qsort(v, k, how->size, how->cmp);
	*out = TAKE_PTR(v);
	*n = k;
	return 0;
}

static int gen_ops(struct cir_jgen *g, const char *k, const struct cir_etcd_op *op, size_t n,
		   struct cir_error *err)
{
	cir_jgen_key(g, k);
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < n; i++) {
		static const char *const req[] = { "request_put", "request_delete_range",
						   "request_range" };
		int r;

		if ((unsigned int)op[i].kind > CIR_ETCD_OP_GET)
			return cir_err(err, EINVAL, "etcd txn: unknown operation");
		cir_jgen_map_open(g);
		cir_jgen_key(g, req[op[i].kind]);
		cir_jgen_map_open(g);
		r = cir_etcd_gen_range(g, op[i].key, false, err);
		if (r < 0)
			return r;
		if (op[i].kind == CIR_ETCD_OP_PUT) {
			r = check_value(op[i].vlen, err);
			if (r < 0)
				return r;
			cir_etcd_gen_b64(g, "value", op[i].value, op[i].vlen);
			if (op[i].lease)
				cir_etcd_gen_i64(g, "lease", op[i].lease);
		}
		cir_jgen_map_close(g);
		cir_jgen_map_close(g);
	}
	cir_jgen_arr_close(g);
	return 0;
}

int cir_etcd_txn(struct cir_etcd *e, const struct cir_etcd_cmp *cmp, size_t ncmp,
		 const struct cir_etcd_op *ok, size_t nok, const struct cir_etcd_op *fail,
		 size_t nfail, struct cir_etcd_resp *out, struct cir_error *err)
{
	static const char *const target[] = { "CREATE", "MOD", "VALUE", "LEASE" };
	static const char *const field[] = { "create_revision", "mod_revision", "value", "lease" };
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cir_etcd_resp resp = { 0 };
	int r = cir_etcd_gen_new(&g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_key(g, "compare");
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < ncmp; i++) {
		if ((unsigned int)cmp[i].target > CIR_ETCD_CMP_LEASE)
			return cir_err(err, EINVAL, "etcd txn: unknown compare");
		cir_jgen_map_open(g);
		r = cir_etcd_gen_range(g, cmp[i].key, false, err);
		if (r < 0)
			return r;
		cir_jgen_kstr(g, "target", target[cmp[i].target]);
		cir_jgen_kstr(g, "result", "EQUAL");
		if (cmp[i].target == CIR_ETCD_CMP_VALUE) {
			r = check_value(cmp[i].vlen, err);
			if (r < 0)
				return r;
			cir_etcd_gen_b64(g, "value", cmp[i].value, cmp[i].vlen);
		} else {
			cir_etcd_gen_i64(g, field[cmp[i].target], cmp[i].rev);
		}
		cir_jgen_map_close(g);
	}
	cir_jgen_arr_close(g);
	r = gen_ops(g, "success", ok, nok, err);
	if (r >= 0)
		r = gen_ops(g, "failure", fail, nfail, err);
	if (r < 0)
		return r;
	cir_jgen_map_close(g);
	r = cir_etcd_call(e, CIR_ETCD_TXN, "/v3/kv/txn", g, &resp, err);
	if (r < 0)
		return r;
	r = resp.succeeded ? 1 : 0;
	if (out)
		*out = resp;
	else
		cir_etcd_resp_free(&resp);
	return r;
}

int cir_etcd_create(struct cir_etcd *e, const char *key, const void *value, size_t vlen,
		    int64_t lease, struct cir_etcd_resp *cur, struct cir_error *err)
{
	struct cir_etcd_cmp c = { .key = key, .target = CIR_ETCD_CMP_CREATE, .rev = 0 };
	struct cir_etcd_op put = { .kind = CIR_ETCD_OP_PUT, .key = key, .value = value,
				   .vlen = vlen, .lease = lease };
	struct cir_etcd_op get = { .kind = CIR_ETCD_OP_GET, .key = key };

	return cir_etcd_txn(e, &c, 1, &put, 1, &get, cur ? 1 : 0, cur, err);
}
