/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_int.h - shared by lib/json*.c only: the tree a parsed document is
 * made of, which the reader builds, the getters walk and the generator
 * copies out (cir_jgen_node).  Callers see struct cir_jnode as opaque.
 *
 *   json.c       the reader: yajl callbacks into the tree, in an arena
 *   json_get.c   the node accessors and the typed getters
 *   json_gen.c   the generator (yajl_gen) and RFC 3339 times
 *   json_text.c  lone surrogate escapes found before yajl; reading a document
 */
#ifndef CIR_JSON_INT_H
#define CIR_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/*
 * The tree is Circuit's own, built from yajl's callbacks rather than with
 * yajl_tree: those see every string with its length (so an escaped NUL is
 * caught instead of cutting the string short), and each object can keep
 * only the last value of a repeated key, as Go's encoding/json does.
 */
struct cir_jmember {
	char *key;                      /* NULL in arrays */
	struct cir_jnode *v;
};

struct cir_jnode {
	enum cir_jtype type;
	bool b;                         /* CIR_JBOOL */
	char *s;                        /* CIR_JSTRING value, CIR_JNUMBER text */
	size_t n, cap;
	struct cir_jmember *m;          /* CIR_JOBJECT members, CIR_JARRAY elements */
};

/* Offset of the first \uXXXX inside a string of s[0..n) that is half of a
 * surrogate pair, or -1 (json_text.c). */
long cir_json_lone_surrogate(const char *s, size_t n);

#endif
