// SPDX-License-Identifier: Apache-2.0
/*
 * test_ipam_gc.c - the cautious GC `circuit gc` asks for: an allocation
 * missing from the valid list goes only when the namespace recorded with it
 * is provably gone.  Plain files stand in for namespace paths: what the
 * record keeps is a path and the (st_dev, st_ino) it had at ADD.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam.h"
#include "unit.h"

static char tmp[PATH_MAX];
static struct cir_store st = CIR_STORE_INIT;
static struct cir_ipam h = CIR_IPAM_INIT;
static struct cir_error e = CIR_ERROR_INIT;
static struct cir_ipam_config cfg;

static void setup(void)
{
	struct cir_cidr sn;

	snprintf(tmp, sizeof(tmp), "%s/cir-ipamgc-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_eq(cir_store_open(&st, tmp, &e), 0);
	ck_assert_int_eq(cir_ipam_open(&h, &st, "net1", &e), 0);
	ck_assert_int_eq(cir_cidr_parse("10.9.0.0/24", 0, &sn, NULL), 0);
	cir_ipam_config_from_subnet(&cfg, &sn);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	cir_ipam_close(&h);
	cir_store_close(&st);
	if (nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

/* A stand-in namespace: a file at tmp/name; returns its path. */
static const char *fake_ns(const char *name, char *buf, size_t len)
{
	int fd;

	snprintf(buf, len, "%s/%s", tmp, name);
	fd = open(buf, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	return buf;
}

static void alloc(const char *cid, const char *netns)
{
	struct cir_ipam_result res;

	cir_ipam_set_netns(&h, netns);
	ck_assert_int_eq(cir_ipam_alloc(&h, &cfg, cid, "eth0", NULL, 0, &res, &e), 0);
	cir_ipam_set_netns(&h, NULL);
}

START_TEST(live_namespace_is_kept)
{
	char p[PATH_MAX];
	struct cir_ipam_result res;

	alloc("podman-1", fake_ns("ns-a", p, sizeof(p)));
	ck_assert_int_eq(cir_ipam_proven_dead(&h, "podman-1", "eth0"), 0);
	/* Not listed, but its namespace exists: kept, still readable. */
	ck_assert_int_eq(cir_ipam_gc_flags(&h, NULL, 0, CIR_IPAM_GC_KEEP_LIVE, &e), 0);
	ck_assert_int_eq(cir_ipam_get(&h, "podman-1", "eth0", &res, &e), 0);
	ck_assert_uint_eq(res.n, 1);
	/* The CNI spec's GC (no flag) trusts the list: released. */
	ck_assert_int_eq(cir_ipam_gc(&h, NULL, 0, &e), 1);
	ck_assert_int_eq(cir_ipam_get(&h, "podman-1", "eth0", &res, &e), -ENOENT);
}
END_TEST

START_TEST(gone_namespace_is_released)
{
	char p[PATH_MAX];
	struct cir_ipam_result res;

	alloc("podman-2", fake_ns("ns-b", p, sizeof(p)));
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(cir_ipam_proven_dead(&h, "podman-2", "eth0"), 1);
	ck_assert_int_eq(cir_ipam_gc_flags(&h, NULL, 0, CIR_IPAM_GC_KEEP_LIVE, &e), 1);
	ck_assert_int_eq(cir_ipam_get(&h, "podman-2", "eth0", &res, &e), -ENOENT);
}
END_TEST

START_TEST(other_namespace_at_path_is_released)
{
	char p[PATH_MAX], keep[PATH_MAX];
	int fd;

	/* Hold the first inode so the file system cannot hand the same
	 * number to the replacement. */
	alloc("podman-3", fake_ns("ns-c", p, sizeof(p)));
	snprintf(keep, sizeof(keep), "%s/ns-c-old", tmp);
	ck_assert_int_eq(rename(p, keep), 0);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(cir_ipam_proven_dead(&h, "podman-3", "eth0"), 1);
	ck_assert_int_eq(cir_ipam_gc_flags(&h, NULL, 0, CIR_IPAM_GC_KEEP_LIVE, &e), 1);
}
END_TEST

START_TEST(unrecorded_namespace_is_kept)
{
	struct cir_ipam_result res;

	/* No netns (a record written before they were kept, or a path that
	 * could not be recorded): nothing proves it dead. */
	alloc("old-1", NULL);
	alloc("odd-1", "relative/path");
	ck_assert_int_eq(cir_ipam_proven_dead(&h, "old-1", "eth0"), 0);
	ck_assert_int_eq(cir_ipam_gc_flags(&h, NULL, 0, CIR_IPAM_GC_KEEP_LIVE, &e), 0);
	ck_assert_int_eq(cir_ipam_get(&h, "old-1", "eth0", &res, &e), 0);
	ck_assert_int_eq(cir_ipam_get(&h, "odd-1", "eth0", &res, &e), 0);
}
END_TEST

START_TEST(listed_dead_and_live_mixed)
{
	char a[PATH_MAX], b[PATH_MAX], old[PATH_MAX];
	struct cir_ipam_attachment valid[] = { { "listed", "eth0" } };
	struct cir_ipam_result res;

	alloc("listed", fake_ns("ns-l", a, sizeof(a)));
	alloc("dead", fake_ns("ns-d", b, sizeof(b)));
	alloc("alive", a);
	/* listed survives its namespace; "alive" sees another inode at its
	 * path (the old one held, so that its number cannot come back). */
	snprintf(old, sizeof(old), "%s/ns-l-old", tmp);
	ck_assert_int_eq(rename(a, old), 0);
	fake_ns("ns-l", a, sizeof(a));
	ck_assert_int_eq(unlink(b), 0);
	ck_assert_int_eq(cir_ipam_gc_flags(&h, valid, 1, CIR_IPAM_GC_KEEP_LIVE, &e), 2);
	ck_assert_int_eq(cir_ipam_get(&h, "listed", "eth0", &res, &e), 0);
	ck_assert_int_eq(cir_ipam_get(&h, "dead", "eth0", &res, &e), -ENOENT);
	ck_assert_int_eq(cir_ipam_get(&h, "alive", "eth0", &res, &e), -ENOENT);
}
END_TEST

START_TEST(open_existing_creates_nothing)
{
	struct cir_store st2 = CIR_STORE_INIT;
	struct cir_ipam h2 = CIR_IPAM_INIT;
	char missing[PATH_MAX + 16];
	struct stat sb;

	ck_assert_int_eq(cir_ipam_open_existing(&h2, &st, "never-used", &e), -ENOENT);
	snprintf(missing, sizeof(missing), "%s/ipam/never-used", tmp);
	ck_assert_int_eq(stat(missing, &sb), -1);
	snprintf(missing, sizeof(missing), "%s/no/such/root", tmp);
	ck_assert_int_eq(cir_store_openf(&st2, missing, NULL, CIR_STORE_EXISTING, NULL, &e), -ENOENT);
	ck_assert_int_eq(stat(missing, &sb), -1);
	snprintf(missing, sizeof(missing), "%s/no", tmp);
	ck_assert_int_eq(stat(missing, &sb), -1);
}
END_TEST

static Suite *ipam_gc_suite(void)
{
	Suite *s = suite_create("ipam_gc");
	TCase *tc = tcase_create("keep_live");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, live_namespace_is_kept);
	tcase_add_test(tc, gone_namespace_is_released);
	tcase_add_test(tc, other_namespace_at_path_is_released);
	tcase_add_test(tc, unrecorded_namespace_is_kept);
	tcase_add_test(tc, listed_dead_and_live_mixed);
	tcase_add_test(tc, open_existing_creates_nothing);
	suite_add_tcase(s, tc);
	return s;
}

CIR_UNIT_SUITE(ipam_gc_suite)
