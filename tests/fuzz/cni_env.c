// SPDX-License-Identifier: Apache-2.0
/*
 * cni_env.c - a plugin's environment: CNI_COMMAND, CNI_CONTAINERID,
 * CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH, then a CNI_ARGS key to look
 * up and a plugin type, as NUL-separated fields of the input (a missing
 * field is an unset variable).  Goes through cir_cni_env_load, CNI_ARGS
 * lookups with several buffer sizes, circuit-ipam's "IP=" requests and the
 * plugin lookup on CNI_PATH (stat only).  Checks: a loaded environment
 * satisfies what the command needs; a found CNI_ARGS value fits its buffer
 * and holds no ';'.
 */
#include <errno.h>
#include <limits.h>

#include "cni.h"
#include "fuzz.h"
#include "ipam_cni.h"

static const char *const vars[] = {
	"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH",
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static struct cir_cni_conf ipam_conf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char doc[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"envnet\",\"type\":\"circuit-ipam\","
		"\"ipam\":{\"type\":\"circuit-ipam\",\"ranges\":["
		"[{\"subnet\":\"10.1.0.0/24\"}],[{\"subnet\":\"fd00:c::/64\"}]]}}";
	struct cir_error err = CIR_ERROR_INIT;

	FUZZ_CHECK(cir_cni_conf_parse(doc, sizeof(doc) - 1, CIR_CNI_CMD_ADD, &ipam_conf,
				      &err) == 0);
	return 0;
}

static void args_lookup(const char *args, const char *key)
{
	static const size_t lens[] = { 1, 2, 16, CIR_CIDR_STRLEN, 4096 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct cir_error err = CIR_ERROR_INIT;
		char *buf = malloc(lens[i]);
		int r;

		FUZZ_CHECK(buf);
		r = cir_cni_args_get(args, key, buf, lens[i], &err);
		if (r < 0) {
			FUZZ_CHECK_ERR(r, &err);
		} else if (r == 1) {
			FUZZ_CHECK(strlen(buf) < lens[i]);
			FUZZ_CHECK(!strchr(buf, ';'));
		} else {
			FUZZ_CHECK(r == 0);
		}
		free(buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipam_cni_conf *ic;
	struct cir_cni_env env;
	char *copy, *f[NVARS + 2];
	size_t n = fuzz_split(data, size, &copy, f, NVARS + 2);
	int r;

	for (size_t i = 0; i < NVARS; i++) {
		if (i < n)
			FUZZ_CHECK(setenv(vars[i], f[i], 1) == 0);
		else
			unsetenv(vars[i]);
	}
	r = cir_cni_env_load(&env, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
		goto out;
	}
	FUZZ_CHECK(env.cmd != CIR_CNI_CMD_NONE);
	FUZZ_CHECK(strcmp(cir_cni_cmd_name(env.cmd), f[0]) == 0);
	if (env.cmd == CIR_CNI_CMD_ADD || env.cmd == CIR_CNI_CMD_CHECK)
		FUZZ_CHECK(env.netns && env.netns[0] == '/');
	if (env.cmd == CIR_CNI_CMD_ADD || env.cmd == CIR_CNI_CMD_CHECK ||
	    env.cmd == CIR_CNI_CMD_DEL) {
		FUZZ_CHECK(cir_cni_check_containerid(env.containerid, &err) == 0);
		FUZZ_CHECK(cir_cni_check_ifname(env.ifname, &err) == 0);
		FUZZ_CHECK(strlen(env.ifname) < CIR_IFNAMSIZ);
	}

	if (env.args) {
		args_lookup(env.args, "IP");
		args_lookup(env.args, "K8S_POD_NAME");
		if (n > NVARS)
			args_lookup(env.args, f[NVARS]);
	}

	/* circuit-ipam's requested addresses from CNI_ARGS IP=a[,b]. */
	ic = malloc(sizeof(*ic));
	FUZZ_CHECK(ic);
	cir_err_clear(&err);
	r = cir_ipam_cni_parse(&ipam_conf, &env, ic, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(ic->n_req <= CIR_IPAM_MAX_SETS);
	free(ic);

	/* A delegated plugin's lookup: type from the input, on CNI_PATH. */
	if (n > NVARS + 1) {
		char path[PATH_MAX], small[16];

		cir_err_clear(&err);
		r = cir_cni_find_plugin(f[NVARS + 1], env.path, path, sizeof(path), &err);
		if (r < 0)
			FUZZ_CHECK_ERR(r, &err);
		cir_err_clear(&err);
		r = cir_cni_find_plugin(f[NVARS + 1], env.path, small, sizeof(small), &err);
		if (r < 0)
			FUZZ_CHECK_ERR(r, &err);
		else
			FUZZ_CHECK(strlen(small) < sizeof(small));
	}
out:
	free(copy);
	return 0;
}
