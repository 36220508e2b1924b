// SPDX-License-Identifier: Apache-2.0
/*
 * cni_result.c - what a delegated plugin prints on stdout (cir_cni_exec
 * reads it): an ADD result of any supported version, or the CNI error
 * object {code, msg} of a failed plugin.  Checks: a parsed result emits
 * and parses back to the same struct in every version that keeps its
 * fields, and its counts stay within the struct's arrays.
 */
#include <errno.h>

#include "cni.h"
#include "fuzz.h"
#include "result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_result *res = malloc(sizeof(*res));
	struct cir_json *j = NULL;
	const char *msg = NULL;
	uint32_t code = 0;
	int r;

	FUZZ_CHECK(res);
	r = cir_json_parse((const char *)data, size, &j, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
		goto out;
	}
	r = cir_cni_result_parse(cir_json_root(j), res, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(res->n_ifaces <= CIR_CNI_MAX_IFACES && res->n_ips <= CIR_CNI_MAX_IPS &&
			   res->n_routes <= CIR_CNI_MAX_ROUTES);
		for (size_t i = 0; i < res->n_ips; i++)
			FUZZ_CHECK(res->ips[i].iface < (int)res->n_ifaces);
		result_roundtrip(res);
	}
	/* A failed plugin's error object, as cir_cni_exec reads it. */
	cir_err_clear(&err);
	if (cir_json_str(cir_json_root(j), "msg", &msg, &err) > 0)
		FUZZ_CHECK(msg);
	(void)cir_json_u32(cir_json_root(j), "code", 0xffffffffu, &code, &err);
	cir_json_free(j);
out:
	free(res);
	return 0;
}
