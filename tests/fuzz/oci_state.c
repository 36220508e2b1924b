// SPDX-License-Identifier: Apache-2.0
/*
 * oci_state.c - the OCI state runc and crun hand `circuit` on stdin as a
 * hook: cir_oci_state_parse, then what the hook reads from it before it
 * touches the store (the network name from the circuit.network annotation
 * or the id, the circuit.subnet and circuit.pool annotations as prefixes).
 * Checks: a parsed state has an id and a pid in 0..INT32_MAX; a refused
 * one keeps nothing.
 */
#include <errno.h>
#include <stdint.h>

#include "cni.h"
#include "fuzz.h"
#include "ip.h"
#include "oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_oci_state s;
	const char *name, *v;
	struct cir_cidr c;
	int r;

	r = cir_oci_state_parse((const char *)data, size, &s, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
		FUZZ_CHECK(!s.doc);
		cir_oci_state_free(&s);
		return 0;
	}
	FUZZ_CHECK(s.doc && s.id);
	FUZZ_CHECK(s.pid >= 0 && s.pid <= INT32_MAX);

	name = cir_oci_state_annotation(&s, "circuit.network");
	if (!name || !*name)
		name = s.id;
	cir_err_clear(&err);
	r = cir_cni_check_network_name(name, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	v = cir_oci_state_annotation(&s, "circuit.subnet");
	if (v) {
		cir_err_clear(&err);
		r = cir_cidr_parse(v, 0, &c, &err);
		if (r < 0)
			FUZZ_CHECK_ERR(r, &err);
	}
	v = cir_oci_state_annotation(&s, "circuit.pool");
	if (v) {
		cir_err_clear(&err);
		r = cir_cidr_parse(v, CIR_CIDR_NETWORK, &c, &err);
		if (r < 0)
			FUZZ_CHECK_ERR(r, &err);
	}
	cir_oci_state_free(&s);
	FUZZ_CHECK(!s.doc);
	return 0;
}
