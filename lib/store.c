// SPDX-License-Identifier: Apache-2.0
/*
 * store.c - the file-locked state store: safe names, 0700 directories opened
 * without following symlinks, flock, atomic replace, O_EXCL reservation.
 *
 * Only the root path is resolved by name; everything below it goes through
 * *at() calls on directory fds with O_NOFOLLOW, so the store never follows a
 * symlink that someone planted inside it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "store.h"

#define TMP_PREFIX ".tmp-"


static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool cir_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, CIR_NAME_MAX + 1);
	if (n == 0 || n > CIR_NAME_MAX || !is_alnum(name[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
			return false;
	return true;
}

int cir_name_check(const char *what, const char *name, struct cir_error *err)
{
	char show[64];
	size_t n;

	if (!name || !name[0])
		return cir_err(err, EINVAL, "missing %s", what);
	if (cir_name_valid(name))
		return 0;
	cir_err_shown(name, show, sizeof(show));
	n = strnlen(name, CIR_NAME_MAX + 1);
	if (n > CIR_NAME_MAX)
		return cir_err(err, EINVAL, "invalid %s \"%s\": longer than %d bytes", what, show,
			       CIR_NAME_MAX);
	if (strchr(name, '/'))
		return cir_err(err, EINVAL, "invalid %s \"%s\": contains '/'", what, show);
	if (!is_alnum(name[0]))
		return cir_err(err, EINVAL, "invalid %s \"%s\": must start with a letter or digit",
			       what, show);
	return cir_err(err, EINVAL, "invalid %s \"%s\": only letters, digits, '_', '.' and '-' allowed",
		       what, show);
}

bool cir_store_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, NAME_MAX + 1);
	if (n == 0 || n > NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= 0x20 || name[i] >= 0x7f || name[i] == '/')
			return false;
	return true;
}

static int check_store_name(const char *name, struct cir_error *err)
{
	char show[64];

	if (cir_store_name_valid(name))
		return 0;
	return cir_err(err, EINVAL, "invalid state file name \"%s\"",
		       name ? cir_err_shown(name, show, sizeof(show)) : "(null)");
}

const char *cir_store_root(const char *dir)
{
	const char *env;

	if (dir && dir[0])
		return dir;
	env = getenv(CIR_STORE_ENV);
	if (env && env[0])
		return env;
	return CIR_STORE_DEFAULT_ROOT;
}

/* mkdir -p for every component of path before the last one. */
static int mkdir_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int r = -errno;

			*p = '/';
			return r;
		}
		*p = '/';
	}
	return 0;
}

/* Explain a failed O_NOFOLLOW|O_DIRECTORY open of what (a symlink or not). */
static int dir_open_error(struct cir_error *err, int errnum, const char *what,
			  const char *name, int dirfd)
{
	struct stat sb;

	if ((errnum == ELOOP || errnum == ENOTDIR) &&
	    fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(sb.st_mode))
			return cir_err(err, ELOOP, "%s: is a symlink", what);
		if (!S_ISDIR(sb.st_mode))
			return cir_err(err, ENOTDIR, "%s: not a directory", what);
	}
	return cir_err(err, errnum, "%s: %s", what, strerror(errnum));
}

/* Open the root; with create, mkdir -p it first. */
static int store_open(struct cir_store *st, const char *dir, bool create, struct cir_error *err)
{
	const char *root = cir_store_root(dir);
	char path[PATH_MAX], what[PATH_MAX + 32];
	size_t n = strlen(root);
	int fd, r;

	snprintf(what, sizeof(what), "state directory %s", root);
	if (root[0] != '/')
		return cir_err(err, EINVAL, "%s: not an absolute path", what);
	if (n >= sizeof(path))
		return cir_err(err, ENAMETOOLONG, "%s: path too long", what);
	memcpy(path, root, n + 1);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';

	if (n > 1 && create) {
		r = mkdir_parents(path);
		if (r < 0)
			return cir_err(err, r, "%s: %s", what, strerror(-r));
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return cir_err(err, errno, "%s: %s", what, strerror(errno));
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dir_open_error(err, errno, what, path, AT_FDCWD);
	st->fd = fd;
	snprintf(st->path, sizeof(st->path), "%s", path);
	return 0;
}

/* dataDir's text: absolute, not too long, no "." or ".." component. */
static int data_dir_path_check(const char *dir, struct cir_error *err)
{
	if (dir[0] != '/')
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "dataDir %s: not an absolute path", dir);
	if (strlen(dir) >= PATH_MAX)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, ENAMETOOLONG,
				    "dataDir: path too long");
	for (const char *p = dir; *p;) {
		size_t l;

		while (*p == '/')
			p++;
		l = strcspn(p, "/");
		if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "dataDir %s: \".\" and \"..\" components are refused", dir);
		p += l;
	}
	return 0;
}

/* Make dataDir, which is not there: only its last component is ever made,
 * so a config cannot have root build a path of directories wherever it
 * likes. */
static int data_dir_make(const char *dir, struct cir_error *err)
{
	char parent[PATH_MAX];
	size_t n = strlen(dir);
	struct stat sb;

	memcpy(parent, dir, n + 1);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	*strrchr(parent, '/') = '\0';
	if (stat(parent[0] ? parent : "/", &sb) < 0 || !S_ISDIR(sb.st_mode))
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, ENOENT,
				    "dataDir %s: its parent directory does not exist", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return cir_err(err, errno, "dataDir %s: %s", dir, strerror(errno));
	return 0;
}

/* dataDir is a real directory (no link), ours and private. */
static int data_dir_owner_check(const char *dir, struct cir_error *err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;

	if (fd < 0) {
		char what[PATH_MAX + 16];
		int e = errno;

		snprintf(what, sizeof(what), "dataDir %s", dir);
		e = dir_open_error(err, e, what, dir, AT_FDCWD);
		if (err)
			err->code = CIR_CNI_INVALID_CONFIG;
		return e;
	}
	if (fstat(fd, &sb) < 0)
		return cir_err(err, errno, "dataDir %s: %s", dir, strerror(errno));
	if (sb.st_uid != geteuid() || (sb.st_mode & 077))
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EPERM,
				    "dataDir %s: owned by uid %u with mode %04o; it must be "
				    "owned by uid %u and private (mode 0700)", dir,
				    (unsigned int)sb.st_uid, (unsigned int)(sb.st_mode & 07777),
				    (unsigned int)geteuid());
	return 0;
}

int cir_store_data_dir_check(const char *dir, bool create, struct cir_error *err)
{
	struct stat sb;
	int r;

	if (!dir || !*dir)
		return 0;
	r = data_dir_path_check(dir, err);
	if (r < 0)
		return r;
	if (stat(dir, &sb) < 0) {
		if (errno != ENOENT || !create)
			return cir_err(err, errno, "dataDir %s: %s", dir, strerror(errno));
		r = data_dir_make(dir, err);
		if (r < 0)
			return r;
	}
	return data_dir_owner_check(dir, err);
}

bool cir_store_root_explicit(const char *dir)
{
	const char *env = getenv(CIR_STORE_ENV);

	return (dir && dir[0]) || (env && env[0]);
}

int cir_store_openf(struct cir_store *st, const char *dir, const char *sub,
		    enum cir_store_mode mode, int *subfd, struct cir_error *err)
{
	struct cir_store s = CIR_STORE_INIT;
	bool create = mode == CIR_STORE_CREATE, ro = mode == CIR_STORE_READ_ONLY;
	int r, fd = -1;

	r = store_open(&s, dir, create, err);
	if (r == -ENOENT && ro && !cir_store_root_explicit(dir)) {
		/* Nothing was ever stored on this host. */
		cir_err_clear(err);
		r = 0;
		sub = NULL;
	}
	if (r < 0)
		return r;
	if (sub) {
		fd = cir_store_dir(s.fd, sub, create, err);
		if (fd == -ENOENT && ro) {
			cir_err_clear(err);
			fd = -1;
		} else if (fd < 0) {
			cir_store_close(&s);
			return ro ? cir_err_wrap(err, "state directory %s", cir_store_root(dir)) : fd;
		}
	}
	*st = s;
	if (subfd)
		*subfd = fd;
	return 0;
}

void cir_store_close(struct cir_store *st)
{
	if (st && st->fd >= 0) {
		close(st->fd);
		st->fd = -1;
	}
}

int cir_store_dir(int dirfd, const char *name, bool create, struct cir_error *err)
{
	char what[NAME_MAX + 32];
	int fd, r;

	r = check_store_name(name, err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "directory %s", name);
	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return cir_err(err, errno, "%s: %s", what, strerror(errno));
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dir_open_error(err, errno, what, name, dirfd);
	return fd;
}

int cir_store_lock(int dirfd, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;

	fd = openat(dirfd, CIR_STORE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return cir_err(err, errno, "lock file: %s", strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return cir_err(err, errno, "lock: %s", strerror(errno));
	}
	return TAKE_FD(fd);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Write, optionally fsync, and close fd (closed in every case). */
static int fill_and_close(int fd, const void *buf, size_t len, bool sync)
{
	int r = write_all(fd, buf, len);

	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

int cir_store_write(int dirfd, const char *name, const void *buf, size_t len,
		    struct cir_error *err)
{
	static unsigned int counter;
	char tmp[64];
	int fd = -1, r;

	r = check_store_name(name, err);
	if (r < 0)
		return r;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld-%u", (long)getpid(), counter++);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno != EEXIST)
			return cir_err(err, errno, "write %s: %s", name, strerror(errno));
	}
	if (fd < 0)
		return cir_err(err, EEXIST, "write %s: no free temporary name", name);
	r = fill_and_close(fd, buf, len, true);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return cir_err(err, r, "write %s: %s", name, strerror(-r));
	}
	return 0;
}

int cir_store_overwrite(int dirfd, const char *name, const void *buf, size_t len,
			struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat sb;
	ssize_t w;
	int r;

	r = check_store_name(name, err);
	if (r < 0)
		return r;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0 && errno != ENXIO)   /* ENXIO: a FIFO without a reader */
		return cir_err(err, errno, "write %s: %s", name, strerror(errno));
	/* O_NOFOLLOW stops symlinks, not hard links: a name planted as a
	 * second link of some other file (or a device or FIFO) is never
	 * written through.  Replace the name instead: a new inode, by rename. */
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_nlink != 1)
		return cir_store_write(dirfd, name, buf, len, err);
	do
		w = pwrite(fd, buf, len, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return cir_err(err, errno, "write %s: %s", name, strerror(errno));
	if ((size_t)w != len)
		return cir_err(err, EIO, "write %s: short write", name);
	if (ftruncate(fd, (off_t)len) < 0)
		return cir_err(err, errno, "write %s: %s", name, strerror(errno));
	return 0;
}

int cir_store_link(int olddirfd, const char *oldname, int newdirfd, const char *newname,
		   struct cir_error *err)
{
	int r;

	r = check_store_name(oldname, err);
	if (r < 0)
		return r;
	r = check_store_name(newname, err);
	if (r < 0)
		return r;
	if (linkat(olddirfd, oldname, newdirfd, newname, 0) < 0)
		return cir_err(err, errno, "link %s: %s", newname, strerror(errno));
	return 0;
}

int cir_store_same_file(int dirfd_a, const char *a, int dirfd_b, const char *b,
			struct cir_error *err)
{
	struct stat sa, sb;
	int r;

	r = check_store_name(a, err);
	if (r < 0)
		return r;
	r = check_store_name(b, err);
	if (r < 0)
		return r;
	if (fstatat(dirfd_a, a, &sa, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : cir_err(err, errno, "stat %s: %s", a, strerror(errno));
	if (fstatat(dirfd_b, b, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : cir_err(err, errno, "stat %s: %s", b, strerror(errno));
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cir_store_create(int dirfd, const char *name, const void *buf, size_t len,
		     struct cir_error *err)
{
	int fd, r;

	r = check_store_name(name, err);
	if (r < 0)
		return r;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return cir_err(err, errno, "create %s: %s", name, strerror(errno));
	r = fill_and_close(fd, buf, len, false);
	if (r < 0) {
		unlinkat(dirfd, name, 0);
		return cir_err(err, r, "create %s: %s", name, strerror(-r));
	}
	return 0;
}

int cir_store_read(int dirfd, const char *name, char *buf, size_t size,
		   struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat sb;
	size_t n = 0;
	int r;

	r = check_store_name(name, err);
	if (r < 0)
		return r;
	if (size < 1 || size > INT_MAX)
		return cir_err(err, EINVAL, "read %s: bad buffer size", name);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return cir_err(err, errno, "read %s: %s", name, strerror(errno));
	if (fstat(fd, &sb) < 0)
		return cir_err(err, errno, "read %s: %s", name, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return cir_err(err, EINVAL, "read %s: not a regular file", name);
	for (;;) {
		ssize_t got = read(fd, buf + n, size - n);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return cir_err(err, errno, "read %s: %s", name, strerror(errno));
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == size)
			return cir_err(err, EFBIG, "read %s: larger than %zu bytes", name, size - 1);
	}
	buf[n] = '\0';
	return (int)n;
}

int cir_store_exists(int dirfd, const char *name, struct cir_error *err)
{
	struct stat sb;
	int r;

	r = check_store_name(name, err);
	if (r < 0)
		return r;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return cir_err(err, errno, "stat %s: %s", name, strerror(errno));
}

int cir_store_unlink(int dirfd, const char *name, struct cir_error *err)
{
	int r;

	r = check_store_name(name, err);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, 0) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return cir_err(err, errno, "remove %s: %s", name, strerror(errno));
}
