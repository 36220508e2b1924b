// SPDX-License-Identifier: Apache-2.0
/*
 * lbagent_probe.c - one health-check probe's I/O (lib/lbagent_int.h):
 * TCP connect, HTTP GET and its status line, a UDP payload and its reply
 * (or port unreachable), an exec check's program, output and exit status.
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

void cir_lbp_probe_close(struct probe *p)
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
void cir_lbp_probe_done(struct agent *a, struct probe *p, bool pass, const char *why)
{
	struct cir_error err = CIR_ERROR_INIT;
	char as[CIR_LB_ADDR_STRLEN];
	bool flip;
	int r;

	cir_lbp_probe_close(p);
	p->due = cir_lbp_now_ms() + p->chk.interval_ms;
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
		cir_lbp_event(a, true, "service %s: target %s: %s", p->svc, as, err.msg);
		return;
	}
	p->down = !p->down;
	if (p->down)
		cir_lbp_event(a, false, "service %s: target %s down after %u failed checks: %s", p->svc,
		      as, p->fails, why);
	else
		cir_lbp_event(a, false, "service %s: target %s up after %u passed checks", p->svc, as,
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
		cir_lbp_probe_done(a, p, false, why);
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
		cir_lbp_probe_done(a, p, false, why);
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
		cir_lbp_probe_done(a, p, false, why);
		return;
	}
	p->pid = pid;
	p->fd = pfd[0];
	p->deadline = cir_lbp_now_ms() + p->chk.timeout_ms;
	p->phase = RUNNING;
}

/* The program ended (output closed): reap it when it has exited. */
void cir_lbp_exec_reap(struct agent *a, struct probe *p)
{
	char why[192], *nl;
	int st = 0;
	pid_t r = waitpid(p->pid, &st, WNOHANG);

	if (r == 0)
		return;         /* closed its output but runs on: EXITING */
	p->pid = 0;
	if (r < 0) {
		snprintf(why, sizeof(why), "exec: wait: %s", strerror(errno));
		cir_lbp_probe_done(a, p, false, why);
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		cir_lbp_probe_done(a, p, true, NULL);
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
	cir_lbp_probe_done(a, p, false, why);
}

void cir_lbp_probe_start(struct agent *a, struct probe *p)
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
		cir_lbp_probe_done(a, p, false, strerror(errno));
		return;
	}
	p->fd = fd;
	p->deadline = cir_lbp_now_ms() + p->chk.timeout_ms;
	if (p->chk.type == CIR_LB_CHECK_UDP) {
		char why[96];
		size_t len = strlen(p->chk.path);

		/* Connected: an ICMP port unreachable comes back as
		 * ECONNREFUSED on the next receive. */
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
		    send(fd, p->chk.path, len, 0) != (ssize_t)len) {
			snprintf(why, sizeof(why), "udp send: %s", strerror(errno));
			cir_lbp_probe_done(a, p, false, why);
			return;
		}
		p->phase = READING;
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		char why[96];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		cir_lbp_probe_done(a, p, false, why);
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
		cir_lbp_probe_done(a, p, false, why);
		return;
	}
	if (!(revents & POLLOUT))
		return;
	if (p->chk.type == CIR_LB_CHECK_TCP) {
		cir_lbp_probe_done(a, p, true, NULL);
		return;
	}
	cir_lb_addr_format(&p->addr, host, sizeof(host));
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: circuit-agent\r\n"
		       "Connection: close\r\n\r\n", p->chk.path, host);
	/* A fresh connection's send buffer takes it whole. */
	if (send(p->fd, req, len, MSG_NOSIGNAL) != len) {
		snprintf(why, sizeof(why), "send: %s", strerror(errno));
		cir_lbp_probe_done(a, p, false, why);
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
	cir_lbp_exec_reap(a, p);
}

/* A UDP check: any reply passes, a port unreachable fails. */
static void udp_reply(struct agent *a, struct probe *p)
{
	ssize_t got = recv(p->fd, p->buf, sizeof(p->buf) - 1, 0);
	char why[128];

	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got < 0 && errno == ECONNREFUSED) {
		cir_lbp_probe_done(a, p, false, "udp: port unreachable");
		return;
	}
	if (got < 0) {
		snprintf(why, sizeof(why), "udp receive: %s", strerror(errno));
		cir_lbp_probe_done(a, p, false, why);
		return;
	}
	cir_lbp_probe_done(a, p, true, NULL);
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
		cir_lbp_probe_done(a, p, false, why);
		return;
	}
	p->len += got;
	p->buf[p->len] = '\0';
	if (got > 0 && !memchr(p->buf, '\n', p->len) && p->len < sizeof(p->buf) - 1)
		return;
	st = cir_lbagent_http_status(p->buf, p->len);
	if (st < 0) {
		cir_lbp_probe_done(a, p, false, got == 0 && p->len == 0 ?
			   "connection closed before a response" : "not an HTTP response");
		return;
	}
	if (st != p->chk.expect) {
		snprintf(why, sizeof(why), "GET %.64s: status %d, want %u", p->chk.path, st,
			 p->chk.expect);
		cir_lbp_probe_done(a, p, false, why);
		return;
	}
	cir_lbp_probe_done(a, p, true, NULL);
}

void cir_lbp_probe_event(struct agent *a, struct probe *p, short revents)
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
