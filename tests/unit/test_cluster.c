// SPDX-License-Identifier: Apache-2.0
/*
 * test_cluster.c - the parts of lib/cluster_local.c that need no etcd and
 * no kernel: the overlay's peers from the registry, and what `network ls`
 * and `network delete` see when no cluster is configured; a cluster
 * service's record as read from etcd (lib/lb_cluster.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_local.h"
#include "cluster_members.h"
#include "lb_cluster.h"
#include "unit.h"

static void host(struct cir_cluster_host *h, const char *name, const char *underlay)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->name, name);
	strcpy(h->underlay, underlay);
}

START_TEST(peers_skip_self_and_bad)
{
	struct cir_cluster cl = { 0 };
	struct cir_cluster_host h[5];
	struct cir_ip out[4], want;

	strcpy(cl.conf.host_name, "h1");
	ck_assert_int_eq(cir_ip_parse("10.77.0.1", &cl.underlay, NULL), 0);
	host(&h[0], "h1", "10.77.0.9");      /* this host by name */
	host(&h[1], "old-h1", "10.77.0.1");  /* this host by underlay */
	host(&h[2], "h2", "10.77.0.2");
	host(&h[3], "h3", "not-an-address");
	host(&h[4], "h4", "fd00::4");
	ck_assert_uint_eq(cir_cluster_peer_ips(&cl, h, 5, out, 4), 2);
	ck_assert_int_eq(cir_ip_parse("10.77.0.2", &want, NULL), 0);
	ck_assert(cir_ip_eq(&out[0], &want));
	ck_assert_int_eq(cir_ip_parse("fd00::4", &want, NULL), 0);
	ck_assert(cir_ip_eq(&out[1], &want));
	/* At most max. */
	ck_assert_uint_eq(cir_cluster_peer_ips(&cl, h, 5, out, 1), 1);
	ck_assert_uint_eq(cir_cluster_peer_ips(&cl, h, 0, out, 4), 0);
}
END_TEST

/* No cluster configured: nothing listed, nothing to delete in etcd. */
static void no_cluster(void)
{
	setenv(CIR_CLUSTER_CONF_ENV, "/nonexistent/circuit.conf", 1);
	unsetenv(CIR_CLUSTER_ENV);
}

START_TEST(without_a_cluster)
{
	struct cir_cluster_net *v = (void *)1;
	struct cir_error e = CIR_ERROR_INIT;
	size_t n = 7;

	no_cluster();
	ck_assert(!cir_cluster_configured("/nonexistent/state"));
	ck_assert_int_eq(cir_cluster_net_catalog("/nonexistent/state", &v, &n, &e), 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(cir_cluster_net_finish_delete("/nonexistent/state", "blue", false, &e),
			 -ENOENT);
}
END_TEST

/* Member keys read back from etcd: checked against their key, hostile
 * values refused. */
static int mparse(const char *key, const char *val, struct cir_cluster_member *m)
{
	struct cir_error e = CIR_ERROR_INIT;

	return cir_cluster_member_parse(key, strlen(key), val, strlen(val), m, &e);
}

START_TEST(member_records)
{
	struct cir_cluster_member m;
	const char *k = CIR_CLUSTER_PREFIX "members/blue/h2/c2:eth0";

	ck_assert_int_eq(mparse(k, "{\"container\":\"c2\",\"interface\":\"eth0\","
				"\"addresses\":[\"10.128.3.65/16\"],\"host\":\"h2\"}", &m), 0);
	ck_assert_str_eq(m.network, "blue");
	ck_assert_str_eq(m.host, "h2");
	ck_assert_str_eq(m.cid, "c2");
	ck_assert_str_eq(m.ifname, "eth0");
	ck_assert_uint_eq(m.naddrs, 1);
	ck_assert_str_eq(m.addrs[0], "10.128.3.65/16");
	/* The value must match its key. */
	ck_assert_int_eq(mparse(k, "{\"container\":\"c3\",\"interface\":\"eth0\","
				"\"addresses\":[],\"host\":\"h2\"}", &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, "{\"container\":\"c2\",\"interface\":\"eth0\","
				"\"addresses\":[\"10.128.3.65/16\"],\"host\":\"h3\"}", &m),
			 -EBADMSG);
	ck_assert_int_eq(mparse(k, "{\"container\":\"c2\",\"interface\":\"eth0\","
				"\"addresses\":[\"nope\"],\"host\":\"h2\"}", &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, "{\"container\":\"c2\",\"interface\":\"eth0\","
				"\"addresses\":[1],\"host\":\"h2\"}", &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, "[]", &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, "garbage", &m), -EBADMSG);
	/* Bad keys. */
	ck_assert_int_eq(mparse(CIR_CLUSTER_PREFIX "members/blue/h2/c2", "{}", &m), -EBADMSG);
	ck_assert_int_eq(mparse(CIR_CLUSTER_PREFIX "members/blue/h2/c2:", "{}", &m), -EBADMSG);
	ck_assert_int_eq(mparse(CIR_CLUSTER_PREFIX "members/blue/-h/c2:eth0", "{}", &m), -EBADMSG);
	ck_assert_int_eq(mparse(CIR_CLUSTER_PREFIX "members/blue/h2/../x:eth0", "{}", &m),
			 -EBADMSG);
	ck_assert_int_eq(mparse(CIR_CLUSTER_PREFIX "members/blue/h2/c2:eth0/x", "{}", &m),
			 -EBADMSG);
	ck_assert_int_eq(mparse(CIR_CLUSTER_PREFIX "members/blue", "{}", &m), -EBADMSG);
	ck_assert_int_eq(mparse(CIR_CLUSTER_PREFIX "networks/blue", "{}", &m), -EBADMSG);
}
END_TEST

static int sparse(const char *key, const char *value, struct cir_lb_service *s)
{
	struct cir_error err = CIR_ERROR_INIT;

	return cir_lb_cluster_parse(key, strlen(key), value, strlen(value), s, &err);
}

START_TEST(service_records)
{
	struct cir_lb_service s = { 0 };
	const char *k = CIR_LB_CLUSTER_KEYS "web";

	ck_assert_int_eq(sparse(k, "{\"name\":\"web\",\"address\":\"10.96.0.10\",\"port\":80,"
				"\"scope\":\"cluster\",\"targets\":[{\"address\":\"10.128.0.5\","
				"\"port\":8080,\"weight\":2}]}", &s), 0);
	ck_assert_str_eq(s.name, "web");
	ck_assert(s.cluster);
	ck_assert_uint_eq(s.vip.port, 80);
	ck_assert_uint_eq(s.n_targets, 1);
	ck_assert_uint_eq(s.targets[0].weight, 2);
	cir_lb_service_clear(&s);
	/* The name must be the key's, the scope the cluster's, the backend IPVS. */
	ck_assert_int_eq(sparse(k, "{\"name\":\"other\",\"address\":\"10.96.0.10\",\"port\":80,"
				"\"scope\":\"cluster\"}", &s), -EBADMSG);
	ck_assert_int_eq(sparse(k, "{\"name\":\"web\",\"address\":\"10.96.0.10\",\"port\":80}",
				&s), -EBADMSG);
	ck_assert_int_eq(sparse(k, "{\"name\":\"web\",\"address\":\"10.96.0.10\",\"port\":80,"
				"\"scope\":\"cluster\",\"backend\":\"haproxy\"}", &s), -EBADMSG);
	ck_assert_int_eq(sparse(k, "{\"name\":\"web\",\"address\":\"10.96.0.10\",\"port\":80,"
				"\"scope\":\"everywhere\"}", &s), -EBADMSG);
	ck_assert_int_eq(sparse(k, "{\"name\":\"web\",\"address\":\"10.96.0.10\",\"port\":80,"
				"\"scope\":\"cluster\",\"targets\":[{\"address\":\"fd00::1\","
				"\"port\":80}]}", &s), -EBADMSG);
	ck_assert_int_eq(sparse(k, "garbage", &s), -EBADMSG);
	ck_assert_int_eq(sparse(k, "[]", &s), -EBADMSG);
	ck_assert_int_eq(sparse(CIR_CLUSTER_PREFIX "networks/web", "{}", &s), -EBADMSG);
	ck_assert_int_eq(sparse(CIR_LB_CLUSTER_KEYS, "{}", &s), -EBADMSG);
	ck_assert_uint_eq(s.n_targets, 0);
}
END_TEST

/* The MAC of a member (spec/cluster.md "Per-container FDB entries"):
 * optional, one spelling, unicast only. */
START_TEST(member_mac)
{
	struct cir_cluster_member m;
	const char *k = CIR_CLUSTER_PREFIX "members/blue/h2/c2:eth0";
	unsigned char b[6];

#define MV(mac) "{\"container\":\"c2\",\"interface\":\"eth0\",\"addresses\":[],\"host\":\"h2\"" \
		mac "}"
	ck_assert_int_eq(mparse(k, MV(""), &m), 0);
	ck_assert_str_eq(m.mac, "");
	ck_assert_int_eq(mparse(k, MV(",\"mac\":\"0A:1b:2c:3d:4e:5f\""), &m), 0);
	ck_assert_str_eq(m.mac, "0a:1b:2c:3d:4e:5f");
	ck_assert_int_eq(mparse(k, MV(",\"mac\":\"01:00:5e:00:00:01\""), &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, MV(",\"mac\":\"ff:ff:ff:ff:ff:ff\""), &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, MV(",\"mac\":\"00:00:00:00:00:00\""), &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, MV(",\"mac\":\"0a:1b:2c:3d:4e\""), &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, MV(",\"mac\":\"0a:1b:2c:3d:4e:5f:\""), &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, MV(",\"mac\":\"0a-1b-2c-3d-4e-5f\""), &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, MV(",\"mac\":\"0g:1b:2c:3d:4e:5f\""), &m), -EBADMSG);
	ck_assert_int_eq(mparse(k, MV(",\"mac\":42"), &m), -EBADMSG);
#undef MV
	ck_assert(cir_cluster_mac_parse("02:c1:00:00:00:01", b));
	ck_assert_uint_eq(b[0], 0x02);
	ck_assert_uint_eq(b[5], 0x01);
	ck_assert(!cir_cluster_mac_parse("", b));
	ck_assert(!cir_cluster_mac_parse(NULL, b));
	ck_assert(!cir_cluster_mac_parse(" 2:c1:00:00:00:01", b));
}
END_TEST

static Suite *cluster_suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("local");

	tcase_add_test(tc, peers_skip_self_and_bad);
	tcase_add_test(tc, without_a_cluster);
	tcase_add_test(tc, member_records);
	tcase_add_test(tc, service_records);
	tcase_add_test(tc, member_mac);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(cluster_suite)
