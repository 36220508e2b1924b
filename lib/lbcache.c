// SPDX-License-Identifier: Apache-2.0
/*
 * lbcache.c - the load-balancer records (lb/<name>.json: read, written,
 * removed, listed) and the record cache that lets a reader of every
 * service skip the JSON (lb/cache + lb/cache.log; the contract is in
 * lbcache.h and spec/lb.md, "The record cache").
 *
 * lb/cache: a header (magic, layout, count, payload length, FNV-1a 64 of
 * the payload) and one entry per service in name order: its length, the
 * stat stamp of the record it was read from, the service encoded field by
 * field (integers in host order: the file never leaves the host).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "lb_int.h"
#include "lbcache.h"
#include "store.h"

#define RECORD_SMALL (64u << 10)

#define CACHE_MAGIC "CIRLBC\0\1"
/* A journal longer than this: the cache is ignored until rewritten. */
#define LOG_MAX (1u << 20)
/* A cache larger than this is not read (and not written). */
#define CACHE_MAX (1u << 30)

/* The encoder below names every field of these structs: a field added to
 * them must be added to encode() and decode() (and the layout number moves,
 * so that an old cache is dropped).  The sizes catch a field forgotten. */
#if __SIZEOF_POINTER__ == 8
_Static_assert(sizeof(struct cir_lb_service) == 496 && sizeof(struct cir_lb_target) == 808,
	       "struct cir_lb_service/target changed: update lib/lbcache.c encode/decode");
#endif
#define CACHE_LAYOUT ((uint32_t)(sizeof(struct cir_lb_service) << 16 ^ sizeof(struct cir_lb_target)))

/* ------------------------------------------------------------ records */

int cir_lb_record_name(const char *name, char *buf, size_t len, struct cir_error *err)
{
	if (cir_name_check("service name", name, err) < 0)
		return -err->errnum;
	snprintf(buf, len, "%s%s", name, RECORD_SUFFIX);
	return 0;
}

static int record_read(struct cir_lb_db *db, const char *file, struct cir_lb_service *out,
		       struct cir_error *err)
{
	_cleanup_free_ char *buf = malloc(RECORD_SMALL);
	_cleanup_json_ struct cir_json *j = NULL;
	int r;

	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	if (db->fd < 0)
		return -ENOENT;  /* a read-only db of an empty store */
	r = cir_store_read(db->fd, file, buf, RECORD_SMALL, err);
	if (r == -EFBIG) {
		free(buf);
		buf = malloc(CIR_JSON_MAX + 1);
		if (!buf)
			return cir_err(err, ENOMEM, "out of memory");
		r = cir_store_read(db->fd, file, buf, CIR_JSON_MAX + 1, err);
	}
	if (r < 0)
		return r;
	db->records_read++;
	r = cir_json_parse(buf, r, &j, err);
	if (r < 0)
		return cir_err_wrap(err, "lb/%s", file);
	r = cir_lb_service_parse(cir_json_root(j), out, err);
	if (r < 0)
		return cir_err_wrap(err, "lb/%s", file);
	return 0;
}

int cir_lb_get(struct cir_lb_db *db, const char *name, struct cir_lb_service *out,
	       struct cir_error *err)
{
	struct cir_lb_service s = { 0 };
	char file[CIR_NAME_MAX + sizeof(RECORD_SUFFIX) + 1];
	int r;

	r = cir_lb_record_name(name, file, sizeof(file), err);
	if (r < 0)
		return r;
	r = record_read(db, file, &s, err);
	if (r == -ENOENT)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "service %s not found", name);
	if (r < 0)
		return r;
	if (strcmp(s.name, name) != 0) {
		cir_lb_service_clear(&s);
		return cir_err(err, EINVAL, "lb/%s: record names service %s", file, s.name);
	}
	cir_lb_service_clear(out);
	*out = s;
	return 0;
}

/* Before a record changes: its name into the journal, so that no cache
 * entry of it is trusted again.  Nothing to do without a cache. */
static int journal(struct cir_lb_db *db, const char *name, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	char line[CIR_NAME_MAX + 2];
	struct stat sb;
	size_t len;
	ssize_t w;

	if (fstatat(db->fd, CIR_LBCACHE_FILE, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return cir_err(err, errno, "lb cache: %s", strerror(errno));
	}
	len = (size_t)snprintf(line, sizeof(line), "%s\n", name);
	fd = openat(db->fd, CIR_LBCACHE_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return cir_err(err, errno, "lb cache journal: %s", strerror(errno));
	do
		w = write(fd, line, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return cir_err(err, errno, "lb cache journal: %s", strerror(errno));
	if ((size_t)w != len)
		return cir_err(err, EIO, "lb cache journal: short write");
	return 0;
}

int cir_lb_record_write(struct cir_lb_db *db, const struct cir_lb_service *s,
			struct cir_error *err)
{
	_cleanup_free_ char *doc = NULL;
	char file[CIR_NAME_MAX + sizeof(RECORD_SUFFIX) + 1];
	int r;

	r = cir_lb_record_name(s->name, file, sizeof(file), err);
	if (r < 0)
		return r;
	r = cir_lb_service_format(s, true, &doc, err);
	if (r < 0)
		return r;
	r = journal(db, s->name, err);
	if (r >= 0)
		r = cir_store_write(db->fd, file, doc, strlen(doc), err);
	return r < 0 ? cir_err_wrap(err, "service %s", s->name) : 0;
}

int cir_lb_record_remove(struct cir_lb_db *db, const char *name, struct cir_error *err)
{
	char file[CIR_NAME_MAX + sizeof(RECORD_SUFFIX) + 1];
	int r;

	r = cir_lb_record_name(name, file, sizeof(file), err);
	if (r < 0)
		return r;
	r = journal(db, name, err);
	if (r < 0)
		return r;
	return cir_store_unlink(db->fd, file, err);
}

void cir_lb_cache_drop(struct cir_lb_db *db)
{
	if (db->fd < 0)
		return;
	unlinkat(db->fd, CIR_LBCACHE_FILE, 0);
	unlinkat(db->fd, CIR_LBCACHE_LOG, 0);
}

void cir_lb_names_free(struct cir_lb_names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = ns->cap = 0;
}

static int names_add(const char *file, void *arg)
{
	struct cir_lb_names *ns = arg;
	size_t l = strlen(file), sl = strlen(RECORD_SUFFIX);

	if (l <= sl || strcmp(file + l - sl, RECORD_SUFFIX) != 0)
		return 0;
	if (ns->n == ns->cap) {
		size_t nc = ns->cap ? ns->cap * 2 : 32;
		char **nv = realloc(ns->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		ns->v = nv;
		ns->cap = nc;
	}
	ns->v[ns->n] = strndup(file, l - sl);
	if (!ns->v[ns->n])
		return -ENOMEM;
	ns->n++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cir_lb_names_list(struct cir_lb_db *db, struct cir_lb_names *ns, struct cir_error *err)
{
	int r;

	*ns = (struct cir_lb_names){ 0 };
	if (db->fd < 0)
		return 0;       /* a read-only db of an empty store */
	r = cir_store_list(db->fd, names_add, ns, err);
	if (r == -ENOMEM)
		r = cir_err(err, ENOMEM, "out of memory");
	if (r < 0) {
		cir_lb_names_free(ns);
		return r;
	}
	if (ns->n)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_names);
	return 0;
}

/* ------------------------------------------------------------ codec */

struct enc {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct enc *e, const void *p, size_t n)
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

#define PUT(e, type, v) do { type v_ = (type)(v); put((e), &v_, sizeof(v_)); } while (0)

static void put_str(struct enc *e, const char *s)
{
	size_t n = strlen(s);

	PUT(e, uint16_t, n);
	put(e, s, n);
}

static void put_addr(struct enc *e, const struct cir_lb_addr *a)
{
	PUT(e, uint8_t, a->ip.af == AF_INET6 ? 6 : a->ip.af == AF_INET ? 4 : 0);
	put(e, a->ip.addr, sizeof(a->ip.addr));
	PUT(e, uint16_t, a->port);
}

static void put_check(struct enc *e, const struct cir_lb_check *c)
{
	PUT(e, uint8_t, c->type);
	put_str(e, c->path);
	PUT(e, uint16_t, c->expect);
	PUT(e, uint32_t, c->interval_ms);
	PUT(e, uint32_t, c->timeout_ms);
	PUT(e, uint32_t, c->rise);
	PUT(e, uint32_t, c->fall);
}

static void encode(struct enc *e, const struct cir_lb_service *s)
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
	struct enc e = { 0 };

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

/* ------------------------------------------------------------ the cache */

struct stamp {
	uint64_t ino, size;
	int64_t mtime, mtime_ns, ctime, ctime_ns;
};

struct header {
	char magic[8];
	uint32_t layout;
	uint32_t count;
	uint64_t payload;
	uint64_t sum;
};

struct entry {
	const char *name;       /* into the buffer, not terminated */
	size_t name_len;
	struct stamp st;
	const unsigned char *body;
	size_t body_len;
};

struct cache {
	char *buf;              /* the whole of lb/cache */
	struct entry *e;
	size_t n;
	char *log;              /* the journal, names '\n'-terminated */
	size_t log_len;
	char **names;           /* into log, sorted */
	size_t nnames;
	bool log_present;
	struct stat log_st;     /* its identity when read */
};

static void cache_free(struct cache *c)
{
	free(c->buf);
	free(c->e);
	free(c->log);
	free(c->names);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static void stamp_of(const struct stat *sb, struct stamp *st)
{
	*st = (struct stamp){
		.ino = sb->st_ino, .size = (uint64_t)sb->st_size,
		.mtime = sb->st_mtim.tv_sec, .mtime_ns = sb->st_mtim.tv_nsec,
		.ctime = sb->st_ctim.tv_sec, .ctime_ns = sb->st_ctim.tv_nsec,
	};
}

/* Read a whole small file; -ENOENT when absent.  *sb gets its identity. */
static int slurp(int dirfd, const char *name, size_t max, char **out, size_t *len,
		 struct stat *sb)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, sb) < 0)
		return -errno;
	if (!S_ISREG(sb->st_mode) || (uint64_t)sb->st_size > max)
		return -EINVAL;
	buf = malloc((size_t)sb->st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (n < (size_t)sb->st_size) {
		ssize_t got = read(fd, buf + n, (size_t)sb->st_size - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*out = TAKE_PTR(buf);
	*len = n;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The journal's names, split in place and sorted for journalled(). */
static int journal_index(struct cache *c)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < c->log_len; i++)
		n += c->log[i] == '\n';
	c->names = calloc(n + 1, sizeof(*c->names));
	if (!c->names)
		return -ENOMEM;
	for (char *p = c->log, *nl; p < c->log + c->log_len && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		c->names[k++] = p;
	}
	c->nnames = k;
	qsort(c->names, k, sizeof(*c->names), cmp_str);
	return 0;
}

static bool journalled(const struct cache *c, const char *name)
{
	return c->nnames && bsearch(&name, c->names, c->nnames, sizeof(*c->names), cmp_str);
}

/* The journal, indexed (c->log_present when it exists).  < 0 when it is
 * unreadable or too long: then there is no cache. */
static int journal_load(struct cir_lb_db *db, struct cache *c)
{
	int r = slurp(db->fd, CIR_LBCACHE_LOG, LOG_MAX, &c->log, &c->log_len, &c->log_st);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	c->log_present = true;
	return journal_index(c);
}

/* The entry at *p (of *left bytes) into e, after prev (NULL for the
 * first): its length, stamp and name checked, names sorted and unique as
 * written.  *p and *left move past it. */
static int entry_parse(const unsigned char **p, size_t *left, struct entry *e,
		       const struct entry *prev)
{
	uint32_t elen;
	uint16_t nl;

	if (*left < sizeof(elen))
		return -EINVAL;
	memcpy(&elen, *p, sizeof(elen));
	*p += sizeof(elen);
	*left -= sizeof(elen);
	if (elen > *left || elen < sizeof(e->st) + sizeof(nl))
		return -EINVAL;
	memcpy(&e->st, *p, sizeof(e->st));
	e->body = *p + sizeof(e->st);
	e->body_len = elen - sizeof(e->st);
	memcpy(&nl, e->body, sizeof(nl));
	if (nl == 0 || nl > CIR_NAME_MAX || sizeof(nl) + nl > e->body_len)
		return -EINVAL;
	e->name = (const char *)e->body + sizeof(nl);
	e->name_len = nl;
	if (prev) {
		size_t m = prev->name_len < nl ? prev->name_len : nl;
		int cmp = memcmp(prev->name, e->name, m);

		if (cmp > 0 || (cmp == 0 && prev->name_len >= nl))
			return -EINVAL;
	}
	*p += elen;
	*left -= elen;
	return 0;
}

/* The snapshot lb/cache of len bytes in c->buf: its header and every
 * entry checked into c->e.  -EINVAL (or -ENOMEM) when it cannot be used. */
static int snapshot_parse(struct cache *c, size_t len)
{
	struct header h;
	const unsigned char *p;
	size_t left;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, c->buf, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.layout != CACHE_LAYOUT ||
	    h.payload != len - sizeof(h) ||
	    h.count > h.payload / (sizeof(uint32_t) + sizeof(struct stamp)))
		return -EINVAL;
	p = (const unsigned char *)c->buf + sizeof(h);
	left = len - sizeof(h);
	if (fnv1a(p, left) != h.sum)
		return -EINVAL;
	c->e = calloc(h.count ? h.count : 1, sizeof(*c->e));
	if (!c->e)
		return -ENOMEM;
	for (size_t i = 0; i < h.count; i++)
		if (entry_parse(&p, &left, &c->e[i], i > 0 ? &c->e[i - 1] : NULL) < 0)
			return -EINVAL;
	if (left)
		return -EINVAL;
	c->n = h.count;
	return 0;
}

/* The journal first, then the snapshot: a snapshot replaced after the
 * journal was opened is newer than the journal's start (spec/lb.md).  Any
 * fault leaves the cache empty: every record is then read as JSON. */
static void cache_load(struct cir_lb_db *db, struct cache *c)
{
	struct stat sb;
	size_t len = 0;

	*c = (struct cache){ 0 };
	if (db->fd < 0 || journal_load(db, c) < 0)
		return;
	if (slurp(db->fd, CIR_LBCACHE_FILE, CACHE_MAX, &c->buf, &len, &sb) < 0)
		return;
	if (snapshot_parse(c, len) < 0) {
		free(c->buf);
		free(c->e);
		c->buf = NULL;
		c->e = NULL;
		c->n = 0;
	}
}

/* Compare a cache entry's name with a NUL-terminated name. */
static int entry_cmp(const struct entry *e, const char *name)
{
	size_t l = strlen(name), m = e->name_len < l ? e->name_len : l;
	int cmp = memcmp(e->name, name, m);

	if (cmp)
		return cmp;
	return e->name_len < l ? -1 : e->name_len > l ? 1 : 0;
}

/* Take lb/lock without waiting (a reader refreshing the cache); -1 when
 * busy or absent. */
static int try_lock(struct cir_lb_db *db)
{
	int fd = openat(db->fd, CIR_STORE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Write the snapshot out (entries already in name order) and drop the
 * journal it covers.  Only with the lock, and only when the journal is the
 * one read at the start (no writer came between): otherwise leave it to
 * the next reader.  Best effort: a failure leaves the old state, which is
 * still correct. */
static void cache_store(struct cir_lb_db *db, const struct cache *c, struct enc *out,
			uint32_t count)
{
	_cleanup_close_ int lock = -1;
	struct header h = { .layout = CACHE_LAYOUT, .count = count };
	struct cir_error e = CIR_ERROR_INIT;
	struct stat sb;
	bool log_now;

	if (db->fd < 0 || out->oom || out->len < sizeof(h) || out->len > CACHE_MAX)
		return;
	if (!db->locked) {
		lock = try_lock(db);
		if (lock < 0)
			return;
	}
	log_now = fstatat(db->fd, CIR_LBCACHE_LOG, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	if (log_now != c->log_present ||
	    (log_now && (sb.st_ino != c->log_st.st_ino || sb.st_size != c->log_st.st_size)))
		return;
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	h.payload = out->len - sizeof(h);
	h.sum = fnv1a((const unsigned char *)out->buf + sizeof(h), h.payload);
	memcpy(out->buf, &h, sizeof(h));
	if (cir_store_write(db->fd, CIR_LBCACHE_FILE, out->buf, out->len, &e) < 0)
		return;
	if (log_now)
		unlinkat(db->fd, CIR_LBCACHE_LOG, 0);
}

/* One entry: its length, the stamp, the encoded service. */
static void put_entry(struct enc *out, const struct stamp *st, const void *body, size_t len)
{
	PUT(out, uint32_t, sizeof(*st) + len);
	put(out, st, sizeof(*st));
	put(out, body, len);
}

/* The cache entry of name, if any: c's entries are in name order, as
 * the names listed; *k moves on from the last one found. */
static const struct entry *entry_find(const struct cache *c, size_t *k, const char *name)
{
	while (*k < c->n && entry_cmp(&c->e[*k], name) < 0)
		(*k)++;
	return *k < c->n && entry_cmp(&c->e[*k], name) == 0 ? &c->e[*k] : NULL;
}

/* Service name into s: from its cache entry e when the record's stamp
 * still matches and the journal does not name it, else from its JSON
 * record (*stale then).  Its entry is appended to out either way.  0 with
 * s filled, 1 when the record went meanwhile, < 0 on error. */
static int list_one(struct cir_lb_db *db, const struct cache *c, const struct entry *e,
		    const char *name, struct enc *out, struct cir_lb_service *s, bool *stale,
		    struct cir_error *err)
{
	char file[CIR_NAME_MAX + sizeof(RECORD_SUFFIX) + 1];
	_cleanup_free_ char *body = NULL;
	size_t blen = 0;
	struct stamp st;
	struct stat sb;
	int r;

	r = cir_lb_record_name(name, file, sizeof(file), err);
	if (r < 0)
		return r;
	/* The stamp before the read: a record replaced in between is
	 * stored with the older stamp, and read again next time. */
	if (fstatat(db->fd, file, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		*stale = true;
		return 1;       /* deleted meanwhile */
	}
	stamp_of(&sb, &st);
	if (e && memcmp(&e->st, &st, sizeof(st)) == 0 && !journalled(c, name) &&
	    cir_lbcache_decode(e->body, e->body_len, s) == 0) {
		put_entry(out, &st, e->body, e->body_len);
		return 0;
	}
	*stale = true;
	r = cir_lb_get(db, name, s, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 1;       /* deleted meanwhile */
	}
	if (r < 0)
		return r;
	if (cir_lbcache_encode(s, &body, &blen) < 0)
		out->oom = true;
	else
		put_entry(out, &st, body, blen);
	return 0;
}

int cir_lb_list(struct cir_lb_db *db, int (*fn)(const struct cir_lb_service *s, void *arg),
		void *arg, struct cir_error *err)
{
	_cleanup_(cir_lb_names_free) struct cir_lb_names ns = { 0 };
	_cleanup_(cache_free) struct cache c = { 0 };
	struct enc out = { 0 };
	struct header h0 = { 0 };
	bool stale;
	size_t k = 0;
	int r, count = 0;

	r = cir_lb_names_list(db, &ns, err);
	if (r < 0)
		return r;
	cache_load(db, &c);
	stale = c.log_present || c.n != ns.n;
	put(&out, &h0, sizeof(h0));
	for (size_t i = 0; i < ns.n; i++) {
		_cleanup_service_ struct cir_lb_service s = { 0 };
		const struct entry *e = entry_find(&c, &k, ns.v[i]);

		r = list_one(db, &c, e, ns.v[i], &out, &s, &stale, err);
		if (r == 1)
			continue;
		if (r >= 0)
			r = fn(&s, arg);
		if (r < 0)
			goto out;
		count++;
	}
	if (stale && count >= 0)
		cache_store(db, &c, &out, (uint32_t)count);
	r = count;
out:
	free(out.buf);
	return r;
}
