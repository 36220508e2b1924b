// SPDX-License-Identifier: Apache-2.0
/*
 * oci.c - parsing the OCI runtime state document a hook gets on stdin.
 * Moved out of hook/hook.c so that it can be fuzzed without the hook's
 * store and kernel work around it.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "oci.h"

void cir_oci_state_free(struct cir_oci_state *s)
{
	if (!s)
		return;
	cir_json_free(s->doc);
	memset(s, 0, sizeof(*s));
}

int cir_oci_state_parse(const char *buf, size_t len, struct cir_oci_state *s,
			struct cir_error *err)
{
	struct cir_oci_state x = { 0 };
	const struct cir_jnode *root;
	uint64_t pid = 0;
	int r;

	memset(s, 0, sizeof(*s));
	if (len == 0)
		return cir_err(err, EINVAL, "no OCI state on stdin (circuit runs as a hook with "
					    "no arguments; see 'circuit --help')");
	r = cir_json_parse(buf, len, &x.doc, err);
	if (r < 0)
		return cir_err_wrap(err, "OCI state");
	root = cir_json_root(x.doc);
	if (cir_json_str(root, "id", &x.id, err) < 0 ||
	    cir_json_str(root, "status", &x.status, err) < 0 ||
	    cir_json_u64(root, "pid", INT32_MAX, &pid, err) < 0 ||
	    cir_json_obj(root, "annotations", &x.annotations, err) < 0) {
		cir_oci_state_free(&x);
		return cir_err_wrap(err, "OCI state");
	}
	if (!x.id) {
		cir_oci_state_free(&x);
		return cir_err(err, EINVAL, "OCI state: id is missing");
	}
	x.pid = (long long)pid;
	*s = x;
	return 0;
}

const char *cir_oci_state_annotation(const struct cir_oci_state *s, const char *key)
{
	return s->annotations ? cir_jnode_str(cir_jnode_get(s->annotations, key)) : NULL;
}
