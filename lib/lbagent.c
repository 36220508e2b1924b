// SPDX-License-Identifier: Apache-2.0
/*
 * lbagent.c - health checks of load-balanced targets: a table of probes
 * (one per service x target with a check), re-read from the store every
 * scan_ms, each probe idle until due, then connecting (non-blocking), then
 * for HTTP sending one GET and reading the status line.  Every probe's
 * socket is in one poll() set; nothing blocks but poll.  This file: the
 * table, its scans, the timers and the loop; one probe's I/O is
 * lbagent_probe.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include "cleanup.h"
#include "lbagent_int.h"

long long cir_lbp_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

void cir_lbp_event(struct agent *a, bool error, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!a->o->event)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->o->event(a->o->arg, error, msg);
}

static bool probe_is(const struct probe *p, const char *svc, const struct cir_lb_addr *ad)
{
	return p->addr.port == ad->port && cir_ip_eq(&p->addr.ip, &ad->ip) &&
	       strcmp(p->svc, svc) == 0;
}

/* Scans list services and targets in the same order every time, and the
 * table keeps that order: look at the cursor first (O(1) per target on a
 * steady store), then everywhere. */
static struct probe *probe_find(struct agent *a, const char *svc, const struct cir_lb_addr *ad)
{
	if (a->cursor < a->n && probe_is(&a->p[a->cursor], svc, ad))
		return &a->p[a->cursor++];
	for (size_t i = 0; i < a->n; i++)
		if (probe_is(&a->p[i], svc, ad)) {
			a->cursor = i + 1;
			return &a->p[i];
		}
	return NULL;
}

static int scan_fn(const struct cir_lb_service *s, void *arg)
{
	struct agent *a = arg;

	/* HAProxy checks the targets of its services itself (spec/lb.md). */
	if (s->backend != CIR_LB_BACKEND_IPVS)
		return 0;

	for (size_t i = 0; i < s->n_targets; i++) {
		const struct cir_lb_target *t = &s->targets[i];
		const struct cir_lb_check *ck = cir_lb_target_check(s, t);
		struct probe *p;

		if (ck->type == CIR_LB_CHECK_NONE)
			continue;
		if (ck->type == CIR_LB_CHECK_EXEC && !a->o->exec_allowed) {
			a->need_exec = true;
			continue;
		}
		p = probe_find(a, s->name, &t->addr);
		if (!p) {
			if (a->n == a->cap) {
				size_t nc = a->cap ? a->cap * 2 : 16;
				struct probe *np = realloc(a->p, nc * sizeof(*np));

				if (!np)
					return -ENOMEM;
				a->p = np;
				a->cap = nc;
			}
			p = &a->p[a->n++];
			memset(p, 0, sizeof(*p));
			snprintf(p->svc, sizeof(p->svc), "%s", s->name);
			p->addr = t->addr;
			p->fd = -1;
			/* Spread the first checks over one interval. */
			p->due = cir_lbp_now_ms() + (a->n * 37) % (ck->interval_ms + 1);
		}
		if (memcmp(&p->chk, ck, sizeof(p->chk)) != 0) {
			/* A changed check: the running one is stale. */
			if (p->phase != IDLE)
				cir_lbp_probe_close(p);
			p->chk = *ck;
			p->passes = p->fails = 0;
		}
		/* The store is the truth (lb add, a restarted agent, an operator). */
		p->down = t->down;
		p->seen = true;
	}
	return 0;
}

static int scan(struct agent *a, struct cir_error *err)
{
	size_t k = 0;
	int r;

	for (size_t i = 0; i < a->n; i++)
		a->p[i].seen = false;
	a->cursor = 0;
	r = cir_lb_list(a->db, scan_fn, a, err);
	if (r == -ENOMEM)
		return cir_err(err, ENOMEM, "out of memory");
	if (r < 0)
		return r;
	for (size_t i = 0; i < a->n; i++) {
		if (!a->p[i].seen) {
			cir_lbp_probe_close(&a->p[i]);
			continue;
		}
		a->p[k++] = a->p[i];
	}
	a->n = k;
	return 0;
}

/* The periodic rescan of the records: the probes follow them.  < 0 (in
 * err) stops the agent: out of memory, or an exec check it cannot run. */
static int agent_rescan(struct agent *a, long long now, long long *next_scan,
			struct cir_error *err)
{
	const struct cir_lbagent_opts *o = a->o;
	struct cir_error e2 = CIR_ERROR_INIT;
	int r = scan(a, &e2);

	if (r == -ENOMEM) {
		*err = e2;
		return r;
	}
	if (r < 0)
		cir_lbp_event(a, true, "%s", e2.msg);
	*next_scan = now + (o->scan_ms ? o->scan_ms : 1000);
	if (a->need_exec)
		return cir_err(err, EPERM, "an exec check was configured after the agent started "
			       "without exec (its seccomp filter): restart the agent");
	if (o->probes)
		*o->probes = a->n;
	if (o->tick)
		o->tick(o->tick_arg);
	return 0;
}

/* Probes due start; probes past their deadline fail. */
static void agent_timers(struct agent *a, long long now)
{
	for (size_t i = 0; i < a->n; i++) {
		struct probe *p = &a->p[i];

		if (p->phase == EXITING)
			cir_lbp_exec_reap(a, p);
		if (p->phase == IDLE && now >= p->due) {
			cir_lbp_probe_start(a, p);
		} else if (p->phase != IDLE && now >= p->deadline) {
			char why[64];

			snprintf(why, sizeof(why), "%s",
				 p->phase == CONNECTING ? "connect: timed out" :
				 p->phase == RUNNING || p->phase == EXITING ?
				 "exec: timed out (killed)" :
				 p->chk.type == CIR_LB_CHECK_UDP ? "udp: no reply in time" :
				 "no response in time");
			cir_lbp_probe_done(a, p, false, why);
		}
	}
}

/* The poll set: room for every probe and the caller's extra fds. */
struct pollset {
	struct pollfd *pfd;
	size_t *who;            /* pfd[k] is probe who[k] */
	size_t cap;
};

static int pollset_fit(struct pollset *ps, size_t n, struct cir_error *err)
{
	struct pollfd *nf;
	size_t *nw;

	if (n <= ps->cap)
		return 0;
	nf = realloc(ps->pfd, n * sizeof(*nf));
	if (!nf)
		return cir_err(err, ENOMEM, "out of memory");
	ps->pfd = nf;
	nw = realloc(ps->who, n * sizeof(*nw));
	if (!nw)
		return cir_err(err, ENOMEM, "out of memory");
	ps->who = nw;
	ps->cap = n;
	return 0;
}

/* The fds of the probes in flight, and in *wake the earliest due time or
 * deadline (an exiting exec check: soon, to reap it).  Returns their count. */
static size_t agent_fds(struct agent *a, struct pollset *ps, long long now, long long *wake)
{
	size_t np = 0;

	for (size_t i = 0; i < a->n; i++) {
		struct probe *p = &a->p[i];

		if (p->phase == IDLE) {
			if (p->due < *wake)
				*wake = p->due;
			continue;
		}
		if (p->deadline < *wake)
			*wake = p->deadline;
		if (p->phase == EXITING) {
			if (now + 10 < *wake)
				*wake = now + 10;
			continue;
		}
		ps->pfd[np].fd = p->fd;
		ps->pfd[np].events = p->phase == CONNECTING ? POLLOUT : POLLIN;
		ps->pfd[np].revents = 0;
		ps->who[np++] = i;
	}
	return np;
}

int cir_lbagent_run(struct cir_lb_db *db, const struct cir_lbagent_opts *o, struct cir_error *err)
{
	struct agent a = { .db = db, .o = o };
	struct pollset ps = { 0 };
	long long next_scan = 0;
	int r = 0;

	while (!*o->stop) {
		long long now = cir_lbp_now_ms(), wake;
		size_t np, nx = 0;

		if (now >= next_scan) {
			r = agent_rescan(&a, now, &next_scan, err);
			if (r < 0)
				break;
		}
		agent_timers(&a, now);
		r = pollset_fit(&ps, a.n + CIR_LBAGENT_EXTRA_FDS, err);
		if (r < 0)
			break;
		wake = next_scan;
		np = agent_fds(&a, &ps, now, &wake);
		if (o->fds)
			nx = o->fds(o->tick_arg, ps.pfd + np, CIR_LBAGENT_EXTRA_FDS, &wake);
		now = cir_lbp_now_ms();
		if (poll(ps.pfd, np + nx, wake > now ? (int)(wake - now) : 0) < 0) {
			if (errno == EINTR)
				continue;
			r = cir_err(err, errno, "poll: %s", strerror(errno));
			break;
		}
		for (size_t k = 0; k < np; k++)
			if (ps.pfd[k].revents)
				cir_lbp_probe_event(&a, &a.p[ps.who[k]], ps.pfd[k].revents);
		if (o->ready)
			o->ready(o->tick_arg, ps.pfd + np, nx);
	}
	for (size_t i = 0; i < a.n; i++)
		cir_lbp_probe_close(&a.p[i]);
	free(a.p);
	free(ps.pfd);
	free(ps.who);
	return r;
}

static int needs_exec_fn(const struct cir_lb_service *s, void *arg)
{
	if (s->check.type == CIR_LB_CHECK_EXEC)
		*(bool *)arg = true;
	for (size_t i = 0; i < s->n_targets; i++)
		if (s->targets[i].check.type == CIR_LB_CHECK_EXEC)
			*(bool *)arg = true;
	return 0;
}

int cir_lbagent_needs_exec(struct cir_lb_db *db, struct cir_error *err)
{
	bool any = false;
	int r = cir_lb_list(db, needs_exec_fn, &any, err);

	return r < 0 ? r : any;
}
