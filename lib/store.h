/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - Circuit's on-disk state: directories, locks, atomic files.
 *
 * Everything lives under one root directory: the caller's explicit directory
 * (a CNI config's "dataDir"), else $CIRCUIT_STATE_DIR, else
 * /var/lib/circuit.  The root must be an absolute path whose last component
 * is a real directory, not a symlink; below the root every access is
 * relative to an open directory fd (openat & co.) with O_NOFOLLOW, so a
 * symlink planted inside the store is never followed.  Directories are
 * created 0700, files 0600.
 *
 * Serialise read-modify-write sequences with cir_store_lock() (flock on a
 * file named "lock" in the directory).  Replace files with
 * cir_store_write() (temp file, fsync, rename); claim a name once with
 * cir_store_create() (O_EXCL).  Names beginning with '.' are reserved for
 * temporary files; every name handed to these functions is checked by
 * cir_store_name_valid().  See spec/store.md for the layout.
 */
#ifndef CIR_STORE_H
#define CIR_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define CIR_STORE_DEFAULT_ROOT "/var/lib/circuit"
#define CIR_STORE_ENV "CIRCUIT_STATE_DIR"
#define CIR_STORE_LOCK "lock"

/* Longest network name / container id accepted by cir_name_valid(). */
#define CIR_NAME_MAX 128

struct cir_store {
	int fd;                 /* O_DIRECTORY fd of the root, -1 when closed */
	char path[PATH_MAX];    /* root path as opened */
};

#define CIR_STORE_INIT { -1, { 0 } }

/*
 * Is name a valid network name or container id?  The CNI grammar
 * [A-Za-z0-9][A-Za-z0-9_.-]* and 1..CIR_NAME_MAX bytes.  Such a name is
 * always a safe path component: no '/', never "." or "..", no leading '.'.
 */
bool cir_name_valid(const char *name);

/*
 * Same check with an error: -EINVAL and "invalid <what> "<name>": <reason>"
 * (the name shown printable and truncated).
 */
int cir_name_check(const char *what, const char *name, struct cir_error *err);

/*
 * Is name usable as a file name inside the store?  1..NAME_MAX bytes of
 * printable ASCII other than '/', not starting with '.'.
 */
bool cir_store_name_valid(const char *name);

/*
 * The root path the store would use: dir if non-NULL and non-empty, else
 * $CIRCUIT_STATE_DIR if set and non-empty, else CIR_STORE_DEFAULT_ROOT.
 */
const char *cir_store_root(const char *dir);

/* How cir_store_openf opens. */
enum cir_store_mode {
	/* Create the root (0700, like mkdir -p) and sub as needed. */
	CIR_STORE_CREATE,
	/* Never create anything: -ENOENT ("state directory X: No such file or
	 * directory") when the root or sub is absent.  For paths that must
	 * leave no trace (a CNI DEL after the network was deleted). */
	CIR_STORE_EXISTING,
	/* For commands that only look: creates nothing.  An absent root given
	 * explicitly (dir, or $CIRCUIT_STATE_DIR) is -ENOENT (a mistyped
	 * --state must not look like an empty store); an absent default root,
	 * or an absent sub, is an empty store: 0 with *subfd = -1 (and st->fd
	 * = -1 when the root is absent). */
	CIR_STORE_READ_ONLY,
};

/*
 * The one way to open the store: the root chosen by cir_store_root(dir)
 * into *st and, when sub is not NULL, its subdirectory sub (a module's
 * part of the store) into *subfd.  -EINVAL for a relative root, -ELOOP
 * when the root itself is a symlink, -ENOTDIR when it is not a directory,
 * other -errno from mkdir/open.  st and *subfd are set only on success; on
 * failure nothing stays open.  Close with close(*subfd) and
 * cir_store_close().
 */
int cir_store_openf(struct cir_store *st, const char *dir, const char *sub,
		    enum cir_store_mode mode, int *subfd, struct cir_error *err);

/* The root alone, created as needed: cir_store_openf(.., CIR_STORE_CREATE). */
static inline int cir_store_open(struct cir_store *st, const char *dir, struct cir_error *err)
{
	return cir_store_openf(st, dir, NULL, CIR_STORE_CREATE, NULL, err);
}

/*
 * The policy for a store root named by a CNI config ("dataDir"), which
 * comes from whoever wrote the config, not from the host's admin: an
 * absolute path without "." or ".." components; with create, only its last
 * component is made (0700), never its parents; and it must be a real
 * directory owned by this process's user (root) with no group or other
 * permission.  NULL or "" (no dataDir) passes.  -ENOENT when absent and
 * !create.  Call before cir_store_open(dir).
 */
int cir_store_data_dir_check(const char *dir, bool create, struct cir_error *err);

/*
 * lib/lb_index.c's three openers, until it calls cir_store_openf itself; new
 * code calls cir_store_openf.  open_existing: CIR_STORE_EXISTING, the root
 * only; open_sub: CIR_STORE_CREATE, returns the sub's fd; open_sub_ro:
 * CIR_STORE_READ_ONLY.
 */
static inline int cir_store_open_existing(struct cir_store *st, const char *dir,
					  struct cir_error *err)
{
	return cir_store_openf(st, dir, NULL, CIR_STORE_EXISTING, NULL, err);
}

static inline int cir_store_open_sub(struct cir_store *st, const char *dir, const char *sub,
				     struct cir_error *err)
{
	int fd = -1, r = cir_store_openf(st, dir, sub, CIR_STORE_CREATE, &fd, err);

	return r < 0 ? r : fd;
}

static inline int cir_store_open_sub_ro(struct cir_store *st, const char *dir, const char *sub,
					int *subfd, struct cir_error *err)
{
	return cir_store_openf(st, dir, sub, CIR_STORE_READ_ONLY, subfd, err);
}

/* Was the root chosen explicitly (dir or $CIRCUIT_STATE_DIR), not the default? */
bool cir_store_root_explicit(const char *dir);

/* Close the root fd; safe on a closed or CIR_STORE_INIT store. */
void cir_store_close(struct cir_store *st);
/* A store closed when it goes out of scope. */
#define _cleanup_store_ __attribute__((cleanup(cir_store_close)))

/*
 * Open the directory name inside dirfd, creating it 0700 when create is
 * true.  Refuses symlinks (-ELOOP) and non-directories (-ENOTDIR); -ENOENT
 * when absent and !create.  Returns the new O_DIRECTORY|O_CLOEXEC fd.
 */
int cir_store_dir(int dirfd, const char *name, bool create, struct cir_error *err);

/*
 * Take an exclusive flock on "lock" in dirfd (created 0600 if missing),
 * waiting as long as needed.  Returns the lock fd; close it to unlock.
 */
int cir_store_lock(int dirfd, struct cir_error *err);

/*
 * Atomically replace name in dirfd with buf[0..len): write a temporary
 * ".tmp-*" file 0600, fsync it, rename it over name.  On failure name is
 * left as it was and the temporary file is removed.
 */
int cir_store_write(int dirfd, const char *name, const void *buf, size_t len,
		    struct cir_error *err);

/*
 * Overwrite name in place (created 0600 if missing): pwrite at offset 0,
 * then truncate to len.  No new inode, no rename, no fsync: cheap, and
 * readers holding the lock see all or nothing, but a crash in the middle
 * may leave a torn record.  For small advisory records only (a cursor),
 * whose readers treat garbage as absent.  A name that is not a regular
 * file with exactly one link (a hard link planted to some other file, a
 * FIFO, a device) is never written through: it is replaced as by
 * cir_store_write().
 */
int cir_store_overwrite(int dirfd, const char *name, const void *buf, size_t len,
			struct cir_error *err);

/*
 * Create name with O_EXCL (0600) holding buf[0..len): a reservation.  The
 * O_EXCL open is the atomic step; the file is not fsynced (readers must
 * treat an empty or garbled file as "reserved, owner unknown").  -EEXIST
 * when name exists (callers decide whether that is an error); on any other
 * failure nothing is left behind.
 */
int cir_store_create(int dirfd, const char *name, const void *buf, size_t len,
		     struct cir_error *err);

/*
 * Hard-link oldname in olddirfd as newname in newdirfd (same file system):
 * a reservation that shares the inode, and its content, with oldname and
 * costs no new inode.  -EEXIST when newname exists, -ENOENT when oldname
 * does not.
 */
int cir_store_link(int olddirfd, const char *oldname, int newdirfd, const char *newname,
		   struct cir_error *err);

/*
 * Are a (in dirfd_a) and b (in dirfd_b) the same file (hard links of one
 * inode)?  1 yes, 0 no or either absent, -errno on other errors.  Symlinks
 * are not followed.
 */
int cir_store_same_file(int dirfd_a, const char *a, int dirfd_b, const char *b,
			struct cir_error *err);

/*
 * Read name (a regular file, not followed if a symlink) into buf, at most
 * size - 1 bytes, and NUL-terminate.  Returns the length.  -ENOENT (with a
 * message) when absent, -EFBIG when larger than size - 1.
 */
int cir_store_read(int dirfd, const char *name, char *buf, size_t size,
		   struct cir_error *err);

/* Does name exist in dirfd (any type, not followed)?  1 yes, 0 no, -errno. */
int cir_store_exists(int dirfd, const char *name, struct cir_error *err);

/* Remove the file name.  1 removed, 0 was already absent (idempotent). */
int cir_store_unlink(int dirfd, const char *name, struct cir_error *err);

/*
 * Call fn(name, data) for every entry of dirfd except ".", "..", the lock
 * file and temporary ".*" files, in directory order.  A negative return
 * from fn stops the walk and is returned.  For GC and listings only, never
 * on the ADD/DEL path.
 */
/* 1 when dirfd holds no entry but its lock and temporary (dot) files,
 * 0 when it holds one, -errno when it cannot be read. */
int cir_store_dir_empty(int dirfd);

int cir_store_list(int dirfd, int (*fn)(const char *name, void *data), void *data,
		   struct cir_error *err);

/* Read a whole file (at most CIR_STORE_DOC_MAX bytes) into a malloc'd
 * NUL-terminated buffer *out; returns its length. */
#define CIR_STORE_DOC_MAX (256u << 10)
int cir_store_read_doc(int dirfd, const char *name, char **out, struct cir_error *err);

/* The entries of dirfd that are valid names (cir_name_valid), sorted:
 * for listings in a stable order.  Free with cir_store_names_free (also
 * done on failure). */
struct cir_store_names {
	char **v;
	size_t n, cap;
};
int cir_store_names_read(int dirfd, struct cir_store_names *ns, struct cir_error *err);
void cir_store_names_free(struct cir_store_names *ns);

/*
 * Remove the directory name in dirfd and everything below it, never
 * following symlinks.  1 removed, 0 already absent.  For a whole network's
 * state when the network goes (the caller holds the locks that matter).
 */
int cir_store_remove_tree(int dirfd, const char *name, struct cir_error *err);

/*
 * A module's state of one network, <root>/<top>/<name>, removed with
 * cir_store_remove_tree() when the network goes.  0 also when <top> cannot
 * be opened (nothing was ever kept there); -errno when the tree stays.
 */
int cir_store_forget(const struct cir_store *st, const char *top, const char *name,
		     struct cir_error *err);

/*
 * Remove temporary ".tmp-*" files left in dirfd by a crash.  Call it with
 * the directory's lock held.  Returns how many were removed.
 */
int cir_store_sweep(int dirfd, struct cir_error *err);

#endif
