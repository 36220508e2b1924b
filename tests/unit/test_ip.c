// SPDX-License-Identifier: Apache-2.0
/* test_ip.c - strict address/prefix parsing, formatting and arithmetic. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "ip.h"
#include "unit.h"

static struct cir_ip ip4(const char *s)
{
	struct cir_ip ip;

	ck_assert_int_eq(cir_ip_parse(s, &ip, NULL), 0);
	return ip;
}

static struct cir_cidr cidr(const char *s)
{
	struct cir_cidr c;

	ck_assert_int_eq(cir_cidr_parse(s, 0, &c, NULL), 0);
	return c;
}

static const char *fmt(const struct cir_ip *ip)
{
	static char buf[4][CIR_IP_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return cir_ip_format(ip, buf[i], sizeof(buf[i]));
}

START_TEST(parse_good)
{
	struct cir_cidr c;
	char buf[CIR_CIDR_STRLEN];

	ck_assert_int_eq(cir_cidr_parse_subnet("10.254.1.0/24", &c, NULL), 0);
	ck_assert_int_eq(c.ip.af, AF_INET);
	ck_assert_uint_eq(c.prefix, 24);
	ck_assert_str_eq(cir_cidr_format(&c, buf, sizeof(buf)), "10.254.1.0/24");
	ck_assert_int_eq(cir_cidr_parse_subnet("10.0.0.0/30", &c, NULL), 0);
	ck_assert_int_eq(cir_cidr_parse_subnet("0.0.0.0/0", &c, NULL), 0);
	ck_assert_int_eq(cir_cidr_parse_subnet("fd00:c::/64", &c, NULL), 0);
	ck_assert_int_eq(c.ip.af, AF_INET6);
	ck_assert_str_eq(cir_cidr_format(&c, buf, sizeof(buf)), "fd00:c::/64");
	ck_assert_int_eq(cir_cidr_parse_subnet("FD00:C::/126", &c, NULL), 0);
	ck_assert_str_eq(cir_cidr_format(&c, buf, sizeof(buf)), "fd00:c::/126");
	/* Without flags a host address with its prefix is fine (a result's "address"). */
	ck_assert_int_eq(cir_cidr_parse("10.0.0.1/24", 0, &c, NULL), 0);
	ck_assert_int_eq(cir_cidr_parse("10.0.0.1/32", 0, &c, NULL), 0);
	ck_assert_int_eq(cir_cidr_parse("::ffff:1.2.3.4/128", 0, &c, NULL), 0);
	ck_assert_str_eq(fmt(&(struct cir_ip){ 0 }), "invalid");
	ck_assert_str_eq(fmt(&(struct cir_ip){ .af = AF_INET, .addr = { 1, 2, 3, 4 } }), "1.2.3.4");
}
END_TEST

static const char *const bad_cidrs[] = {
	"", "/", "/24", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
	" 10.0.0.0/24", "10.0.0.0/24 ", "10.0.0.0 /24", "10.0.0.0/ 24", "10.0.0.0/24\n",
	"10.0.0.0/024", "10.0.0.0/00", "10.0.0.0/24/24", "10.0.0.0/2a", "10.0.0.0/0x18",
	"1.2.3.4.5/8", "1.2.3/8", "1.2/8", "1/8", "256.0.0.0/8", "1.2.3.-4/8", "01.2.3.0/24",
	"1.2.3.04/30", "10.0.0.0/4294967320", "10.0.0.0/99999999999999999999",
	"4294967296/8", "10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0/8",
	"fd00::/129", "fd00:::/64", "fd00::1::/64", "fe80::1%eth0/64", "fd00::/64%x",
	"fd00::g/64", "[fd00::]/64", "0x0a000000/8", "10.0.0.0\t/8", "ten/8", "10.0.0.0/8\0junk",
};

START_TEST(parse_hostile)
{
	struct cir_cidr c = { .prefix = 77 };
	struct cir_error e = CIR_ERROR_INIT;
	char huge[4096];

	for (size_t i = 0; i < sizeof(bad_cidrs) / sizeof(bad_cidrs[0]); i++) {
		const char *s = bad_cidrs[i];

		/* "10.0.0.0/8\0junk" is a valid C string "10.0.0.0/8": skip it. */
		if (!strcmp(s, "10.0.0.0/8"))
			continue;
		ck_assert_msg(cir_cidr_parse(s, 0, &c, &e) == -EINVAL, "accepted \"%s\"", s);
		ck_assert_uint_eq(c.prefix, 77);        /* untouched on failure */
		ck_assert_ptr_nonnull(strstr(e.msg, "invalid prefix"));
	}
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	ck_assert_int_eq(cir_cidr_parse(huge, 0, &c, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "too long"));
	ck_assert_uint_lt(strlen(e.msg), 200);
	ck_assert_int_eq(cir_cidr_parse(NULL, 0, &c, &e), -EINVAL);
	/* Control characters never reach the message raw. */
	ck_assert_int_eq(cir_cidr_parse("\x1b[31m/8", 0, &c, &e), -EINVAL);
	ck_assert_ptr_null(strchr(e.msg, '\x1b'));
}
END_TEST

START_TEST(parse_subnet_rules)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_cidr c;

	ck_assert_int_eq(cir_cidr_parse_subnet("10.0.0.1/24", &c, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a network address"));
	ck_assert_ptr_nonnull(strstr(e.msg, "10.0.0.0/24"));
	ck_assert_int_eq(cir_cidr_parse_subnet("10.0.0.0/31", &c, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "no room for hosts"));
	ck_assert_int_eq(cir_cidr_parse_subnet("10.0.0.0/32", &c, &e), -EINVAL);
	ck_assert_int_eq(cir_cidr_parse_subnet("fd00::/127", &c, &e), -EINVAL);
	ck_assert_int_eq(cir_cidr_parse_subnet("fd00::1/64", &c, &e), -EINVAL);
	ck_assert_int_eq(cir_cidr_parse("10.0.0.0/31", CIR_CIDR_NETWORK, &c, &e), 0);
	ck_assert_int_eq(cir_cidr_parse("10.0.0.1/31", CIR_CIDR_HOSTS, &c, &e), -EINVAL);
	ck_assert_int_eq(cir_cidr_parse("10.0.0.1/30", CIR_CIDR_HOSTS, &c, &e), 0);
}
END_TEST

START_TEST(parse_ip)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_ip ip;
	static const char *const bad[] = {
		"", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "1.2.3", "1.2.3.4.5", "1.2.3.256",
		"01.2.3.4", "::1%lo", "fe80::1%1", "1.2.3.4\n", "::1::", "12345::", "abc",
	};

	ck_assert_int_eq(cir_ip_parse("10.254.1.7", &ip, NULL), 0);
	ck_assert_str_eq(fmt(&ip), "10.254.1.7");
	ck_assert_int_eq(cir_ip_parse("::", &ip, NULL), 0);
	ck_assert_int_eq(ip.af, AF_INET6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cir_ip_parse(bad[i], &ip, &e) == -EINVAL, "accepted \"%s\"", bad[i]);
	ck_assert_ptr_nonnull(strstr(e.msg, "invalid address"));
	ck_assert_int_eq(cir_ip_parse(NULL, &ip, &e), -EINVAL);
}
END_TEST

START_TEST(arithmetic)
{
	struct cir_ip a = ip4("10.0.0.255"), r;
	struct cir_ip max4 = ip4("255.255.255.255"), zero4 = ip4("0.0.0.0");
	struct cir_ip v6 = ip4("fd00::ffff:ffff"), max6 = ip4("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

	ck_assert_int_eq(cir_ip_next(&a, &r), 0);
	ck_assert_str_eq(fmt(&r), "10.0.1.0");
	ck_assert_int_eq(cir_ip_prev(&r, &r), 0);
	ck_assert_str_eq(fmt(&r), "10.0.0.255");
	ck_assert_int_eq(cir_ip_add(&a, 65537, &r), 0);
	ck_assert_str_eq(fmt(&r), "10.1.1.0");
	ck_assert_int_eq(cir_ip_add(&a, -256, &r), 0);
	ck_assert_str_eq(fmt(&r), "9.255.255.255");
	r = a;
	ck_assert_int_eq(cir_ip_next(&max4, &r), -ERANGE);
	ck_assert_str_eq(fmt(&r), "10.0.0.255");       /* untouched */
	ck_assert_int_eq(cir_ip_prev(&zero4, &r), -ERANGE);
	ck_assert_int_eq(cir_ip_add(&a, INT64_MAX, &r), -ERANGE);
	ck_assert_int_eq(cir_ip_add(&a, INT64_MIN, &r), -ERANGE);
	ck_assert_int_eq(cir_ip_next(&v6, &r), 0);
	ck_assert_str_eq(fmt(&r), "fd00::1:0:0");
	ck_assert_int_eq(cir_ip_add(&v6, INT64_MIN, &r), 0);
	ck_assert_int_eq(cir_ip_add(&r, INT64_MAX, &r), 0);
	ck_assert_int_eq(cir_ip_next(&r, &r), 0);
	ck_assert_str_eq(fmt(&r), "fd00::ffff:ffff");
	ck_assert_int_eq(cir_ip_next(&max6, &r), -ERANGE);
	ck_assert_int_eq(cir_ip_add(&(struct cir_ip){ 0 }, 1, &r), -EAFNOSUPPORT);
}
END_TEST

START_TEST(network_hosts)
{
	struct cir_cidr c = cidr("10.254.1.77/24"), c30 = cidr("10.0.0.4/30");
	struct cir_cidr c31 = cidr("10.0.0.0/31"), c6 = cidr("fd00::/126");
	struct cir_ip r;

	cir_cidr_network(&c, &r);
	ck_assert_str_eq(fmt(&r), "10.254.1.0");
	cir_cidr_broadcast(&c, &r);
	ck_assert_str_eq(fmt(&r), "10.254.1.255");
	ck_assert_int_eq(cir_cidr_first_host(&c, &r), 0);
	ck_assert_str_eq(fmt(&r), "10.254.1.1");
	ck_assert_int_eq(cir_cidr_last_host(&c, &r), 0);
	ck_assert_str_eq(fmt(&r), "10.254.1.254");
	ck_assert_int_eq(cir_cidr_first_host(&c30, &r), 0);
	ck_assert_str_eq(fmt(&r), "10.0.0.5");
	ck_assert_int_eq(cir_cidr_last_host(&c30, &r), 0);
	ck_assert_str_eq(fmt(&r), "10.0.0.6");
	ck_assert_int_eq(cir_cidr_first_host(&c31, &r), -ERANGE);
	ck_assert_int_eq(cir_cidr_last_host(&c31, &r), -ERANGE);
	ck_assert_int_eq(cir_cidr_last_host(&c6, &r), 0);
	ck_assert_str_eq(fmt(&r), "fd00::3");           /* no broadcast in IPv6 */
	c = cidr("0.0.0.0/0");
	cir_cidr_broadcast(&c, &r);
	ck_assert_str_eq(fmt(&r), "255.255.255.255");
	c = cidr("10.1.2.3/13");
	cir_cidr_network(&c, &r);
	ck_assert_str_eq(fmt(&r), "10.0.0.0");
	cir_cidr_broadcast(&c, &r);
	ck_assert_str_eq(fmt(&r), "10.7.255.255");
}
END_TEST

START_TEST(contains_overlap)
{
	struct cir_cidr a = cidr("10.0.0.0/16"), b = cidr("10.0.5.0/24"), d = cidr("10.1.0.0/16");
	struct cir_cidr z = cidr("0.0.0.0/0"), v6 = cidr("fd00::/8");
	struct cir_ip in = ip4("10.0.255.255"), out = ip4("10.1.0.0"), six = ip4("fd12::1");

	ck_assert(cir_cidr_contains(&a, &in));
	ck_assert(!cir_cidr_contains(&a, &out));
	ck_assert(cir_cidr_contains(&z, &out));
	ck_assert(!cir_cidr_contains(&z, &six));
	ck_assert(cir_cidr_contains(&v6, &six));
	ck_assert(cir_cidr_overlap(&a, &b));
	ck_assert(cir_cidr_overlap(&b, &a));
	ck_assert(!cir_cidr_overlap(&a, &d));
	ck_assert(cir_cidr_overlap(&z, &d));
	ck_assert(!cir_cidr_overlap(&z, &v6));
	ck_assert_int_lt(cir_ip_cmp(&in, &out), 0);
	ck_assert_int_gt(cir_ip_cmp(&six, &out), 0);
	ck_assert(cir_ip_eq(&in, &in));
	ck_assert_uint_eq(cir_ip_bits(AF_INET6), 128);
	ck_assert_uint_eq(cir_ip_bits(0), 0);
}
END_TEST

/* Ranges a network may not take unless asked, and the private-use ones a
 * container may ask for. */
START_TEST(special_and_private_ranges)
{
	static const struct { const char *cidr, *kind; bool priv; } t[] = {
		{ "127.0.0.0/8", "loopback", false },   { "127.1.0.0/24", "loopback", false },
		{ "0.0.0.0/8", "unspecified", false },  { "169.254.9.0/24", "link-local", false },
		{ "224.0.0.0/24", "multicast", false }, { "240.0.0.0/4", "reserved", false },
		{ "255.255.255.0/24", "reserved", false }, { "fe80::/64", "link-local", false },
		{ "ff02::/16", "multicast", false },    { "120.0.0.0/5", "loopback", false },
		{ "10.254.1.0/24", NULL, true },        { "172.20.0.0/16", NULL, true },
		{ "192.168.7.0/24", NULL, true },       { "100.64.3.0/24", NULL, true },
		{ "fd00:1::/64", NULL, true },          { "198.51.100.0/24", NULL, false },
		{ "172.32.0.0/24", NULL, false },       { "8.0.0.0/8", NULL, false },
		{ "10.0.0.0/7", NULL, false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cir_cidr c;
		const char *k;

		ck_assert_int_eq(cir_cidr_parse(t[i].cidr, 0, &c, NULL), 0);
		k = cir_cidr_special(&c);
		if (t[i].kind)
			ck_assert_msg(k && strcmp(k, t[i].kind) == 0, "%s: %s", t[i].cidr, k ? k : "-");
		else
			ck_assert_msg(!k, "%s: %s", t[i].cidr, k);
		ck_assert_msg(cir_cidr_private(&c) == t[i].priv, "%s private", t[i].cidr);
	}
}
END_TEST

static Suite *ip_suite(void)
{
	Suite *s = suite_create("ip");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parse_good);
	tcase_add_test(tc, parse_hostile);
	tcase_add_test(tc, parse_subnet_rules);
	tcase_add_test(tc, parse_ip);
	tcase_add_test(tc, arithmetic);
	tcase_add_test(tc, network_hosts);
	tcase_add_test(tc, contains_overlap);
	tcase_add_test(tc, special_and_private_ranges);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(ip_suite)
