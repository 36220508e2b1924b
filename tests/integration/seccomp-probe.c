// SPDX-License-Identifier: Apache-2.0
/*
 * seccomp-probe - lib/sandbox against the kernel, for t-seccomp.sh.
 *
 *   seccomp-probe list PROFILE [exec]   the allow-list, one name a line
 *   seccomp-probe try PROFILE [exec]    apply it (CIRCUIT_SECCOMP decides the
 *                                       mode), then try calls: one line each,
 *                                       "NAME ok" or "NAME <errno name>"
 *   seccomp-probe                       with CNI_COMMAND set: an IPAM or
 *                                       chained plugin that reports, in
 *                                       $PROBE_OUT, the filter it inherited
 *                                       and what it may not do
 *
 * PROFILE is the executable's name: circuit, circuit-bridge, circuit-ipam,
 * circuit-qos, circuit-lb.  No call here reaches beyond this process: the
 * sockets are never connected, the store is $CIRCUIT_STATE_DIR, ptrace asks
 * to continue this very process (ESRCH without a filter: it is not traced).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "cni.h"
#include "sandbox.h"

static FILE *out;

static void report(const char *what, int r)
{
	fprintf(out, "%s %s\n", what, r >= 0 ? "ok" : strerrorname_np(errno) ?: "?");
}

/* Try a call, close what it made. */
static void try_socket(const char *what, int family, int type, int proto)
{
	int fd = socket(family, type | SOCK_CLOEXEC, proto);

	report(what, fd);
	if (fd >= 0)
		close(fd);
}

static void try_exec(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(100 + errno);
	}
	if (pid < 0) {
		/* No fork either: exec in place, which must fail too. */
		report("fork", -1);
		report("execve", execl("/bin/true", "true", (char *)NULL));
		return;
	}
	report("fork", 0);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return;
	errno = WEXITSTATUS(status) > 100 ? WEXITSTATUS(status) - 100 : 0;
	report("execve", WEXITSTATUS(status) == 0 ? 0 : -1);
}

static void try_all(void)
{
	const char *dir = getenv("CIRCUIT_STATE_DIR");
	char path[4096];
	int fd;

	try_socket("socket-inet-stream", AF_INET, SOCK_STREAM, 0);
	try_socket("socket-inet6-dgram", AF_INET6, SOCK_DGRAM, 0);
	try_socket("socket-packet", AF_PACKET, SOCK_RAW, 0);
	try_socket("socket-netlink-route", AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	try_socket("socket-netlink-generic", AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	try_socket("socket-netlink-audit", AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	report("mount", mount("none", "/mnt", "tmpfs", 0, NULL));
	report("unshare-net", unshare(CLONE_NEWNET));
	report("ptrace", (int)ptrace(PTRACE_CONT, getpid(), NULL, NULL));
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	report("setns-net", fd < 0 ? -1 : setns(fd, CLONE_NEWNET));
	if (fd >= 0)
		close(fd);
	if (dir) {
		snprintf(path, sizeof(path), "%s/probe.%d", dir, (int)getpid());
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		report("store-write", fd < 0 ? -1 : (int)write(fd, "x\n", 2));
		if (fd >= 0) {
			close(fd);
			unlinkat(AT_FDCWD, path, 0);
		}
	}
	try_exec();
}

static int profile_of(const char *name, enum cir_sandbox_profile *p)
{
	for (int i = 0; i < CIR_SANDBOX_PROFILES; i++)
		if (strcmp(cir_sandbox_profile_name((enum cir_sandbox_profile)i), name) == 0) {
			*p = (enum cir_sandbox_profile)i;
			return 0;
		}
	fprintf(stderr, "seccomp-probe: unknown profile %s\n", name);
	return -1;
}

/* As a delegate: what did we inherit, what may we not do. */
static int plugin(void)
{
	const char *cmd = getenv("CNI_COMMAND"), *o = getenv("PROBE_OUT");
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_conf conf = { 0 };
	struct cir_jgen *g = NULL;
	const char *res = NULL;
	char line[256], buf[65536];
	FILE *st;
	size_t n;

	n = fread(buf, 1, sizeof(buf) - 1, stdin);
	buf[n] = '\0';
	out = o ? fopen(o, "a") : NULL;
	if (!out)
		return 1;
	fprintf(out, "command %s\n", cmd);
	st = fopen("/proc/self/status", "r");
	while (st && fgets(line, sizeof(line), st))
		if (strncmp(line, "Seccomp", 7) == 0 || strncmp(line, "NoNewPrivs", 10) == 0)
			fputs(line, out);
	if (st)
		fclose(st);
	report("mount", mount("none", "/mnt", "tmpfs", 0, NULL));
	report("unshare-net", unshare(CLONE_NEWNET));
	report("ptrace", (int)ptrace(PTRACE_CONT, getpid(), NULL, NULL));
	try_socket("socket-packet", AF_PACKET, SOCK_RAW, 0);
	try_socket("socket-netlink-audit", AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	fclose(out);
	if (strcmp(cmd, "ADD") != 0)
		return 0;
	/* Chained: pass prevResult on.  IPAM: an address. */
	if (cir_cni_conf_parse(buf, n, CIR_CNI_CMD_ADD, &conf, &err) == 0 &&
	    conf.has_prev_result &&
	    cir_cni_result_format(&conf.prev_result, conf.cni_version, &g, &res, &err) == 0)
		printf("%s\n", res);
	else
		printf("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.98.0.50/24\","
		       "\"gateway\":\"10.98.0.1\"}]}\n");
	cir_cni_conf_free(&conf);
	cir_jgen_free(g);
	return 0;
}

int main(int argc, char **argv)
{
	struct cir_error err = CIR_ERROR_INIT;
	enum cir_sandbox_profile p;
	unsigned int flags;

	if (getenv("CNI_COMMAND"))
		return plugin();
	if (argc < 3 || profile_of(argv[2], &p) < 0)
		return 2;
	flags = argc > 3 && strcmp(argv[3], "exec") == 0 ? CIR_SANDBOX_EXEC : 0;
	out = stdout;
	if (strcmp(argv[1], "list") == 0) {
		const char *names[512];
		size_t k = cir_sandbox_list(p, flags, names, 512);

		for (size_t i = 0; i < k && i < 512; i++)
			printf("%s\n", names[i]);
		return 0;
	}
	if (strcmp(argv[1], "try") != 0)
		return 2;
	if (cir_sandbox_apply(p, flags, &err) < 0) {
		fprintf(stderr, "seccomp-probe: %s\n", err.msg);
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	try_all();
	return 0;
}
