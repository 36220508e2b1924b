// SPDX-License-Identifier: Apache-2.0
/*
 * etcd.c - etcd v3 over its JSON gateway with libcurl (every libcurl call
 * of the project is in this file).  Requests are built with lib/json's
 * generator, responses parsed with its tree parser into struct
 * cir_etcd_resp; int64 fields arrive as JSON strings ("revision":"12"),
 * fields at their zero value are left out by the gateway.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dlfcn.h>

/* Types and constants only: libcurl is loaded at run time (below). */
#include <curl/curl.h>

#include "cleanup.h"
#include "etcd.h"
#include "json.h"

struct cir_etcd {
	char *ep[CIR_ETCD_ENDPOINTS_MAX];
	size_t nep, cur;
	char *cacert, *cert, *key;
	struct curl_slist *headers;
	unsigned int connect_ms, timeout_ms;
	long long op_deadline;       /* ms (monotonic), 0 = none */
	volatile sig_atomic_t *stop; /* set: requests in flight give up (-ECANCELED) */
	CURL *curl;
};

/*
 * libcurl is loaded on the first cir_etcd_open() (the way lib/nft.c loads
 * libnftables): linked, it pulled about 30 more shared libraries (TLS,
 * HTTP/2, LDAP, Kerberos...) into every Circuit process, which more than
 * doubled the start-up of a runc hook that never talks to etcd.  Every
 * libcurl call of the project goes through this table.
 */
static struct {
	CURLcode (*global_init)(long flags);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *c);
	void (*easy_reset)(CURL *c);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode cc);
	/* the multi interface: the agent's watch stream, driven by its poll */
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *m);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *c);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *c);
	CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
	CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int ev, int *running);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	bool loaded, ready;
} cl;

/* The sonames of libcurl 4's ABI, OpenSSL's flavour first (the one the
 * headers came from: libcurl4-openssl-dev), then GnuTLS's. */
static const char *const curl_sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };

static int curl_load(struct cir_error *err)
{
	char why[200] = "";
	void *h = NULL;

	if (cl.loaded)
		return 0;
	for (size_t i = 0; !h && i < sizeof(curl_sonames) / sizeof(curl_sonames[0]); i++) {
		h = dlopen(curl_sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (!h && !why[0])
			snprintf(why, sizeof(why), "%s", dlerror());
	}
	if (!h)
		return cir_err(err, ELIBACC, "etcd: cannot load libcurl.so.4 (install the libcurl4 "
			       "package; needed only with a cluster configured): %s", why);
#define SYM(f, n) (*(void **)&cl.f = dlsym(h, n))
	if (!SYM(global_init, "curl_global_init") || !SYM(slist_append, "curl_slist_append") ||
	    !SYM(slist_free_all, "curl_slist_free_all") || !SYM(easy_init, "curl_easy_init") ||
	    !SYM(easy_cleanup, "curl_easy_cleanup") || !SYM(easy_reset, "curl_easy_reset") ||
	    !SYM(easy_setopt, "curl_easy_setopt") || !SYM(easy_perform, "curl_easy_perform") ||
	    !SYM(easy_getinfo, "curl_easy_getinfo") || !SYM(easy_strerror, "curl_easy_strerror") ||
	    !SYM(multi_init, "curl_multi_init") || !SYM(multi_cleanup, "curl_multi_cleanup") ||
	    !SYM(multi_add_handle, "curl_multi_add_handle") ||
	    !SYM(multi_remove_handle, "curl_multi_remove_handle") ||
	    !SYM(multi_setopt, "curl_multi_setopt") ||
	    !SYM(multi_socket_action, "curl_multi_socket_action") ||
	    !SYM(multi_info_read, "curl_multi_info_read")) {
		dlclose(h);
		return cir_err(err, ELIBBAD, "etcd: the libcurl loaded lacks a needed symbol");
	}
#undef SYM
	cl.loaded = true;       /* the handle stays open for the process */
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* ---- the client ---- */

static int endpoint_check(const char *s, size_t len, struct cir_error *err)
{
	char shown[CIR_ERR_SHOWN_MAX];
	size_t skip;

	if (len >= 8 && strncmp(s, "https://", 8) == 0)
		skip = 8;
	else if (len >= 7 && strncmp(s, "http://", 7) == 0)
		skip = 7;
	else
		skip = 0;
	if (!skip || len == skip || len > 255)
		goto bad;
	for (size_t i = skip; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
			goto bad;
	}
	return 0;
bad:
	return cir_err(err, EINVAL, "etcd endpoint \"%s\": want http://HOST[:PORT] or "
		       "https://HOST[:PORT]", cir_err_shown_n(s, len, shown, sizeof(shown)));
}

void cir_etcd_close(struct cir_etcd *e)
{
	if (!e)
		return;
	if (e->curl)
		cl.easy_cleanup(e->curl);
	if (e->headers)
		cl.slist_free_all(e->headers);
	for (size_t i = 0; i < e->nep; i++)
		free(e->ep[i]);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e);
}

int cir_etcd_open(struct cir_etcd **out, const struct cir_etcd_opts *o, struct cir_error *err)
{
	_cleanup_etcd_ struct cir_etcd *e = NULL;
	const char *p;
	int r;

	if (!o->endpoints || !*o->endpoints)
		return cir_err(err, EINVAL, "etcd: no endpoint");
	e = calloc(1, sizeof(*e));
	if (!e)
		return cir_err(err, ENOMEM, "out of memory");
	e->connect_ms = o->connect_ms ? o->connect_ms : CIR_ETCD_CONNECT_MS;
	e->timeout_ms = o->timeout_ms ? o->timeout_ms : CIR_ETCD_TIMEOUT_MS;
	if (e->connect_ms > e->timeout_ms)
		e->connect_ms = e->timeout_ms;
	for (p = o->endpoints; *p;) {
		size_t l = strcspn(p, ",");

		/* A trailing slash is the same endpoint. */
		size_t k = l && p[l - 1] == '/' ? l - 1 : l;

		r = endpoint_check(p, k, err);
		if (r < 0)
			return r;
		if (e->nep == CIR_ETCD_ENDPOINTS_MAX)
			return cir_err(err, EINVAL, "etcd: more than %d endpoints",
				       CIR_ETCD_ENDPOINTS_MAX);
		e->ep[e->nep] = strndup(p, k);
		if (!e->ep[e->nep])
			return cir_err(err, ENOMEM, "out of memory");
		e->nep++;
		p += l;
		if (*p == ',')
			p++;
	}
	if (!e->nep)
		return cir_err(err, EINVAL, "etcd: no endpoint");
	if ((o->cacert && !(e->cacert = strdup(o->cacert))) ||
	    (o->cert && !(e->cert = strdup(o->cert))) || (o->key && !(e->key = strdup(o->key))))
		return cir_err(err, ENOMEM, "out of memory");
	/* The first libcurl call of the process: load and initialise it. */
	r = curl_load(err);
	if (r < 0)
		return r;
	if (!cl.ready) {
		if (cl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return cir_err(err, EIO, "libcurl: initialisation failed");
		cl.ready = true;
	}
	if (o->token && *o->token) {
		_cleanup_free_ char *h = NULL;

		if (strpbrk(o->token, "\r\n") || strlen(o->token) > 4096)
			return cir_err(err, EINVAL, "etcd token: not one line of at most 4096 bytes");
		if (asprintf(&h, "Authorization: %s", o->token) < 0)
			return cir_err(err, ENOMEM, "out of memory");
		e->headers = cl.slist_append(NULL, h);
		if (!e->headers)
			return cir_err(err, ENOMEM, "out of memory");
	}
	{
		struct curl_slist *h = cl.slist_append(e->headers, "Content-Type: application/json");

		if (!h)
			return cir_err(err, ENOMEM, "out of memory");
		e->headers = h;
		/* No "Expect: 100-continue" round trip on larger bodies. */
		h = cl.slist_append(e->headers, "Expect:");
		if (!h)
			return cir_err(err, ENOMEM, "out of memory");
		e->headers = h;
	}
	e->curl = cl.easy_init();
	if (!e->curl)
		return cir_err(err, ENOMEM, "libcurl: out of memory");
	*out = TAKE_PTR(e);
	return 0;
}

void cir_etcd_set_deadline(struct cir_etcd *e, unsigned int ms)
{
	e->op_deadline = ms ? now_ms() + ms : 0;
}

void cir_etcd_set_stop(struct cir_etcd *e, volatile sig_atomic_t *stop)
{
	e->stop = stop;
}

const char *cir_etcd_endpoint(const struct cir_etcd *e)
{
	return e->ep[e->cur];
}

struct sink {
	char *buf;
	size_t len, cap;
	bool too_big;
	/* watch streams: one message per line */
	struct cir_etcd *e;
	cir_etcd_watch_fn fn;
	void *arg;
	int64_t *next_rev;
	int cb_r;                    /* fn's result, or a parse error */
	bool done;
	bool got;                    /* a message arrived: the stream is established */
	struct cir_error *err;
	/* progress */
	volatile sig_atomic_t *stop;
	long long deadline;          /* ms, 0 = none */
	bool timed_out;
};

static int sink_append(struct sink *s, const char *p, size_t n)
{
	if (s->len + n > CIR_ETCD_RESP_MAX) {
		s->too_big = true;
		return -1;
	}
	if (s->len + n + 1 > s->cap) {
		size_t nc = s->cap ? s->cap : 4096;
		char *nb;

		while (nc < s->len + n + 1)
			nc *= 2;
		nb = realloc(s->buf, nc);
		if (!nb)
			return -1;
		s->buf = nb;
		s->cap = nc;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;

	return sink_append(s, p, size * nmemb) < 0 ? 0 : size * nmemb;
}

/* One message of a watch stream. */
static int watch_message(struct sink *s, const char *p, size_t n)
{
	struct cir_etcd_resp r = { 0 };
	int rc;

	rc = cir_etcd_parse(CIR_ETCD_WATCH, p, n, &r, s->err);
	if (rc < 0)
		return rc;
	if (r.compact_revision > 0) {
		rc = cir_err(s->err, ESTALE, "watch: revision compacted (from %" PRId64 " on)",
			     r.compact_revision);
		if (s->next_rev)
			*s->next_rev = r.compact_revision;
	} else if (r.canceled) {
		rc = cir_err(s->err, ECANCELED, "watch: canceled by the server");
	} else {
		if (s->next_rev) {
			for (size_t i = 0; i < r.nkvs; i++)
				if (r.kvs[i].mod_rev >= *s->next_rev)
					*s->next_rev = r.kvs[i].mod_rev + 1;
			if (!r.nkvs && r.created && r.revision >= *s->next_rev)
				*s->next_rev = r.revision + 1;
		}
		rc = r.nkvs ? s->fn(s->arg, &r, s->err) : 0;
	}
	cir_etcd_resp_free(&r);
	return rc;
}

static size_t on_stream(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	char *nl;

	if (s->done || sink_append(s, p, n) < 0)
		return 0;
	while (!s->done && (nl = memchr(s->buf, '\n', s->len))) {
		size_t l = (size_t)(nl - s->buf);
		int rc = 0;

		if (l > 0) {
			s->got = true;
			rc = watch_message(s, s->buf, l);
		}
		memmove(s->buf, nl + 1, s->len - l - 1);
		s->len -= l + 1;
		if (rc != 0) {
			s->cb_r = rc;
			s->done = true;
			return 0;
		}
	}
	return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sink *s = arg;

	if (s->stop && *s->stop)
		return 1;
	if (s->deadline && now_ms() >= s->deadline) {
		s->timed_out = true;
		return 1;
	}
	return 0;
}

/* What went wrong with one endpoint, as an errno and a short text. */
static int transport_errno(CURL *c, CURLcode cc, char *what, size_t wlen, const char *ebuf)
{
	long oserr = 0;

	cl.easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(what, wlen, "timed out");
		return ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		if (oserr > 0) {
			snprintf(what, wlen, "%s", strerror((int)oserr));
			what[0] = (char)(what[0] >= 'A' && what[0] <= 'Z' ? what[0] + 32 : what[0]);
			return (int)oserr;
		}
		snprintf(what, wlen, "connection refused");
		return ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(what, wlen, "cannot resolve the host name");
		return EHOSTUNREACH;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		snprintf(what, wlen, "connection broken (%s)", cl.easy_strerror(cc));
		return ECONNRESET;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(what, wlen, "not an HTTP reply");
		return EBADMSG;
	default:
		snprintf(what, wlen, "%s", ebuf && *ebuf ? ebuf : cl.easy_strerror(cc));
		return EIO;
	}
}

/* Set handle c up to POST body to endpoint i's path, writing into s (a
 * stream when s->fn); total_ms 0 = no bound on the whole transfer. */
static void easy_prepare(struct cir_etcd *e, CURL *c, size_t i, const char *path,
			 const char *body, size_t blen, struct sink *s, long connect_ms,
			 long total_ms, char *ebuf)
{
	char url[300];

	snprintf(url, sizeof(url), "%s%s", e->ep[i], path);
	s->len = 0;
	s->too_big = false;
	cl.easy_reset(c);
	cl.easy_setopt(c, CURLOPT_URL, url);
	cl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cl.easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	cl.easy_setopt(c, CURLOPT_HTTPHEADER, e->headers);
	cl.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	cl.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	cl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (total_ms)
		cl.easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
	cl.easy_setopt(c, CURLOPT_WRITEFUNCTION, s->fn ? on_stream : on_data);
	cl.easy_setopt(c, CURLOPT_WRITEDATA, s);
	cl.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CIR_ETCD_RESP_MAX);
	if (s->stop || s->deadline) {
		cl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		cl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		cl.easy_setopt(c, CURLOPT_XFERINFODATA, s);
	}
	if (e->cacert)
		cl.easy_setopt(c, CURLOPT_CAINFO, e->cacert);
	if (e->cert)
		cl.easy_setopt(c, CURLOPT_SSLCERT, e->cert);
	if (e->key)
		cl.easy_setopt(c, CURLOPT_SSLKEY, e->key);
}

/* Record one endpoint's failure in tried[] ("EP: what; EP: what"). */
static void tried_add(char *tried, size_t size, size_t *tlen, const char *ep, const char *what)
{
	if (*tlen < size) {
		int w = snprintf(tried + *tlen, size - *tlen, "%s%s: %s", *tlen ? "; " : "", ep,
				 what);

		if (w > 0)
			*tlen += (size_t)w;
	}
}

/* A complete answer that is not 200: its text in what, its errno as the
 * result; *final when the next endpoint would not answer otherwise. */
static int http_failure(const struct sink *s, long status, char *what, size_t wlen, bool *final)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	struct cir_etcd_resp r = { 0 };
	int last;

	/* gRPC's error document, if the body is one. */
	if (cir_etcd_parse(CIR_ETCD_PUT, s->buf ? s->buf : "", s->len, &r, &e2) == 0) {
		cir_etcd_resp_free(&r);
		snprintf(what, wlen, "HTTP %ld", status);
		last = EIO;
	} else if (e2.errnum != EBADMSG && e2.errnum != EFBIG) {
		snprintf(what, wlen, "HTTP %ld: %s", status, e2.msg);
		last = e2.errnum;
	} else {
		snprintf(what, wlen, "HTTP %ld", status);
		last = EIO;
	}
	/* A server error, or this member cannot serve now (no leader, too
	 * many requests): the next may. */
	*final = status < 500 && last != EAGAIN;
	return last;
}

/*
 * POST body to path on the endpoints in turn until one answers, within
 * the client's deadline (or none when s->fn: a watch).  Returns 0 with the
 * body in s (HTTP 200), or -errno with err naming the endpoints tried.
 */
static int post(struct cir_etcd *e, const char *path, const char *body, size_t blen,
		struct sink *s, struct cir_error *err)
{
	long long start = now_ms(), deadline = start + e->timeout_ms;

	if (e->op_deadline && e->op_deadline < deadline)
		deadline = e->op_deadline;
	char tried[CIR_ERROR_MSG_MAX] = "";
	size_t tlen = 0;
	int last = EIO;

	if (!s->stop)
		s->stop = e->stop;
	for (size_t k = 0; k < e->nep; k++) {
		size_t i = (e->cur + k) % e->nep;
		char what[256], ebuf[CURL_ERROR_SIZE] = "";
		long long left = deadline - now_ms();
		long status = 0;
		CURLcode cc;

		if (left <= 0 && !s->fn) {
			if (!k)
				left = 1;
			else
				break;
		}
		easy_prepare(e, e->curl, i, path, body, blen, s,
			     (long)(s->fn || left > e->connect_ms ? e->connect_ms : left),
			     s->fn ? 0 : (long)left, ebuf);
		cc = cl.easy_perform(e->curl);
		cl.easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
		if (s->fn && (s->done || s->timed_out || (s->stop && *s->stop))) {
			e->cur = i;
			if (s->cb_r < 0)
				return cir_err_wrap(err, "etcd %s", e->ep[i]);
			return 0;
		}
		if (cc == CURLE_WRITE_ERROR && s->too_big)
			return cir_err(err, EFBIG, "etcd %s: response larger than %u bytes", e->ep[i],
				       CIR_ETCD_RESP_MAX);
		if (cc == CURLE_FILESIZE_EXCEEDED)
			return cir_err(err, EFBIG, "etcd %s: response larger than %u bytes", e->ep[i],
				       CIR_ETCD_RESP_MAX);
		if (cc == CURLE_WRITE_ERROR)
			return cir_err(err, ENOMEM, "etcd %s: out of memory", e->ep[i]);
		if (cc == CURLE_OK && status == 200) {
			e->cur = i;
			return 0;
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK && s->stop && *s->stop)
			return cir_err(err, ECANCELED, "etcd %s: stopped", e->ep[i]);
		if (cc == CURLE_OK) {
			bool final;

			last = http_failure(s, status, what, sizeof(what), &final);
			if (final)
				return cir_err(err, last, "etcd %s: %s", e->ep[i], what);
		} else {
			last = transport_errno(e->curl, cc, what, sizeof(what), ebuf);
		}
		tried_add(tried, sizeof(tried), &tlen, e->ep[i], what);
	}
	/* The next request starts at the endpoint after the first one tried:
	 * one member that accepts but does not answer (overloaded, cut off)
	 * cannot take every request's whole budget. */
	e->cur = (e->cur + 1) % e->nep;
	return cir_err(err, last, "etcd %s", tried[0] ? tried : "no endpoint answered in time");
}

/* POST a request and parse its response. */
static int call(struct cir_etcd *e, enum cir_etcd_kind kind, const char *path,
		struct cir_jgen *g, struct cir_etcd_resp *out, struct cir_error *err)
{
	struct sink s = { 0 };
	const char *body;
	size_t blen;
	int r;

	r = cir_jgen_finish(g, &body, &blen, err);
	if (r < 0)
		return r;
	r = post(e, path, body, blen, &s, err);
	if (r >= 0) {
		r = cir_etcd_parse(kind, s.buf ? s.buf : "", s.len, out, err);
		if (r < 0)
			cir_err_wrap(err, "etcd %s", e->ep[e->cur]);
	}
	free(s.buf);
	return r;
}

/* Emit key (base64 of s[0..len)) under k. */
static void gen_b64(struct cir_jgen *g, const char *k, const void *s, size_t len)
{
	_cleanup_free_ char *b = cir_base64_encode(s, len);

	cir_jgen_key(g, k);
	if (b)
		cir_jgen_str(g, b);
	else
		cir_jgen_null(g);       /* never sent: the key is checked below */
}

static void gen_i64(struct cir_jgen *g, const char *k, int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	cir_jgen_kstr(g, k, s);
}

/* key and, for a prefix, range_end = key with its last byte + 1. */
static int gen_range(struct cir_jgen *g, const char *key, bool prefix, struct cir_error *err)
{
	size_t l = strlen(key);
	_cleanup_free_ char *end = NULL;

	if (l == 0 || l > CIR_ETCD_KEY_MAX)
		return cir_err(err, EINVAL, "etcd key: empty or longer than %u bytes",
			       CIR_ETCD_KEY_MAX);
	gen_b64(g, "key", key, l);
	if (!prefix)
		return 0;
	end = strdup(key);
	if (!end)
		return cir_err(err, ENOMEM, "out of memory");
	while (l > 0 && (unsigned char)end[l - 1] == 0xff)
		l--;
	if (l == 0) {
		gen_b64(g, "range_end", "", 1);     /* "\0": everything */
		return 0;
	}
	end[l - 1]++;
	gen_b64(g, "range_end", end, l);
	return 0;
}

static int new_gen(struct cir_jgen **g, struct cir_error *err)
{
	return cir_jgen_new(g, false, err);
}

int cir_etcd_get(struct cir_etcd *e, const char *key, bool prefix, struct cir_etcd_resp *out,
		 struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r = new_gen(&g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	r = gen_range(g, key, prefix, err);
	if (r < 0)
		return r;
	cir_jgen_map_close(g);
	return call(e, CIR_ETCD_RANGE, "/v3/kv/range", g, out, err);
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
		r = new_gen(&g, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	r = gen_range(g, key, false, err);
	if (r < 0)
		return r;
	gen_b64(g, "value", value, vlen);
	if (lease)
		gen_i64(g, "lease", lease);
	cir_jgen_map_close(g);
	r = call(e, CIR_ETCD_PUT, "/v3/kv/put", g, &resp, err);
	cir_etcd_resp_free(&resp);
	return r;
}

int cir_etcd_delete(struct cir_etcd *e, const char *key, bool prefix, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cir_etcd_resp resp = { 0 };
	int r = new_gen(&g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	r = gen_range(g, key, prefix, err);
	if (r < 0)
		return r;
	cir_jgen_map_close(g);
	r = call(e, CIR_ETCD_DELETE, "/v3/kv/deleterange", g, &resp, err);
	if (r >= 0)
		r = resp.deleted > INT32_MAX ? INT32_MAX : (int)resp.deleted;
	cir_etcd_resp_free(&resp);
	return r;
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
		r = gen_range(g, op[i].key, false, err);
		if (r < 0)
			return r;
		if (op[i].kind == CIR_ETCD_OP_PUT) {
			r = check_value(op[i].vlen, err);
			if (r < 0)
				return r;
			gen_b64(g, "value", op[i].value, op[i].vlen);
			if (op[i].lease)
				gen_i64(g, "lease", op[i].lease);
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
	int r = new_gen(&g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_key(g, "compare");
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < ncmp; i++) {
		if ((unsigned int)cmp[i].target > CIR_ETCD_CMP_LEASE)
			return cir_err(err, EINVAL, "etcd txn: unknown compare");
		cir_jgen_map_open(g);
		r = gen_range(g, cmp[i].key, false, err);
		if (r < 0)
			return r;
		cir_jgen_kstr(g, "target", target[cmp[i].target]);
		cir_jgen_kstr(g, "result", "EQUAL");
		if (cmp[i].target == CIR_ETCD_CMP_VALUE) {
			r = check_value(cmp[i].vlen, err);
			if (r < 0)
				return r;
			gen_b64(g, "value", cmp[i].value, cmp[i].vlen);
		} else {
			gen_i64(g, field[cmp[i].target], cmp[i].rev);
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
	r = call(e, CIR_ETCD_TXN, "/v3/kv/txn", g, &resp, err);
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

static int lease_call(struct cir_etcd *e, enum cir_etcd_kind kind, const char *path,
		      int64_t id, int64_t ttl, struct cir_etcd_resp *out, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r = new_gen(&g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	if (kind == CIR_ETCD_LEASE_GRANT) {
		gen_i64(g, "TTL", ttl);
	} else {
		gen_i64(g, "ID", id);
	}
	cir_jgen_map_close(g);
	return call(e, kind, path, g, out, err);
}

int cir_etcd_lease_grant(struct cir_etcd *e, int64_t ttl, int64_t *id, int64_t *granted,
			 struct cir_error *err)
{
	struct cir_etcd_resp r = { 0 };
	int rc;

	if (ttl < 1 || ttl > 1000000)
		return cir_err(err, EINVAL, "lease TTL %" PRId64 ": want 1 to 1000000 seconds", ttl);
	rc = lease_call(e, CIR_ETCD_LEASE_GRANT, "/v3/lease/grant", 0, ttl, &r, err);
	if (rc < 0)
		return rc;
	*id = r.lease_id;
	if (granted)
		*granted = r.ttl;
	cir_etcd_resp_free(&r);
	return 0;
}

int cir_etcd_lease_keepalive(struct cir_etcd *e, int64_t id, int64_t *ttl,
			     struct cir_error *err)
{
	struct cir_etcd_resp r = { 0 };
	int rc = lease_call(e, CIR_ETCD_LEASE_KEEPALIVE, "/v3/lease/keepalive", id, 0, &r, err);

	if (rc < 0)
		return rc;
	/* The gateway answers an expired lease with TTL 0 (left out). */
	if (r.ttl <= 0 || r.lease_id != id)
		return cir_err(err, ENOENT, "etcd %s: lease %" PRIx64 " expired",
			       cir_etcd_endpoint(e), id);
	*ttl = r.ttl;
	return 0;
}

int cir_etcd_lease_ttl(struct cir_etcd *e, int64_t id, int64_t *ttl, int64_t *granted,
		       struct cir_error *err)
{
	struct cir_etcd_resp r = { 0 };
	int rc = lease_call(e, CIR_ETCD_LEASE_TTL, "/v3/lease/timetolive", id, 0, &r, err);

	if (rc < 0)
		return rc;
	if (r.ttl < 0)
		return cir_err(err, ENOENT, "etcd %s: lease %" PRIx64 " does not exist",
			       cir_etcd_endpoint(e), id);
	*ttl = r.ttl;
	if (granted)
		*granted = r.granted_ttl;
	return 0;
}

int cir_etcd_lease_revoke(struct cir_etcd *e, int64_t id, struct cir_error *err)
{
	struct cir_etcd_resp r = { 0 };
	int rc = lease_call(e, CIR_ETCD_LEASE_REVOKE, "/v3/lease/revoke", id, 0, &r, err);

	cir_etcd_resp_free(&r);
	if (rc == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return rc;
}

static int watch_nop(void *arg, const struct cir_etcd_resp *resp, struct cir_error *err)
{
	return 0;
}

/* The body of a watch request: key (or prefix) from start_rev (0 = now). */
static int watch_body(const char *key, bool prefix, int64_t start_rev, struct cir_jgen **g,
		      const char **body, size_t *blen, struct cir_error *err)
{
	int r = new_gen(g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(*g);
	cir_jgen_key(*g, "create_request");
	cir_jgen_map_open(*g);
	r = gen_range(*g, key, prefix, err);
	if (r < 0)
		return r;
	if (start_rev > 0)
		gen_i64(*g, "start_revision", start_rev);
	cir_jgen_map_close(*g);
	cir_jgen_map_close(*g);
	return cir_jgen_finish(*g, body, blen, err);
}

int cir_etcd_watch(struct cir_etcd *e, const char *key, bool prefix, int64_t start_rev,
		   unsigned int max_ms, volatile sig_atomic_t *stop, cir_etcd_watch_fn fn,
		   void *arg, int64_t *next_rev, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct sink s = { .e = e, .fn = fn ? fn : watch_nop, .arg = arg, .next_rev = next_rev,
			  .err = err, .stop = stop };
	const char *body;
	size_t blen;
	int r = watch_body(key, prefix, start_rev, &g, &body, &blen, err);

	if (r < 0)
		return r;
	if (next_rev && *next_rev < start_rev)
		*next_rev = start_rev;
	if (max_ms)
		s.deadline = now_ms() + max_ms;
	r = post(e, "/v3/watch", body, blen, &s, err);
	free(s.buf);
	if (r < 0)
		return r;
	return s.cb_r < 0 ? s.cb_r : 0;
}

/* ---- a watch stream driven by the caller's poll loop (multi interface) ---- */

#define STREAM_SOCKS 8

struct cir_etcd_stream {
	struct cir_etcd *e;
	CURLM *m;
	CURL *h;
	char *body;
	size_t blen;
	struct sink s;
	struct cir_error serr;       /* what fn or the parser said */
	char ebuf[CURL_ERROR_SIZE];
	struct {
		curl_socket_t fd;
		int what;            /* CURL_POLL_IN, _OUT, _INOUT */
	} sk[STREAM_SOCKS];
	size_t nsk;
	long long timer;             /* ms (monotonic) libcurl wants to run at, -1 none */
	size_t k, i;                 /* endpoints tried, the current one */
	bool added;
	char tried[CIR_ERROR_MSG_MAX];
	size_t tlen;
};

static int stream_socket(CURL *c, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct cir_etcd_stream *w = arg;
	size_t i;

	for (i = 0; i < w->nsk && w->sk[i].fd != fd; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < w->nsk)
			w->sk[i] = w->sk[--w->nsk];
		return 0;
	}
	if (i == w->nsk) {
		if (w->nsk == STREAM_SOCKS)
			return -1;      /* never: one transfer, one connection */
		w->nsk++;
	}
	w->sk[i].fd = fd;
	w->sk[i].what = what;
	return 0;
}

static int stream_timer(CURLM *m, long ms, void *arg)
{
	struct cir_etcd_stream *w = arg;

	w->timer = ms < 0 ? -1 : now_ms() + ms;
	return 0;
}

/* Start the transfer on endpoint w->i. */
static int stream_begin(struct cir_etcd_stream *w, struct cir_error *err)
{
	int running;

	w->s.len = 0;
	w->s.done = false;
	w->s.cb_r = 0;
	w->s.got = false;
	w->ebuf[0] = '\0';
	easy_prepare(w->e, w->h, w->i, "/v3/watch", w->body, w->blen, &w->s,
		     (long)w->e->connect_ms, 0, w->ebuf);
	if (cl.multi_add_handle(w->m, w->h) != CURLM_OK)
		return cir_err(err, ENOMEM, "libcurl: cannot start a transfer");
	w->added = true;
	/* Connecting starts now (non-blocking); the rest follows poll. */
	cl.multi_socket_action(w->m, CURL_SOCKET_TIMEOUT, 0, &running);
	return 0;
}

void cir_etcd_stream_close(struct cir_etcd_stream *w)
{
	if (!w)
		return;
	if (w->added)
		cl.multi_remove_handle(w->m, w->h);
	if (w->h)
		cl.easy_cleanup(w->h);
	if (w->m)
		cl.multi_cleanup(w->m);
	free(w->s.buf);
	free(w->body);
	free(w);
}

int cir_etcd_stream_open(struct cir_etcd *e, const char *key, bool prefix, int64_t start_rev,
			 cir_etcd_watch_fn fn, void *arg, int64_t *next_rev,
			 struct cir_etcd_stream **out, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cir_etcd_stream *w;
	const char *body;
	size_t blen;
	int r = watch_body(key, prefix, start_rev, &g, &body, &blen, err);

	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return cir_err(err, ENOMEM, "out of memory");
	w->e = e;
	w->timer = -1;
	w->i = e->cur;
	w->s = (struct sink){ .e = e, .fn = fn ? fn : watch_nop, .arg = arg,
			      .next_rev = next_rev, .err = &w->serr };
	w->body = malloc(blen + 1);
	w->m = cl.multi_init();
	w->h = cl.easy_init();
	if (!w->body || !w->m || !w->h) {
		cir_etcd_stream_close(w);
		return cir_err(err, ENOMEM, "out of memory");
	}
	memcpy(w->body, body, blen);
	w->body[blen] = '\0';
	w->blen = blen;
	cl.multi_setopt(w->m, CURLMOPT_SOCKETFUNCTION, stream_socket);
	cl.multi_setopt(w->m, CURLMOPT_SOCKETDATA, w);
	cl.multi_setopt(w->m, CURLMOPT_TIMERFUNCTION, stream_timer);
	cl.multi_setopt(w->m, CURLMOPT_TIMERDATA, w);
	if (next_rev && *next_rev < start_rev)
		*next_rev = start_rev;
	r = stream_begin(w, err);
	if (r < 0) {
		cir_etcd_stream_close(w);
		return r;
	}
	*out = w;
	return 0;
}

size_t cir_etcd_stream_pollfds(const struct cir_etcd_stream *w, struct pollfd *pfd, size_t max,
			       long long *wake_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < w->nsk && n < max; i++) {
		pfd[n].fd = w->sk[i].fd;
		pfd[n].events = (short)((w->sk[i].what & CURL_POLL_IN ? POLLIN : 0) |
					(w->sk[i].what & CURL_POLL_OUT ? POLLOUT : 0));
		pfd[n].revents = 0;
		n++;
	}
	if (w->timer >= 0 && w->timer < *wake_ms)
		*wake_ms = w->timer;
	return n;
}

bool cir_etcd_stream_established(const struct cir_etcd_stream *w)
{
	return w->s.got;
}

/* The transfer ended with cc: 1 (the server closed the stream), -errno, or
 * 0 when the next endpoint was started. */
static int stream_done(struct cir_etcd_stream *w, CURLcode cc, struct cir_error *err)
{
	struct cir_etcd *e = w->e;
	const char *ep = e->ep[w->i];
	char what[256];
	long status = 0;
	int last;

	cl.easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
	cl.multi_remove_handle(w->m, w->h);
	w->added = false;
	w->nsk = 0;
	w->timer = -1;
	if (w->s.done) {
		e->cur = w->i;
		if (w->s.cb_r < 0) {
			*err = w->serr;
			return cir_err_wrap(err, "etcd %s", ep);
		}
		return 1;       /* fn ended it */
	}
	if ((cc == CURLE_WRITE_ERROR && w->s.too_big) || cc == CURLE_FILESIZE_EXCEEDED)
		return cir_err(err, EFBIG, "etcd %s: response larger than %u bytes", ep,
			       CIR_ETCD_RESP_MAX);
	if (cc == CURLE_WRITE_ERROR)
		return cir_err(err, ENOMEM, "etcd %s: out of memory", ep);
	if (cc == CURLE_OK && status == 200) {
		e->cur = w->i;
		return 1;
	}
	if (w->s.got) {
		/* It was streaming: a break (a member stopped); the caller
		 * resumes from *next_rev. */
		transport_errno(w->h, cc, what, sizeof(what), w->ebuf);
		return cir_err(err, ECONNRESET, "etcd %s: watch stream broken (%s)", ep,
			       cc == CURLE_OK ? "closed" : what);
	}
	if (cc == CURLE_OK) {
		bool final;

		last = http_failure(&w->s, status, what, sizeof(what), &final);
		if (final)
			return cir_err(err, last, "etcd %s: %s", ep, what);
	} else {
		last = transport_errno(w->h, cc, what, sizeof(what), w->ebuf);
	}
	tried_add(w->tried, sizeof(w->tried), &w->tlen, ep, what);
	if (++w->k >= e->nep)
		return cir_err(err, last, "etcd %s", w->tried);
	w->i = (w->i + 1) % e->nep;
	return stream_begin(w, err);
}

int cir_etcd_stream_step(struct cir_etcd_stream *w, const struct pollfd *pfd, size_t n,
			 struct cir_error *err)
{
	CURLMsg *msg;
	int running, left;

	for (size_t i = 0; i < n; i++) {
		int ev = 0;

		if (!pfd[i].revents)
			continue;
		if (pfd[i].revents & POLLIN)
			ev |= CURL_CSELECT_IN;
		if (pfd[i].revents & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		cl.multi_socket_action(w->m, pfd[i].fd, ev, &running);
	}
	if (w->timer >= 0 && now_ms() >= w->timer) {
		w->timer = -1;
		cl.multi_socket_action(w->m, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	while ((msg = cl.multi_info_read(w->m, &left))) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == w->h)
			return stream_done(w, msg->data.result, err);
	}
	return 0;
}
