// SPDX-License-Identifier: Apache-2.0
/*
 * etcd_watch.c - etcd watches (/v3/watch, one JSON message per line):
 * cir_etcd_watch() blocks in libcurl's easy interface; cir_etcd_stream_*
 * is the same watch driven by the caller's poll loop (the multi
 * interface).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "etcd_int.h"

/* One message of a watch stream. */
static int watch_message(struct cir_etcd_sink *s, const char *p, size_t n)
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

size_t cir_etcd_on_stream(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cir_etcd_sink *s = arg;
	size_t n = size * nmemb;
	char *nl;

	if (s->done || cir_etcd_sink_append(s, p, n) < 0)
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

static int watch_nop(void *arg, const struct cir_etcd_resp *resp, struct cir_error *err)
{
	return 0;
}

/* The body of a watch request: key (or prefix) from start_rev (0 = now). */
static int watch_body(const char *key, bool prefix, int64_t start_rev, struct cir_jgen **g,
		      const char **body, size_t *blen, struct cir_error *err)
{
	int r = cir_etcd_gen_new(g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(*g);
	cir_jgen_key(*g, "create_request");
	cir_jgen_map_open(*g);
	r = cir_etcd_gen_range(*g, key, prefix, err);
	if (r < 0)
		return r;
	if (start_rev > 0)
		cir_etcd_gen_i64(*g, "start_revision", start_rev);
	cir_jgen_map_close(*g);
	cir_jgen_map_close(*g);
	return cir_jgen_finish(*g, body, blen, err);
}

int cir_etcd_watch(struct cir_etcd *e, const char *key, bool prefix, int64_t start_rev,
		   unsigned int max_ms, volatile sig_atomic_t *stop, cir_etcd_watch_fn fn,
		   void *arg, int64_t *next_rev, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cir_etcd_sink s = { .e = e, .fn = fn ? fn : watch_nop, .arg = arg, .next_rev = next_rev,
			  .err = err, .stop = stop };
	const char *body;
	size_t blen;
	int r = watch_body(key, prefix, start_rev, &g, &body, &blen, err);

	if (r < 0)
		return r;
	if (next_rev && *next_rev < start_rev)
		*next_rev = start_rev;
	if (max_ms)
		s.deadline = cir_etcd_now_ms() + max_ms;
	r = cir_etcd_post(e, "/v3/watch", body, blen, &s, err);
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
	struct cir_etcd_sink s;
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

	w->timer = ms < 0 ? -1 : cir_etcd_now_ms() + ms;
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
	cir_etcd_easy_prepare(w->e, w->h, w->i, "/v3/watch", w->body, w->blen, &w->s,
			      (long)w->e->connect_ms, 0, w->ebuf);
	if (cir_curl.multi_add_handle(w->m, w->h) != CURLM_OK)
		return cir_err(err, ENOMEM, "libcurl: cannot start a transfer");
	w->added = true;
	/* Connecting starts now (non-blocking); the rest follows poll. */
	cir_curl.multi_socket_action(w->m, CURL_SOCKET_TIMEOUT, 0, &running);
	return 0;
}

void cir_etcd_stream_close(struct cir_etcd_stream *w)
{
	if (!w)
		return;
	if (w->added)
		cir_curl.multi_remove_handle(w->m, w->h);
	if (w->h)
		cir_curl.easy_cleanup(w->h);
	if (w->m)
		cir_curl.multi_cleanup(w->m);
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
	w->s = (struct cir_etcd_sink){ .e = e, .fn = fn ? fn : watch_nop, .arg = arg,
			      .next_rev = next_rev, .err = &w->serr };
	w->body = malloc(blen + 1);
	w->m = cir_curl.multi_init();
	w->h = cir_curl.easy_init();
	if (!w->body || !w->m || !w->h) {
		cir_etcd_stream_close(w);
		return cir_err(err, ENOMEM, "out of memory");
	}
	memcpy(w->body, body, blen);
	w->body[blen] = '\0';
	w->blen = blen;
	cir_curl.multi_setopt(w->m, CURLMOPT_SOCKETFUNCTION, stream_socket);
	cir_curl.multi_setopt(w->m, CURLMOPT_SOCKETDATA, w);
	cir_curl.multi_setopt(w->m, CURLMOPT_TIMERFUNCTION, stream_timer);
	cir_curl.multi_setopt(w->m, CURLMOPT_TIMERDATA, w);
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

	cir_curl.easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
	cir_curl.multi_remove_handle(w->m, w->h);
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
	last = cir_etcd_xfer_fatal(cc, &w->s, ep, err);
	if (last < 0)
		return last;
	if (cc == CURLE_OK && status == 200) {
		e->cur = w->i;
		return 1;
	}
	if (w->s.got) {
		/* It was streaming: a break (a member stopped); the caller
		 * resumes from *next_rev. */
		cir_etcd_transport_errno(w->h, cc, what, sizeof(what), w->ebuf);
		return cir_err(err, ECONNRESET, "etcd %s: watch stream broken (%s)", ep,
			       cc == CURLE_OK ? "closed" : what);
	}
	last = cir_etcd_xfer_failed(w->h, cc, &w->s, status, ep, w->ebuf, what, sizeof(what), err);
	if (last < 0)
		return last;
	cir_etcd_tried_add(w->tried, sizeof(w->tried), &w->tlen, ep, what);
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
		cir_curl.multi_socket_action(w->m, pfd[i].fd, ev, &running);
	}
	if (w->timer >= 0 && cir_etcd_now_ms() >= w->timer) {
		w->timer = -1;
		cir_curl.multi_socket_action(w->m, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	while ((msg = cir_curl.multi_info_read(w->m, &left))) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == w->h)
			return stream_done(w, msg->data.result, err);
	}
	return 0;
}
