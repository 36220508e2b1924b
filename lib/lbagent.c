// SPDX-License-Identifier: Apache-2.0
/*
 * lbagent.c - health checks of load-balanced targets: a table of probes
 * (one per service x target with a check), re-read from the store every
 * scan_ms, each probe idle until due, then connecting (non-blocking), then
 * for HTTP sending one GET and reading the status line.  Every probe's
 * socket is in one poll() set; nothing blocks but poll.
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

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void event(struct agent *a, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void event(struct agent *a, bool error, const char *fmt, ...)
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

int cir_lbagent_http_status(const char *buf, size_t len)
{
	int st = 0;

	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return -EBADMSG;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EBADMSG;
		st = st * 10 + (buf[i] - '0');
	}
	if (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return -EBADMSG;
	return st;
}

static void probe_close(struct probe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->pid > 0) {
		/* Its own process group: the program and what it started. */
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = 0;
	p->phase = IDLE;
	p->len = 0;
}

/* One check ended: count it, and change the target's state in the store
 * (and so the kernel's weight) when a run reaches rise or fall. */
static void probe_done(struct agent *a, struct probe *p, bool pass, const char *why)
{
	struct cir_error err = CIR_ERROR_INIT;
	char as[CIR_LB_ADDR_STRLEN];
	bool flip;
	int r;

	probe_close(p);
	p->due = now_ms() + p->chk.interval_ms;
	if (pass) {
		p->passes++;
		p->fails = 0;
		flip = p->down && p->passes >= p->chk.rise;
	} else {
		p->fails++;
		p->passes = 0;
		flip = !p->down && p->fails >= p->chk.fall;
	}
	if (!flip)
		return;
	cir_lb_addr_format(&p->addr, as, sizeof(as));
	r = cir_lb_target_health(a->db, p->svc, &p->addr, !p->down, pass ? NULL : why, &err);
	if (r < 0) {
		/* Retried at the next check: the runs are kept. */
		event(a, true, "service %s: target %s: %s", p->svc, as, err.msg);
		return;
	}
	p->down = !p->down;
	if (p->down)
		event(a, false, "service %s: target %s down after %u failed checks: %s", p->svc,
		      as, p->fails, why);
	else
		event(a, false, "service %s: target %s up after %u passed checks", p->svc, as,
		      p->passes);
}

/* The exec check's program must be root's own: a regular file owned by
 * root, not writable by group or others (spec/security.md). */
static int exec_trusted(const char *path, char *why, size_t len)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(why, len, "exec %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    !(st.st_mode & S_IXUSR)) {
		snprintf(why, len, "exec %s: not a root-owned executable file writable only by "
			 "root", path);
		return -1;
	}
	return 0;
}

/* Run the exec check's program with the target in its environment; its
 * stdout and stderr come back on a pipe (the first line is the error). */
static void exec_start(struct agent *a, struct probe *p)
{
	char addr[CIR_IP_STRLEN], tgt[CIR_LB_ADDR_STRLEN], why[CIR_LB_CHECK_PATH_MAX + 96];
	char e_addr[CIR_IP_STRLEN + 32], e_port[48], e_tgt[CIR_LB_ADDR_STRLEN + 32];
	char e_svc[CIR_NAME_MAX + 32];
	char *const argv[] = { p->chk.path, NULL };
	char *const envp[] = { e_addr, e_port, e_tgt, e_svc,
			       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			       NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int pfd[2], r;
	pid_t pid;

	if (exec_trusted(p->chk.path, why, sizeof(why)) < 0) {
		probe_done(a, p, false, why);
		return;
	}
	cir_ip_format(&p->addr.ip, addr, sizeof(addr));
	cir_lb_addr_format(&p->addr, tgt, sizeof(tgt));
	snprintf(e_addr, sizeof(e_addr), "CIRCUIT_TARGET_ADDRESS=%s", addr);
	snprintf(e_port, sizeof(e_port), "CIRCUIT_TARGET_PORT=%u", p->addr.port);
	snprintf(e_tgt, sizeof(e_tgt), "CIRCUIT_TARGET=%s", tgt);
	snprintf(e_svc, sizeof(e_svc), "CIRCUIT_SERVICE=%s", p->svc);
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(why, sizeof(why), "exec: pipe: %s", strerror(errno));
		probe_done(a, p, false, why);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETPGROUP);
	r = posix_spawn(&pid, p->chk.path, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		snprintf(why, sizeof(why), "exec %s: %s", p->chk.path, strerror(r));
		probe_done(a, p, false, why);
		return;
	}
	p->pid = pid;
	p->fd = pfd[0];
	p->deadline = now_ms() + p->chk.timeout_ms;
	p->phase = RUNNING;
}

/* The program ended (output closed): reap it when it has exited. */
static void exec_reap(struct agent *a, struct probe *p)
{
	char why[192], *nl;
	int st = 0;
	pid_t r = waitpid(p->pid, &st, WNOHANG);

	if (r == 0)
		return;         /* closed its output but runs on: EXITING */
	p->pid = 0;
	if (r < 0) {
		snprintf(why, sizeof(why), "exec: wait: %s", strerror(errno));
		probe_done(a, p, false, why);
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		probe_done(a, p, true, NULL);
		return;
	}
	p->buf[p->len] = '\0';
	if ((nl = strchr(p->buf, '\n')))
		*nl = '\0';
	for (char *c = p->buf; *c; c++)
		if ((unsigned char)*c < ' ' || (unsigned char)*c >= 0x7f)
			*c = '?';
	if (WIFEXITED(st))
		snprintf(why, sizeof(why), "exit status %d%s%.80s", WEXITSTATUS(st),
			 p->buf[0] ? ": " : "", p->buf);
	else
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(st));
	probe_done(a, p, false, why);
}

static void probe_start(struct agent *a, struct probe *p)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd;

	if (p->chk.type == CIR_LB_CHECK_EXEC) {
		exec_start(a, p);
		return;
	}
	if (p->addr.ip.af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p->addr.port);
		memcpy(&s6->sin6_addr, p->addr.ip.addr, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(p->addr.port);
		memcpy(&s4->sin_addr, p->addr.ip.addr, 4);
		sl = sizeof(*s4);
	}
	fd = socket(p->addr.ip.af, (p->chk.type == CIR_LB_CHECK_UDP ? SOCK_DGRAM : SOCK_STREAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		probe_done(a, p, false, strerror(errno));
		return;
	}
	p->fd = fd;
	p->deadline = now_ms() + p->chk.timeout_ms;
	if (p->chk.type == CIR_LB_CHECK_UDP) {
		char why[96];
		size_t len = strlen(p->chk.path);

		/* Connected: an ICMP port unreachable comes back as
		 * ECONNREFUSED on the next receive. */
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
		    send(fd, p->chk.path, len, 0) != (ssize_t)len) {
			snprintf(why, sizeof(why), "udp send: %s", strerror(errno));
			probe_done(a, p, false, why);
			return;
		}
		p->phase = READING;
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		probe_done(a, p, false, why);
		return;
	}
	p->phase = CONNECTING;
}

/* A connect finished: a TCP check passes, an HTTP check sends its GET. */
static void probe_connected(struct agent *a, struct probe *p, short revents)
{
	char req[CIR_LB_CHECK_PATH_MAX + 128], host[CIR_LB_ADDR_STRLEN], why[128];
	int soerr = 0, len;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		snprintf(why, sizeof(why), "connect: %s", strerror(soerr));
		probe_done(a, p, false, why);
		return;
	}
	if (!(revents & POLLOUT))
		return;
	if (p->chk.type == CIR_LB_CHECK_TCP) {
		probe_done(a, p, true, NULL);
		return;
	}
	cir_lb_addr_format(&p->addr, host, sizeof(host));
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: circuit-agent\r\n"
		       "Connection: close\r\n\r\n", p->chk.path, host);
	/* A fresh connection's send buffer takes it whole. */
	if (send(p->fd, req, len, MSG_NOSIGNAL) != len) {
		snprintf(why, sizeof(why), "send: %s", strerror(errno));
		probe_done(a, p, false, why);
		return;
	}
	p->phase = READING;
}

/* An exec check's output: the first bytes kept (the error shown), the rest
 * dropped; at its end, the process is reaped. */
static void exec_output(struct agent *a, struct probe *p)
{
	char sink[512];
	ssize_t got;

	if (p->len < sizeof(p->buf) - 1)
		got = read(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
	else
		got = read(p->fd, sink, sizeof(sink));
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got > 0) {
		if (p->len < sizeof(p->buf) - 1)
			p->len += got;
		return;
	}
	close(p->fd);
	p->fd = -1;
	p->phase = EXITING;
	exec_reap(a, p);
}

/* A UDP check: any reply passes, a port unreachable fails. */
static void udp_reply(struct agent *a, struct probe *p)
{
	ssize_t got = recv(p->fd, p->buf, sizeof(p->buf) - 1, 0);
	char why[128];

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got < 0 && errno == ECONNREFUSED) {
		probe_done(a, p, false, "udp: port unreachable");
		return;
	}
	if (got < 0) {
		snprintf(why, sizeof(why), "udp receive: %s", strerror(errno));
		probe_done(a, p, false, why);
		return;
	}
	probe_done(a, p, true, NULL);
}

/* An HTTP check's answer, judged on its status line once that is in. */
static void http_reply(struct agent *a, struct probe *p)
{
	ssize_t got = recv(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len, 0);
	char why[128];
	int st;

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got < 0) {
		snprintf(why, sizeof(why), "read: %s", strerror(errno));
		probe_done(a, p, false, why);
		return;
	}
	p->len += got;
	p->buf[p->len] = '\0';
	if (got > 0 && !memchr(p->buf, '\n', p->len) && p->len < sizeof(p->buf) - 1)
		return;
	st = cir_lbagent_http_status(p->buf, p->len);
	if (st < 0) {
		probe_done(a, p, false, got == 0 && p->len == 0 ?
			   "connection closed before a response" : "not an HTTP response");
		return;
	}
	if (st != p->chk.expect) {
		snprintf(why, sizeof(why), "GET %.64s: status %d, want %u", p->chk.path, st,
			 p->chk.expect);
		probe_done(a, p, false, why);
		return;
	}
	probe_done(a, p, true, NULL);
}

static void probe_event(struct agent *a, struct probe *p, short revents)
{
	if (p->phase == CONNECTING)
		probe_connected(a, p, revents);
	else if (p->phase == RUNNING)
		exec_output(a, p);
	else if (p->phase == READING && p->chk.type == CIR_LB_CHECK_UDP)
		udp_reply(a, p);
	else if (p->phase == READING)
		http_reply(a, p);
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
			p->due = now_ms() + (a->n * 37) % (ck->interval_ms + 1);
		}
		if (memcmp(&p->chk, ck, sizeof(p->chk)) != 0) {
			/* A changed check: the running one is stale. */
			if (p->phase != IDLE)
				probe_close(p);
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
			probe_close(&a->p[i]);
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
		event(a, true, "%s", e2.msg);
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
			exec_reap(a, p);
		if (p->phase == IDLE && now >= p->due) {
			probe_start(a, p);
		} else if (p->phase != IDLE && now >= p->deadline) {
			char why[64];

			snprintf(why, sizeof(why), "%s",
				 p->phase == CONNECTING ? "connect: timed out" :
				 p->phase == RUNNING || p->phase == EXITING ?
				 "exec: timed out (killed)" :
				 p->chk.type == CIR_LB_CHECK_UDP ? "udp: no reply in time" :
				 "no response in time");
			probe_done(a, p, false, why);
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
		long long now = now_ms(), wake;
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
		now = now_ms();
		if (poll(ps.pfd, np + nx, wake > now ? (int)(wake - now) : 0) < 0) {
			if (errno == EINTR)
				continue;
			r = cir_err(err, errno, "poll: %s", strerror(errno));
			break;
		}
		for (size_t k = 0; k < np; k++)
			if (ps.pfd[k].revents)
				probe_event(&a, &a.p[ps.who[k]], ps.pfd[k].revents);
		if (o->ready)
			o->ready(o->tick_arg, ps.pfd + np, nx);
	}
	for (size_t i = 0; i < a.n; i++)
		probe_close(&a.p[i]);
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
