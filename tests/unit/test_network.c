// SPDX-License-Identifier: Apache-2.0
/* test_network.c - lib/network.h without a kernel: a spec refused before
 * anything is looked at, the overlap set, the context's message lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "network_int.h"
#include "unit.h"

/* cir_net_create refuses a bad spec before it opens anything: db is never
 * touched (a zeroed one would fail any use). */
static int create(const struct cir_net_spec *spec, struct cir_error *e)
{
	struct cir_net_ctx ctx = { .plugin_path = "/nonexistent" };
	struct cir_netdb db;

	memset(&db, 0, sizeof(db));
	return cir_net_create(&ctx, &db, spec, e);
}

START_TEST(spec_refused)
{
	struct cir_error e = CIR_ERROR_INIT;
	const char *v6[] = { "fd00:1::/64", "fd00:2::/64" };
	struct cir_net_spec s = { .name = "lo", .subnet = "127.0.0.0/8" };

	ck_assert_int_eq(create(&s, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "--allow-reserved"));

	s = (struct cir_net_spec){ .name = "pub", .subnet = "8.8.8.0/24", .private_only = true };
	ck_assert_int_eq(create(&s, &e), -EPERM);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a private-use range"));

	s = (struct cir_net_spec){ .name = "gw", .subnet = "10.1.0.0/24", .gateway = "fd00::1" };
	ck_assert_int_eq(create(&s, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "gateway fd00::1: no subnet of its address family");

	s = (struct cir_net_spec){ .name = "gw", .subnet = "10.1.0.0/24", .gateway = "10.2.0.1" };
	ck_assert_int_eq(create(&s, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "gateway 10.2.0.1 is not a host address of 10.1.0.0/24");

	s = (struct cir_net_spec){ .name = "gw", .subnet = "10.1.0.0/24", .gateway = "10.1.0.0" };
	ck_assert_int_eq(create(&s, &e), -EINVAL);

	/* Two subnets of one family. */
	s = (struct cir_net_spec){ .name = "two", .subnet = v6[0], .more_subnets = &v6[1],
				   .n_more = 1 };
	ck_assert_int_eq(create(&s, &e), -EINVAL);

	s = (struct cir_net_spec){ .name = "bad/name", .subnet = "10.1.0.0/24" };
	ck_assert_int_lt(create(&s, &e), 0);
}
END_TEST

static struct cir_cidr cidr(const char *s)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_cidr c;

	ck_assert_int_eq(cir_cidr_parse(s, 0, &c, &e), 0);
	return c;
}

START_TEST(taken_find)
{
	struct cir_net_taken v[2] = { { .c = cidr("10.0.0.0/8"), .what = "network a" },
				      { .c = cidr("fd00::/64"), .what = "address on x" } };
	struct cir_net_taken_set t = { .v = v, .n = 2, .cap = 2 };
	struct cir_cidr q = cidr("10.254.1.0/24");

	ck_assert_ptr_eq(cir_net_taken_find(&t, &q), &v[0]);
	q = cidr("192.168.0.0/16");
	ck_assert_ptr_null(cir_net_taken_find(&t, &q));
	q = cidr("fd00::/48");                 /* contains it */
	ck_assert_ptr_eq(cir_net_taken_find(&t, &q), &v[1]);
	q = cidr("fd01::/64");
	ck_assert_ptr_null(cir_net_taken_find(&t, &q));
}
END_TEST

START_TEST(has_subnet)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netconf nc = { .name = "ds" };

	ck_assert_int_eq(cir_netconf_add_subnet(&nc, "10.254.1.0/24", "10.254.1.1", &e), 0);
	ck_assert_int_eq(cir_netconf_add_subnet(&nc, "fd00:1::/64", "fd00:1::1", &e), 0);
	ck_assert(cir_net_has_subnet(&nc, "10.254.1.0/24"));
	ck_assert(cir_net_has_subnet(&nc, "fd00:1::/64"));
	ck_assert(!cir_net_has_subnet(&nc, "10.254.1.0/25"));   /* another prefix */
	ck_assert(!cir_net_has_subnet(&nc, "10.254.2.0/24"));
	ck_assert(cir_net_has_subnet(&nc, "not a subnet"));     /* refused elsewhere */
}
END_TEST

/* Pools a hook may not take from are refused before anything is read. */
START_TEST(pool_refused)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netdb db;
	char out[CIR_CIDR_STRLEN];

	memset(&db, 0, sizeof(db));
	ck_assert_int_eq(cir_net_pool_pick(&db, "8.8.0.0/16", 24, out, sizeof(out), &e), -EPERM);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a private-use range"));
	ck_assert_int_eq(cir_net_pool_pick(&db, "127.0.0.0/8", 24, out, sizeof(out), &e),
			 -EPERM);
	ck_assert_int_eq(cir_net_pool_pick(&db, "fd00::/48", 24, out, sizeof(out), &e),
			 -EINVAL);
	ck_assert_int_eq(cir_net_pool_pick(&db, "10.0.0.0/31", 24, out, sizeof(out), &e),
			 -EINVAL);
	ck_assert_int_lt(cir_net_pool_pick(&db, "10.0.0.1/16", 24, out, sizeof(out), &e), 0);
}
END_TEST

struct heard {
	int n;
	enum cir_log_level level;
	char msg[64];
};

static void hear(void *arg, enum cir_log_level level, const char *msg)
{
	struct heard *h = arg;

	h->n++;
	h->level = level;
	snprintf(h->msg, sizeof(h->msg), "%s", msg);
}

START_TEST(log_lines)
{
	struct heard h = { 0 };
	struct cir_net_ctx ctx = { .log = hear, .arg = &h };

	net_debug(&ctx, "network %s: DEL %s", "a", "b");
	ck_assert_int_eq(h.n, 0);               /* debug off */
	net_warn(&ctx, "network %s: kept", "a");
	ck_assert_int_eq(h.n, 1);
	ck_assert_int_eq(h.level, CIR_LOG_WARN);
	ck_assert_str_eq(h.msg, "network a: kept");
	ctx.debug = true;
	net_debug(&ctx, "network %s: DEL %s", "a", "b");
	ck_assert_int_eq(h.n, 2);
	ck_assert_str_eq(h.msg, "network a: DEL b");
	/* No callback, no context: nothing, no crash. */
	ctx.log = NULL;
	net_warn(&ctx, "x");
	net_warn(NULL, "x");
	ck_assert_int_eq(h.n, 2);
}
END_TEST

static Suite *network_suite(void)
{
	Suite *s = suite_create("network");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, spec_refused);
	tcase_add_test(tc, taken_find);
	tcase_add_test(tc, log_lines);
	tcase_add_test(tc, has_subnet);
	tcase_add_test(tc, pool_refused);
	suite_add_tcase(s, tc);
	return s;
}

CIR_UNIT_SUITE(network_suite)
