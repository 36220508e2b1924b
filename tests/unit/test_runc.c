// SPDX-License-Identifier: Apache-2.0
/*
 * test_runc.c - a runc container's pid from its state file: parsing,
 * lookup in a temporary root, ID checks, liveness and pid reuse.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netconf.h"
#include "runc.h"
#include "unit.h"

static char tmp[PATH_MAX];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "%s/cir-runc-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write <tmp>/<id>/state.json. */
static void state_file(const char *id, const char *doc)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, id);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/state.json", tmp, id);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(doc, f);
	fclose(f);
}

static unsigned long long own_start(void)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_member m = { 0 };

	ck_assert_int_eq(cir_member_set_process(&m, getpid(), &e), 0);
	return m.starttime;
}

START_TEST(parse)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_runc_state s = { 0 };
	static const char *const bad[] = {
		"[]", "{}", "{\"init_process_pid\":0}", "{\"init_process_pid\":-1}",
		"{\"init_process_pid\":\"12\"}", "{\"init_process_pid\":4294967296}",
		"{\"init_process_pid\":12,\"init_process_start\":\"x1\"}",
		"{\"init_process_pid\":12,\"init_process_start\":\"-1\"}",
		"{\"init_process_pid\":12,\"init_process_start\":\"\\t99\"}",
		"{\"init_process_pid\":12,\"init_process_start\":true}", "{\"init_process_pid\":",
	};
#define P(doc) cir_runc_state_parse(doc, strlen(doc), &s, &e)

	ck_assert_int_eq(P("{\"id\":\"web-00\",\"init_process_pid\":4668,"
			   "\"init_process_start\":123456,\"config\":{\"rootfs\":\"/x\"}}"), 0);
	ck_assert_int_eq(s.pid, 4668);
	ck_assert_uint_eq(s.start, 123456);
	/* Older runc wrote the start time as a string; it may be absent. */
	ck_assert_int_eq(P("{\"init_process_pid\":7,\"init_process_start\":\"99\"}"), 0);
	ck_assert_int_eq(s.pid, 7);
	ck_assert_uint_eq(s.start, 99);
	ck_assert_int_eq(P("{\"init_process_pid\":8}"), 0);
	ck_assert_int_eq(s.pid, 8);
	ck_assert_uint_eq(s.start, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.pid = 42;
		ck_assert_msg(P(bad[i]) < 0, "accepted %s", bad[i]);
		ck_assert_int_eq(s.pid, 42);      /* untouched on failure */
	}
	ck_assert_int_eq(P("{\"x\":1}"), -EINVAL);
	ck_assert_str_eq(e.msg, "no init process pid");
#undef P
}
END_TEST

START_TEST(read_state)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_runc_state s = { 0 };
	char want[PATH_MAX + 128];

	state_file("web-00", "{\"init_process_pid\":4668,\"init_process_start\":5}");
	ck_assert_int_eq(cir_runc_state_read(tmp, "web-00", &s, &e), 0);
	ck_assert_int_eq(s.pid, 4668);
	ck_assert_uint_eq(s.start, 5);

	ck_assert_int_eq(cir_runc_state_read(tmp, "nope", &s, &e), -ENOENT);
	snprintf(want, sizeof(want), "container nope not found (no runc state in %s)", tmp);
	ck_assert_str_eq(e.msg, want);
	/* A container directory without its state file. */
	snprintf(want, sizeof(want), "%s/half", tmp);
	ck_assert_int_eq(mkdir(want, 0700), 0);
	ck_assert_int_eq(cir_runc_state_read(tmp, "half", &s, &e), -ENOENT);
	/* The root itself missing. */
	snprintf(want, sizeof(want), "%s/noroot", tmp);
	ck_assert_int_eq(cir_runc_state_read(want, "web-00", &s, &e), -ENOENT);
	/* IDs name a directory under the root: never a path. */
	ck_assert_int_eq(cir_runc_state_read(tmp, "../web-00", &s, &e), -EINVAL);
	ck_assert_int_eq(cir_runc_state_read(tmp, "a/b", &s, &e), -EINVAL);
	ck_assert_int_eq(cir_runc_state_read(tmp, "..", &s, &e), -EINVAL);
	ck_assert_int_eq(cir_runc_state_read(tmp, "", &s, &e), -EINVAL);
	/* A symlinked container directory is not followed. */
	snprintf(want, sizeof(want), "%s/web-00", tmp);
	{
		char link[PATH_MAX + 16];

		snprintf(link, sizeof(link), "%s/alias", tmp);
		ck_assert_int_eq(symlink(want, link), 0);
	}
	ck_assert_int_lt(cir_runc_state_read(tmp, "alias", &s, &e), 0);
	/* Garbage in the file names the file. */
	state_file("junk", "{not json");
	ck_assert_int_lt(cir_runc_state_read(tmp, "junk", &s, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "junk/state.json"));

	/* $CIRCUIT_RUNC_ROOT, else runc's default. */
	setenv(CIR_RUNC_ROOT_ENV, tmp, 1);
	ck_assert_str_eq(cir_runc_root(), tmp);
	ck_assert_int_eq(cir_runc_state_read(NULL, "web-00", &s, &e), 0);
	setenv(CIR_RUNC_ROOT_ENV, "", 1);
	ck_assert_str_eq(cir_runc_root(), "/run/runc");
	unsetenv(CIR_RUNC_ROOT_ENV);
	ck_assert_str_eq(cir_runc_root(), "/run/runc");
}
END_TEST

START_TEST(running_pid)
{
	struct cir_error e = CIR_ERROR_INIT;
	char doc[128];
	long long pid = 0;
	pid_t child;

	snprintf(doc, sizeof(doc), "{\"init_process_pid\":%d,\"init_process_start\":%llu}",
		 (int)getpid(), own_start());
	state_file("me", doc);
	ck_assert_int_eq(cir_runc_pid(tmp, "me", &pid, &e), 0);
	ck_assert_int_eq(pid, getpid());
	/* Without a start time the pid alone decides. */
	snprintf(doc, sizeof(doc), "{\"init_process_pid\":%d}", (int)getpid());
	state_file("me2", doc);
	ck_assert_int_eq(cir_runc_pid(tmp, "me2", &pid, &e), 0);
	/* Same pid, another start time: a reused pid, not the container. */
	snprintf(doc, sizeof(doc), "{\"init_process_pid\":%d,\"init_process_start\":%llu}",
		 (int)getpid(), own_start() + 1);
	state_file("reused", doc);
	pid = 0;
	ck_assert_int_eq(cir_runc_pid(tmp, "reused", &pid, &e), -ESRCH);
	ck_assert_int_eq(pid, 0);
	snprintf(doc, sizeof(doc), "container reused is not running (process %d not found)",
		 (int)getpid());
	ck_assert_str_eq(e.msg, doc);
	/* A process that is gone. */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	snprintf(doc, sizeof(doc), "{\"init_process_pid\":%d}", (int)child);
	state_file("gone", doc);
	ck_assert_int_eq(cir_runc_pid(tmp, "gone", &pid, &e), -ESRCH);
	ck_assert_int_eq(cir_runc_pid(tmp, "absent", &pid, &e), -ENOENT);
}
END_TEST

START_TEST(member_match)
{
	struct cir_runc_state s = { .pid = 4668, .start = 77 };
	struct cir_member m = { .cid = "pid-4668", .pid = 4668, .starttime = 77 };

	ck_assert(cir_runc_is_member(&s, &m));
	m.starttime = 78;                       /* the pid was reused */
	ck_assert(!cir_runc_is_member(&s, &m));
	s.start = 0;                            /* runc did not say */
	ck_assert(cir_runc_is_member(&s, &m));
	m.pid = 4669;
	ck_assert(!cir_runc_is_member(&s, &m));
}
END_TEST

static Suite *runc_suite(void)
{
	Suite *s = suite_create("runc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parse);
	tcase_add_test(tc, read_state);
	tcase_add_test(tc, running_pid);
	tcase_add_test(tc, member_match);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(runc_suite)
