// SPDX-License-Identifier: Apache-2.0
/*
 * etcd_parse.c - strict base64 and the parser of every etcd response:
 * lib/json's tree parser into struct cir_etcd_resp; int64 fields arrive as
 * JSON strings ("revision":"12"), fields at their zero value are left out
 * by the gateway.  Exposed through cir_etcd_parse() for the fuzz harness
 * (tests/fuzz/etcd_resp.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "etcd.h"
#include "json.h"

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *cir_base64_encode(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	char *out, *o;

	if (len > SIZE_MAX / 2)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned int v = (unsigned int)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned int)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int cir_base64_decode(const char *s, size_t slen, size_t max, char **out, size_t *outlen)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;

	if (slen % 4)
		return -EBADMSG;
	if (slen / 4 * 3 > max + 2)
		return -EFBIG;
	buf = malloc(slen / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < slen; i += 4) {
		int a = b64val(s[i]), b = b64val(s[i + 1]), c = b64val(s[i + 2]),
		    d = b64val(s[i + 3]);
		bool last = i + 4 == slen;

		if (a < 0 || b < 0)
			return -EBADMSG;
		if (c < 0 || d < 0) {
			/* Padding only at the very end: "xx==" or "xxx=". */
			if (!last || s[i + 3] != '=' || (c < 0 && s[i + 2] != '='))
				return -EBADMSG;
			if (c < 0) {
				if (b & 15)
					return -EBADMSG;
				buf[n++] = (char)(a << 2 | b >> 4);
			} else {
				if (c & 3)
					return -EBADMSG;
				buf[n++] = (char)(a << 2 | b >> 4);
				buf[n++] = (char)((b & 15) << 4 | c >> 2);
			}
			break;
		}
		buf[n++] = (char)(a << 2 | b >> 4);
		buf[n++] = (char)((b & 15) << 4 | c >> 2);
		buf[n++] = (char)((c & 3) << 6 | d);
	}
	if (n > max)
		return -EFBIG;
	buf[n] = '\0';
	*out = TAKE_PTR(buf);
	*outlen = n;
	return 0;
}

/* ---- response parsing ---- */

void cir_etcd_resp_free(struct cir_etcd_resp *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nkvs; i++) {
		free(r->kvs[i].key);
		free(r->kvs[i].value);
	}
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

static const char *const kind_name[CIR_ETCD_KINDS] = {
	"range", "put", "txn", "deleterange", "lease grant", "lease keepalive",
	"lease timetolive", "lease revoke", "watch",
};

/* An int64 field: a JSON string of decimal digits (the gateway's form) or
 * an integer number, within [min, max].  Absent: 0 (the gateway leaves
 * zero values out).  1 present, 0 absent, -EBADMSG. */
static int get_i64(const struct cir_jnode *o, const char *key, int64_t min, int64_t max,
		   int64_t *out, struct cir_error *err)
{
	const struct cir_jnode *v = cir_jnode_get(o, key);
	const char *s;
	char *end;
	long long x;

	*out = 0;
	if (!v || cir_jnode_type(v) == CIR_JNULL)
		return 0;
	if (cir_jnode_type(v) == CIR_JNUMBER) {
		uint64_t u;
		struct cir_error e2 = CIR_ERROR_INIT;

		if (cir_json_u64(o, key, (uint64_t)INT64_MAX, &u, &e2) < 0 || (int64_t)u > max ||
		    (int64_t)u < min)
			return cir_err(err, EBADMSG, "%s: expected an integer in [%" PRId64
				       ", %" PRId64 "]", key, min, max);
		*out = (int64_t)u;
		return 1;
	}
	s = cir_jnode_str(v);
	if (!s || !*s || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) || strlen(s) > 20)
		return cir_err(err, EBADMSG, "%s: expected an integer", key);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (*end || errno || x < min || x > max)
		return cir_err(err, EBADMSG, "%s: expected an integer in [%" PRId64 ", %" PRId64 "]",
			       key, min, max);
	*out = x;
	return 1;
}

static int get_bool(const struct cir_jnode *o, const char *key, bool *out, struct cir_error *err)
{
	int r = cir_json_bool(o, key, out, err);

	if (r == 0)
		*out = false;
	return r < 0 ? cir_err(err, EBADMSG, "%s: expected a boolean", key) : 0;
}

/* A base64 field into a malloc'ed copy; absent = "" (the gateway omits
 * empty values). */
static int get_b64(const struct cir_jnode *o, const char *key, size_t max, char **out,
		   size_t *len, struct cir_error *err)
{
	const struct cir_jnode *v = cir_jnode_get(o, key);
	const char *s = "";
	int r;

	if (v && cir_jnode_type(v) != CIR_JNULL) {
		s = cir_jnode_str(v);
		if (!s)
			return cir_err(err, EBADMSG, "%s: expected a base64 string", key);
	}
	r = cir_base64_decode(s, strlen(s), max, out, len);
	if (r == -EFBIG)
		return cir_err(err, EFBIG, "%s: larger than %zu bytes", key, max);
	if (r == -ENOMEM)
		return cir_err(err, ENOMEM, "out of memory");
	if (r < 0)
		return cir_err(err, EBADMSG, "%s: not base64", key);
	return 0;
}

static int parse_kv(const struct cir_jnode *n, struct cir_etcd_kv *kv, struct cir_error *err)
{
	int r;

	if (cir_jnode_type(n) != CIR_JOBJECT)
		return cir_err(err, EBADMSG, "kv: expected an object");
	r = get_b64(n, "key", CIR_ETCD_KEY_MAX, &kv->key, &kv->key_len, err);
	if (r >= 0 && kv->key_len == 0)
		r = cir_err(err, EBADMSG, "key: empty");
	if (r >= 0)
		r = get_b64(n, "value", CIR_ETCD_VALUE_MAX, &kv->value, &kv->value_len, err);
	if (r >= 0)
		r = get_i64(n, "create_revision", 0, INT64_MAX, &kv->create_rev, err);
	if (r >= 0)
		r = get_i64(n, "mod_revision", 0, INT64_MAX, &kv->mod_rev, err);
	if (r >= 0)
		r = get_i64(n, "version", 0, INT64_MAX, &kv->version, err);
	if (r >= 0)
		r = get_i64(n, "lease", 0, INT64_MAX, &kv->lease, err);
	return r < 0 ? r : 0;
}

/* Append the kvs of array node a (of objects, or of watch events) to r. */
static int parse_kvs(const struct cir_jnode *a, bool events, struct cir_etcd_resp *r,
		     struct cir_error *err)
{
	size_t n = cir_jnode_len(a);
	struct cir_etcd_kv *nk;

	if (cir_jnode_type(a) != CIR_JARRAY)
		return cir_err(err, EBADMSG, "%s: expected an array", events ? "events" : "kvs");
	if (n == 0)
		return 0;
	nk = realloc(r->kvs, (r->nkvs + n) * sizeof(*nk));
	if (!nk)
		return cir_err(err, ENOMEM, "out of memory");
	r->kvs = nk;
	for (size_t i = 0; i < n; i++) {
		const struct cir_jnode *e = cir_jnode_at(a, i), *kv = e;
		struct cir_etcd_kv *k = &r->kvs[r->nkvs];
		int rc;

		memset(k, 0, sizeof(*k));
		if (events) {
			const char *type = NULL;

			if (cir_jnode_type(e) != CIR_JOBJECT)
				return cir_err(err, EBADMSG, "event: expected an object");
			if (cir_json_str(e, "type", &type, err) < 0)
				return cir_err(err, EBADMSG, "event type: expected a string");
			if (type && strcmp(type, "PUT") != 0 && strcmp(type, "DELETE") != 0)
				return cir_err(err, EBADMSG, "event type: unknown");
			k->deleted = type && strcmp(type, "DELETE") == 0;
			kv = cir_jnode_get(e, "kv");
			if (!kv)
				return cir_err(err, EBADMSG, "event: no kv");
		}
		rc = parse_kv(kv, k, err);
		r->nkvs++;      /* freed with r, even half-filled */
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_header(const struct cir_jnode *o, struct cir_etcd_resp *r,
			struct cir_error *err)
{
	const struct cir_jnode *h = cir_jnode_get(o, "header");

	if (!h)
		return 0;
	if (cir_jnode_type(h) != CIR_JOBJECT)
		return cir_err(err, EBADMSG, "header: expected an object");
	return get_i64(h, "revision", 0, INT64_MAX, &r->revision, err) < 0 ? -EBADMSG : 0;
}

/* gRPC status codes the gateway reports, as errno. */
static int grpc_errno(int64_t code)
{
	switch (code) {
	case 4: return ETIMEDOUT;       /* DeadlineExceeded */
	case 5: return ENOENT;          /* NotFound */
	case 6: return EEXIST;          /* AlreadyExists */
	case 7: return EACCES;          /* PermissionDenied */
	case 8: return EAGAIN;          /* ResourceExhausted */
	case 14: return EAGAIN;         /* Unavailable */
	case 16: return EACCES;         /* Unauthenticated */
	default: return EIO;
	}
}

/* An error document: {"error":"...","code":N,"message":"..."} or, in a
 * stream, {"error":{"grpc_code":N,"message":"..."}}.  1 when o is one (err
 * filled), 0 when not. */
static int parse_error_doc(const struct cir_jnode *o, struct cir_error *err)
{
	const struct cir_jnode *e = cir_jnode_get(o, "error");
	const char *msg = NULL;
	int64_t code = 0;
	char shown[200];
	struct cir_error e2 = CIR_ERROR_INIT;

	if (!e || cir_jnode_type(e) == CIR_JNULL)
		return 0;
	if (cir_jnode_type(e) == CIR_JOBJECT) {
		get_i64(e, "grpc_code", 0, 1000, &code, &e2);
		msg = cir_jnode_str(cir_jnode_get(e, "message"));
	} else if (cir_jnode_type(e) == CIR_JSTRING) {
		if (!cir_jnode_get(o, "code") && !cir_jnode_get(o, "message"))
			return 0;       /* LeaseGrantResponse's own "error" field */
		get_i64(o, "code", 0, 1000, &code, &e2);
		msg = cir_jnode_str(cir_jnode_get(o, "message"));
		if (!msg || !*msg)
			msg = cir_jnode_str(e);
	}
	cir_err(err, grpc_errno(code), "%s",
		cir_err_shown(msg && *msg ? msg : "error without a message", shown,
			      sizeof(shown)));
	return 1;
}

/* A range's kvs, count and more. */
static int parse_range(const struct cir_jnode *o, struct cir_etcd_resp *r, struct cir_error *err)
{
	const struct cir_jnode *a = cir_jnode_get(o, "kvs");
	int rc = 0;

	if (a)
		rc = parse_kvs(a, false, r, err);
	if (rc >= 0)
		rc = get_i64(o, "count", 0, INT64_MAX, &r->count, err);
	if (rc >= 0)
		rc = get_bool(o, "more", &r->more, err);
	return rc;
}

/* A txn's outcome, and the kvs of its first range response (if any). */
static int parse_txn(const struct cir_jnode *o, struct cir_etcd_resp *r, struct cir_error *err)
{
	const struct cir_jnode *a = cir_jnode_get(o, "responses");
	int rc = get_bool(o, "succeeded", &r->succeeded, err);

	if (rc >= 0 && a && cir_jnode_type(a) != CIR_JARRAY)
		rc = cir_err(err, EBADMSG, "responses: expected an array");
	for (size_t i = 0; rc >= 0 && a && i < cir_jnode_len(a); i++) {
		const struct cir_jnode *x = cir_jnode_at(a, i), *rr, *kvs;

		if (cir_jnode_type(x) != CIR_JOBJECT)
			return cir_err(err, EBADMSG, "responses: expected objects");
		rr = cir_jnode_get(x, "response_range");
		if (!rr || r->kvs)
			continue;       /* the first range only */
		if (cir_jnode_type(rr) != CIR_JOBJECT)
			return cir_err(err, EBADMSG, "response_range: expected an object");
		kvs = cir_jnode_get(rr, "kvs");
		if (kvs)
			rc = parse_kvs(kvs, false, r, err);
	}
	return rc;
}

/* A grant: its error text, or the lease's ID and TTL (both required). */
static int parse_grant(const struct cir_jnode *o, struct cir_etcd_resp *r, struct cir_error *err)
{
	const char *e = cir_jnode_str(cir_jnode_get(o, "error"));
	char shown[200];
	int rc;

	if (e && *e)
		return cir_err(err, EIO, "%s", cir_err_shown(e, shown, sizeof(shown)));
	rc = get_i64(o, "ID", 1, INT64_MAX, &r->lease_id, err);
	if (rc == 0)
		rc = cir_err(err, EBADMSG, "ID: missing");
	if (rc >= 0)
		rc = get_i64(o, "TTL", 1, INT64_MAX / 1000, &r->ttl, err);
	if (rc == 0)
		rc = cir_err(err, EBADMSG, "TTL: missing");
	return rc;
}

/* A keep-alive (ID, TTL) or a time-to-live answer (TTL -1 when expired,
 * grantedTTL). */
static int parse_lease(const struct cir_jnode *o, bool ttl_query, struct cir_etcd_resp *r,
		       struct cir_error *err)
{
	int rc = get_i64(o, "ID", 0, INT64_MAX, &r->lease_id, err);

	if (rc >= 0)
		rc = get_i64(o, "TTL", ttl_query ? -1 : 0, INT64_MAX / 1000, &r->ttl, err);
	if (rc >= 0 && ttl_query)
		rc = get_i64(o, "grantedTTL", 0, INT64_MAX / 1000, &r->granted_ttl, err);
	return rc;
}

/* One watch message: its flags, ids and events. */
static int parse_watch(const struct cir_jnode *o, struct cir_etcd_resp *r, struct cir_error *err)
{
	const struct cir_jnode *a = cir_jnode_get(o, "events");
	int rc = get_bool(o, "created", &r->created, err);

	if (rc >= 0)
		rc = get_bool(o, "canceled", &r->canceled, err);
	if (rc >= 0)
		rc = get_i64(o, "watch_id", 0, INT64_MAX, &r->watch_id, err);
	if (rc >= 0)
		rc = get_i64(o, "compact_revision", 0, INT64_MAX, &r->compact_revision, err);
	if (rc >= 0 && a)
		rc = parse_kvs(a, true, r, err);
	return rc;
}

/* The fields of kind's answer after the header (put and revoke: none). */
static int parse_body(enum cir_etcd_kind kind, const struct cir_jnode *o,
		      struct cir_etcd_resp *r, struct cir_error *err)
{
	switch (kind) {
	case CIR_ETCD_RANGE:
		return parse_range(o, r, err);
	case CIR_ETCD_TXN:
		return parse_txn(o, r, err);
	case CIR_ETCD_DELETE:
		return get_i64(o, "deleted", 0, INT64_MAX, &r->deleted, err);
	case CIR_ETCD_LEASE_GRANT:
		return parse_grant(o, r, err);
	case CIR_ETCD_LEASE_KEEPALIVE:
		return parse_lease(o, false, r, err);
	case CIR_ETCD_LEASE_TTL:
		return parse_lease(o, true, r, err);
	case CIR_ETCD_WATCH:
		return parse_watch(o, r, err);
	default:
		return 0;
	}
}

/* buf as a JSON object that is not an error document; for the streams
 * (keepalive, watch), the "result" object each message wraps. */
static int parse_envelope(enum cir_etcd_kind kind, const char *buf, size_t len,
			  struct cir_json **j, const struct cir_jnode **o, struct cir_error *err)
{
	int rc;

	if (len > CIR_ETCD_RESP_MAX)
		return cir_err(err, EFBIG, "%s: response larger than %u bytes", kind_name[kind],
			       CIR_ETCD_RESP_MAX);
	rc = cir_json_parse_max(buf, len, CIR_ETCD_RESP_MAX, j, err);
	if (rc < 0)
		return cir_err(err, rc == -EFBIG ? EFBIG : EBADMSG, "%s: %s", kind_name[kind],
			       err->msg);
	*o = cir_json_root(*j);
	if (cir_jnode_type(*o) != CIR_JOBJECT)
		return cir_err(err, EBADMSG, "%s: response is not an object", kind_name[kind]);
	if (parse_error_doc(*o, err))
		return -err->errnum;
	if (kind == CIR_ETCD_LEASE_KEEPALIVE || kind == CIR_ETCD_WATCH) {
		*o = cir_jnode_get(*o, "result");
		if (!*o || cir_jnode_type(*o) != CIR_JOBJECT)
			return cir_err(err, EBADMSG, "%s: no result object", kind_name[kind]);
		if (parse_error_doc(*o, err))
			return -err->errnum;
	}
	return 0;
}

int cir_etcd_parse(enum cir_etcd_kind kind, const char *buf, size_t len,
		   struct cir_etcd_resp *out, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	struct cir_etcd_resp r = { 0 };
	const struct cir_jnode *o = NULL;
	int rc;

	if ((unsigned int)kind >= CIR_ETCD_KINDS)
		return cir_err(err, EINVAL, "unknown response kind");
	rc = parse_envelope(kind, buf, len, &j, &o, err);
	if (rc < 0)
		return rc;
	rc = parse_header(o, &r, err);
	if (rc >= 0)
		rc = parse_body(kind, o, &r, err);
	if (rc < 0) {
		cir_etcd_resp_free(&r);
		if (err->errnum == EBADMSG || err->errnum == EFBIG)
			cir_err_wrap(err, "%s", kind_name[kind]);
		return -err->errnum;
	}
	*out = r;
	return 0;
}
