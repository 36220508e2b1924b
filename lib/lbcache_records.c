// SPDX-License-Identifier: Apache-2.0
/*
 * lbcache_records.c - the load-balancer records, the truth (lb/<name>.json:
 * read, written, removed, listed).  A writer journals the name into
 * lb/cache.log before it replaces or removes a record, so that the cache
 * (lib/lbcache.c) never trusts its entry again.
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
