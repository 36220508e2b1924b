/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lbagent.h - the health checker behind `circuit agent`: one thread, one
 * poll loop, non-blocking TCP connects and HTTP GETs against the targets
 * of every service with a check (lib/lb), in the caller's network
 * namespace.
 *
 * Checks: tcp (connect), http (GET, status line), udp (a datagram gets
 * a reply; ICMP port unreachable or silence fail) and exec (the admin's
 * program, run with CIRCUIT_TARGET_ADDRESS/_PORT, exit 0 passes; killed
 * with its process group at the timeout).  A target's own check replaces
 * its service's.
 *
 * The store holds all state that matters: a target's up/down state lives
 * in its service record (cir_lb_target_health), so an agent that restarts
 * picks up where the last one left off and never touches a healthy
 * target's weight until it fails `fall` checks in a row.  Only the runs of
 * passes and failures are in memory.
 */
#ifndef CIR_LBAGENT_H
#define CIR_LBAGENT_H

#include <signal.h>
#include <stdbool.h>

#include "error.h"
#include "lb.h"

struct pollfd;

struct cir_lbagent_opts {
	/* Set (from a signal handler) to stop; checked every loop. */
	volatile sig_atomic_t *stop;
	/* Re-read the store this often, ms (new services, targets, checks). */
	unsigned int scan_ms;
	/* Told about every state change and every error the loop survives. */
	void (*event)(void *arg, bool error, const char *msg);
	void *arg;
	/* Exec checks may run (the caller's seccomp filter allows execve).
	 * When false, a store with an exec check ends the run with -EPERM
	 * ("restart the agent"): systemd restarts it with exec allowed. */
	bool exec_allowed;
	/* Optional: called once per scan (every scan_ms), from the loop's
	 * thread, for other periodic work of the agent (the cluster lease). */
	void (*tick)(void *tick_arg);
	void *tick_arg;
	/* Optional: set to the number of checks in flight or scheduled before
	 * each tick, so that a tick may wait longer when there are none. */
	size_t *probes;
	/* Optional: more descriptors for the loop's one poll (the cluster's
	 * watch stream), called from the loop's thread with tick_arg: fds
	 * fills up to max entries (at most CIR_LBAGENT_EXTRA_FDS) and may
	 * lower *wake (monotonic ms); ready gets the same entries back after
	 * every poll with their revents (also when none is ready: timers). */
	size_t (*fds)(void *tick_arg, struct pollfd *pfd, size_t max, long long *wake);
	void (*ready)(void *tick_arg, const struct pollfd *pfd, size_t n);
};

#define CIR_LBAGENT_EXTRA_FDS 8

/*
 * Run the checks until *o->stop.  Errors of one check or one store write
 * are reported through event and the loop goes on; returns 0 when stopped,
 * -errno when the store cannot be read at all.
 */
int cir_lbagent_run(struct cir_lb_db *db, const struct cir_lbagent_opts *o, struct cir_error *err);

/* Whether any service or target of the store has an exec check (the agent
 * then installs its seccomp filter with execve).  0 or 1, or -errno. */
int cir_lbagent_needs_exec(struct cir_lb_db *db, struct cir_error *err);

/*
 * Parse the first line of an HTTP response ("HTTP/1.x NNN ...") in buf.
 * Returns the status, or -EBADMSG.  For tests.
 */
int cir_lbagent_http_status(const char *buf, size_t len);

#endif
