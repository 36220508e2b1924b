// SPDX-License-Identifier: Apache-2.0
/* test_netconf.c - network records and conflists (no store, no kernel). */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netconf.h"
#include "unit.h"

static struct cir_json *parse(const char *s)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_json *j = NULL;

	ck_assert_int_eq(cir_json_parse(s, strlen(s), &j, &e), 0);
	return j;
}

START_TEST(record_roundtrip)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netconf a = { .name = "sandbox", .bridge = "c-sandbox", .mtu = 1400,
				 .masquerade = true, .managed = true, .created = 1234 };
	struct cir_netconf b;
	char *doc = NULL;
	struct cir_json *j;

	ck_assert_int_eq(cir_netconf_add_subnet(&a, "10.254.1.0/24", "10.254.1.1", &e), 0);
	ck_assert_str_eq(a.subnet, "10.254.1.0/24");
	ck_assert_str_eq(a.gateway, "10.254.1.1");
	ck_assert_int_eq(cir_netconf_format(&a, false, &doc, &e), 0);
	j = parse(doc);
	ck_assert_int_eq(cir_netconf_parse(cir_json_root(j), &b, &e), 0);
	ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
	cir_json_free(j);
	free(doc);

	j = parse("{\"name\":\"bad/name\"}");
	ck_assert_int_lt(cir_netconf_parse(cir_json_root(j), &b, &e), 0);
	cir_json_free(j);
}
END_TEST

/* Dual stack: every subnet kept, the first also as "subnet"; a record
 * made before dual stack reads as its one subnet; one subnet per family. */
START_TEST(record_dual_stack)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netconf a = { .name = "ds", .bridge = "c-ds", .masquerade = true,
				 .masquerade6 = false, .managed = true, .created = 1 };
	struct cir_netconf b, d = { 0 };
	const struct cir_jnode *p, *ranges;
	char *doc = NULL, list[128];
	struct cir_json *j;

	ck_assert_int_eq(cir_netconf_add_subnet(&a, "10.254.1.0/24", "10.254.1.1", &e), 0);
	ck_assert_int_eq(cir_netconf_add_subnet(&a, "fd00:1::/64", "fd00:1::1", &e), 0);
	ck_assert_int_eq(cir_netconf_add_subnet(&a, "fd00:2::/64", "", &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "at most one subnet per address family"));
	ck_assert_uint_eq(a.n_subnets, 2);
	ck_assert_str_eq(a.subnet, "10.254.1.0/24");
	ck_assert_int_eq(cir_netconf_format(&a, false, &doc, &e), 0);
	ck_assert_ptr_nonnull(strstr(doc, "\"subnets\":[\"10.254.1.0/24\",\"fd00:1::/64\"]"));
	j = parse(doc);
	ck_assert_int_eq(cir_netconf_parse(cir_json_root(j), &b, &e), 0);
	ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
	cir_json_free(j);
	free(doc);

	ck_assert_int_eq(cir_netconf_masq_subnets(&a, list, sizeof(list)), 1);
	ck_assert_str_eq(list, "10.254.1.0/24");
	a.masquerade6 = true;
	ck_assert_int_eq(cir_netconf_masq_subnets(&a, list, sizeof(list)), 2);
	ck_assert_str_eq(list, "10.254.1.0/24,fd00:1::/64");

	/* The generated chain: ranges, one set per family. */
	a.masquerade6 = false;
	ck_assert_int_eq(cir_conflist_generate(&a, NULL, &doc, &e), 0);
	j = parse(doc);
	p = cir_jnode_at(cir_jnode_get(cir_json_root(j), "plugins"), 0);
	ck_assert(!cir_jnode_bool(cir_jnode_get(p, "ipMasq6")));
	ck_assert_ptr_nonnull(cir_jnode_get(p, "ipMasq6"));
	ranges = cir_jnode_get(cir_jnode_get(p, "ipam"), "ranges");
	ck_assert_uint_eq(cir_jnode_len(ranges), 2);
	ck_assert_ptr_null(cir_jnode_get(cir_jnode_get(p, "ipam"), "subnet"));
	ck_assert_str_eq(cir_jnode_str(cir_jnode_get(cir_jnode_at(cir_jnode_at(ranges, 1), 0),
						     "subnet")), "fd00:1::/64");
	cir_conflist_describe(cir_json_root(j), &d);
	ck_assert_uint_eq(d.n_subnets, 2);
	ck_assert_str_eq(d.subnets[1], "fd00:1::/64");
	ck_assert_str_eq(d.gateways[1], "fd00:1::1");
	cir_json_free(j);
	free(doc);

	/* An old record: subnet and gateway only, masquerade6 as masquerade. */
	j = parse("{\"name\":\"old\",\"subnet\":\"10.9.0.0/24\",\"gateway\":\"10.9.0.1\","
		  "\"masquerade\":true}");
	ck_assert_int_eq(cir_netconf_parse(cir_json_root(j), &b, &e), 0);
	ck_assert_uint_eq(b.n_subnets, 1);
	ck_assert_str_eq(b.subnets[0], "10.9.0.0/24");
	ck_assert_str_eq(b.gateways[0], "10.9.0.1");
	ck_assert(b.masquerade6);
	cir_json_free(j);

	/* subnet must be the first of subnets. */
	j = parse("{\"name\":\"bad\",\"subnet\":\"10.9.0.0/24\","
		  "\"subnets\":[\"fd00::/64\",\"10.9.0.0/24\"]}");
	ck_assert_int_lt(cir_netconf_parse(cir_json_root(j), &b, &e), 0);
	cir_json_free(j);
}
END_TEST

/* A member's addresses: every one of the result, asked for again by
 * restore; a member written before dual stack has its one address. */
START_TEST(member_addresses)
{
	struct cir_cni_result res = { 0 };
	struct cir_member m = { 0 };
	char args[128];

	res.n_ips = 2;
	snprintf(res.ips[0].address, sizeof(res.ips[0].address), "10.254.1.2/24");
	snprintf(res.ips[1].address, sizeof(res.ips[1].address), "fd00:1::2/64");
	cir_member_set_addresses(&m, &res);
	ck_assert_uint_eq(m.n_addresses, 2);
	ck_assert_str_eq(m.address, "10.254.1.2/24");
	ck_assert_str_eq(m.addresses[1], "fd00:1::2/64");
	cir_member_ip_args(&m, args, sizeof(args));
	ck_assert_str_eq(args, "IgnoreUnknown=1;IP=10.254.1.2,fd00:1::2");
	res.n_ips = 0;
	cir_member_set_addresses(&m, &res);
	ck_assert_str_eq(m.address, "");
	cir_member_ip_args(&m, args, sizeof(args));
	ck_assert_str_eq(args, "");
}
END_TEST

START_TEST(generated_chain)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netconf nc = { .name = "sandbox", .subnet = "10.254.1.0/24",
				  .gateway = "10.254.1.1", .bridge = "c-sandbox" };
	struct cir_netconf d = { 0 };
	char *doc = NULL;
	struct cir_json *j;
	const struct cir_jnode *p;

	ck_assert_int_eq(cir_conflist_generate(&nc, NULL, &doc, &e), 0);
	j = parse(doc);
	ck_assert_int_eq(cir_conflist_check(cir_json_root(j), &e), 0);
	/* What Debian 12's podman and containerd read. */
	ck_assert_str_eq(cir_jnode_str(cir_jnode_get(cir_json_root(j), "cniVersion")), "1.0.0");
	p = cir_jnode_at(cir_jnode_get(cir_json_root(j), "plugins"), 0);
	ck_assert_str_eq(cir_jnode_str(cir_jnode_get(p, "type")), "circuit-bridge");
	ck_assert(!cir_jnode_bool(cir_jnode_get(p, "ipMasq")));
	ck_assert_ptr_null(cir_jnode_get(p, "mtu"));
	ck_assert_str_eq(cir_jnode_str(cir_jnode_get(cir_jnode_get(p, "ipam"), "type")),
			 "circuit-ipam");
	cir_conflist_describe(cir_json_root(j), &d);
	ck_assert_str_eq(d.subnet, "10.254.1.0/24");
	ck_assert_str_eq(d.gateway, "10.254.1.1");
	ck_assert_str_eq(d.bridge, "c-sandbox");
	cir_json_free(j);
	free(doc);
	doc = NULL;

	ck_assert_int_eq(cir_conflist_generate(&nc, "0.4.0", &doc, &e), 0);
	j = parse(doc);
	ck_assert_str_eq(cir_jnode_str(cir_jnode_get(cir_json_root(j), "cniVersion")), "0.4.0");
	cir_json_free(j);
	free(doc);
	doc = NULL;
	ck_assert_int_eq(cir_conflist_generate(&nc, "0.2.0", &doc, &e), -EINVAL);
	ck_assert_uint_eq(cir_err_cni_code(&e), 1);
	ck_assert_ptr_null(doc);
}
END_TEST

/* export --cni-version: the same chain at another version, nothing else. */
START_TEST(normalize_version)
{
	static const char conf[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"circuit-bridge\","
		"\"ipam\":{\"type\":\"circuit-ipam\",\"subnet\":\"10.9.0.0/16\"}},"
		"{\"type\":\"circuit-qos\",\"rate\":1000}]}";
	struct cir_error e = CIR_ERROR_INIT;
	char *doc = NULL, *back = NULL, *orig = NULL;

	ck_assert_int_eq(cir_conflist_normalize(conf, strlen(conf), NULL, NULL, &orig, &e), 0);
	ck_assert_int_eq(cir_conflist_normalize(orig, strlen(orig), NULL, "1.0.0", &doc, &e), 0);
	ck_assert_ptr_nonnull(strstr(doc, "\"cniVersion\": \"1.0.0\""));
	ck_assert_ptr_null(strstr(doc, "1.1.0"));
	ck_assert_int_eq(cir_conflist_normalize(doc, strlen(doc), NULL, "1.1.0", &back, &e), 0);
	ck_assert_str_eq(back, orig);
	free(doc);
	doc = NULL;
	ck_assert_int_eq(cir_conflist_normalize(orig, strlen(orig), NULL, "1.2.0", &doc, &e),
			 -EINVAL);
	ck_assert_uint_eq(cir_err_cni_code(&e), 1);
	ck_assert_ptr_null(doc);
	free(back);
	free(orig);
}
END_TEST

START_TEST(normalize)
{
	static const char conf[] =
		"{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"type\":\"bridge\","
		"\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.9.0.0/16\","
		"\"gateway\":\"10.9.0.9\"}]]}}";
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netconf d = { 0 };
	char *doc = NULL;
	struct cir_json *j;

	ck_assert_int_eq(cir_conflist_normalize(conf, strlen(conf), "lab", NULL, &doc, &e), 0);
	j = parse(doc);
	ck_assert_str_eq(cir_jnode_str(cir_jnode_get(cir_json_root(j), "name")), "lab");
	ck_assert_uint_eq(cir_jnode_len(cir_jnode_get(cir_json_root(j), "plugins")), 1);
	cir_conflist_describe(cir_json_root(j), &d);
	ck_assert_str_eq(d.subnet, "10.9.0.0/16");
	ck_assert_str_eq(d.gateway, "10.9.0.9");
	ck_assert_str_eq(d.bridge, "cni0");
	cir_json_free(j);
	free(doc);

	ck_assert_int_lt(cir_conflist_normalize("{\"cniVersion\":\"9.9.9\",\"name\":\"a\","
						"\"plugins\":[{\"type\":\"x\"}]}", 58, NULL, NULL,
						&doc, &e), 0);
	ck_assert_int_lt(cir_conflist_normalize("{\"cniVersion\":\"1.0.0\",\"name\":\"a\","
						"\"plugins\":[]}", 45, NULL, NULL, &doc, &e), 0);
	ck_assert_int_lt(cir_conflist_normalize("[1]", 3, NULL, NULL, &doc, &e), 0);
}
END_TEST

/* RFC 3339 in local time, podman-style; TZ as POSIX strings (no tzdata). */
START_TEST(times_rfc3339)
{
	static const struct { const char *tz, *want; } cases[] = {
		{ "UTC0", "2026-12-01T11:04:42Z" },
		{ "CET-1", "2026-12-01T12:04:42+01:00" },
		{ "EST5", "2026-12-01T06:04:42-05:00" },
		{ "IST-5:30", "2026-12-01T16:34:42+05:30" },
		{ "NST3:30", "2026-12-01T07:34:42-03:30" },
	};
	const char *old = getenv("TZ");
	char buf[CIR_TIME_STRLEN], *saved = old ? strdup(old) : NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("TZ", cases[i].tz, 1);
		tzset();
		ck_assert_str_eq(cir_time_rfc3339(1796123082, buf, sizeof(buf)), cases[i].want);
	}
	setenv("TZ", "UTC0", 1);
	tzset();
	ck_assert_str_eq(cir_time_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
	ck_assert_str_eq(cir_time_rfc3339(1796123082, buf, 5), "");    /* too small: nothing */
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}
END_TEST

/* What the CLI shows (created as a time, the effective mtu) differs from
 * the stored record, which keeps unix seconds and the configured mtu. */
START_TEST(shown_record)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netconf a = { .name = "sandbox", .subnet = "10.254.1.0/24",
				 .gateway = "10.254.1.1", .bridge = "c-sandbox",
				 .masquerade = true, .managed = true, .created = 1796123082 };
	struct cir_jgen *g = NULL;
	struct cir_json *j;
	const struct cir_jnode *root;
	const char *buf, *created = NULL;
	char *doc = NULL;
	uint64_t v = 0;
	uint32_t mtu = 0;
	size_t len;

	setenv("TZ", "UTC0", 1);
	tzset();
	ck_assert_int_eq(cir_jgen_new(&g, false, &e), 0);
	cir_jgen_map_open(g);
	cir_netconf_emit_shown(g, &a, 1500);
	cir_jgen_map_close(g);
	ck_assert_int_eq(cir_jgen_finish(g, &buf, &len, &e), 0);
	j = parse(buf);
	root = cir_json_root(j);
	ck_assert_int_eq(cir_json_str(root, "created", &created, &e), 1);
	ck_assert_str_eq(created, "2026-12-01T11:04:42Z");
	ck_assert_int_eq(cir_json_u32(root, "mtu", 65535, &mtu, &e), 1);
	ck_assert_uint_eq(mtu, 1500);
	cir_json_free(j);
	cir_jgen_free(g);

	/* Not recorded: null. */
	a.created = 0;
	ck_assert_int_eq(cir_jgen_new(&g, false, &e), 0);
	cir_jgen_map_open(g);
	cir_netconf_emit_shown(g, &a, 1400);
	cir_jgen_map_close(g);
	ck_assert_int_eq(cir_jgen_finish(g, &buf, &len, &e), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"created\":null"));
	cir_jgen_free(g);

	/* The store's format is unchanged. */
	a.created = 1796123082;
	ck_assert_int_eq(cir_netconf_format(&a, false, &doc, &e), 0);
	j = parse(doc);
	ck_assert_int_eq(cir_json_u64(cir_json_root(j), "created", INT64_MAX, &v, &e), 1);
	ck_assert_uint_eq(v, 1796123082);
	ck_assert_int_eq(cir_json_u32(cir_json_root(j), "mtu", 65535, &mtu, &e), 1);
	ck_assert_uint_eq(mtu, 0);
	cir_json_free(j);
	free(doc);
	unsetenv("TZ");
	tzset();
}
END_TEST

START_TEST(process_identity)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_member m = { 0 };

	ck_assert_int_eq(cir_member_set_process(&m, getpid(), &e), 0);
	ck_assert_int_eq(cir_member_alive(&m), 1);
	m.starttime++;
	ck_assert_int_eq(cir_member_alive(&m), 0);
	ck_assert_int_eq(cir_member_set_process(&m, 4000000, &e), -ESRCH);
	ck_assert_str_eq(e.msg, "process 4000000 not found");
}
END_TEST

static Suite *netconf_suite(void)
{
	Suite *s = suite_create("netconf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, record_roundtrip);
	tcase_add_test(tc, record_dual_stack);
	tcase_add_test(tc, member_addresses);
	tcase_add_test(tc, generated_chain);
	tcase_add_test(tc, normalize);
	tcase_add_test(tc, normalize_version);
	tcase_add_test(tc, process_identity);
	tcase_add_test(tc, times_rfc3339);
	tcase_add_test(tc, shown_record);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(netconf_suite)
