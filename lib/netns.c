// SPDX-License-Identifier: Apache-2.0
/*
 * netns.c - enter and leave network namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "cleanup.h"
#include "netns.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int cir_netns_open(const char *path, int *fd, struct cir_error *err)
{
	_cleanup_close_ int f = -1;
	struct statfs sfs;

	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return cir_err(err, errno, "netns %s: %s", path, strerror(errno));
	if (fstatfs(f, &sfs) < 0)
		return cir_err(err, errno, "netns %s: %s", path, strerror(errno));
	/* nsfs for /proc/PID/ns/net and for bind mounts of it. */
	if (sfs.f_type != NSFS_MAGIC && sfs.f_type != PROC_SUPER_MAGIC)
		return cir_err(err, EINVAL, "netns %s: not a network namespace", path);
	*fd = TAKE_FD(f);
	return 0;
}

int cir_netns_open_pid(pid_t pid, int *fd, struct cir_error *err)
{
	char path[64];
	int r;

	if (pid <= 0)
		return cir_err(err, EINVAL, "invalid pid %d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	r = cir_netns_open(path, fd, err);
	if (r == -ENOENT)
		return cir_err(err, ESRCH, "process %d does not exist", (int)pid);
	return r;
}

int cir_netns_is_host(int nsfd, struct cir_error *err)
{
	static const char *const host[] = { "/proc/thread-self/ns/net", "/proc/1/ns/net" };
	struct stat ns, st;

	if (fstat(nsfd, &ns) < 0)
		return cir_err(err, errno, "netns: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		if (stat(host[i], &st) < 0) {
			if (i == 0)
				return cir_err(err, errno, "netns: %s: %s", host[i],
					       strerror(errno));
			continue;
		}
		if (st.st_dev == ns.st_dev && st.st_ino == ns.st_ino)
			return 1;
	}
	return 0;
}

int cir_netns_lock(int nsfd, struct cir_error *err)
{
	while (flock(nsfd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return cir_err(err, errno, "netns: lock: %s", strerror(errno));
	}
	return 0;
}

int cir_netns_run(int nsfd, int (*fn)(void *arg, struct cir_error *err), void *arg,
		  struct cir_error *err)
{
	_cleanup_close_ int self = -1;
	int r;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return cir_err(err, errno, "netns: open own namespace: %s", strerror(errno));
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return cir_err(err, errno, "netns: enter: %s", strerror(errno));
	r = fn(arg, err);
	if (setns(self, CLONE_NEWNET) < 0) {
		int e = errno;

		return cir_err(err, e, "netns: cannot return to own namespace: %s", strerror(e));
	}
	return r;
}
