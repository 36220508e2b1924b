// SPDX-License-Identifier: Apache-2.0
/* test_netconf.c - network records and conflists (no store, no kernel). */
#include <stdlib.h>
#include <errno.h>
#include <string.h>
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
	struct cir_netconf a = { .name = "sandbox", .subnet = "10.254.1.0/24",
				 .gateway = "10.254.1.1", .bridge = "c-sandbox", .mtu = 1400,
				 .masquerade = true, .managed = true, .created = 1234 };
	struct cir_netconf b;
	char *doc = NULL;
	struct cir_json *j;

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

START_TEST(generated_chain)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netconf nc = { .name = "sandbox", .subnet = "10.254.1.0/24",
				  .gateway = "10.254.1.1", .bridge = "c-sandbox" };
	struct cir_netconf d = { 0 };
	char *doc = NULL;
	struct cir_json *j;
	const struct cir_jnode *p;

	ck_assert_int_eq(cir_conflist_generate(&nc, &doc, &e), 0);
	j = parse(doc);
	ck_assert_int_eq(cir_conflist_check(cir_json_root(j), &e), 0);
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

	ck_assert_int_eq(cir_conflist_normalize(conf, strlen(conf), "lab", &doc, &e), 0);
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
						"\"plugins\":[{\"type\":\"x\"}]}", 58, NULL,
						&doc, &e), 0);
	ck_assert_int_lt(cir_conflist_normalize("{\"cniVersion\":\"1.0.0\",\"name\":\"a\","
						"\"plugins\":[]}", 45, NULL, &doc, &e), 0);
	ck_assert_int_lt(cir_conflist_normalize("[1]", 3, NULL, &doc, &e), 0);
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
	tcase_add_test(tc, generated_chain);
	tcase_add_test(tc, normalize);
	tcase_add_test(tc, process_identity);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(netconf_suite)
