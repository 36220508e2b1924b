// SPDX-License-Identifier: Apache-2.0
/*
 * test_cni.c - CNI env, config and result handling for every supported
 * version, against golden files in tests/unit/golden/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"
#include "json.h"
#include "unit.h"
#include "utf8.h"

static char *slurp(const char *rel)
{
	FILE *f = fopen(cir_unit_path(rel), "re");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "missing golden file %s", rel);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	ck_assert(fread(buf, 1, n, f) == (size_t)n);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static void sample(struct cir_cni_result *r)
{
	struct cir_error err = CIR_ERROR_INIT;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(cir_cni_result_add_iface(r, "c-net", "02:00:00:00:00:01", 0, NULL, &err), 0);
	ck_assert_int_eq(cir_cni_result_add_iface(r, "cv0123456789abc", "02:00:00:00:00:02", 0,
						  NULL, &err), 1);
	ck_assert_int_eq(cir_cni_result_add_iface(r, "eth0", "02:00:00:00:00:03", 1500,
						  "/run/netns/x", &err), 2);
	ck_assert_int_eq(cir_cni_result_add_ip(r, "10.254.1.2/24", "10.254.1.1", 2, &err), 0);
	ck_assert_int_eq(cir_cni_result_add_ip(r, "fd00::2/64", "fd00::1", 2, &err), 1);
	ck_assert_int_eq(cir_cni_result_add_route(r, "0.0.0.0/0", "10.254.1.1", &err), 0);
	snprintf(r->dns.nameservers[0], sizeof(r->dns.nameservers[0]), "10.254.1.1");
	r->dns.n_nameservers = 1;
}

static const char *const versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };

/* The skeleton in a child, without a seccomp filter (not its subject). */
static int no_sandbox(const struct cir_cni_conf *conf, struct cir_error *err)
{
	return 0;
}

START_TEST(result_golden)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_result r, back;
	struct cir_jgen *g = NULL;
	struct cir_json *doc = NULL;
	const char *out;
	char rel[128], *want;

	sample(&r);
	snprintf(rel, sizeof(rel), "tests/unit/golden/result-%s.json", versions[_i]);
	ck_assert_int_eq(cir_cni_result_format(&r, versions[_i], &g, &out, &err), 0);
	want = slurp(rel);
	ck_assert_str_eq(out, want);
	/* And it parses back to the same thing. */
	ck_assert_int_eq(cir_json_parse(out, strlen(out), &doc, &err), 0);
	ck_assert_int_eq(cir_cni_result_parse(cir_json_root(doc), &back, &err), 0);
	ck_assert_uint_eq(back.n_ifaces, 3);
	ck_assert_uint_eq(back.n_ips, 2);
	ck_assert_str_eq(back.ips[1].address, "fd00::2/64");
	ck_assert_int_eq(back.ips[0].iface, 2);
	ck_assert_str_eq(back.routes[0].gw, "10.254.1.1");
	ck_assert_str_eq(back.dns.nameservers[0], "10.254.1.1");
	free(want);
	cir_json_free(doc);
	cir_jgen_free(g);
}
END_TEST

static int conf(const char *json, enum cir_cni_cmd cmd, struct cir_cni_conf *c,
		struct cir_error *err)
{
	return cir_cni_conf_parse(json, strlen(json), cmd, c, err);
}

START_TEST(conf_ok_with_prev_result)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_conf c;
	char *in = slurp("tests/unit/golden/conf-prevresult.json");

	ck_assert_int_eq(conf(in, CIR_CNI_CMD_DEL, &c, &err), 0);
	ck_assert_str_eq(c.name, "sandbox");
	ck_assert_str_eq(c.type, "circuit-qos");
	ck_assert(c.has_prev_result);
	ck_assert_uint_eq(c.prev_result.n_ips, 1);
	ck_assert_str_eq(c.prev_result.ifaces[1].name, "cv0123456789abc");
	cir_cni_conf_free(&c);
	free(in);
}
END_TEST

static const struct {
	const char *json;
	unsigned int code;
	const char *msg;
} bad_confs[] = {
	{ "{", CIR_CNI_DECODE, "invalid json" },
	{ "[1]", CIR_CNI_DECODE, "expected a JSON object" },
	{ "{\"name\":\"x\",\"type\":\"t\"}", CIR_CNI_INVALID_CONFIG, "cniVersion is missing" },
	{ "{\"cniVersion\":\"0.2.0\",\"name\":\"x\"}", CIR_CNI_INCOMPATIBLE_VERSION,
	  "incompatible CNI versions" },
	{ "{\"cniVersion\":\"9.9.9\",\"name\":\"x\"}", CIR_CNI_INCOMPATIBLE_VERSION,
	  "incompatible CNI versions" },
	{ "{\"cniVersion\":1,\"name\":\"x\"}", CIR_CNI_INVALID_CONFIG, "cniVersion: expected a string" },
	{ "{\"cniVersion\":\"1.0.0\"}", CIR_CNI_INVALID_CONFIG, "name is missing" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"a/b\"}", CIR_CNI_INVALID_CONFIG,
	  "invalid characters" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"a..b\"}", CIR_CNI_INVALID_CONFIG, "contains \"..\"" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  CIR_CNI_INVALID_CONFIG, "longer than 64" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":[]}", CIR_CNI_INVALID_CONFIG,
	  "ipam: expected an object" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"ips\":{}}}",
	  CIR_CNI_INVALID_CONFIG, "prevResult: result: ips: expected an array" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"ips\":[{\"address\":\"1.2.3.4/8\",\"interface\":5}]}}",
	  CIR_CNI_DECODE, "interface index" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"prevResult\":{\"ip4\":{}}}",
	  CIR_CNI_INCOMPATIBLE_VERSION, "0.2.0" },
	/* Read as Go reads it, or refused (tests/unit/test_json.c). */
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"sand\\u0000box\"}", CIR_CNI_DECODE,
	  "\"name\": contains a NUL character" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"circuit-ipam\\u0000x\"}}",
	  CIR_CNI_DECODE, "\"ipam.type\": contains a NUL character" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\xc0\xae\"}", CIR_CNI_DECODE,
	  "\"name\": is not valid UTF-8" },
	{ "{\"cniVersion\":\"1.0.0\",/* comment */\"name\":\"n\"}", CIR_CNI_DECODE, "comment" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"ok\",\"name\":\"a/b\"}", CIR_CNI_INVALID_CONFIG,
	  "network name \"a/b\" has invalid characters" },
};

START_TEST(conf_bad)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_conf c;

	ck_assert_int_lt(conf(bad_confs[_i].json, CIR_CNI_CMD_ADD, &c, &err), 0);
	ck_assert_msg(strstr(err.msg, bad_confs[_i].msg) != NULL, "%s: got \"%s\"",
		      bad_confs[_i].json, err.msg);
	ck_assert_uint_eq(cir_err_cni_code(&err), bad_confs[_i].code);
}
END_TEST

START_TEST(env_validation)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_env e;

	clearenv();
	ck_assert_int_eq(cir_cni_env_load(&e, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "required env variable CNI_COMMAND is missing");
	ck_assert_uint_eq(cir_err_cni_code(&err), CIR_CNI_INVALID_ENV);
	setenv("CNI_COMMAND", "ADD", 1);
	ck_assert_int_eq(cir_cni_env_load(&e, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "required env variable CNI_NETNS is missing");
	setenv("CNI_NETNS", "/run/netns/x", 1);
	setenv("CNI_CONTAINERID", "../etc", 1);
	setenv("CNI_IFNAME", "eth0", 1);
	ck_assert_int_eq(cir_cni_env_load(&e, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "container ID"));
	setenv("CNI_CONTAINERID", "abc", 1);
	setenv("CNI_IFNAME", "averyveryverylongname", 1);
	ck_assert_int_eq(cir_cni_env_load(&e, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than 15 bytes"));
	setenv("CNI_IFNAME", "eth0", 1);
	ck_assert_int_eq(cir_cni_env_load(&e, &err), 0);
	ck_assert_int_eq(e.cmd, CIR_CNI_CMD_ADD);
	/* DEL does not need a netns. */
	setenv("CNI_COMMAND", "DEL", 1);
	unsetenv("CNI_NETNS");
	ck_assert_int_eq(cir_cni_env_load(&e, &err), 0);
	setenv("CNI_COMMAND", "FROB", 1);
	ck_assert_int_eq(cir_cni_env_load(&e, &err), -EINVAL);
	/* GC and STATUS need no container. */
	clearenv();
	setenv("CNI_COMMAND", "GC", 1);
	ck_assert_int_eq(cir_cni_env_load(&e, &err), 0);
	clearenv();
}
END_TEST

START_TEST(args_lookup)
{
	struct cir_error err = CIR_ERROR_INIT;
	char buf[64];

	ck_assert_int_eq(cir_cni_args_get("IgnoreUnknown=1;IP=10.0.0.5;K8S_POD_NAME=x", "IP", buf,
					  sizeof(buf), &err), 1);
	ck_assert_str_eq(buf, "10.0.0.5");
	ck_assert_int_eq(cir_cni_args_get("A=1", "IP", buf, sizeof(buf), &err), 0);
	ck_assert_int_eq(cir_cni_args_get("garbage", "IP", buf, sizeof(buf), &err), -EINVAL);
	ck_assert_int_eq(cir_cni_args_get("IP=", "IP", buf, sizeof(buf), &err), 1);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(version_compare)
{
	ck_assert(cir_cni_version_supported("0.4.0"));
	ck_assert(!cir_cni_version_supported("0.2.0"));
	ck_assert(!cir_cni_version_supported(NULL));
	ck_assert_int_lt(cir_cni_version_cmp("0.3.1", "0.4.0"), 0);
	ck_assert_int_gt(cir_cni_version_cmp("1.1.0", "1.0.0"), 0);
	ck_assert_int_eq(cir_cni_version_cmp("1.0.0", "1.0.0"), 0);
	ck_assert_int_lt(cir_cni_version_cmp("0.10.0", "1.0.0"), 0);
}
END_TEST

START_TEST(json_getters)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	const char *s = "{\"a\":\"x\",\"n\":42,\"big\":99999999999999999999,\"neg\":-1,"
			"\"f\":1.5,\"b\":true,\"nul\":null,\"o\":{},\"arr\":[1,2]}";
	const struct cir_jnode *r, *o = NULL;
	const char *str = NULL;
	uint32_t u = 0;
	uint64_t u64 = 0;
	bool b = false;

	ck_assert_int_eq(cir_json_parse(s, strlen(s), &j, &err), 0);
	r = cir_json_root(j);
	ck_assert_int_eq(cir_json_str(r, "a", &str, &err), 1);
	ck_assert_str_eq(str, "x");
	ck_assert_int_eq(cir_json_str(r, "n", &str, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "n: expected a string");
	ck_assert_int_eq(cir_json_u32(r, "n", 100, &u, &err), 1);
	ck_assert_uint_eq(u, 42);
	ck_assert_int_eq(cir_json_u32(r, "n", 10, &u, &err), -ERANGE);
	ck_assert_int_eq(cir_json_u64(r, "big", UINT64_MAX, &u64, &err), -ERANGE);
	ck_assert_int_eq(cir_json_u32(r, "neg", 100, &u, &err), -EINVAL);
	ck_assert_int_eq(cir_json_u32(r, "f", 100, &u, &err), -EINVAL);
	ck_assert_int_eq(cir_json_bool(r, "b", &b, &err), 1);
	ck_assert(b);
	ck_assert_int_eq(cir_json_str(r, "nul", &str, &err), 0);
	ck_assert_int_eq(cir_json_str(r, "missing", &str, &err), 0);
	ck_assert_int_eq(cir_json_obj(r, "o", &o, &err), 1);
	ck_assert_int_eq(cir_json_obj(r, "arr", &o, &err), -EINVAL);
	cir_json_free(j);

	/* A NUL character would cut the string short in C (tests/unit/test_json.c). */
	ck_assert_int_eq(cir_json_parse("{\"a\":\"\\u0000\"}", 14, &j, &err), -EBADMSG);
	ck_assert_int_eq(cir_json_parse("{\"a\":1}\0x", 9, &j, &err), -EBADMSG);
	ck_assert_int_eq(cir_json_parse("{\"a\":\"\xff\"}", 9, &j, &err), -EBADMSG);
}
END_TEST

START_TEST(jgen_rejects_bad_utf8)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_jgen *g = NULL;
	const char *out;

	ck_assert_int_eq(cir_jgen_new(&g, false, &err), 0);
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "k", "\xc3\x28");
	cir_jgen_map_close(g);
	ck_assert_int_eq(cir_jgen_finish(g, &out, NULL, &err), -EINVAL);
	cir_jgen_free(g);
}
END_TEST


START_TEST(jgen_pretty_empty_containers)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_jgen *g = NULL;
	const char *out;

	ck_assert_int_eq(cir_jgen_new(&g, true, &err), 0);
	cir_jgen_map_open(g);
	cir_jgen_key(g, "m");
	cir_jgen_map_open(g);
	cir_jgen_map_close(g);
	cir_jgen_key(g, "a");
	cir_jgen_arr_open(g);
	cir_jgen_arr_close(g);
	cir_jgen_kstr(g, "s", "{\n\n}");
	cir_jgen_map_close(g);
	ck_assert_int_eq(cir_jgen_finish(g, &out, NULL, &err), 0);
	ck_assert_str_eq(out, "{\n    \"m\": {},\n    \"a\": [],\n    \"s\": \"{\\n\\n}\"\n}\n");
	cir_jgen_free(g);
}
END_TEST

START_TEST(find_plugin_rejects_paths)
{
	struct cir_error err = CIR_ERROR_INIT;
	char out[256];

	ck_assert_int_eq(cir_cni_find_plugin("../bin/sh", "/bin", out, sizeof(out), &err), -EINVAL);
	ck_assert_int_eq(cir_cni_find_plugin("..", "/bin", out, sizeof(out), &err), -EINVAL);
	ck_assert_int_eq(cir_cni_find_plugin("sh", "/nonexistent:/bin", out, sizeof(out), &err), 0);
	ck_assert_str_eq(out, "/bin/sh");
	ck_assert_int_eq(cir_cni_find_plugin("nope-nope", "/bin", out, sizeof(out), &err), -ENOENT);
}
END_TEST

#define EURO "\xe2\x82\xac"

static char *repeat(const char *unit, size_t times)
{
	size_t n = strlen(unit);
	char *s = malloc(n * times + 1);

	for (size_t i = 0; i < times; i++)
		memcpy(s + i * n, unit, n);
	s[n * times] = '\0';
	return s;
}

START_TEST(untrusted_text_in_messages_stays_utf8)
{
	struct cir_error err = CIR_ERROR_INIT;
	char *euros = repeat(EURO, 30), *type = repeat(EURO, 200), out[64];

	/* 90 bytes of three-byte characters: the old "%.64s" cut one. */
	ck_assert_int_eq(cir_cni_check_containerid(euros, &err), -EINVAL);
	ck_assert(cir_utf8_valid(err.msg, strlen(err.msg)));
	ck_assert_ptr_nonnull(strstr(err.msg, "has invalid characters"));
	ck_assert_ptr_nonnull(strstr(err.msg, "container ID \"" EURO EURO));
	/* Bytes that are no UTF-8 are named, escaped. */
	ck_assert_int_eq(cir_cni_check_containerid("c1\xff\xfe", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "container ID \"c1\\xff\\xfe\" has invalid characters "
				  "(allowed: [A-Za-z0-9][A-Za-z0-9_.-]*)");
	ck_assert_int_eq(cir_cni_check_network_name("n\x1b[31m", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "network name \"n\\x1b[31m\""));
	ck_assert_int_eq(cir_cni_check_ifname("e\xc3/", &err), -EINVAL);
	ck_assert(cir_utf8_valid(err.msg, strlen(err.msg)));
	/* A 600-byte plugin type, then wrapped as the bridge plugin does. */
	ck_assert_int_eq(cir_cni_find_plugin(type, "/bin", out, sizeof(out), &err), -EINVAL);
	ck_assert(cir_utf8_valid(err.msg, strlen(err.msg)));
	cir_err_wrap(&err, "ipam %s", type);
	ck_assert(cir_utf8_valid(err.msg, strlen(err.msg)));
	free(euros);
	free(type);
}
END_TEST

/* The reply must be JSON in strict UTF-8 with these fields. */
static void check_reply(const char *out, const char *version, unsigned int code,
			const char *msg_part)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	const char *v = NULL, *m = NULL;
	uint32_t c = 0;

	ck_assert_msg(cir_json_parse(out, strlen(out), &j, &err) == 0, "not JSON (%s): %s",
		      err.msg, out);
	ck_assert_int_eq(cir_json_str(cir_json_root(j), "cniVersion", &v, &err), 1);
	ck_assert_str_eq(v, version);
	ck_assert_int_eq(cir_json_u32(cir_json_root(j), "code", 1000, &c, &err), 1);
	ck_assert_uint_eq(c, code);
	ck_assert_int_eq(cir_json_str(cir_json_root(j), "msg", &m, &err), 1);
	ck_assert_msg(strstr(m, msg_part), "msg \"%s\" lacks \"%s\"", m, msg_part);
	cir_json_free(j);
}

START_TEST(error_reply_with_invalid_utf8)
{
	struct cir_error err = CIR_ERROR_INIT, e2 = CIR_ERROR_INIT;
	struct cir_jgen *g = NULL;
	const char *out;

	/* A message holding bytes that are no UTF-8 (a delegate's reply, a
	 * path): before, the generator refused it and the reply became
	 * {"cniVersion":"1.1.0","code":4,"msg":"invalid message"}. */
	cir_err_code(&err, CIR_CNI_INVALID_ENV, EINVAL, "netns /run/netns/\xff\xc3 is odd");
	ck_assert_int_eq(cir_cni_error_format("0.4.0", &err, &g, &out, &e2), 0);
	check_reply(out, "0.4.0", 4, "netns /run/netns/" CIR_UTF8_REPLACEMENT CIR_UTF8_REPLACEMENT
			" is odd");
	cir_jgen_free(g);
	/* No version, or one we do not speak: ours. */
	ck_assert_int_eq(cir_cni_error_format(NULL, &err, &g, &out, &e2), 0);
	check_reply(out, CIR_CNI_SPEC_VERSION, 4, "is odd");
	cir_jgen_free(g);
	ck_assert_int_eq(cir_cni_error_format("9.9\"", &err, &g, &out, &e2), 0);
	check_reply(out, CIR_CNI_SPEC_VERSION, 4, "is odd");
	cir_jgen_free(g);
}
END_TEST

START_TEST(result_append_past_max_fails)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_result *r = calloc(1, sizeof(*r));
	char name[16], long_path[300];

	for (int i = 0; i < CIR_CNI_MAX_IFACES; i++) {
		snprintf(name, sizeof(name), "eth%d", i);
		ck_assert_int_eq(cir_cni_result_add_iface(r, name, "", 0, NULL, &err), i);
	}
	ck_assert_int_eq(cir_cni_result_add_iface(r, "eth9", "", 0, NULL, &err), -ENOSPC);
	ck_assert_uint_eq(cir_err_cni_code(&err), CIR_CNI_ERR_INTERNAL);
	ck_assert_str_eq(err.msg, "result: more than 8 interfaces (the most a result holds)");
	ck_assert_uint_eq(r->n_ifaces, CIR_CNI_MAX_IFACES);

	for (int i = 0; i < CIR_CNI_MAX_IPS; i++)
		ck_assert_int_eq(cir_cni_result_add_ip(r, "10.0.0.2/24", "", 0, &err), i);
	ck_assert_int_eq(cir_cni_result_add_ip(r, "10.0.0.3/24", "", 0, &err), -ENOSPC);
	ck_assert_uint_eq(r->n_ips, CIR_CNI_MAX_IPS);

	for (int i = 0; i < CIR_CNI_MAX_ROUTES; i++)
		ck_assert_int_eq(cir_cni_result_add_route(r, "10.1.0.0/16", "", &err), i);
	ck_assert_int_eq(cir_cni_result_add_route(r, "0.0.0.0/0", "10.0.0.1", &err), -ENOSPC);
	ck_assert_uint_eq(cir_err_cni_code(&err), 999);
	ck_assert_uint_eq(r->n_routes, CIR_CNI_MAX_ROUTES);

	/* A string that does not fit is an error too, never truncated. */
	memset(r, 0, sizeof(*r));
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	ck_assert_int_eq(cir_cni_result_add_iface(r, "eth0", "", 0, long_path, &err), -ENAMETOOLONG);
	ck_assert_ptr_nonnull(strstr(err.msg, "interface sandbox"));
	ck_assert_int_eq(cir_cni_result_add_iface(r, "averyveryverylongname", "", 0, NULL, &err),
			 -ENAMETOOLONG);
	ck_assert_uint_eq(r->n_ifaces, 0);
	free(r);
}
END_TEST

/* ---- the skeleton, run in a child process ---- */

static int del_mark = -1;       /* DEL writes 'D' here */

static int fake_add(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	int r = cir_cni_result_add_ip(ctx->result, "10.0.0.2/24", "10.0.0.1", -1, err);

	return r < 0 ? r : 0;
}

static int fake_del(struct cir_cni_ctx *ctx, struct cir_error *err)
{
	if (del_mark >= 0 && write(del_mark, "D", 1) != 1)
		return cir_err(err, EIO, "mark");
	return 0;
}

static const struct cir_cni_plugin fake = {
	.name = "fake", .about = "test plugin", .add = fake_add, .del = fake_del,
};

struct run {
	int status;
	char out[8192];
	bool deleted;
};

/* Run the skeleton with env (NULL-terminated "K=V") and stdin; stdout goes
 * to a pipe, or to /dev/full when full is set. */
static void run_skeleton(const char *const *env, const char *in, bool full, struct run *res)
{
	int ip[2], op[2], mp[2];
	size_t n = 0;
	ssize_t k;
	pid_t pid;
	char m;

	ck_assert_int_eq(pipe(ip), 0);
	ck_assert_int_eq(pipe(op), 0);
	ck_assert_int_eq(pipe(mp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		int outfd = full ? open("/dev/full", O_WRONLY) : op[1];

		clearenv();
		for (size_t i = 0; env[i]; i++)
			putenv((char *)env[i]);
		dup2(ip[0], STDIN_FILENO);
		dup2(outfd, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		close(ip[1]);
		close(op[0]);
		close(mp[0]);
		del_mark = mp[1];
		_exit(cir_cni_main(&fake, no_sandbox));
	}
	close(ip[0]);
	close(op[1]);
	close(mp[1]);
	ck_assert_int_eq(write(ip[1], in, strlen(in)), (ssize_t)strlen(in));
	close(ip[1]);
	while ((k = read(op[0], res->out + n, sizeof(res->out) - 1 - n)) > 0)
		n += (size_t)k;
	res->out[n] = '\0';
	close(op[0]);
	res->deleted = read(mp[0], &m, 1) == 1;
	close(mp[0]);
	ck_assert_int_eq(waitpid(pid, &res->status, 0), pid);
}

START_TEST(skeleton_error_in_callers_version)
{
	const char *conf_ok = "{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"fake\"}";
	const char *bad_id[] = { "CNI_COMMAND=ADD", "CNI_NETNS=/proc/self/ns/net",
				 "CNI_IFNAME=eth0", "CNI_CONTAINERID=c1\xff" EURO EURO, NULL };
	const char *good[] = { "CNI_COMMAND=ADD", "CNI_NETNS=/proc/self/ns/net",
			       "CNI_IFNAME=eth0", "CNI_CONTAINERID=c1", NULL };
	struct run r;

	/* Invalid UTF-8 in the container ID: an env error in 0.4.0. */
	run_skeleton(bad_id, conf_ok, false, &r);
	ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
	check_reply(r.out, "0.4.0", CIR_CNI_INVALID_ENV, "container ID \"c1\\xff" EURO EURO "\"");

	/* Invalid UTF-8 in the network name: the configuration is refused,
	 * and the reply still speaks its version. */
	run_skeleton(good, "{\"cniVersion\":\"0.4.0\",\"name\":\"sand\xff\",\"type\":\"fake\"}",
		     false, &r);
	ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
	check_reply(r.out, "0.4.0", CIR_CNI_DECODE, "\"name\": is not valid UTF-8");
	run_skeleton(good, "{\"cniVersion\":\"1.0.0\",\"name\":\"sand\xc0\xae\",\"type\":\"fake\"}",
		     false, &r);
	check_reply(r.out, "1.0.0", CIR_CNI_DECODE, "\"name\": is not valid UTF-8");
	run_skeleton(good, "{\"cniVersion\":\"0.3.1\",\"name\":\"a/b\",\"type\":\"fake\"}", false,
		     &r);
	check_reply(r.out, "0.3.1", CIR_CNI_INVALID_CONFIG, "network name \"a/b\"");

	/* And the success path, for contrast. */
	run_skeleton(good, conf_ok, false, &r);
	ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"10.0.0.2/24\""));
	ck_assert(!r.deleted);
}
END_TEST

START_TEST(skeleton_result_not_written_fails)
{
	const char *good[] = { "CNI_COMMAND=ADD", "CNI_NETNS=/proc/self/ns/net",
			       "CNI_IFNAME=eth0", "CNI_CONTAINERID=c1", NULL };
	struct run r;

	/* stdout cannot take the result: ADD fails and is undone. */
	run_skeleton(good, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"fake\"}", true, &r);
	ck_assert(WIFEXITED(r.status));
	ck_assert_int_eq(WEXITSTATUS(r.status), 1);
	ck_assert(r.deleted);
}
END_TEST

static Suite *cni_suite(void)
{
	Suite *s = suite_create("cni");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, result_golden, 0, sizeof(versions) / sizeof(versions[0]));
	tcase_add_test(tc, conf_ok_with_prev_result);
	tcase_add_loop_test(tc, conf_bad, 0, sizeof(bad_confs) / sizeof(bad_confs[0]));
	tcase_add_test(tc, env_validation);
	tcase_add_test(tc, args_lookup);
	tcase_add_test(tc, version_compare);
	tcase_add_test(tc, json_getters);
	tcase_add_test(tc, jgen_rejects_bad_utf8);
	tcase_add_test(tc, jgen_pretty_empty_containers);
	tcase_add_test(tc, find_plugin_rejects_paths);
	tcase_add_test(tc, untrusted_text_in_messages_stays_utf8);
	tcase_add_test(tc, error_reply_with_invalid_utf8);
	tcase_add_test(tc, result_append_past_max_fails);
	tcase_add_test(tc, skeleton_error_in_callers_version);
	tcase_add_test(tc, skeleton_result_not_written_fails);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(cni_suite)
