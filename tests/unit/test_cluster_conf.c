// SPDX-License-Identifier: Apache-2.0
/*
 * test_cluster_conf.c - circuit.conf's parser (lib/cluster.c) and the etcd
 * client's pieces that need no server (lib/etcd_parse.c): what each line
 * sets, the one-line errors, base64, a range response.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "etcd.h"
#include "unit.h"

static int conf(const char *text, struct cir_cluster_conf *c, struct cir_error *e)
{
	memset(c, 0, sizeof(*c));
	cir_err_clear(e);
	return cir_cluster_conf_parse(text, strlen(text), c, e);
}

START_TEST(conf_lines)
{
	struct cir_cluster_conf c;
	struct cir_error e = CIR_ERROR_INIT;

	ck_assert_int_eq(conf("# comment\n\n  \t\ncluster = http://10.0.0.1:2379,http://x:2379\r\n"
			      "host-name=h1\n  underlay\t=  10.0.0.9  \n"
			      "etcd-timeout-ms = 60000\nlease-ttl=2\netcd-token = a b\n\r\n", &c, &e),
			 0);
	ck_assert_str_eq(c.endpoints, "http://10.0.0.1:2379,http://x:2379");
	ck_assert_str_eq(c.host_name, "h1");
	ck_assert_str_eq(c.underlay, "10.0.0.9");
	ck_assert_str_eq(c.token, "a b");
	ck_assert_uint_eq(c.timeout_ms, 60000);
	ck_assert_uint_eq(c.lease_ttl, 2);
	ck_assert_uint_eq(c.connect_ms, 0);
	/* An empty value is an empty string; the last line needs no newline. */
	ck_assert_int_eq(conf("host-name = h1\nhost-name =", &c, &e), 0);
	ck_assert_str_eq(c.host_name, "");
	ck_assert_int_eq(conf("", &c, &e), 0);
}
END_TEST

START_TEST(conf_errors)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "cluster = x\nbogus = 1\n", "circuit.conf:2: unknown key \"bogus\"" },
		{ "cluster\n", "circuit.conf:1: want key = value" },
		{ "lease-ttl = 1\n", "circuit.conf:1: lease-ttl: want 2 to 3600" },
		{ "lease-ttl = 3601\n", "circuit.conf:1: lease-ttl: want 2 to 3600" },
		{ "etcd-timeout-ms = -5\n", "circuit.conf:1: etcd-timeout-ms: want a number" },
		{ "etcd-timeout-ms = 5x\n", "circuit.conf:1: etcd-timeout-ms: want 1 to 60000" },
		{ "etcd-timeout-ms =\n", "circuit.conf:1: etcd-timeout-ms: want a number" },
		{ "etcd-timeout-ms = 99999999999999999\n",
		  "circuit.conf:1: etcd-timeout-ms: want a number" },
		{ "\n\nhost-name = a\x01" "b\n", "circuit.conf:3: host-name: control character" },
	};
	struct cir_cluster_conf c;
	struct cir_error e = CIR_ERROR_INIT;
	char big[CIR_CLUSTER_CONF_MAX + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(conf(bad[i].text, &c, &e), -EINVAL);
		ck_assert_str_eq(e.msg, bad[i].msg);
	}
	ck_assert_int_eq(cir_cluster_conf_parse("host-name = a\0b\n", 16, &c, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "circuit.conf:1: NUL byte");
	memset(big, 'a', sizeof(big));
	memcpy(big, "host-name = ", 12);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(conf(big, &c, &e), -EFBIG);
	memset(big, 'a', sizeof(c.host_name) + 12);
	memcpy(big, "host-name = ", 12);
	big[sizeof(c.host_name) + 12] = '\0';
	ck_assert_int_eq(conf(big, &c, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "host-name: longer than"));
}
END_TEST

START_TEST(etcd_base64_and_range)
{
	static const char range[] =
		"{\"header\":{\"revision\":\"12\"},\"kvs\":[{\"key\":\"YS8x\",\"value\":\"eA==\","
		"\"mod_revision\":\"7\",\"lease\":\"5\"},{\"key\":\"YS8y\"}],\"count\":\"2\"}";
	static const char badkey[] = "{\"kvs\":[{\"key\":1}]}";
	static const char gone[] = "{\"error\":\"etcdserver: x\",\"code\":5,\"message\":\"gone\"}";
	struct cir_etcd_resp r = { 0 };
	struct cir_error e = CIR_ERROR_INIT;
	char *enc = cir_base64_encode("a/1", 3), *dec = NULL;
	size_t n = 0;

	ck_assert_str_eq(enc, "YS8x");
	ck_assert_int_eq(cir_base64_decode(enc, strlen(enc), 16, &dec, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(dec, "a/1");
	free(enc);
	free(dec);
	ck_assert_int_eq(cir_base64_decode("YS8", 3, 16, &dec, &n), -EBADMSG);
	ck_assert_int_eq(cir_base64_decode("YS8x", 4, 2, &dec, &n), -EFBIG);

	ck_assert_int_eq(cir_etcd_parse(CIR_ETCD_RANGE, range, strlen(range), &r, &e), 0);
	ck_assert_int_eq(r.revision, 12);
	ck_assert_uint_eq(r.nkvs, 2);
	ck_assert_str_eq(r.kvs[0].key, "a/1");
	ck_assert_str_eq(r.kvs[0].value, "x");
	ck_assert_int_eq(r.kvs[0].mod_rev, 7);
	ck_assert_int_eq(r.kvs[0].lease, 5);
	ck_assert_str_eq(r.kvs[1].value, "");
	ck_assert_int_eq(r.count, 2);
	cir_etcd_resp_free(&r);
	ck_assert_int_eq(cir_etcd_parse(CIR_ETCD_RANGE, badkey, strlen(badkey), &r, &e), -EBADMSG);
	ck_assert_int_eq(cir_etcd_parse(CIR_ETCD_LEASE_GRANT, gone, strlen(gone), &r, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "gone");
}
END_TEST

static Suite *cluster_conf_suite(void)
{
	Suite *s = suite_create("cluster_conf");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, conf_lines);
	tcase_add_test(tc, conf_errors);
	tcase_add_test(tc, etcd_base64_and_range);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(cluster_conf_suite)
