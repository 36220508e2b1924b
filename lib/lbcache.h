/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lbcache.h - the load-balancer records on disk (lb/<name>.json, the
 * truth) and the record cache beside them (lb/cache, lb/cache.log), which
 * lets a reader of every service (`circuit restore`, `lb ls`, the agent)
 * read one compact file instead of parsing one JSON document per service.
 * Internal to the library: lib/lb.c is its user (spec/lb.md, "The record
 * cache").
 *
 * The cache is never the truth.  Each entry carries the stat stamp (inode,
 * size, mtime, ctime) of the record it was read from and is used only when
 * the record still has that stamp and its name is not in the journal
 * lb/cache.log, to which every writer appends the name (under lb/lock)
 * before it replaces or removes the record.  Anything else (no cache, a
 * bad checksum, a record written by hand, a name in the journal) is read
 * from the JSON record, and the cache is rewritten (temp file, rename,
 * then the journal removed) by a reader that holds lb/lock.  So a writer
 * killed at any point leaves a state from which the next reader gets the
 * records' truth.
 */
#ifndef CIR_LBCACHE_H
#define CIR_LBCACHE_H

#include <stddef.h>

#include "error.h"
#include "lb.h"

#define CIR_LBCACHE_FILE "cache"
#define CIR_LBCACHE_LOG "cache.log"

/* Sorted service names (the lb/<name>.json files present). */
struct cir_lb_names {
	char **v;
	size_t n, cap;
};

void cir_lb_names_free(struct cir_lb_names *ns);

/* Every record's service name, sorted (one directory listing). */
int cir_lb_names_list(struct cir_lb_db *db, struct cir_lb_names *ns, struct cir_error *err);

/* "<name>.json" into buf, after checking the name's grammar. */
int cir_lb_record_name(const char *name, char *buf, size_t len, struct cir_error *err);

/* Replace (or create) s's record, journalling its name first.  Lock held. */
int cir_lb_record_write(struct cir_lb_db *db, const struct cir_lb_service *s,
			struct cir_error *err);

/* Remove name's record, journalling its name first.  Lock held.  Returns 1
 * when removed, 0 when absent. */
int cir_lb_record_remove(struct cir_lb_db *db, const char *name, struct cir_error *err);

/* Remove lb/cache and its journal (the last service is being deleted).
 * Lock held; best effort. */
void cir_lb_cache_drop(struct cir_lb_db *db);

/* The cache's codec, exported for the unit tests: encode s into a freshly
 * malloc'd buffer (*out, *len), and decode it back.  Decoding checks every
 * length and value it reads (-EINVAL). */
int cir_lbcache_encode(const struct cir_lb_service *s, char **out, size_t *len);
int cir_lbcache_decode(const void *buf, size_t len, struct cir_lb_service *out);

#endif
