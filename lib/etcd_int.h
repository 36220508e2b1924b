/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd_int.h - shared by lib/etcd*.c only: what the etcd client's modules
 * use of each other beyond lib/etcd.h.  Every libcurl call of the project
 * is in these files, through the table cir_curl (libcurl is loaded on the
 * first cir_etcd_open()).
 *
 *   etcd.c         the client: libcurl's loading, endpoints, TLS and token
 *                  options, the transport (POST with fail-over and the
 *                  deadline) and one request's round trip
 *   etcd_parse.c   base64 and the parser of every response
 *   etcd_kv.c      request bodies; range, put, deleterange, txn, create,
 *                  and reading every key under a prefix
 *   etcd_lease.c   lease grant, keep-alive, time-to-live, revoke
 *   etcd_watch.c   the watch: blocking (cir_etcd_watch) and the stream the
 *                  caller's poll loop drives (libcurl's multi interface)
 */
#ifndef CIR_ETCD_INT_H
#define CIR_ETCD_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Types and constants only: libcurl is loaded at run time (etcd.c). */
#include <curl/curl.h>

#include "error.h"
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

/* libcurl's functions, resolved by cir_etcd_open() (etcd.c). */
struct cir_curl {
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
};
extern struct cir_curl cir_curl;

/* Where a response goes: a buffer, or (watch streams) fn per message. */
struct cir_etcd_sink {
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

/* ---- etcd.c: the transport ---- */

/* Monotonic clock in ms. */
long long cir_etcd_now_ms(void);
/* Append n bytes to s->buf (NUL-terminated); -1 when over
 * CIR_ETCD_RESP_MAX (s->too_big) or out of memory. */
int cir_etcd_sink_append(struct cir_etcd_sink *s, const char *p, size_t n);
/* Set handle c up to POST body to endpoint i's path, writing into s (a
 * stream when s->fn); total_ms 0 = no bound on the whole transfer. */
void cir_etcd_easy_prepare(struct cir_etcd *e, CURL *c, size_t i, const char *path,
			   const char *body, size_t blen, struct cir_etcd_sink *s,
			   long connect_ms, long total_ms, char *ebuf);
/* What went wrong with one endpoint, as an errno and a short text. */
int cir_etcd_transport_errno(CURL *c, CURLcode cc, char *what, size_t wlen, const char *ebuf);
/* Record one endpoint's failure in tried[] ("EP: what; EP: what"). */
void cir_etcd_tried_add(char *tried, size_t size, size_t *tlen, const char *ep,
			const char *what);
/* A transfer's end that no other endpoint would change: -EFBIG (the
 * response is too large) or -ENOMEM; else 0. */
int cir_etcd_xfer_fatal(CURLcode cc, const struct cir_etcd_sink *s, const char *ep,
			struct cir_error *err);
/* Endpoint ep failed (no 200; status the HTTP one): its text in what and
 * its errno (> 0: the next endpoint may answer), or -errno with err set
 * when the next would not answer otherwise (a 4xx). */
int cir_etcd_xfer_failed(CURL *c, CURLcode cc, const struct cir_etcd_sink *s, long status,
			 const char *ep, const char *ebuf, char *what, size_t wlen,
			 struct cir_error *err);
/*
 * POST body to path on the endpoints in turn until one answers, within
 * the client's deadline (or none when s->fn: a watch).  Returns 0 with the
 * body in s (HTTP 200), or -errno with err naming the endpoints tried.
 */
int cir_etcd_post(struct cir_etcd *e, const char *path, const char *body, size_t blen,
		  struct cir_etcd_sink *s, struct cir_error *err);
/* POST the request g holds and parse its response as kind. */
int cir_etcd_call(struct cir_etcd *e, enum cir_etcd_kind kind, const char *path,
		  struct cir_jgen *g, struct cir_etcd_resp *out, struct cir_error *err);

/* ---- etcd_kv.c: request bodies ---- */

static inline int cir_etcd_gen_new(struct cir_jgen **g, struct cir_error *err)
{
	return cir_jgen_new(g, false, err);
}
/* Emit k: base64 of s[0..len). */
void cir_etcd_gen_b64(struct cir_jgen *g, const char *k, const void *s, size_t len);
/* Emit k: v as the gateway's int64 (a decimal string). */
void cir_etcd_gen_i64(struct cir_jgen *g, const char *k, int64_t v);
/* key and, for a prefix, range_end = key with its last byte + 1 (the one
 * place a prefix becomes a range). */
int cir_etcd_gen_range(struct cir_jgen *g, const char *key, bool prefix, struct cir_error *err);

/* ---- etcd_watch.c ---- */

/* libcurl's write callback of a watch stream: one message per line. */
size_t cir_etcd_on_stream(char *p, size_t size, size_t nmemb, void *arg);

#endif
