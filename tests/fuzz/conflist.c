// SPDX-License-Identifier: Apache-2.0
/*
 * conflist.c - a conflist or single-plugin .conf given to
 * `circuit network create --conflist FILE` (and imported from other
 * runtimes): cir_conflist_normalize with the file's own name and with a
 * forced one, cir_conflist_check, cir_conflist_describe, then the chain
 * `network create` would generate from the description.  Checks:
 * normalizing is idempotent, forces the name, and its output passes the
 * check; a generated chain always passes it too.
 */
#include <errno.h>

#include "fuzz.h"
#include "netconf.h"

static void check_normalized(const char *doc, const char *name)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	struct cir_netconf nc = { 0 };
	char *again = NULL, *gen = NULL;
	const char *got = NULL;

	FUZZ_CHECK(cir_json_parse(doc, strlen(doc), &j, &err) == 0);
	FUZZ_CHECK(cir_conflist_check(cir_json_root(j), &err) == 0);
	FUZZ_CHECK(cir_json_str(cir_json_root(j), "name", &got, &err) == 1);
	if (name)
		FUZZ_CHECK(strcmp(got, name) == 0);
	FUZZ_CHECK(cir_conflist_normalize(doc, strlen(doc), NULL, NULL, &again, &err) == 0);
	FUZZ_CHECK(strcmp(doc, again) == 0);

	cir_conflist_describe(cir_json_root(j), &nc);
	FUZZ_CHECK(strlen(nc.subnet) < sizeof(nc.subnet));
	FUZZ_CHECK(strlen(nc.gateway) < sizeof(nc.gateway));
	FUZZ_CHECK(strlen(nc.bridge) < sizeof(nc.bridge));
	FUZZ_CHECK(nc.mtu <= 65535);
	snprintf(nc.name, sizeof(nc.name), "%s", got);
	FUZZ_CHECK(cir_conflist_generate(&nc, NULL, &gen, &err) == 0);
	free(again);
	again = NULL;
	FUZZ_CHECK(cir_conflist_normalize(gen, strlen(gen), NULL, NULL, &again, &err) == 0);
	free(again);
	free(gen);
	cir_json_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { NULL, "fuzznet" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct cir_error err = CIR_ERROR_INIT;
		char *out = NULL;
		int r;

		r = cir_conflist_normalize((const char *)data, size, names[i], NULL, &out, &err);
		if (r < 0) {
			FUZZ_CHECK_ERR(r, &err);
			continue;
		}
		check_normalized(out, names[i]);
		free(out);
	}
	return 0;
}
