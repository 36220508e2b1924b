// SPDX-License-Identifier: Apache-2.0
/* test_nft.c - nftables name derivation, input validation and error
 * parsing; sysctl path and interface-name validation.  No kernel state. */
#include <errno.h>
#include <string.h>

#include "nft.h"
#include "sysctl.h"
#include "unit.h"

START_TEST(masq_chain_names)
{
	struct cir_error e = CIR_ERROR_INIT;
	char buf[CIR_NFT_CHAIN_SIZE], longest[CIR_NFT_NETWORK_MAX + 2];

	ck_assert_int_eq(cir_nft_masq_chain("net1", buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "masq-net1");
	ck_assert_int_eq(cir_nft_masq_chain("A_b.c-9", buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "masq-A_b.c-9");
	/* A digit or dot first is fine: the prefix keeps it an identifier. */
	ck_assert_int_eq(cir_nft_masq_chain("1.2.3.4", buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "masq-1.2.3.4");

	memset(longest, 'x', CIR_NFT_NETWORK_MAX);
	longest[CIR_NFT_NETWORK_MAX] = '\0';
	ck_assert_int_eq(cir_nft_masq_chain(longest, buf, sizeof(buf), &e), 0);
	ck_assert_uint_eq(strlen(buf), strlen("masq-") + CIR_NFT_NETWORK_MAX);
	longest[CIR_NFT_NETWORK_MAX] = 'x';
	longest[CIR_NFT_NETWORK_MAX + 1] = '\0';
	ck_assert_int_eq(cir_nft_masq_chain(longest, buf, sizeof(buf), &e), -EINVAL);

	ck_assert_int_eq(cir_nft_masq_chain("net1", buf, 6, &e), -ENOSPC);
}
END_TEST

START_TEST(hostile_names_rejected)
{
	static const char *const bad[] = {
		"", "a b", "a;b", "a\"b", "a'b", "a\nb", "a}b", "a{b", "a/b", "a\\b", "a$b",
		"a#b", "a@b", "n;flush ruleset", "x\" ; delete table inet other ; \"",
		"\xc3\xa9t\xc3\xa9", "a\tb", "a:b",
	};
	struct cir_error e = CIR_ERROR_INIT;
	char buf[CIR_NFT_CHAIN_SIZE];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(cir_nft_masq_chain(bad[i], buf, sizeof(buf), &e) == -EINVAL,
			      "network %zu accepted", i);
		ck_assert_msg(cir_nft_hairpin_chain(bad[i], buf, sizeof(buf), &e) == -EINVAL,
			      "bridge %zu accepted", i);
		/* The API refuses before any kernel call. */
		ck_assert_int_eq(cir_nft_masq_add(bad[i], "10.0.0.0/8", &e), -EINVAL);
		ck_assert_int_eq(cir_nft_masq_del(bad[i], &e), -EINVAL);
		ck_assert_int_eq(cir_nft_hairpin_add(bad[i], &e), -EINVAL);
	}
	ck_assert_int_eq(cir_nft_masq_chain(NULL, buf, sizeof(buf), &e), -EINVAL);
	ck_assert_int_eq(cir_nft_hairpin_chain("..", buf, sizeof(buf), &e), -EINVAL);
	ck_assert_int_eq(cir_nft_hairpin_chain("0123456789abcdef", buf, sizeof(buf), &e), -EINVAL);
	ck_assert_int_eq(cir_nft_hairpin_chain("0123456789abcde", buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "hairpin-0123456789abcde");
	/* No hostile text is echoed into the message. */
	cir_nft_masq_chain("x\";flush ruleset", buf, sizeof(buf), &e);
	ck_assert_ptr_null(strstr(e.msg, "flush"));
}
END_TEST

START_TEST(cidr_normalize)
{
	struct cir_error e = CIR_ERROR_INIT;
	char buf[CIR_NFT_CIDR_SIZE];
	int fam = 0;

	ck_assert_int_eq(cir_nft_cidr_normalize("10.88.0.1/16", buf, sizeof(buf), &fam, &e), 0);
	ck_assert_str_eq(buf, "10.88.0.0/16");
	ck_assert_int_eq(fam, 4);
	ck_assert_int_eq(cir_nft_cidr_normalize("10.88.7.9/32", buf, sizeof(buf), &fam, &e), 0);
	ck_assert_str_eq(buf, "10.88.7.9/32");
	ck_assert_int_eq(cir_nft_cidr_normalize("10.1.2.3/23", buf, sizeof(buf), &fam, &e), 0);
	ck_assert_str_eq(buf, "10.1.2.0/23");
	ck_assert_int_eq(cir_nft_cidr_normalize("FD00:0:0:1::5/64", buf, sizeof(buf), &fam, &e), 0);
	ck_assert_str_eq(buf, "fd00:0:0:1::/64");
	ck_assert_int_eq(fam, 6);
	ck_assert_int_eq(cir_nft_cidr_normalize("fd00::1:2:3/125", buf, sizeof(buf), &fam, &e), 0);
	ck_assert_str_eq(buf, "fd00::1:2:0/125");

	static const char *const bad[] = {
		"10.0.0.0", "10.0.0.0/", "/8", "10.0.0.0/33", "fd00::/129", "10.0.0/8",
		"10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.0/8;", "10.0.0.0/+8", "10.0.0.0/-1",
		"10.0.0.0/08", "10.0.0.0/8/8", "10.0.0.256/8", "fd00::g/64", "fd00::/64\"",
		"10.0.0.0/1000", "", "x/1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cir_nft_cidr_normalize(bad[i], buf, sizeof(buf), &fam, &e) == -EINVAL,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(cir_nft_cidr_normalize(NULL, buf, sizeof(buf), &fam, &e), -EINVAL);
	ck_assert_int_eq(cir_nft_cidr_normalize("10.0.0.0/8", buf, 5, &fam, &e), -ENOSPC);
	ck_assert_int_eq(cir_nft_masq_add("n", "10.0.0.0/8;flush ruleset", &e), -EINVAL);
}
END_TEST

START_TEST(error_parse)
{
	char line[128];

	ck_assert_int_eq(cir_nft_error_parse("Error: Could not process rule: No such file or "
					     "directory\ndelete chain inet circuit masq-x\n"
					     "                          ^^^^^^\n",
					     line, sizeof(line)),
			 ENOENT);
	ck_assert_str_eq(line, "Could not process rule: No such file or directory");
	ck_assert_int_eq(cir_nft_error_parse("Error: Could not process rule: Device or resource "
					     "busy\n", line, sizeof(line)),
			 EBUSY);
	ck_assert_int_eq(cir_nft_error_parse("Error: Could not process rule: Operation not "
					     "permitted\n", line, sizeof(line)),
			 EPERM);
	ck_assert_int_eq(cir_nft_error_parse("<cmdline>:3:1-4: Error: syntax error, unexpected "
					     "junk\njunk\n^^^^\n", line, sizeof(line)),
			 EINVAL);
	ck_assert_str_eq(line, "syntax error, unexpected junk");
	ck_assert_int_eq(cir_nft_error_parse("", line, sizeof(line)), EIO);
	ck_assert_str_eq(line, strerror(EIO));
	ck_assert_int_eq(cir_nft_error_parse(NULL, line, sizeof(line)), EIO);
	/* Truncation keeps a terminated string. */
	ck_assert_int_eq(cir_nft_error_parse("Error: Could not process rule: File exists\n", line,
					     8), EEXIST);
	ck_assert_str_eq(line, "Could n");
}
END_TEST

START_TEST(sysctl_paths)
{
	ck_assert(cir_sysctl_path_valid("net/ipv4/ip_forward"));
	ck_assert(cir_sysctl_path_valid("net/ipv6/conf/c-sandbox.10/disable_ipv6"));
	ck_assert(cir_sysctl_path_valid("kernel/ostype"));
	static const char *const bad[] = {
		"", "/net/ipv4/ip_forward", "net/ipv4/", "net//ipv4", "net/../kernel/x",
		"net/ipv4/conf/../../../kernel", "..", ".", "net/./ipv4", "net/ipv4/conf/a b/x",
		"net/ipv4/conf/a\n/x", "net/ipv4/conf/a@b/x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!cir_sysctl_path_valid(bad[i]), "accepted '%s'", bad[i]);
	ck_assert(!cir_sysctl_path_valid(NULL));
}
END_TEST

START_TEST(sysctl_ifnames)
{
	struct cir_error e = CIR_ERROR_INIT;
	char buf[16];

	ck_assert(cir_sysctl_ifname_valid("eth0"));
	ck_assert(cir_sysctl_ifname_valid("c-sandbox"));
	ck_assert(cir_sysctl_ifname_valid("all"));
	ck_assert(cir_sysctl_ifname_valid("0123456789abcde"));
	ck_assert(!cir_sysctl_ifname_valid("0123456789abcdef"));
	ck_assert(!cir_sysctl_ifname_valid(""));
	ck_assert(!cir_sysctl_ifname_valid("."));
	ck_assert(!cir_sysctl_ifname_valid(".."));
	ck_assert(!cir_sysctl_ifname_valid("a/b"));
	ck_assert(!cir_sysctl_ifname_valid("a b"));
	ck_assert(!cir_sysctl_ifname_valid("a:1"));
	ck_assert(!cir_sysctl_ifname_valid(NULL));

	/* Refused before any file is opened. */
	ck_assert_int_eq(cir_sysctl_if_ensure(4, "../../kernel", "x", "1", &e), -EINVAL);
	ck_assert_int_eq(cir_sysctl_if_ensure(4, "eth0", "../x", "1", &e), -EINVAL);
	ck_assert_int_eq(cir_sysctl_if_ensure(5, "eth0", "rp_filter", "1", &e), -EINVAL);
	ck_assert_int_eq(cir_sysctl_if_read(6, "a@b", "disable_ipv6", buf, sizeof(buf), &e),
			 -EINVAL);
	ck_assert_int_eq(cir_sysctl_write("../etc/passwd", "x", &e), -EINVAL);
	ck_assert_int_eq(cir_sysctl_write("net/ipv4/ip_forward", "1\n0", &e), -EINVAL);
}
END_TEST

START_TEST(sysctl_read_plain)
{
	struct cir_error e = CIR_ERROR_INIT;
	char buf[64], tiny[3];

	/* A read-only key every Linux has; no network state involved. */
	ck_assert_int_eq(cir_sysctl_read("kernel/ostype", buf, sizeof(buf), &e), 5);
	ck_assert_str_eq(buf, "Linux");
	ck_assert_int_eq(cir_sysctl_read("kernel/ostype", tiny, sizeof(tiny), &e), -ENOSPC);
	ck_assert_int_eq(cir_sysctl_read("kernel/no_such_key_here", buf, sizeof(buf), &e),
			 -ENOENT);
	ck_assert_str_eq(e.msg, "sysctl kernel/no_such_key_here: No such file or directory");
}
END_TEST

static Suite *nft_suite(void)
{
	Suite *s = suite_create("nft");
	TCase *tc = tcase_create("names");
	TCase *ts = tcase_create("sysctl");

	tcase_add_test(tc, masq_chain_names);
	tcase_add_test(tc, hostile_names_rejected);
	tcase_add_test(tc, cidr_normalize);
	tcase_add_test(tc, error_parse);
	suite_add_tcase(s, tc);
	tcase_add_test(ts, sysctl_paths);
	tcase_add_test(ts, sysctl_ifnames);
	tcase_add_test(ts, sysctl_read_plain);
	suite_add_tcase(s, ts);
	return s;
}
CIR_UNIT_SUITE(nft_suite)
