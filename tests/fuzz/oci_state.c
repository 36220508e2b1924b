// SPDX-License-Identifier: Apache-2.0
/*
 * oci_state.c - a container runtime's state documents: the OCI state runc
 * and crun hand `circuit` on stdin as a hook (cir_oci_state_parse, then
 * what the hook reads from it before it touches the store: the network
 * name from the circuit.network annotation or the id, the circuit.subnet
 * and circuit.pool annotations as prefixes), and runc's own state.json the
 * CLI reads for a container ID (cir_runc_state_parse).  Checks: a parsed
 * state has an id and a pid in range; a refused one keeps nothing; a start
 * time given as a string was all digits.
 */
#include <errno.h>
#include <stdint.h>

#include "cni.h"
#include "fuzz.h"
#include "ip.h"
#include "oci.h"
#include "runc.h"

static void runc_state(const uint8_t *data, size_t size)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_runc_state rs = { .pid = -7, .start = 7 };
	struct cir_json *j = NULL;
	const char *v;
	int r;

	r = cir_runc_state_parse((const char *)data, size, &rs, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
		FUZZ_CHECK(rs.pid == -7 && rs.start == 7);      /* untouched */
		return;
	}
	FUZZ_CHECK(rs.pid >= 1 && rs.pid <= INT32_MAX);
	FUZZ_CHECK(cir_json_parse((const char *)data, size, &j, &err) == 0);
	v = cir_jnode_str(cir_jnode_get(cir_json_root(j), "init_process_start"));
	if (v) {
		FUZZ_CHECK(*v);
		for (const char *p = v; *p; p++)
			FUZZ_CHECK(*p >= '0' && *p <= '9');
	}
	cir_json_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_oci_state s;
	const char *name, *v;
	struct cir_cidr c;
	int r;

	runc_state(data, size);
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
