// SPDX-License-Identifier: Apache-2.0
/*
 * store_walk.c - walking a store directory: listings (in directory order,
 * or the valid names sorted), sweeping crash leftovers, removing a tree,
 * and reading a whole document.  Like store.c, only *at() calls on
 * directory fds, never following a symlink.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "store.h"

#define TMP_PREFIX ".tmp-"

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Walk dirfd; with dotfiles false, skip ".*" names and the lock file. */
static int walk(int dirfd, bool dotfiles, int (*fn)(const char *name, void *data),
		void *data, struct cir_error *err)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int fd, r;

	/* A fresh fd: readdir must not share the caller's file offset. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cir_err(err, errno, "list: %s", strerror(errno));
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return cir_err(err, r, "list: %s", strerror(-r));
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (dotfiles != (de->d_name[0] == '.'))
			continue;
		if (!dotfiles && !strcmp(de->d_name, CIR_STORE_LOCK))
			continue;
		r = fn(de->d_name, data);
		if (r < 0)
			return r;
	}
	if (errno)
		return cir_err(err, errno, "list: %s", strerror(errno));
	return 0;
}

int cir_store_list(int dirfd, int (*fn)(const char *name, void *data), void *data,
		   struct cir_error *err)
{
	return walk(dirfd, false, fn, data, err);
}

static int found_one(const char *name, void *data)
{
	(void)name;
	(void)data;
	return -EEXIST;         /* stop at the first entry */
}

int cir_store_dir_empty(int dirfd)
{
	struct cir_error e = CIR_ERROR_INIT;
	int r = walk(dirfd, false, found_one, NULL, &e);

	if (r == -EEXIST)
		return 0;
	return r < 0 ? r : 1;
}

struct sweep {
	int dirfd;
	int removed;
};

static int sweep_one(const char *name, void *data)
{
	struct sweep *s = data;

	if (strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
	    unlinkat(s->dirfd, name, 0) == 0)
		s->removed++;
	return 0;
}

int cir_store_sweep(int dirfd, struct cir_error *err)
{
	struct sweep s = { dirfd, 0 };
	int r;

	r = walk(dirfd, true, sweep_one, &s, err);
	return r < 0 ? r : s.removed;
}

/* Remove everything below the open directory fd (depth-limited), never
 * following a symlink. */
static int empty_dir(int fd, int depth, struct cir_error *err)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int dfd;

	if (depth > 8)
		return cir_err(err, ELOOP, "remove: store tree too deep");
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cir_err(err, errno, "remove: %s", strerror(errno));
	d = fdopendir(dfd);
	if (!d) {
		int e = errno;

		close(dfd);
		return cir_err(err, e, "remove: %s", strerror(e));
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(fd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int r;

			if (sub < 0)
				return cir_err(err, errno, "remove %s: %s", de->d_name,
					       strerror(errno));
			r = empty_dir(sub, depth + 1, err);
			close(sub);
			if (r < 0)
				return r;
			if (unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
				return cir_err(err, errno, "remove %s: %s", de->d_name,
					       strerror(errno));
		} else if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
			return cir_err(err, errno, "remove %s: %s", de->d_name, strerror(errno));
		}
	}
	return 0;
}

int cir_store_forget(const struct cir_store *st, const char *top, const char *name,
		     struct cir_error *err)
{
	struct cir_error e = CIR_ERROR_INIT;
	_cleanup_close_ int fd = cir_store_dir(st->fd, top, false, &e);
	int r;

	if (fd < 0)
		return 0;
	r = cir_store_remove_tree(fd, name, err);
	return r < 0 ? r : 0;
}

int cir_store_remove_tree(int dirfd, const char *name, struct cir_error *err)
{
	int fd, r;

	if (!cir_store_name_valid(name))
		return cir_err(err, EINVAL, "remove: invalid name");
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return cir_err(err, errno, "remove %s: %s", name, strerror(errno));
	}
	r = empty_dir(fd, 0, err);
	close(fd);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cir_err(err, errno, "remove %s: %s", name, strerror(errno));
	return 1;
}

/* ---- whole documents and sorted listings ---- */

int cir_store_read_doc(int dirfd, const char *name, char **out, struct cir_error *err)
{
	_cleanup_free_ char *buf = malloc(CIR_STORE_DOC_MAX);
	int r;

	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_store_read(dirfd, name, buf, CIR_STORE_DOC_MAX, err);
	if (r < 0)
		return r;
	*out = TAKE_PTR(buf);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cir_store_names_free(struct cir_store_names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int names_add(const char *name, void *arg)
{
	struct cir_store_names *ns = arg;

	if (!cir_name_valid(name))
		return 0;
	if (ns->n == ns->cap) {
		size_t nc = ns->cap ? ns->cap * 2 : 16;
		char **nv = realloc(ns->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		ns->v = nv;
		ns->cap = nc;
	}
	ns->v[ns->n] = strdup(name);
	if (!ns->v[ns->n])
		return -ENOMEM;
	ns->n++;
	return 0;
}

int cir_store_names_read(int dirfd, struct cir_store_names *ns, struct cir_error *err)
{
	int r;

	*ns = (struct cir_store_names){ 0 };
	r = cir_store_list(dirfd, names_add, ns, err);
	if (r == -ENOMEM)
		r = cir_err(err, ENOMEM, "out of memory");
	if (r < 0) {
		cir_store_names_free(ns);
		return r;
	}
	if (ns->n)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_names);
	return 0;
}
