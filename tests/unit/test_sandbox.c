// SPDX-License-Identifier: Apache-2.0
/* test_sandbox.c - each profile's allow-list refuses what its executable
 * never needs (EPERM) and keeps what it does.  Every filter is applied in a
 * grandchild that reports by exit status, so it never outlives the check;
 * the sockets made are never connected anywhere. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "sandbox.h"
#include "unit.h"

/* valgrind runs in the process it checks: a filter would bind valgrind
 * itself (no PROT_EXEC for its translations, no seccomp() at all). */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

/* Run fn(arg) in a grandchild after applying profile p (flags, mode):
 * its exit status (0 = every expectation held, else the failed step). */
static int in_sandbox(enum cir_sandbox_profile p, unsigned int flags, enum cir_sandbox_mode mode,
		      int (*fn)(enum cir_sandbox_profile p, unsigned int flags))
{
	struct cir_error err = CIR_ERROR_INIT;
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (cir_sandbox_apply_mode(p, flags, mode, &err) < 0) {
			fprintf(stderr, "apply: %s\n", err.msg);
			_exit(99);
		}
		_exit(fn(p, flags));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* fails(call, want): the call returned -1 with errno want. */
#define REFUSED(expr, want) ((errno = 0, (long)(expr)) == -1 && errno == (want))

static bool has_netlink(enum cir_sandbox_profile p)
{
	return p != CIR_SANDBOX_IPAM;
}

/* setns() into a network namespace: the plugins and circuit, not the agent. */
static bool has_setns(enum cir_sandbox_profile p)
{
	return p != CIR_SANDBOX_IPAM && p != CIR_SANDBOX_AGENT;
}

static int try_exec(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(errno == EPERM ? 42 : 43);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* What no executable of Circuit may do, whatever its profile. */
static int refused_everywhere(enum cir_sandbox_profile p, unsigned int flags)
{
	int fd;

	/* TCP: the agent's checks, circuit's etcd client (the "cluster"
	 * group), delegates; UDP: the agent's checks, delegates. */
	bool inet = p == CIR_SANDBOX_AGENT || (flags & CIR_SANDBOX_EXEC);

	if (!REFUSED(socket(AF_INET, SOCK_STREAM, 0), EPERM) && !inet && p != CIR_SANDBOX_CIRCUIT && p != CIR_SANDBOX_CIRCUIT_SERVE)
		return 1;
	if (!REFUSED(socket(AF_INET6, SOCK_DGRAM, 0), EPERM) && !inet)
		return 2;
	if (!REFUSED(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM) && !(flags & CIR_SANDBOX_EXEC))
		return 16;
	if (!REFUSED(socket(AF_PACKET, SOCK_RAW, 0), EPERM))
		return 3;
	if (!REFUSED(socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT), EPERM))
		return 4;
	if (!REFUSED(mount("none", "/mnt", "tmpfs", 0, NULL), EPERM))
		return 5;
	if (!REFUSED(ptrace(PTRACE_CONT, getpid(), NULL, NULL), EPERM))
		return 6;
	if (!REFUSED(unshare(CLONE_NEWNET), EPERM))
		return 7;
	if (!REFUSED(syscall(SYS_bpf, 0, NULL, 0), EPERM))
		return 8;
	if (!REFUSED(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM))
		return 9;
	if (!REFUSED(syscall(SYS_init_module, NULL, 0, ""), EPERM))
		return 10;
	if (!REFUSED(syscall(SYS_chroot, "/"), EPERM))
		return 11;
	/* setns() only into a network namespace. */
	fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 12;
	if (!REFUSED(setns(fd, CLONE_NEWNS), EPERM) || !REFUSED(setns(fd, 0), EPERM))
		return 13;
	close(fd);
	/* Namespaces by clone(): the flag alone is refused, before any check. */
	if (!REFUSED(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0), EPERM))
		return 14;
	if (!(flags & CIR_SANDBOX_EXEC) && try_exec() >= 0)
		return 15;      /* not even fork() */
	return 0;
}

/* What every executable needs: the store's calls, stdio, time. */
static int allowed_everywhere(enum cir_sandbox_profile p, unsigned int flags)
{
	char dir[] = "/tmp/cir-sandbox-XXXXXX", buf[8];
	struct timespec ts;
	int fd, dfd;

	if (!mkdtemp(dir))
		return 20;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return 21;
	fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return 22;
	close(fd);
	fd = openat(dfd, ".tmp-1", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x\n", 2) != 2 || fsync(fd) < 0 || close(fd) < 0)
		return 23;
	if (renameat(dfd, ".tmp-1", dfd, "rec") < 0 || linkat(dfd, "rec", dfd, "ip", 0) < 0)
		return 24;
	fd = openat(dfd, "rec", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 2 || close(fd) < 0)
		return 25;
	if (mkdirat(dfd, "sub", 0700) < 0 || unlinkat(dfd, "sub", AT_REMOVEDIR) < 0)
		return 26;
	if (unlinkat(dfd, "rec", 0) < 0 || unlinkat(dfd, "ip", 0) < 0 ||
	    unlinkat(dfd, "lock", 0) < 0)
		return 27;
	close(dfd);
	if (unlinkat(AT_FDCWD, dir, AT_REMOVEDIR) < 0)
		return 28;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || getpid() <= 0)
		return 30;
	if (getrandom(buf, sizeof(buf), 0) != sizeof(buf))
		return 31;
	free(malloc(1 << 20));  /* mmap + munmap */
	return 0;
}

static int profile_checks(enum cir_sandbox_profile p, unsigned int flags)
{
	int fd, r;
	void *m;

	r = refused_everywhere(p, flags);
	if (r)
		return r;
	r = allowed_everywhere(p, flags);
	if (r)
		return r;
	/* Netlink route where the profile speaks it, and no other socket. */
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (has_netlink(p) != (fd >= 0))
		return 40;
	if (fd >= 0)
		close(fd);
	else if (errno != EPERM)
		return 41;
	/* A delegate may speak every protocol some plugin needs. */
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if ((p == CIR_SANDBOX_LB || (p == CIR_SANDBOX_CIRCUIT || p == CIR_SANDBOX_CIRCUIT_SERVE) || p == CIR_SANDBOX_AGENT ||
	     (flags & CIR_SANDBOX_EXEC)) != (fd >= 0))
		return 42;
	if (fd >= 0)
		close(fd);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if ((p == CIR_SANDBOX_BRIDGE || p == CIR_SANDBOX_LB || p == CIR_SANDBOX_CIRCUIT ||
	     p == CIR_SANDBOX_CIRCUIT_SERVE || p == CIR_SANDBOX_AGENT || p == CIR_SANDBOX_PORTMAP ||
	     p == CIR_SANDBOX_OVS || (flags & CIR_SANDBOX_EXEC)) != (fd >= 0))
		return 43;
	if (fd >= 0)
		close(fd);
	/* setns() into a network namespace (our own: a no-op) where needed. */
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 44;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	if (has_setns(p) && r < 0 && errno == EPERM)
		return 45;
	if (!has_setns(p) && !(flags & CIR_SANDBOX_EXEC) && !(r < 0 && errno == EPERM))
		return 46;
	/* TCP sockets: the agent's checks, etcd (circuit and the agent: the
	 * "cluster" group) and delegates only. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if ((p == CIR_SANDBOX_AGENT || (p == CIR_SANDBOX_CIRCUIT || p == CIR_SANDBOX_CIRCUIT_SERVE) || (flags & CIR_SANDBOX_EXEC)) !=
	    (fd >= 0))
		return 52;
	if (fd >= 0)
		close(fd);
	/* Unix stream sockets: HAProxy's runtime API (lb, serve), ovsdb-server
	 * (circuit-ovs, circuit) and delegates only. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if ((p == CIR_SANDBOX_LB || p == CIR_SANDBOX_OVS || p == CIR_SANDBOX_CIRCUIT ||
	     p == CIR_SANDBOX_CIRCUIT_SERVE || (flags & CIR_SANDBOX_EXEC)) != (fd >= 0))
		return 53;
	if (fd >= 0)
		close(fd);
	/* Executable memory only where libnftables is loaded. */
	m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((p == CIR_SANDBOX_IPAM || p == CIR_SANDBOX_QOS || p == CIR_SANDBOX_AGENT) &&
	    !(flags & CIR_SANDBOX_EXEC)) {
		if (m != MAP_FAILED || errno != EPERM)
			return 47;
	} else if (m == MAP_FAILED) {
		return 48;
	}
	/* exec exactly where the flag says. */
	if (flags & CIR_SANDBOX_EXEC) {
		if (try_exec() != 0)
			return 49;
		/* clone3 hides its flags: ENOSYS makes libc fall back to clone. */
		if (!REFUSED(syscall(SYS_clone3, NULL, 0), ENOSYS))
			return 50;
	} else if (!REFUSED(execl("/bin/true", "true", (char *)NULL), EPERM)) {
		return 51;
	}
	return 0;
}

START_TEST(each_profile)
{
	enum cir_sandbox_profile p = (enum cir_sandbox_profile)_i;

	ck_assert_int_eq(in_sandbox(p, 0, CIR_SANDBOX_ENFORCE, profile_checks), 0);
	if (p == CIR_SANDBOX_BRIDGE || p == CIR_SANDBOX_OVS ||
	    (p == CIR_SANDBOX_CIRCUIT || p == CIR_SANDBOX_CIRCUIT_SERVE) || p == CIR_SANDBOX_AGENT)
		ck_assert_int_eq(in_sandbox(p, CIR_SANDBOX_EXEC, CIR_SANDBOX_ENFORCE,
					    profile_checks), 0);
}
END_TEST

/* The brief's example: circuit-ipam opening a TCP socket. */
static int ipam_tcp(enum cir_sandbox_profile p, unsigned int flags)
{
	return REFUSED(socket(AF_INET, SOCK_STREAM, 0), EPERM) ? 0 : 1;
}

static int log_mode(enum cir_sandbox_profile p, unsigned int flags)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* Outside the list: allowed and logged.  The hard-deny list: refused. */
	if (fd < 0)
		return 1;
	close(fd);
	if (!REFUSED(mount("none", "/mnt", "tmpfs", 0, NULL), EPERM))
		return 2;
	if (!REFUSED(ptrace(PTRACE_CONT, getpid(), NULL, NULL), EPERM))
		return 3;
	return 0;
}

START_TEST(ipam_refuses_tcp_and_log_mode_allows_it)
{
	ck_assert_int_eq(in_sandbox(CIR_SANDBOX_IPAM, 0, CIR_SANDBOX_ENFORCE, ipam_tcp), 0);
	ck_assert_int_eq(in_sandbox(CIR_SANDBOX_IPAM, 0, CIR_SANDBOX_LOG, log_mode), 0);
}
END_TEST

START_TEST(mode_from_env)
{
	struct cir_error err = CIR_ERROR_INIT;
	enum cir_sandbox_mode m;

	setenv("CIRCUIT_SECCOMP", "log", 1);
	ck_assert_int_eq(cir_sandbox_mode(&m, &err), 0);
	ck_assert_int_eq(m, CIR_SANDBOX_LOG);
	setenv("CIRCUIT_SECCOMP", "off", 1);
	ck_assert_int_eq(cir_sandbox_mode(&m, &err), 0);
	ck_assert_int_eq(m, CIR_SANDBOX_OFF);
	setenv("CIRCUIT_SECCOMP", "enforce", 1);
	ck_assert_int_eq(cir_sandbox_mode(&m, &err), 0);
	ck_assert_int_eq(m, CIR_SANDBOX_ENFORCE);
	setenv("CIRCUIT_SECCOMP", "Off", 1);
	ck_assert_int_eq(cir_sandbox_mode(&m, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "CIRCUIT_SECCOMP=Off: want enforce, log or off");
	ck_assert_int_eq(cir_sandbox_apply(CIR_SANDBOX_IPAM, 0, &err), -EINVAL);
	unsetenv("CIRCUIT_SECCOMP");
	ck_assert_int_eq(cir_sandbox_apply_mode(CIR_SANDBOX_PROFILES, 0, CIR_SANDBOX_ENFORCE,
						&err), -EINVAL);
}
END_TEST

static bool listed(enum cir_sandbox_profile p, unsigned int flags, const char *name)
{
	const char *names[512];
	size_t n = cir_sandbox_list(p, flags, names, 512);

	ck_assert_uint_le(n, 512);
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

START_TEST(lists)
{
	size_t ipam = cir_sandbox_list(CIR_SANDBOX_IPAM, 0, NULL, 0);
	size_t qos = cir_sandbox_list(CIR_SANDBOX_QOS, 0, NULL, 0);
	size_t bridge = cir_sandbox_list(CIR_SANDBOX_BRIDGE, 0, NULL, 0);
	size_t circuit = cir_sandbox_list(CIR_SANDBOX_CIRCUIT, CIR_SANDBOX_EXEC, NULL, 0);

	ck_assert_uint_gt(ipam, 30);
	ck_assert_uint_lt(ipam, qos);
	ck_assert_uint_le(qos, bridge);
	ck_assert_uint_lt(bridge, circuit);
	ck_assert(!listed(CIR_SANDBOX_IPAM, 0, "socket"));
	ck_assert(!listed(CIR_SANDBOX_IPAM, 0, "setns"));
	ck_assert(listed(CIR_SANDBOX_QOS, 0, "setns"));
	ck_assert(!listed(CIR_SANDBOX_BRIDGE, 0, "execve"));
	ck_assert(listed(CIR_SANDBOX_BRIDGE, CIR_SANDBOX_EXEC, "execve"));
	ck_assert(!listed(CIR_SANDBOX_CIRCUIT, CIR_SANDBOX_EXEC, "mount"));
	ck_assert(!listed(CIR_SANDBOX_CIRCUIT, CIR_SANDBOX_EXEC, "ptrace"));
	/* etcd through libcurl: circuit only (spec/security.md "cluster"). */
	ck_assert(listed(CIR_SANDBOX_CIRCUIT, 0, "connect"));
	ck_assert(listed(CIR_SANDBOX_CIRCUIT, 0, "socketpair"));
	ck_assert(!listed(CIR_SANDBOX_IPAM, 0, "connect"));
	ck_assert(!listed(CIR_SANDBOX_BRIDGE, CIR_SANDBOX_EXEC, "socketpair"));
	ck_assert_str_eq(cir_sandbox_profile_name(CIR_SANDBOX_LB), "circuit-lb");
	ck_assert_ptr_null(cir_sandbox_profile_name(CIR_SANDBOX_PROFILES));
}
END_TEST

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("core");

	if (UNDER_VALGRIND()) {
		fprintf(stderr, "sandbox: filters not applied under valgrind: "
			"%d checks skipped\n", CIR_SANDBOX_PROFILES + 1);
	} else {
		tcase_add_loop_test(tc, each_profile, 0, CIR_SANDBOX_PROFILES);
		tcase_add_test(tc, ipam_refuses_tcp_and_log_mode_allows_it);
	}
	tcase_add_test(tc, mode_from_env);
	tcase_add_test(tc, lists);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(sandbox_suite)
