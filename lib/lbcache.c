// SPDX-License-Identifier: Apache-2.0
/*
 * lbcache.c - the record cache that lets a reader of every service skip
 * the JSON (lb/cache + lb/cache.log; the contract is in lbcache.h and
 * spec/lb.md, "The record cache"): loaded, checked against the records'
 * stamps and the journal, rewritten by a reader (cir_lb_list).  The
 * records themselves are lib/lbcache_records.c's, the entries' codec
 * lib/lbcache_codec.c's.
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

#define CACHE_MAGIC "CIRLBC\0\1"
/* A journal longer than this: the cache is ignored until rewritten. */
#define LOG_MAX (1u << 20)
/* A cache larger than this is not read (and not written). */
#define CACHE_MAX (1u << 30)
/* Moves when struct cir_lb_service or cir_lb_target changes size (see
 * lib/lbcache_codec.c): an old cache is then dropped. */
#define CACHE_LAYOUT ((uint32_t)(sizeof(struct cir_lb_service) << 16 ^ sizeof(struct cir_lb_target)))

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
static void cache_store(struct cir_lb_db *db, const struct cache *c, struct cir_lbcache_buf *out,
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
static void put_entry(struct cir_lbcache_buf *out, const struct stamp *st, const void *body,
		      size_t len)
{
	uint32_t n = (uint32_t)(sizeof(*st) + len);

	cir_lbcache_put(out, &n, sizeof(n));
	cir_lbcache_put(out, st, sizeof(*st));
	cir_lbcache_put(out, body, len);
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
		    const char *name, struct cir_lbcache_buf *out, struct cir_lb_service *s, bool *stale,
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
	struct cir_lbcache_buf out = { 0 };
	struct header h0 = { 0 };
	bool stale;
	size_t k = 0;
	int r, count = 0;

	r = cir_lb_names_list(db, &ns, err);
	if (r < 0)
		return r;
	cache_load(db, &c);
	stale = c.log_present || c.n != ns.n;
	cir_lbcache_put(&out, &h0, sizeof(h0));
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
