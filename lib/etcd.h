/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd.h - an etcd v3 client over its JSON gateway (HTTP POST + JSON, keys
 * and values base64), the only door to libcurl.
 *
 * A client holds a list of endpoints ("http://10.0.0.1:2379"), TLS and
 * token options and its time bounds.  Every request tries the endpoint
 * that last answered first, then the others in order, within one overall
 * deadline (timeout_ms, default 5000; each connect at most connect_ms,
 * default 1000): a request never takes longer than timeout_ms, and its
 * error names every endpoint it tried ("etcd http://10.0.0.1:2379:
 * connection refused").  Responses are capped (CIR_ETCD_RESP_MAX in all,
 * CIR_ETCD_VALUE_MAX per value, CIR_ETCD_KEY_MAX per key): anything
 * larger, malformed, of the wrong type or out of range is an error, never
 * a crash (tests/fuzz/etcd_resp.c).
 *
 * libcurl is initialised on the first cir_etcd_open() only: a process that
 * never opens a client (no cluster configured) never calls libcurl.
 * Errors: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH ... from the transport,
 * -EBADMSG for a malformed response, -EFBIG for an oversized one, -ENOENT
 * for gRPC NotFound (an expired lease), -EACCES for auth failures, -EIO for
 * any other error etcd reports.  Library code: nothing printed.
 */
#ifndef CIR_ETCD_H
#define CIR_ETCD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CIR_ETCD_RESP_MAX (64u << 20)   /* one response (one watch message) */
#define CIR_ETCD_VALUE_MAX (1u << 20)   /* one decoded value */
#define CIR_ETCD_KEY_MAX 4096u          /* one decoded key */
#define CIR_ETCD_ENDPOINTS_MAX 16
#define CIR_ETCD_CONNECT_MS 1000u
#define CIR_ETCD_TIMEOUT_MS 5000u

struct cir_etcd_opts {
	const char *endpoints;       /* "URL[,URL...]", http:// or https:// */
	const char *cacert;          /* PEM file: CAs to verify the server, NULL = system's */
	const char *cert, *key;      /* client certificate and key (PEM), NULL = none */
	const char *token;           /* sent as the Authorization header, NULL = none */
	unsigned int connect_ms;     /* 0 = CIR_ETCD_CONNECT_MS */
	unsigned int timeout_ms;     /* whole request, all endpoints: 0 = CIR_ETCD_TIMEOUT_MS */
};

struct cir_etcd;

/*
 * Check the options and make a client (no request is sent).  -EINVAL for
 * an endpoint that is not http(s)://HOST[:PORT] or for too many of them.
 */
int cir_etcd_open(struct cir_etcd **out, const struct cir_etcd_opts *o, struct cir_error *err);
void cir_etcd_close(struct cir_etcd *e);
static inline void cir_etcd_closep(struct cir_etcd **e)
{
	if (*e)
		cir_etcd_close(*e);
}
#define _cleanup_etcd_ __attribute__((cleanup(cir_etcd_closep)))

/* Bound every request from now on to end within ms from now (an operation
 * of several requests stays within one budget); 0 lifts the bound. */
void cir_etcd_set_deadline(struct cir_etcd *e, unsigned int ms);

/* While *stop is set, requests in flight give up (-ECANCELED "stopped")
 * within about a second; NULL: never. */
void cir_etcd_set_stop(struct cir_etcd *e, volatile sig_atomic_t *stop);

/* The endpoint that answered last (or the first one). */
const char *cir_etcd_endpoint(const struct cir_etcd *e);

/* One key-value; key and value are NUL-terminated copies (they may also
 * hold NUL bytes: use the lengths). */
struct cir_etcd_kv {
	char *key;
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_rev, mod_rev, version, lease;
	bool deleted;                /* watch events: a DELETE */
};

/* A parsed response; which fields are set depends on the request. */
struct cir_etcd_resp {
	int64_t revision;            /* header.revision */
	struct cir_etcd_kv *kvs;     /* range; txn's range; watch events */
	size_t nkvs;
	int64_t count;               /* range: total matching */
	bool more;
	bool succeeded;              /* txn */
	int64_t deleted;             /* deleterange */
	int64_t lease_id, ttl, granted_ttl;   /* lease calls */
	bool created, canceled;      /* watch */
	int64_t watch_id, compact_revision;
};
void cir_etcd_resp_free(struct cir_etcd_resp *r);

enum cir_etcd_kind {
	CIR_ETCD_RANGE = 0, CIR_ETCD_PUT, CIR_ETCD_TXN, CIR_ETCD_DELETE, CIR_ETCD_LEASE_GRANT,
	CIR_ETCD_LEASE_KEEPALIVE, CIR_ETCD_LEASE_TTL, CIR_ETCD_LEASE_REVOKE, CIR_ETCD_WATCH,
	CIR_ETCD_KINDS
};

/*
 * Parse the body of a response to a request of this kind (one message of
 * a watch stream).  An error document from the gateway becomes its error
 * (see above).  *out is filled only on success; free it with
 * cir_etcd_resp_free().  Exposed for the fuzz harness and tests.
 */
int cir_etcd_parse(enum cir_etcd_kind kind, const char *buf, size_t len,
		   struct cir_etcd_resp *out, struct cir_error *err);

/* Strict base64 (RFC 4648, padded).  decode: -EBADMSG on anything else;
 * *out is malloc'ed, NUL-terminated; at most max decoded bytes (-EFBIG). */
char *cir_base64_encode(const void *buf, size_t len);
int cir_base64_decode(const char *s, size_t slen, size_t max, char **out, size_t *outlen);

/* ---- requests ---- */

/* key, or every key under prefix key when prefix.  *out as cir_etcd_parse. */
int cir_etcd_get(struct cir_etcd *e, const char *key, bool prefix, struct cir_etcd_resp *out,
		 struct cir_error *err);
/* Put key = value (vlen bytes), attached to lease (0 = none). */
int cir_etcd_put(struct cir_etcd *e, const char *key, const void *value, size_t vlen,
		 int64_t lease, struct cir_error *err);
/* Delete key (or the prefix).  Returns how many keys went (>= 0). */
int cir_etcd_delete(struct cir_etcd *e, const char *key, bool prefix, struct cir_error *err);

/* ---- every key under a prefix: the one way to read a set of records ---- */

/* Called with each kv under a prefix, in key order; < 0 ends the walk
 * with that error. */
typedef int (*cir_etcd_kv_fn)(void *arg, const struct cir_etcd_kv *kv, struct cir_error *err);
/* Range every key under prefix (one read) and call fn with each kv; *rev
 * (may be NULL) gets the revision read at.  Errors as cir_etcd_get() or
 * fn's. */
int cir_etcd_range_prefix(struct cir_etcd *e, const char *prefix, cir_etcd_kv_fn fn, void *arg,
			  int64_t *rev, struct cir_error *err);

/* How cir_etcd_list() makes records of kvs. */
struct cir_etcd_list {
	size_t size;                 /* of one record */
	/* Fill rec (zeroed) from kv: 0 keeps it, anything else skips the kv
	 * (a damaged record must not hide the others; err is scratch). */
	int (*parse)(void *arg, const struct cir_etcd_kv *kv, void *rec, struct cir_error *err);
	int (*cmp)(const void *a, const void *b);   /* the order, NULL = key order */
};
/*
 * Every key under prefix as an array of records made by how (arg passed to
 * its parse): *out malloc'ed (never NULL; free() it), *n records, *rev (may
 * be NULL) the revision read at -- all set only on success.  Errors as
 * cir_etcd_get(), -ENOMEM.
 */
int cir_etcd_list(struct cir_etcd *e, const char *prefix, const struct cir_etcd_list *how,
		  void *arg, void **out, size_t *n, int64_t *rev, struct cir_error *err);

/* A compare of a transaction: target(key) == value. */
enum cir_etcd_target { CIR_ETCD_CMP_CREATE, CIR_ETCD_CMP_MOD, CIR_ETCD_CMP_VALUE,
		       CIR_ETCD_CMP_LEASE };
struct cir_etcd_cmp {
	const char *key;
	enum cir_etcd_target target;
	int64_t rev;                 /* CREATE, MOD: revision; LEASE: lease id */
	const char *value;           /* VALUE */
	size_t vlen;
};
/* One operation: put (value, lease), delete, or get (range of key). */
enum cir_etcd_opkind { CIR_ETCD_OP_PUT, CIR_ETCD_OP_DELETE, CIR_ETCD_OP_GET };
struct cir_etcd_op {
	enum cir_etcd_opkind kind;
	const char *key;
	const void *value;
	size_t vlen;
	int64_t lease;
};
/*
 * If every compare holds, run the success ops, else the failure ops.
 * Returns 1 when the compares held, 0 when not (-errno on failure).  The
 * kvs of the first get among the ops that ran land in *out (may be NULL).
 */
int cir_etcd_txn(struct cir_etcd *e, const struct cir_etcd_cmp *cmp, size_t ncmp,
		 const struct cir_etcd_op *ok, size_t nok, const struct cir_etcd_op *fail,
		 size_t nfail, struct cir_etcd_resp *out, struct cir_error *err);
/* Create key = value only if absent (create_revision == 0): 1 created,
 * 0 it exists (its current kv in *cur when cur is not NULL). */
int cir_etcd_create(struct cir_etcd *e, const char *key, const void *value, size_t vlen,
		    int64_t lease, struct cir_etcd_resp *cur, struct cir_error *err);

/* A lease of ttl seconds: *id and the TTL granted (*granted may be NULL). */
int cir_etcd_lease_grant(struct cir_etcd *e, int64_t ttl, int64_t *id, int64_t *granted,
			 struct cir_error *err);
/* One keep-alive: *ttl the TTL restored.  -ENOENT when the lease expired. */
int cir_etcd_lease_keepalive(struct cir_etcd *e, int64_t id, int64_t *ttl,
			     struct cir_error *err);
/* Seconds left (*ttl) and granted TTL (*granted, may be NULL); -ENOENT when
 * the lease does not exist (expired or revoked). */
int cir_etcd_lease_ttl(struct cir_etcd *e, int64_t id, int64_t *ttl, int64_t *granted,
		       struct cir_error *err);
/* Revoke (deleting every key attached).  An unknown lease is success. */
int cir_etcd_lease_revoke(struct cir_etcd *e, int64_t id, struct cir_error *err);

/*
 * Watch key (or the prefix) from revision start_rev (0 = from now) and call
 * fn with every message that carries events (resp->kvs, deleted set for a
 * DELETE).  Returns 0 after max_ms (0 = no limit), when *stop is set or
 * when fn returns > 0; fn returning < 0 ends the watch with that error.
 * *next_rev (may be NULL) gets the revision to resume from.  -ESTALE when
 * start_rev was compacted (resp->compact_revision tells from where).
 * Connecting follows the fail-over rules above; a stream that breaks
 * returns its error (resume with *next_rev).
 */
typedef int (*cir_etcd_watch_fn)(void *arg, const struct cir_etcd_resp *resp,
				 struct cir_error *err);
int cir_etcd_watch(struct cir_etcd *e, const char *key, bool prefix, int64_t start_rev,
		   unsigned int max_ms, volatile sig_atomic_t *stop, cir_etcd_watch_fn fn,
		   void *arg, int64_t *next_rev, struct cir_error *err);

/*
 * The same watch as a stream the caller's poll loop drives (libcurl's
 * multi interface): nothing blocks.  open starts connecting (endpoints
 * in turn from the one that answered last, each connect bounded by
 * connect_ms; no bound on the stream itself).  Before each poll, pollfds
 * fills up to max descriptors and may lower *wake_ms (monotonic ms) to
 * when libcurl's timers are due; after it, step gets the same entries with
 * their revents (call it also when nothing is ready: timers) and calls fn
 * with every message that carries events.  step returns 0 while the stream
 * runs, 1 when it ended without error (the server closed it, or fn
 * returned > 0), -errno when it failed: -ESTALE when start_rev was
 * compacted, -ECONNRESET when an established stream broke, else the
 * error naming every endpoint tried.  *next_rev (may be NULL) is kept at
 * the revision to resume from.  Close it in any state.
 */
struct cir_etcd_stream;
struct pollfd;
int cir_etcd_stream_open(struct cir_etcd *e, const char *key, bool prefix, int64_t start_rev,
			 cir_etcd_watch_fn fn, void *arg, int64_t *next_rev,
			 struct cir_etcd_stream **out, struct cir_error *err);
size_t cir_etcd_stream_pollfds(const struct cir_etcd_stream *w, struct pollfd *pfd, size_t max,
			       long long *wake_ms);
int cir_etcd_stream_step(struct cir_etcd_stream *w, const struct pollfd *pfd, size_t n,
			 struct cir_error *err);
/* Whether a message arrived (the watch was created on an endpoint). */
bool cir_etcd_stream_established(const struct cir_etcd_stream *w);
void cir_etcd_stream_close(struct cir_etcd_stream *w);

#endif
