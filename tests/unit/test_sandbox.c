// SPDX-License-Identifier: Apache-2.0
/* test_sandbox.c - the seccomp filter denies what it lists, and nothing a
 * plugin needs.  Runs in a forked child (Check's default fork mode) so the
 * filter does not outlive the test; skipped under CK_FORK=no. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "sandbox.h"
#include "unit.h"

START_TEST(denies_and_allows)
{
	struct cir_error err = CIR_ERROR_INIT;
	pid_t pid;
	int status, fd;

	/* Apply in a grandchild: the Check child may run more tests. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (cir_sandbox_apply(&err) < 0)
			_exit(10);
		errno = 0;
		if (mount("none", "/mnt", "tmpfs", 0, NULL) == 0 || errno != EPERM)
			_exit(11);
		errno = 0;
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 || errno != EPERM)
			_exit(12);
		/* What plugins do must still work. */
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (fd < 0)
			_exit(13);
		close(fd);
		fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(14);
		close(fd);
		pid = fork();
		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(15);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			_exit(16);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_uint_gt(cir_sandbox_denied_count(), 30);
}
END_TEST

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, denies_and_allows);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(sandbox_suite)
