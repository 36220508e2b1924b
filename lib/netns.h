/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netns.h - network namespaces: open by path or pid, run a function inside
 * one and come back.  Executables stay single-threaded so setns() on the
 * calling thread switches the whole process.
 */
#ifndef CIR_NETNS_H
#define CIR_NETNS_H

#include <sys/types.h>

#include "error.h"

/* Open a network namespace file (/var/run/netns/x, /proc/PID/ns/net).
 * -ENOENT when it does not exist, -EINVAL when it is not a netns. */
int cir_netns_open(const char *path, int *fd, struct cir_error *err);

/* Open /proc/PID/ns/net: -ESRCH when the process is gone. */
int cir_netns_open_pid(pid_t pid, int *fd, struct cir_error *err);

/*
 * Is the namespace fd the host's: the one this process runs in, or PID 1's?
 * Compared by namespace identity (st_dev, st_ino).  1 yes, 0 no, -errno
 * when fd or our own namespace cannot be stat'ed (PID 1's being unreadable
 * only skips that comparison).
 */
int cir_netns_is_host(int nsfd, struct cir_error *err);

/*
 * Take an exclusive flock on the namespace itself (nsfs inodes are shared by
 * every open of /proc/PID/ns/net and its bind mounts, so this serialises
 * every Circuit process working on one container's namespace, whichever
 * path it came through).  Held until fd is closed; blocks meanwhile.
 */
int cir_netns_lock(int nsfd, struct cir_error *err);

/* Run fn(arg, err) inside the namespace fd and switch back.  Returns fn's
 * value; -errno if entering or leaving fails (leaving failing is fatal for
 * the caller: it must not touch the network again). */
int cir_netns_run(int nsfd, int (*fn)(void *arg, struct cir_error *err), void *arg,
		  struct cir_error *err);

#endif
