// SPDX-License-Identifier: Apache-2.0
/*
 * lb_index.c - the lb store's handle (open, close, the lock, its IPVS and
 * route sockets) and the VIP index lb/vip/<ip>/<proto>-<port>.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_int.h"
#include "nl.h"

CIR_DEFINE_CLEANUP(DIR, closedir)

/* ------------------------------------------------------------ the db */

int cir_lb_db_open(struct cir_lb_db *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int fd;

	fd = cir_store_open_sub(&st, dir, CIR_LB_DIR, err);
	if (fd < 0)
		return fd;
	*db = (struct cir_lb_db)CIR_LB_DB_INIT;
	db->st = st;
	db->fd = fd;
	return 0;
}

int cir_lb_db_open_existing(struct cir_lb_db *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int r, fd;

	r = cir_store_open_existing(&st, dir, err);
	if (r < 0)
		return r;
	fd = cir_store_dir(st.fd, CIR_LB_DIR, false, err);
	if (fd < 0) {
		cir_store_close(&st);
		return fd;
	}
	*db = (struct cir_lb_db)CIR_LB_DB_INIT;
	db->st = st;
	db->fd = fd;
	return 0;
}

int cir_lb_db_open_ro(struct cir_lb_db *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int r, fd = -1;

	r = cir_store_open_sub_ro(&st, dir, CIR_LB_DIR, &fd, err);
	if (r < 0)
		return r;
	*db = (struct cir_lb_db)CIR_LB_DB_INIT;
	db->st = st;
	db->fd = fd;
	return 0;
}

void cir_lb_db_close(struct cir_lb_db *db)
{
	if (!db)
		return;
	cir_ipvs_close(db->ipvs);
	db->ipvs = NULL;
	if (db->rt)
		nl_socket_free(db->rt);
	db->rt = NULL;
	if (db->fd >= 0)
		close(db->fd);
	db->fd = -1;
	cir_store_close(&db->st);
}

int cir_lb_db_ipvs(struct cir_lb_db *db, struct cir_ipvs **out, struct cir_error *err)
{
	int r;

	if (!db->ipvs) {
		r = cir_ipvs_open(&db->ipvs, err);
		if (r < 0)
			return r;
	}
	*out = db->ipvs;
	return 0;
}

int cir_lb_db_route(struct cir_lb_db *db, struct nl_sock **out, struct cir_error *err)
{
	int r;

	if (!db->rt) {
		r = cir_nl_route_open(&db->rt, err);
		if (r < 0)
			return r;
	}
	*out = db->rt;
	return 0;
}

int cir_lb_lock(struct cir_lb_db *db, struct cir_error *err)
{
	int r = cir_store_lock(db->fd, err);

	return r < 0 ? cir_err_wrap(err, "lb lock") : r;
}

int cir_lb_path(const struct cir_lb_db *db, const char *name, char *buf, size_t len,
		struct cir_error *err)
{
	int n = snprintf(buf, len, "%s/%s/%s", db->st.path, CIR_LB_DIR, name);

	if (n < 0 || (size_t)n >= len || !db->st.path[0])
		return cir_err(err, ENAMETOOLONG, "state path %s/%s/%s: too long or unknown",
			       db->st.path, CIR_LB_DIR, name);
	return 0;
}

/* ------------------------------------------------------------ the index */

/*
 * lb/vip/<ip>/<proto>-<port> holds the name of the service that has that
 * key, so create and delete find a duplicate VIP, a shared VIP address and
 * the last service without reading any record.  lb/index marks a store
 * whose vip/ holds the key of every record; a store from before the index
 * (records, no marker) gets it built once, under the lock, by the first
 * create, delete or restore.  Every change to it is made under lb/lock.
 */
#define INDEX_DIR "vip"
#define INDEX_MARK "index"

static void index_ipdir(const struct cir_lb_addr *vip, char *buf, size_t len)
{
	cir_ip_format(&vip->ip, buf, len);
}

static void index_key(const struct cir_lb_service *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", cir_lb_proto_name(s->protocol), s->vip.port);
}

/* Open lb/vip/<ip> (create: making both as needed); -ENOENT when absent. */
static int index_open(struct cir_lb_db *db, const struct cir_lb_service *s, bool create,
		      struct cir_error *err)
{
	_cleanup_close_ int vfd = -1;
	char ip[CIR_IP_STRLEN];

	if (db->fd < 0)
		return -ENOENT;
	vfd = cir_store_dir(db->fd, INDEX_DIR, create, err);
	if (vfd < 0)
		return vfd;
	index_ipdir(&s->vip, ip, sizeof(ip));
	return cir_store_dir(vfd, ip, create, err);
}

/* Reserve s's key for s (O_EXCL).  -EEXIST when another service holds
 * it; a key already naming s (left by a create that died before writing
 * its record) is s's. */
int cir_lb_index_reserve(struct cir_lb_db *db, const struct cir_lb_service *s,
			 struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	char key[32], owner[CIR_NAME_MAX + 2];
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	fd = index_open(db, s, true, err);
	if (fd < 0)
		return cir_err_wrap(err, "lb index");
	index_key(s, key, sizeof(key));
	r = cir_store_create(fd, key, s->name, strlen(s->name), err);
	if (r == -EEXIST && cir_store_read(fd, key, owner, sizeof(owner), &e2) >= 0 &&
	    strcmp(owner, s->name) == 0) {
		cir_err_clear(err);
		return 0;
	}
	return r;
}

/*
 * Drop s's key (when it names s) and its address directory when empty.
 * *ip_shared: another service keeps this VIP address; *last: no service
 * keeps any key.  Either may be NULL.
 */
int cir_lb_index_release(struct cir_lb_db *db, const struct cir_lb_service *s, bool *ip_shared,
			 bool *last, struct cir_error *err)
{
	_cleanup_close_ int vfd = -1;
	_cleanup_(closedirp) DIR *d = NULL;
	char ip[CIR_IP_STRLEN], key[32], owner[CIR_NAME_MAX + 2];
	int fd, r;

	if (ip_shared)
		*ip_shared = false;
	if (last)
		*last = true;
	if (db->fd < 0)
		return 0;
	vfd = cir_store_dir(db->fd, INDEX_DIR, false, err);
	if (vfd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (vfd < 0)
		return vfd;
	index_ipdir(&s->vip, ip, sizeof(ip));
	index_key(s, key, sizeof(key));
	fd = cir_store_dir(vfd, ip, false, err);
	if (fd >= 0) {
		r = cir_store_read(fd, key, owner, sizeof(owner), err);
		if (r >= 0 && strcmp(owner, s->name) == 0)
			unlinkat(fd, key, 0);
		cir_err_clear(err);
		close(fd);
		if (unlinkat(vfd, ip, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			if (errno != ENOTEMPTY && errno != EEXIST)
				return cir_err(err, errno, "lb index %s: %s", ip, strerror(errno));
			if (ip_shared)
				*ip_shared = true;
		}
	} else if (fd != -ENOENT) {
		return fd;
	}
	cir_err_clear(err);
	if (last) {
		struct dirent *e;
		int dfd = fcntl(vfd, F_DUPFD_CLOEXEC, 0);

		if (dfd < 0 || !(d = fdopendir(dfd))) {
			if (dfd >= 0)
				close(dfd);
			return cir_err(err, errno, "lb index: %s", strerror(errno));
		}
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				*last = false;
				break;
			}
	}
	return 0;
}

/*
 * The service holding s's key, other than s itself, into other ("" when
 * none).  One record read: an entry whose record is gone or has another
 * key (a crash between the two writes) is stale and removed.
 */
int cir_lb_index_lookup(struct cir_lb_db *db, const struct cir_lb_service *s,
			char other[CIR_NAME_MAX + 1], struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_service_ struct cir_lb_service o = { 0 };
	char key[32], owner[CIR_NAME_MAX + 2];
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	other[0] = '\0';
	fd = index_open(db, s, false, err);
	if (fd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	index_key(s, key, sizeof(key));
	r = cir_store_read(fd, key, owner, sizeof(owner), &e2);
	if (r == -ENOENT)
		return 0;
	if (r >= 0 && strcmp(owner, s->name) == 0)
		return 0;
	if (r >= 0 && cir_name_valid(owner) && cir_lb_get(db, owner, &o, &e2) == 0 &&
	    o.protocol == s->protocol && o.vip.port == s->vip.port &&
	    cir_ip_eq(&o.vip.ip, &s->vip.ip)) {
		snprintf(other, CIR_NAME_MAX + 1, "%s", owner);
		return 0;
	}
	/* Stale (or garbled): its owner is gone. */
	if (unlinkat(fd, key, 0) < 0 && errno != ENOENT)
		return cir_err(err, errno, "lb index %s: %s", key, strerror(errno));
	return 0;
}

/* Index s when its key is free (two records with one key: the first
 * listed keeps it).  Returns 1 when its key was added, 0 when not. */
int cir_lb_index_add(struct cir_lb_db *db, const struct cir_lb_service *s, struct cir_error *err)
{
	char other[CIR_NAME_MAX + 1];
	int r;

	r = cir_lb_index_lookup(db, s, other, err);
	if (r < 0)
		return r;
	if (other[0])
		return 0;
	r = cir_lb_index_reserve(db, s, err);
	if (r == -EEXIST) {
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

int cir_lb_index_mark(struct cir_lb_db *db, struct cir_error *err)
{
	int r = cir_store_write(db->fd, INDEX_MARK, "1\n", 2, err);

	return r < 0 ? cir_err_wrap(err, "lb index") : 0;
}

struct index_build {
	struct cir_lb_db *db;
	struct cir_error *err;
	int added;
};

static int index_add_fn(const struct cir_lb_service *s, void *arg)
{
	struct index_build *ib = arg;
	int r = cir_lb_index_add(ib->db, s, ib->err);

	if (r < 0)
		return r;
	ib->added += r;
	return 0;
}

/*
 * With the lock held: make sure vip/ holds every record's key.  A store
 * with the marker is trusted (no record read); without it every record is
 * read once and, when there was any, the marker written.  (An empty store
 * gets no marker, so that records written by hand before the first
 * service are still indexed.)  Returns the number of keys added.
 */
int cir_lb_index_ensure(struct cir_lb_db *db, struct cir_error *err)
{
	struct index_build ib = { .db = db, .err = err };
	int r, n;

	if (db->fd < 0)
		return 0;
	r = cir_store_exists(db->fd, INDEX_MARK, err);
	if (r != 0)
		return r < 0 ? r : 0;
	n = cir_lb_list(db, index_add_fn, &ib, err);
	if (n < 0)
		return cir_err_wrap(err, "lb index");
	if (n > 0) {
		r = cir_lb_index_mark(db, err);
		if (r < 0)
			return r;
	}
	return ib.added;
}
