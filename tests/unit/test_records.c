// SPDX-License-Identifier: Apache-2.0
/* test_records.c - store records that name another object than their file
 * (copied, or damaged) are refused, never acted on. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netconf.h"
#include "unit.h"

static char tmp[PATH_MAX];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "%s/cir-records-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	if (nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

static void put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void make_network(struct cir_netdb *db, const char *name)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netconf nc = { .subnet = "10.254.1.0/24", .bridge = "c-x" };
	char *conflist = NULL;

	snprintf(nc.name, sizeof(nc.name), "%s", name);
	ck_assert_int_eq(cir_conflist_generate(&nc, NULL, &conflist, &e), 0);
	ck_assert_int_eq(cir_network_create(db, &nc, conflist, &e), 0);
	free(conflist);
}

START_TEST(network_record_names_another)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;

	ck_assert_int_eq(cir_netdb_open(&db, tmp, &e), 0);
	make_network(&db, "a");
	make_network(&db, "b");
	ck_assert_int_eq(cir_network_open(&db, "a", false, &n, &e), 0);
	put(n.fd, CIR_NETCONF_RECORD, "{\"name\":\"b\",\"subnet\":\"10.254.1.0/24\"}");
	cir_network_close(&n);
	ck_assert_int_eq(cir_network_open(&db, "a", true, &n, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "network a: record names network b");
	ck_assert_int_eq(n.fd, -1);
	ck_assert_int_eq(cir_network_open(&db, "b", true, &n, &e), 0);
	cir_network_close(&n);
	cir_netdb_close(&db);
}
END_TEST

START_TEST(member_record_names_another)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_member m = { .cid = "c0", .ifname = "eth0" };
	char *result = NULL;

	ck_assert_int_eq(cir_netdb_open(&db, tmp, &e), 0);
	make_network(&db, "a");
	ck_assert_int_eq(cir_network_open(&db, "a", true, &n, &e), 0);
	ck_assert_int_eq(cir_member_put(&n, &m, NULL, &e), 0);
	put(n.members_fd, "c1", "{\"container\":\"c0\",\"interface\":\"eth0\"}");
	ck_assert_int_eq(cir_member_get(&n, "c1", &m, &result, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "network a: member c1: record names container c0");
	ck_assert_ptr_null(result);
	/* The listing reports it instead of handing out c0 twice. */
	ck_assert_int_eq(cir_member_list(&n, NULL, NULL, &e), -EINVAL);
	ck_assert_int_eq(cir_member_get(&n, "c0", &m, NULL, &e), 0);
	cir_network_close(&n);
	cir_netdb_close(&db);
}
END_TEST

START_TEST(chain_over_conflist_without_name)
{
	static const char doc[] = "{\"cniVersion\":\"1.1.0\",\"plugins\":[{\"type\":\"x\"}]}";
	const struct cir_chain_rt rt = { .cid = "c1", .netns = "/proc/self/ns/net",
					 .ifname = "eth0", .path = "/nonexistent/cni" };
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	char *result = NULL;

	/* A conflist.json damaged in the store: every verb fails, none crashes. */
	ck_assert_int_eq(cir_json_parse(doc, strlen(doc), &j, &e), 0);
	ck_assert_int_eq(cir_chain_add(j, &rt, &result, NULL, &e), -ENOENT);
	ck_assert_ptr_null(result);
	ck_assert_int_eq(cir_chain_del(j, &rt, NULL, &e), -ENOENT);
	ck_assert_int_eq(cir_chain_gc(j, rt.path, NULL, 0, false, &e), -ENOENT);
	cir_json_free(j);
}
END_TEST

static Suite *records_suite(void)
{
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("names");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, network_record_names_another);
	tcase_add_test(tc, member_record_names_another);
	suite_add_tcase(s, tc);
	tc = tcase_create("chain");
	tcase_add_test(tc, chain_over_conflist_without_name);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(records_suite)
