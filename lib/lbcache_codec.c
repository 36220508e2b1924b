// SPDX-License-Identifier: Apache-2.0
/*
 * lbcache_codec.c - the record cache's entry codec: a service encoded
 * field by field (integers in host order: the file never leaves the host)
 * and decoded back with every length and value checked
 * (cir_lbcache_encode, cir_lbcache_decode; the cache is lib/lbcache.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "lb_int.h"
#include "lbcache.h"

/* The encoder below names every field of these structs: a field added to
 * them must be added to encode() and decode() (and the layout number moves,
 * so that an old cache is dropped).  The sizes catch a field forgotten. */
#if __SIZEOF_POINTER__ == 8
_Static_assert(sizeof(struct cir_lb_service) == 496 && sizeof(struct cir_lb_target) == 808,
	       "struct cir_lb_service/target changed: update lib/lbcache.c encode/decode");
#endif

void cir_lbcache_put(struct cir_lbcache_buf *e, const void *p, size_t n)
{
	if (e->oom)
		return;
	if (e->len + n > e->cap) {
		size_t nc = e->cap ? e->cap : 4096;
		char *nb;

		while (nc < e->len + n)
			nc *= 2;
		nb = realloc(e->buf, nc);
		if (!nb) {
			e->oom = true;
			return;
		}
		e->buf = nb;
		e->cap = nc;
	}
	memcpy(e->buf + e->len, p, n);
	e->len += n;
}

#define PUT(e, type, v) do { type v_ = (type)(v); cir_lbcache_put((e), &v_, sizeof(v_)); } while (0)

static void put_str(struct cir_lbcache_buf *e, const char *s)
{
	size_t n = strlen(s);

	PUT(e, uint16_t, n);
	cir_lbcache_put(e, s, n);
}

static void put_addr(struct cir_lbcache_buf *e, const struct cir_lb_addr *a)
{
	PUT(e, uint8_t, a->ip.af == AF_INET6 ? 6 : a->ip.af == AF_INET ? 4 : 0);
	cir_lbcache_put(e, a->ip.addr, sizeof(a->ip.addr));
	PUT(e, uint16_t, a->port);
}

static void put_check(struct cir_lbcache_buf *e, const struct cir_lb_check *c)
{
	PUT(e, uint8_t, c->type);
	put_str(e, c->path);
	PUT(e, uint16_t, c->expect);
	PUT(e, uint32_t, c->interval_ms);
	PUT(e, uint32_t, c->timeout_ms);
	PUT(e, uint32_t, c->rise);
	PUT(e, uint32_t, c->fall);
}

static void encode(struct cir_lbcache_buf *e, const struct cir_lb_service *s)
{
	put_str(e, s->name);
	PUT(e, uint8_t, s->backend);
	PUT(e, uint8_t, s->mode);
	put_addr(e, &s->vip);
	PUT(e, uint16_t, s->protocol);
	put_str(e, s->sched);
	PUT(e, uint32_t, s->persistent);
	PUT(e, uint8_t, (s->mh_fallback ? 1 : 0) | (s->mh_port ? 2 : 0) | (s->cluster ? 4 : 0));
	PUT(e, int64_t, s->created);
	put_check(e, &s->check);
	PUT(e, uint32_t, s->n_targets);
	for (size_t i = 0; i < s->n_targets; i++) {
		const struct cir_lb_target *t = &s->targets[i];

		put_addr(e, &t->addr);
		PUT(e, uint32_t, t->weight);
		PUT(e, uint8_t, t->down);
		put_str(e, t->error);
		PUT(e, int64_t, t->since);
		put_check(e, &t->check);
		PUT(e, uint8_t, t->method);
		put_str(e, t->bridge);
		put_str(e, t->owner.network);
		put_str(e, t->owner.cid);
		put_str(e, t->owner.ifname);
	}
}

int cir_lbcache_encode(const struct cir_lb_service *s, char **out, size_t *len)
{
	struct cir_lbcache_buf e = { 0 };

	encode(&e, s);
	if (e.oom) {
		free(e.buf);
		return -ENOMEM;
	}
	*out = e.buf;
	*len = e.len;
	return 0;
}

struct dec {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static void get(struct dec *d, void *out, size_t n)
{
	if (d->bad || d->left < n) {
		d->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, d->p, n);
	d->p += n;
	d->left -= n;
}

#define GET(d, type, dst) do { type v_; get((d), &v_, sizeof(v_)); (dst) = v_; } while (0)

/* A string into dst (size bytes): too long or holding a NUL is bad. */
static void get_str(struct dec *d, char *dst, size_t size)
{
	uint16_t n;

	GET(d, uint16_t, n);
	if (d->bad || n >= size || d->left < n || memchr(d->p, '\0', n)) {
		d->bad = true;
		dst[0] = '\0';
		return;
	}
	memcpy(dst, d->p, n);
	dst[n] = '\0';
	d->p += n;
	d->left -= n;
}

static void get_addr(struct dec *d, struct cir_lb_addr *a)
{
	uint8_t fam;

	GET(d, uint8_t, fam);
	a->ip.af = fam == 6 ? AF_INET6 : fam == 4 ? AF_INET : 0;
	if (!a->ip.af)
		d->bad = true;
	get(d, a->ip.addr, sizeof(a->ip.addr));
	GET(d, uint16_t, a->port);
}

static void get_check(struct dec *d, struct cir_lb_check *c)
{
	uint8_t type;

	GET(d, uint8_t, type);
	if (type > CIR_LB_CHECK_EXEC)
		d->bad = true;
	c->type = (enum cir_lb_check_type)type;
	get_str(d, c->path, sizeof(c->path));
	GET(d, uint16_t, c->expect);
	GET(d, uint32_t, c->interval_ms);
	GET(d, uint32_t, c->timeout_ms);
	GET(d, uint32_t, c->rise);
	GET(d, uint32_t, c->fall);
}

int cir_lbcache_decode(const void *buf, size_t len, struct cir_lb_service *out)
{
	_cleanup_service_ struct cir_lb_service s = { 0 };
	struct dec d = { .p = buf, .left = len };
	uint8_t u8, flags;
	uint32_t n;

	get_str(&d, s.name, sizeof(s.name));
	GET(&d, uint8_t, u8);
	if (u8 >= CIR_LB_BACKENDS)
		d.bad = true;
	s.backend = (enum cir_lb_backend)u8;
	GET(&d, uint8_t, u8);
	if (u8 > CIR_LB_MODE_HTTP)
		d.bad = true;
	s.mode = (enum cir_lb_mode)u8;
	get_addr(&d, &s.vip);
	GET(&d, uint16_t, s.protocol);
	get_str(&d, s.sched, sizeof(s.sched));
	GET(&d, uint32_t, s.persistent);
	GET(&d, uint8_t, flags);
	s.mh_fallback = flags & 1;
	s.mh_port = flags & 2;
	s.cluster = flags & 4;
	GET(&d, int64_t, s.created);
	get_check(&d, &s.check);
	GET(&d, uint32_t, n);
	if (d.bad || n > CIR_LB_TARGETS_MAX || !cir_name_valid(s.name))
		return -EINVAL;
	if (n) {
		s.targets = calloc(n, sizeof(*s.targets));
		if (!s.targets)
			return -ENOMEM;
		s.n_targets = n;
	}
	for (size_t i = 0; i < n && !d.bad; i++) {
		struct cir_lb_target *t = &s.targets[i];

		get_addr(&d, &t->addr);
		GET(&d, uint32_t, t->weight);
		GET(&d, uint8_t, u8);
		t->down = u8 != 0;
		get_str(&d, t->error, sizeof(t->error));
		GET(&d, int64_t, t->since);
		get_check(&d, &t->check);
		GET(&d, uint8_t, u8);
		t->method = (enum cir_ipvs_fwd)u8;
		get_str(&d, t->bridge, sizeof(t->bridge));
		get_str(&d, t->owner.network, sizeof(t->owner.network));
		get_str(&d, t->owner.cid, sizeof(t->owner.cid));
		get_str(&d, t->owner.ifname, sizeof(t->owner.ifname));
	}
	if (d.bad || d.left)
		return -EINVAL;
	cir_lb_service_clear(out);
	*out = s;
	s = (struct cir_lb_service){ 0 };
	return 0;
}
