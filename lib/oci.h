/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci.h - the OCI runtime state a hook reads on stdin
 * ({ociVersion, id, status, pid, bundle, annotations}, see spec/hooks.md).
 *
 * Pure: parses a buffer the caller read, touches no file or kernel, so the
 * `circuit` hook and the fuzzing harness (tests/fuzz/oci_state.c) share it.
 */
#ifndef CIR_OCI_H
#define CIR_OCI_H

#include <stddef.h>

#include "error.h"
#include "json.h"

struct cir_oci_state;
void cir_oci_state_free(struct cir_oci_state *s);
/* A state freed when it goes out of scope (zero it, or parse into it). */
#define _cleanup_oci_state_ __attribute__((cleanup(cir_oci_state_free)))

struct cir_oci_state {
	struct cir_json *doc;                   /* owned: id, status, annotations point into it */
	const char *id;                         /* never NULL after a successful parse */
	const char *status;                     /* NULL when absent */
	long long pid;                          /* 0 when absent */
	const struct cir_jnode *annotations;    /* NULL when absent */
};

/*
 * Parse len bytes of OCI state into *s (zeroed first, so cir_oci_state_free
 * is always safe on it).  -EINVAL when the input is empty, -EBADMSG/-EINVAL
 * "OCI state: ..." for malformed JSON, an id that is missing or not a
 * string, a status that is not a string, a pid that is not an integer in
 * 0..INT32_MAX, annotations that are not an object.  On failure nothing is
 * kept.
 */
int cir_oci_state_parse(const char *buf, size_t len, struct cir_oci_state *s,
			struct cir_error *err);

/* Free s->doc and zero *s.  Safe on a zeroed or already freed struct. */
void cir_oci_state_free(struct cir_oci_state *s);

/* The string annotation key, or NULL (absent, or not a string). */
const char *cir_oci_state_annotation(const struct cir_oci_state *s, const char *key);

#endif
