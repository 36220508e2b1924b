/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.h - the only door to yajl.
 *
 * Parsing: cir_json_parse() builds a tree once (from yajl's callbacks,
 * which see every string with its length); callers read it through
 * typed getters that check type and range and fill a cir_error that names
 * the offending key.  Nodes are borrowed pointers into the tree and live as
 * long as the struct cir_json that owns them.
 *
 * Emission: struct cir_jgen wraps yajl_gen with UTF-8 validation on; the
 * first failing call latches an error that cir_jgen_finish() reports, so a
 * sequence of emit calls needs only one check at the end.
 */
#ifndef CIR_JSON_H
#define CIR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct cir_json;               /* an owned tree */
struct cir_jnode;              /* a borrowed node inside a tree */

enum cir_jtype {
	CIR_JNONE = 0, CIR_JNULL, CIR_JBOOL, CIR_JNUMBER, CIR_JSTRING, CIR_JARRAY, CIR_JOBJECT,
};

/* Maximum document size accepted from stdin or files. */
#define CIR_JSON_MAX (4u << 20)

/*
 * Read fd to its end into a malloc'd NUL-terminated buffer (*out, *len):
 * a document on stdin (a CNI config, an OCI state).  More than max bytes
 * is -EFBIG "input larger than MAX bytes" (CNI code 6); a read error
 * -errno "read: ..." (CNI code 5).
 */
int cir_json_read_fd(int fd, size_t max, char **out, size_t *len, struct cir_error *err);

/*
 * Parse len bytes (need not be NUL-terminated) the way Go's encoding/json
 * reads them, or refuse what it would read differently from C:
 *  - a repeated key keeps its last value (earlier ones are dropped);
 *  - comments, trailing data and nesting deeper than 10000 are refused;
 *  - strings (keys too) holding a NUL character (raw or \u0000), invalid
 *    UTF-8 (overlong forms, surrogates, beyond U+10FFFF) or a \u escape
 *    that is half a surrogate pair are refused, naming where:
 *    "ipam.type": contains a NUL character.
 * Every error is -EBADMSG (-EFBIG above CIR_JSON_MAX) with CNI code 6.
 */
int cir_json_parse(const char *buf, size_t len, struct cir_json **out, struct cir_error *err);

/* The same with another size limit than CIR_JSON_MAX (etcd responses). */
int cir_json_parse_max(const char *buf, size_t len, size_t max, struct cir_json **out,
		       struct cir_error *err);

/* The same, but NUL characters and invalid UTF-8 in strings become U+FFFD
 * and comments are skipped instead of errors: only for reading what to say
 * about a refused document (its cniVersion) or another plugin's error
 * reply. */
int cir_json_parse_lenient(const char *buf, size_t len, struct cir_json **out,
			   struct cir_error *err);
void cir_json_free(struct cir_json *j);
static inline void cir_json_freep(struct cir_json **j)
{
	if (*j)
		cir_json_free(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cir_json_freep)))

const struct cir_jnode *cir_json_root(const struct cir_json *j);

enum cir_jtype cir_jnode_type(const struct cir_jnode *n);
/* Member of an object, or NULL if n is not an object or has no such key. */
const struct cir_jnode *cir_jnode_get(const struct cir_jnode *n, const char *key);
/* Array length (0 for non-arrays) and element. */
size_t cir_jnode_len(const struct cir_jnode *n);
const struct cir_jnode *cir_jnode_at(const struct cir_jnode *n, size_t i);
/* Object member count and i-th key/value. */
size_t cir_jnode_nkeys(const struct cir_jnode *n);
const char *cir_jnode_key_at(const struct cir_jnode *n, size_t i);
const struct cir_jnode *cir_jnode_value_at(const struct cir_jnode *n, size_t i);
/* Scalar accessors without checks: NULL/0/false for other types. */
const char *cir_jnode_str(const struct cir_jnode *n);
bool cir_jnode_bool(const struct cir_jnode *n);

/*
 * Typed getters on an object member.  Return 1 when the key is present and
 * well-typed (value stored), 0 when absent (out untouched) and -EINVAL with
 * "<key>: expected <type>" when present with another type or out of range.
 * A JSON null counts as absent.
 */
int cir_json_str(const struct cir_jnode *obj, const char *key, const char **out,
		 struct cir_error *err);
int cir_json_bool(const struct cir_jnode *obj, const char *key, bool *out, struct cir_error *err);
int cir_json_u64(const struct cir_jnode *obj, const char *key, uint64_t max, uint64_t *out,
		 struct cir_error *err);
int cir_json_u32(const struct cir_jnode *obj, const char *key, uint32_t max, uint32_t *out,
		 struct cir_error *err);
int cir_json_double(const struct cir_jnode *obj, const char *key, double *out,
		    struct cir_error *err);
int cir_json_obj(const struct cir_jnode *obj, const char *key, const struct cir_jnode **out,
		 struct cir_error *err);
int cir_json_arr(const struct cir_jnode *obj, const char *key, const struct cir_jnode **out,
		 struct cir_error *err);

/* ---- emission ---- */
struct cir_jgen;

int cir_jgen_new(struct cir_jgen **out, bool pretty, struct cir_error *err);
void cir_jgen_free(struct cir_jgen *g);
static inline void cir_jgen_freep(struct cir_jgen **g)
{
	if (*g)
		cir_jgen_free(*g);
}
#define _cleanup_jgen_ __attribute__((cleanup(cir_jgen_freep)))

void cir_jgen_map_open(struct cir_jgen *g);
void cir_jgen_map_close(struct cir_jgen *g);
void cir_jgen_arr_open(struct cir_jgen *g);
void cir_jgen_arr_close(struct cir_jgen *g);
void cir_jgen_key(struct cir_jgen *g, const char *k);
void cir_jgen_str(struct cir_jgen *g, const char *s);
void cir_jgen_int(struct cir_jgen *g, long long v);
void cir_jgen_uint(struct cir_jgen *g, unsigned long long v);
void cir_jgen_bool(struct cir_jgen *g, bool v);
void cir_jgen_null(struct cir_jgen *g);
/* key + value conveniences */
void cir_jgen_kstr(struct cir_jgen *g, const char *k, const char *s);
void cir_jgen_kint(struct cir_jgen *g, const char *k, long long v);
void cir_jgen_kbool(struct cir_jgen *g, const char *k, bool v);
/*
 * Unix time t as RFC 3339 in local time, as podman shows times:
 * "2026-12-01T11:04:42Z" when local time is UTC, else with the offset,
 * "2026-12-01T12:04:42+01:00".  Returns buf ("" when t cannot be shown);
 * CIR_TIME_STRLEN bytes are enough.
 */
#define CIR_TIME_STRLEN 32
const char *cir_time_rfc3339(long long t, char *buf, size_t len);
/* key + t as cir_time_rfc3339(), or null when t is 0 (not recorded). */
void cir_jgen_ktime(struct cir_jgen *g, const char *k, long long t);
/* Re-emit a parsed node verbatim (deep copy). */
void cir_jgen_node(struct cir_jgen *g, const struct cir_jnode *n);
/* Re-emit the members of object n, skipping the listed keys (NULL-terminated);
 * the caller has opened the enclosing map. */
void cir_jgen_members_except(struct cir_jgen *g, const struct cir_jnode *n,
			     const char *const *skip);

/* Get the document (NUL-terminated, owned by g) or the latched error. */
int cir_jgen_finish(struct cir_jgen *g, const char **buf, size_t *len, struct cir_error *err);

/* The same, as a malloc'ed copy the caller frees (*out set on success). */
int cir_jgen_finish_dup(struct cir_jgen *g, char **out, struct cir_error *err);

#endif
