/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lbagent_int.h - what the health checker's two files share: lbagent.c
 * (the probe table, its scans of the store, timers and the poll loop) and
 * lbagent_probe.c (one probe's I/O: connect, send, read, judge; exec
 * checks).  Not an API.
 */
#ifndef CIR_LBAGENT_INT_H
#define CIR_LBAGENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lbagent.h"

/* tcp/http: CONNECTING, then (http) READING; udp: READING (the reply);
 * exec: RUNNING (reading its output), then EXITING (output closed, not yet
 * reaped). */
enum phase { IDLE, CONNECTING, READING, RUNNING, EXITING };

struct probe {
	char svc[CIR_NAME_MAX + 1];
	struct cir_lb_addr addr;
	struct cir_lb_check chk;
	bool down;                      /* as the store has it */
	unsigned int passes, fails;     /* in a row */
	enum phase phase;
	int fd;
	pid_t pid;                      /* exec: the running program */
	long long due, deadline;        /* monotonic ms */
	char buf[128];
	size_t len;
	bool seen;
};

struct agent {
	struct cir_lb_db *db;
	const struct cir_lbagent_opts *o;
	struct probe *p;
	size_t n, cap;
	size_t cursor;                  /* where the next scan match is likely */
	bool need_exec;                 /* a scan met an exec check it may not run */
};

/* Monotonic milliseconds. */
long long cir_lbp_now_ms(void);
/* One event line to the agent's printer. */
void cir_lbp_event(struct agent *a, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A probe's fd closed and its exec child killed and reaped, if any. */
void cir_lbp_probe_close(struct probe *p);
/* A probe ended: pass or fail (why), counted against rise and fall, the
 * target's health changed in the store when it flips; idle until due. */
void cir_lbp_probe_done(struct agent *a, struct probe *p, bool pass, const char *why);
/* A due probe starts (connect, send, or the exec program). */
void cir_lbp_probe_start(struct agent *a, struct probe *p);
/* poll() said revents of the probe's fd. */
void cir_lbp_probe_event(struct agent *a, struct probe *p, short revents);
/* An exited exec check reaped, if it has exited. */
void cir_lbp_exec_reap(struct agent *a, struct probe *p);

#endif
