// SPDX-License-Identifier: Apache-2.0
/*
 * etcd.c - the etcd v3 client over its JSON gateway: libcurl's loading,
 * the endpoints, TLS and token options, and the transport (a POST tried on
 * the endpoints in turn within one deadline).  Every libcurl call of the
 * project is in lib/etcd*.c (lib/etcd_int.h lists the modules).  Requests
 * are built with lib/json's generator (etcd_kv.c), responses parsed with
 * its tree parser (etcd_parse.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dlfcn.h>

#include "cleanup.h"
#include "etcd_int.h"

/*
 * libcurl is loaded on the first cir_etcd_open() (the way lib/nft.c loads
 * libnftables): linked, it pulled about 30 more shared libraries (TLS,
 * HTTP/2, LDAP, Kerberos...) into every Circuit process, which more than
 * doubled the start-up of a runc hook that never talks to etcd.  Every
 * libcurl call of the project goes through this table.
 */
struct cir_curl cir_curl;

/* The sonames of libcurl 4's ABI, OpenSSL's flavour first (the one the
 * headers came from: libcurl4-openssl-dev), then GnuTLS's. */
static const char *const curl_sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };

static int curl_load(struct cir_error *err)
{
	char why[200] = "";
	void *h = NULL;

	if (cir_curl.loaded)
		return 0;
	for (size_t i = 0; !h && i < sizeof(curl_sonames) / sizeof(curl_sonames[0]); i++) {
		h = dlopen(curl_sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (!h && !why[0])
			snprintf(why, sizeof(why), "%s", dlerror());
	}
	if (!h)
		return cir_err(err, ELIBACC, "etcd: cannot load libcurl.so.4 (install the libcurl4 "
			       "package; needed only with a cluster configured): %s", why);
#define SYM(f, n) (*(void **)&cir_curl.f = dlsym(h, n))
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
	cir_curl.loaded = true;       /* the handle stays open for the process */
	return 0;
}

long long cir_etcd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
		cir_curl.easy_cleanup(e->curl);
	if (e->headers)
		cir_curl.slist_free_all(e->headers);
	for (size_t i = 0; i < e->nep; i++)
		free(e->ep[i]);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e);
}

/* o->endpoints ("URL[,URL...]") into e->ep. */
static int endpoints_parse(struct cir_etcd *e, const char *list, struct cir_error *err)
{
	for (const char *p = list; *p;) {
		size_t l = strcspn(p, ",");

		/* A trailing slash is the same endpoint. */
		size_t k = l && p[l - 1] == '/' ? l - 1 : l;
		int r = endpoint_check(p, k, err);

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
	return 0;
}

/* The first libcurl call of the process: load and initialise it. */
static int curl_ready(struct cir_error *err)
{
	int r = curl_load(err);

	if (r < 0)
		return r;
	if (!cir_curl.ready) {
		if (cir_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return cir_err(err, EIO, "libcurl: initialisation failed");
		cir_curl.ready = true;
	}
	return 0;
}

static int header_add(struct cir_etcd *e, const char *line, struct cir_error *err)
{
	struct curl_slist *h = cir_curl.slist_append(e->headers, line);

	if (!h)
		return cir_err(err, ENOMEM, "out of memory");
	e->headers = h;
	return 0;
}

/* Every request's headers: the token (NULL = none), JSON. */
static int headers_make(struct cir_etcd *e, const char *token, struct cir_error *err)
{
	int r = 0;

	if (token && *token) {
		_cleanup_free_ char *h = NULL;

		if (strpbrk(token, "\r\n") || strlen(token) > 4096)
			return cir_err(err, EINVAL, "etcd token: not one line of at most 4096 bytes");
		if (asprintf(&h, "Authorization: %s", token) < 0)
			return cir_err(err, ENOMEM, "out of memory");
		r = header_add(e, h, err);
	}
	if (r >= 0)
		r = header_add(e, "Content-Type: application/json", err);
	/* No "Expect: 100-continue" round trip on larger bodies. */
	if (r >= 0)
		r = header_add(e, "Expect:", err);
	return r;
}

int cir_etcd_open(struct cir_etcd **out, const struct cir_etcd_opts *o, struct cir_error *err)
{
	_cleanup_etcd_ struct cir_etcd *e = NULL;
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
	r = endpoints_parse(e, o->endpoints, err);
	if (r < 0)
		return r;
	if ((o->cacert && !(e->cacert = strdup(o->cacert))) ||
	    (o->cert && !(e->cert = strdup(o->cert))) || (o->key && !(e->key = strdup(o->key))))
		return cir_err(err, ENOMEM, "out of memory");
	r = curl_ready(err);
	if (r >= 0)
		r = headers_make(e, o->token, err);
	if (r < 0)
		return r;
	e->curl = cir_curl.easy_init();
	if (!e->curl)
		return cir_err(err, ENOMEM, "libcurl: out of memory");
	*out = TAKE_PTR(e);
	return 0;
}

void cir_etcd_set_deadline(struct cir_etcd *e, unsigned int ms)
{
	e->op_deadline = ms ? cir_etcd_now_ms() + ms : 0;
}

void cir_etcd_set_stop(struct cir_etcd *e, volatile sig_atomic_t *stop)
{
	e->stop = stop;
}

const char *cir_etcd_endpoint(const struct cir_etcd *e)
{
	return e->ep[e->cur];
}

int cir_etcd_sink_append(struct cir_etcd_sink *s, const char *p, size_t n)
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
	struct cir_etcd_sink *s = arg;

	return cir_etcd_sink_append(s, p, size * nmemb) < 0 ? 0 : size * nmemb;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct cir_etcd_sink *s = arg;

	if (s->stop && *s->stop)
		return 1;
	if (s->deadline && cir_etcd_now_ms() >= s->deadline) {
		s->timed_out = true;
		return 1;
	}
	return 0;
}

/* What went wrong with one endpoint, as an errno and a short text. */
int cir_etcd_transport_errno(CURL *c, CURLcode cc, char *what, size_t wlen, const char *ebuf)
{
	long oserr = 0;

	cir_curl.easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
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
		snprintf(what, wlen, "connection broken (%s)", cir_curl.easy_strerror(cc));
		return ECONNRESET;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(what, wlen, "not an HTTP reply");
		return EBADMSG;
	default:
		snprintf(what, wlen, "%s", ebuf && *ebuf ? ebuf : cir_curl.easy_strerror(cc));
		return EIO;
	}
}

/* Set handle c up to POST body to endpoint i's path, writing into s (a
 * stream when s->fn); total_ms 0 = no bound on the whole transfer. */
void cir_etcd_easy_prepare(struct cir_etcd *e, CURL *c, size_t i, const char *path,
			   const char *body, size_t blen, struct cir_etcd_sink *s, long connect_ms,
			   long total_ms, char *ebuf)
{
	char url[300];

	snprintf(url, sizeof(url), "%s%s", e->ep[i], path);
	s->len = 0;
	s->too_big = false;
	cir_curl.easy_reset(c);
	cir_curl.easy_setopt(c, CURLOPT_URL, url);
	cir_curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cir_curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cir_curl.easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	cir_curl.easy_setopt(c, CURLOPT_HTTPHEADER, e->headers);
	cir_curl.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	cir_curl.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	cir_curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (total_ms)
		cir_curl.easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
	cir_curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, s->fn ? cir_etcd_on_stream : on_data);
	cir_curl.easy_setopt(c, CURLOPT_WRITEDATA, s);
	cir_curl.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CIR_ETCD_RESP_MAX);
	if (s->stop || s->deadline) {
		cir_curl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		cir_curl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		cir_curl.easy_setopt(c, CURLOPT_XFERINFODATA, s);
	}
	if (e->cacert)
		cir_curl.easy_setopt(c, CURLOPT_CAINFO, e->cacert);
	if (e->cert)
		cir_curl.easy_setopt(c, CURLOPT_SSLCERT, e->cert);
	if (e->key)
		cir_curl.easy_setopt(c, CURLOPT_SSLKEY, e->key);
}

/* Record one endpoint's failure in tried[] ("EP: what; EP: what"). */
void cir_etcd_tried_add(char *tried, size_t size, size_t *tlen, const char *ep,
			const char *what)
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
static int http_failure(const struct cir_etcd_sink *s, long status, char *what, size_t wlen,
			bool *final)
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

int cir_etcd_xfer_fatal(CURLcode cc, const struct cir_etcd_sink *s, const char *ep,
			struct cir_error *err)
{
	if ((cc == CURLE_WRITE_ERROR && s->too_big) || cc == CURLE_FILESIZE_EXCEEDED)
		return cir_err(err, EFBIG, "etcd %s: response larger than %u bytes", ep,
			       CIR_ETCD_RESP_MAX);
	if (cc == CURLE_WRITE_ERROR)
		return cir_err(err, ENOMEM, "etcd %s: out of memory", ep);
	return 0;
}

int cir_etcd_xfer_failed(CURL *c, CURLcode cc, const struct cir_etcd_sink *s, long status,
			 const char *ep, const char *ebuf, char *what, size_t wlen,
			 struct cir_error *err)
{
	bool final;
	int last;

	if (cc != CURLE_OK)
		return cir_etcd_transport_errno(c, cc, what, wlen, ebuf);
	last = http_failure(s, status, what, wlen, &final);
	return final ? cir_err(err, last, "etcd %s: %s", ep, what) : last;
}

int cir_etcd_post(struct cir_etcd *e, const char *path, const char *body, size_t blen,
		  struct cir_etcd_sink *s, struct cir_error *err)
{
	long long deadline = cir_etcd_now_ms() + e->timeout_ms;
	char tried[CIR_ERROR_MSG_MAX] = "";
	size_t tlen = 0;
	int last = EIO;

	if (e->op_deadline && e->op_deadline < deadline)
		deadline = e->op_deadline;
	if (!s->stop)
		s->stop = e->stop;
	for (size_t k = 0; k < e->nep; k++) {
		size_t i = (e->cur + k) % e->nep;
		char what[256], ebuf[CURL_ERROR_SIZE] = "";
		long long left = deadline - cir_etcd_now_ms();
		long status = 0;
		CURLcode cc;
		int r;

		if (left <= 0 && !s->fn) {
			if (k)
				break;
			left = 1;
		}
		cir_etcd_easy_prepare(e, e->curl, i, path, body, blen, s,
				      (long)(s->fn || left > e->connect_ms ? e->connect_ms : left),
				      s->fn ? 0 : (long)left, ebuf);
		cc = cir_curl.easy_perform(e->curl);
		cir_curl.easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
		if (s->fn && (s->done || s->timed_out || (s->stop && *s->stop))) {
			e->cur = i;
			return s->cb_r < 0 ? cir_err_wrap(err, "etcd %s", e->ep[i]) : 0;
		}
		r = cir_etcd_xfer_fatal(cc, s, e->ep[i], err);
		if (r < 0)
			return r;
		if (cc == CURLE_OK && status == 200) {
			e->cur = i;
			return 0;
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK && s->stop && *s->stop)
			return cir_err(err, ECANCELED, "etcd %s: stopped", e->ep[i]);
		last = cir_etcd_xfer_failed(e->curl, cc, s, status, e->ep[i], ebuf, what,
					    sizeof(what), err);
		if (last < 0)
			return last;
		cir_etcd_tried_add(tried, sizeof(tried), &tlen, e->ep[i], what);
	}
	/* The next request starts at the endpoint after the first one tried:
	 * one member that accepts but does not answer (overloaded, cut off)
	 * cannot take every request's whole budget. */
	e->cur = (e->cur + 1) % e->nep;
	return cir_err(err, last, "etcd %s", tried[0] ? tried : "no endpoint answered in time");
}

/* POST a request and parse its response. */
int cir_etcd_call(struct cir_etcd *e, enum cir_etcd_kind kind, const char *path,
		  struct cir_jgen *g, struct cir_etcd_resp *out, struct cir_error *err)
{
	struct cir_etcd_sink s = { 0 };
	const char *body;
	size_t blen;
	int r;

	r = cir_jgen_finish(g, &body, &blen, err);
	if (r < 0)
		return r;
	r = cir_etcd_post(e, path, body, blen, &s, err);
	if (r >= 0) {
		r = cir_etcd_parse(kind, s.buf ? s.buf : "", s.len, out, err);
		if (r < 0)
			cir_err_wrap(err, "etcd %s", e->ep[e->cur]);
	}
	free(s.buf);
	return r;
}
