// SPDX-License-Identifier: Apache-2.0
/*
 * haproxy.c - the HAProxy backend of `circuit lb` (lib/lbbackend.h).
 *
 * One haproxy process per host serves every service whose record says
 * "backend": "haproxy".  Its configuration is generated from the store,
 * one file per service under lb/haproxy.d/ (plus 00-global.cfg), so that a
 * restart always comes back with what the records say.  Targets change
 * live through HAProxy's runtime API on lb/haproxy.sock (add server,
 * enable server/health, set weight, set server state maint, del server),
 * spoken here over a unix socket.  A new or deleted service (a listener)
 * needs a new process: it is started with -sf (the old one stops
 * listening and finishes its connections) and -x (the listening sockets
 * are handed over), so no connection is dropped.  spec/lb.md, "HAProxy".
 *
 * haproxy is the data service, not a configuration tool: it is executed
 * (posix_spawn, its own session, a fixed environment) by the CLI verbs and
 * `circuit restore`, never by the CNI plugin (db->may_spawn).
 */
#include <dirent.h>
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
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "lbbackend.h"

#define CFG_DIR "haproxy.d"
#define CFG_GLOBAL "00-global.cfg"
#define SOCK_NAME "haproxy.sock"
#define PID_NAME "haproxy.pid"
#define LOG_NAME "haproxy.log"
#define HAPROXY_BIN "/usr/sbin/haproxy"
/* Longest answer read from the runtime API (show stat of many services). */
#define ANSWER_MAX (16u << 20)
/* HAProxy's largest server weight. */
#define HAP_WEIGHT_MAX 256

CIR_DEFINE_CLEANUP(DIR, closedir)

/* ------------------------------------------------------------ names */

/* The server name of target t: "t_" + address + "_" + port, ':' as '-'
 * (HAProxy names allow [A-Za-z0-9_.:-]; IPv4 text has no '-'). */
static void srv_name(const struct cir_lb_addr *a, char *buf, size_t len)
{
	char ip[CIR_IP_STRLEN];
	size_t l;

	cir_ip_format(&a->ip, ip, sizeof(ip));
	snprintf(buf, len, "t_%s_%u", ip, a->port);
	for (l = 0; buf[l]; l++)
		if (buf[l] == ':')
			buf[l] = '-';
}

/* "ipv4@10.0.0.1:80" / "ipv6@fd00::1:80": HAProxy's address syntax with
 * the family forced, so that the last colon is the port's. */
static void hap_addr(const struct cir_lb_addr *a, char *buf, size_t len)
{
	char ip[CIR_IP_STRLEN];

	cir_ip_format(&a->ip, ip, sizeof(ip));
	snprintf(buf, len, "ipv%c@%s:%u", a->ip.af == AF_INET6 ? '6' : '4', ip, a->port);
}

static const char *balance_of(const char *sched)
{
	if (strcmp(sched, "rr") == 0 || strcmp(sched, "wrr") == 0)
		return "roundrobin";
	if (strcmp(sched, "lc") == 0 || strcmp(sched, "wlc") == 0)
		return "leastconn";
	if (strcmp(sched, "sh") == 0 || strcmp(sched, "mh") == 0)
		return "source";
	return NULL;
}

/* ------------------------------------------------------------ validate */

static int hap_validate(const struct cir_lb_service *s, struct cir_error *err)
{
	if (s->protocol != IPPROTO_TCP)
		return cir_err(err, EINVAL, "the haproxy backend carries tcp only");
	if (!balance_of(s->sched))
		return cir_err(err, EINVAL, "scheduler %s: the haproxy backend has rr, wrr, lc, "
			       "wlc, sh and mh", s->sched);
	if (s->persistent)
		return cir_err(err, EINVAL, "--persistent is for the ipvs backend (use "
			       "--sched sh with haproxy)");
	if (s->mh_fallback || s->mh_port)
		return cir_err(err, EINVAL, "--mh-fallback and --mh-port are for the ipvs backend");
	if (s->check.type != CIR_LB_CHECK_NONE && s->check.type != CIR_LB_CHECK_TCP &&
	    s->check.type != CIR_LB_CHECK_HTTP)
		return cir_err(err, EINVAL, "the haproxy backend checks tcp and http only");
	for (size_t i = 0; i < s->n_targets; i++) {
		const struct cir_lb_target *t = &s->targets[i];

		if (t->method != CIR_IPVS_FWD_MASQ)
			return cir_err(err, EINVAL, "method %s: the haproxy backend is a proxy "
				       "(method nat only)", cir_lb_method_name(t->method));
		if (t->weight > HAP_WEIGHT_MAX)
			return cir_err(err, EINVAL, "weight %u: the haproxy backend takes 0..%d",
				       t->weight, HAP_WEIGHT_MAX);
		if (t->check.type != CIR_LB_CHECK_NONE)
			return cir_err(err, EINVAL, "per-target checks are for the ipvs backend "
				       "(haproxy checks every target with the service's check)");
	}
	return 0;
}

/* ------------------------------------------------------------ config */

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
}

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t nc = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *np = realloc(b->p, nc);

		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
}

/* The server line's options of t in s (weight, checks). */
static void server_opts(struct buf *b, const struct cir_lb_service *s,
			const struct cir_lb_target *t)
{
	bprintf(b, " weight %u", t->weight);
	if (s->check.type != CIR_LB_CHECK_NONE)
		bprintf(b, " check inter %u rise %u fall %u", s->check.interval_ms, s->check.rise,
			s->check.fall);
}

static int global_text(const struct cir_lb_db *db, struct buf *b, struct cir_error *err)
{
	char sock[PATH_MAX];
	int r = cir_lb_path(db, SOCK_NAME, sock, sizeof(sock), err);

	if (r < 0)
		return r;
	if (strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return cir_err(err, ENAMETOOLONG, "%s: too long for a unix socket", sock);
	bprintf(b, "# Generated by Circuit from its store: do not edit (spec/lb.md).\n"
		"global\n"
		"\tstats socket %s mode 600 level admin expose-fd listeners\n"
		"\tstats timeout 30s\n"
		"\n"
		"defaults\n"
		"\ttimeout connect 5s\n"
		"\ttimeout client 1h\n"
		"\ttimeout server 1h\n", sock);
	return 0;
}

static void service_text(const struct cir_lb_service *s, struct buf *b)
{
	char a[CIR_LB_ADDR_STRLEN + 8], n[CIR_LB_ADDR_STRLEN + 8];

	hap_addr(&s->vip, a, sizeof(a));
	bprintf(b, "# service %s (lb/%s.json)\nlisten %s\n\tbind %s\n\tmode %s\n\tbalance %s\n",
		s->name, s->name, s->name, a, cir_lb_mode_name(s->mode), balance_of(s->sched));
	if (strcmp(s->sched, "mh") == 0)
		bprintf(b, "\thash-type consistent\n");
	if (s->check.type == CIR_LB_CHECK_HTTP)
		bprintf(b, "\toption httpchk GET %s\n\thttp-check expect status %u\n", s->check.path,
			s->check.expect);
	if (s->check.type != CIR_LB_CHECK_NONE)
		bprintf(b, "\ttimeout check %ums\n", s->check.timeout_ms);
	for (size_t i = 0; i < s->n_targets; i++) {
		srv_name(&s->targets[i].addr, n, sizeof(n));
		hap_addr(&s->targets[i].addr, a, sizeof(a));
		bprintf(b, "\tserver %s %s", n, a);
		server_opts(b, s, &s->targets[i]);
		bprintf(b, "\n");
	}
}

static int cfg_dir(struct cir_lb_db *db, bool create, struct cir_error *err)
{
	return cir_store_dir(db->fd, CFG_DIR, create, err);
}

static void cfg_file(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "svc-%s.cfg", name);
}

/* Write file name in dfd when its content differs: 1 written, 0 same. */
static int write_if_changed(int dfd, const char *name, const struct buf *b,
			    struct cir_error *err)
{
	_cleanup_free_ char *cur = malloc(b->len + 2);
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	if (!cur)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_store_read(dfd, name, cur, b->len + 2, &e2);
	if (r >= 0 && (size_t)r == b->len && memcmp(cur, b->p, b->len) == 0)
		return 0;
	r = cir_store_write(dfd, name, b->p, b->len, err);
	return r < 0 ? cir_err_wrap(err, "lb/" CFG_DIR "/%s", name) : 1;
}

/* The global file and s's file as the record says.  Returns 1 when either
 * changed. */
static int cfg_write(struct cir_lb_db *db, const struct cir_lb_service *s,
		     struct cir_error *err)
{
	_cleanup_(buf_free) struct buf g = { 0 }, b = { 0 };
	_cleanup_close_ int dfd = -1;
	char file[CIR_NAME_MAX + 16];
	int r, n = 0;

	dfd = cfg_dir(db, true, err);
	if (dfd < 0)
		return cir_err_wrap(err, "lb/" CFG_DIR);
	r = global_text(db, &g, err);
	if (r < 0)
		return r;
	if (s)
		service_text(s, &b);
	if (g.oom || b.oom)
		return cir_err(err, ENOMEM, "out of memory");
	r = write_if_changed(dfd, CFG_GLOBAL, &g, err);
	if (r < 0)
		return r;
	n += r;
	if (s) {
		cfg_file(s->name, file, sizeof(file));
		r = write_if_changed(dfd, file, &b, err);
		if (r < 0)
			return r;
		n += r;
	}
	return n > 0;
}

struct cfg_names {
	char (*v)[CIR_NAME_MAX + 1];
	size_t n, cap;
};

static int cfg_names_add(const char *file, void *arg)
{
	struct cfg_names *cn = arg;
	size_t l = strlen(file);

	if (l < 9 || strncmp(file, "svc-", 4) != 0 || strcmp(file + l - 4, ".cfg") != 0 ||
	    l - 8 > CIR_NAME_MAX)
		return 0;
	if (cn->n == cn->cap) {
		size_t nc = cn->cap ? cn->cap * 2 : 16;
		void *nv = realloc(cn->v, nc * sizeof(*cn->v));

		if (!nv)
			return -ENOMEM;
		cn->v = nv;
		cn->cap = nc;
	}
	memcpy(cn->v[cn->n], file + 4, l - 8);
	cn->v[cn->n][l - 8] = '\0';
	cn->n++;
	return 0;
}

/* The services with a file in lb/haproxy.d (none when it is absent). */
static int cfg_list(struct cir_lb_db *db, struct cfg_names *cn, struct cir_error *err)
{
	_cleanup_close_ int dfd = -1;
	int r;

	*cn = (struct cfg_names){ 0 };
	dfd = cfg_dir(db, false, err);
	if (dfd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (dfd < 0)
		return dfd;
	r = cir_store_list(dfd, cfg_names_add, cn, err);
	if (r == -ENOMEM)
		r = cir_err(err, ENOMEM, "out of memory");
	return r < 0 ? r : 0;
}

static void cfg_names_free(struct cfg_names *cn)
{
	free(cn->v);
	cn->v = NULL;
}

static int cfg_remove(struct cir_lb_db *db, const char *name, struct cir_error *err)
{
	_cleanup_close_ int dfd = -1;
	char file[CIR_NAME_MAX + 16];
	int r;

	dfd = cfg_dir(db, false, err);
	if (dfd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (dfd < 0)
		return dfd;
	cfg_file(name, file, sizeof(file));
	r = cir_store_unlink(dfd, file, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return r;
}

/* ------------------------------------------------------------ runtime API */

/* Connect to the runtime API: the fd, -ENOENT/-ECONNREFUSED when no
 * haproxy listens there. */
static int api_connect(struct cir_lb_db *db, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	int r;

	r = cir_lb_path(db, SOCK_NAME, path, sizeof(path), err);
	if (r < 0)
		return r;
	if (strlen(path) >= sizeof(sa.sun_path))
		return cir_err(err, ENAMETOOLONG, "%s: too long for a unix socket", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cir_err(err, errno, "haproxy runtime API: socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cir_err(err, errno, "haproxy runtime API %s: %s", path, strerror(errno));
	return TAKE_FD(fd);
}

/* Send one command, read the whole answer (HAProxy closes the connection
 * after answering a non-interactive command) into *out (malloc'd, NUL
 * terminated). */
static int api_cmd(struct cir_lb_db *db, const char *cmd, char **out, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *ans = NULL;
	size_t len = 0, cap = 0, cl = strlen(cmd);
	int r;

	fd = api_connect(db, err);
	if (fd < 0)
		return fd;
	while (cl > 0) {
		ssize_t w = send(fd, cmd, cl, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return cir_err(err, errno, "haproxy runtime API: send: %s", strerror(errno));
		cmd += w;
		cl -= (size_t)w;
	}
	if (send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return cir_err(err, errno, "haproxy runtime API: send: %s", strerror(errno));
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (len + 4096 + 1 > cap) {
			size_t nc = cap ? cap * 2 : 8192;
			char *na;

			if (nc > ANSWER_MAX)
				return cir_err(err, EFBIG, "haproxy runtime API: answer too long");
			na = realloc(ans, nc);
			if (!na)
				return cir_err(err, ENOMEM, "out of memory");
			ans = na;
			cap = nc;
		}
		r = poll(&p, 1, 10000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return cir_err(err, r == 0 ? ETIMEDOUT : errno,
				       "haproxy runtime API: no answer");
		n = recv(fd, ans + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cir_err(err, errno, "haproxy runtime API: recv: %s", strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!ans) {
		ans = strdup("");
		if (!ans)
			return cir_err(err, ENOMEM, "out of memory");
	}
	ans[len] = '\0';
	*out = TAKE_PTR(ans);
	return 0;
}

/* A command whose success is an empty answer or one of oks; anything else
 * is the error, its first line in the message. */
static int api_do(struct cir_lb_db *db, const char *cmd, const char *const *oks,
		  struct cir_error *err)
{
	_cleanup_free_ char *ans = NULL;
	int r = api_cmd(db, cmd, &ans, err);
	size_t l;

	if (r < 0)
		return r;
	l = strspn(ans, "\r\n");
	if (!ans[l])
		return 0;
	for (size_t i = 0; oks && oks[i]; i++)
		if (strncmp(ans + l, oks[i], strlen(oks[i])) == 0)
			return 0;
	ans[l + strcspn(ans + l, "\r\n")] = '\0';
	return cir_err(err, EIO, "haproxy: %s: %.200s", cmd, ans + l);
}

static bool running(struct cir_lb_db *db)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int fd = api_connect(db, &e2);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* ------------------------------------------------------------ process */

static pid_t pid_read(struct cir_lb_db *db)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	char buf[32];
	long v;

	if (cir_store_read(db->fd, PID_NAME, buf, sizeof(buf), &e2) < 0)
		return 0;
	v = strtol(buf, NULL, 10);
	return v > 1 && v < (1L << 22) ? (pid_t)v : 0;
}

/* The first [ALERT] line haproxy wrote to lb/haproxy.log into msg. */
static void log_alert(struct cir_lb_db *db, char *msg, size_t len)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	_cleanup_free_ char *buf = malloc(65536);
	char *p, *e;
	int r;

	snprintf(msg, len, "see %s", LOG_NAME);
	if (!buf)
		return;
	r = cir_store_read(db->fd, LOG_NAME, buf, 65536, &e2);
	if (r == -EFBIG || r < 0)
		return;
	buf[r < 65536 ? r : 65535] = '\0';
	p = strstr(buf, "[ALERT]");
	if (!p)
		return;
	e = strchr(p, '\n');
	if (e)
		*e = '\0';
	/* "[ALERT]    (123) : message" */
	e = strstr(p, ") : ");
	snprintf(msg, len, "%.300s", e ? e + 4 : p);
}

/*
 * Start haproxy on the generated configuration; with a running one, the
 * new process takes its listening sockets (-x) and tells it to finish its
 * connections and exit (-sf): nothing is dropped.  HAProxy binds before it
 * detaches, so its exit status says whether the configuration holds.
 */
static int hap_start(struct cir_lb_db *db, struct cir_error *err)
{
	char bin[PATH_MAX], cfg[PATH_MAX], pidf[PATH_MAX], sock[PATH_MAX], logf[PATH_MAX];
	char oldpid[24], alert[320];
	const char *argv[12];
	char *envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	const char *env_bin = getenv("CIRCUIT_HAPROXY");
	pid_t pid, old = 0;
	int r, st = 0, n = 0;

	if (!db->may_spawn)
		return 0;
	snprintf(bin, sizeof(bin), "%s", env_bin && env_bin[0] == '/' ? env_bin : HAPROXY_BIN);
	if (cir_lb_path(db, CFG_DIR, cfg, sizeof(cfg), err) < 0 ||
	    cir_lb_path(db, PID_NAME, pidf, sizeof(pidf), err) < 0 ||
	    cir_lb_path(db, SOCK_NAME, sock, sizeof(sock), err) < 0 ||
	    cir_lb_path(db, LOG_NAME, logf, sizeof(logf), err) < 0)
		return -err->errnum;
	if (running(db))
		old = pid_read(db);
	argv[n++] = "haproxy";
	argv[n++] = "-D";
	argv[n++] = "-f";
	argv[n++] = cfg;
	argv[n++] = "-p";
	argv[n++] = pidf;
	if (old > 0) {
		snprintf(oldpid, sizeof(oldpid), "%d", (int)old);
		argv[n++] = "-x";
		argv[n++] = sock;
		argv[n++] = "-sf";
		argv[n++] = oldpid;
	}
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, logf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
					 0600);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	/* Its own session: it outlives this command and its terminal. */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, bin, &fa, &at, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (r != 0)
		return cir_err(err, r, "haproxy: run %s: %s (install Debian's haproxy)", bin,
			       strerror(r));
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return cir_err(err, errno, "haproxy: wait: %s", strerror(errno));
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		log_alert(db, alert, sizeof(alert));
		return cir_err(err, EIO, "haproxy did not start (%s %d): %s",
			       WIFEXITED(st) ? "exit status" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), alert);
	}
	return 1;
}

static bool pid_alive(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Is pid a haproxy running on cfg (its argv has "-f" cfg)? */
static bool pid_is_ours(pid_t pid, const char *cfg)
{
	char path[64], buf[4096];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, "-f") == 0 && p + 3 < buf + n && strcmp(p + 3, cfg) == 0)
			return true;
	return false;
}

/*
 * Stop every haproxy running on this store's configuration: the current
 * one and old ones still finishing connections after a reload.  Then the
 * socket, pid file and configuration go.
 */
static int hap_stop(struct cir_lb_db *db, struct cir_error *err)
{
	_cleanup_(closedirp) DIR *d = NULL;
	pid_t pids[64];
	size_t np = 0;
	char cfg[PATH_MAX];
	struct dirent *e;
	int r;

	r = cir_lb_path(db, CFG_DIR, cfg, sizeof(cfg), err);
	if (r < 0)
		return r;
	d = opendir("/proc");
	while (d && (e = readdir(d)) && np < 64) {
		char *end;
		long v = strtol(e->d_name, &end, 10);

		if (*end || v <= 1 || v == getpid())
			continue;
		if (pid_is_ours((pid_t)v, cfg))
			pids[np++] = (pid_t)v;
	}
	for (size_t i = 0; i < np; i++)
		kill(pids[i], SIGTERM);
	for (int t = 0; t < 50; t++) {
		bool any = false;

		for (size_t i = 0; i < np; i++)
			any |= pid_alive(pids[i]);
		if (!any)
			break;
		if (t == 30)
			for (size_t i = 0; i < np; i++)
				kill(pids[i], SIGKILL);
		usleep(100 * 1000);
	}
	unlinkat(db->fd, SOCK_NAME, 0);
	unlinkat(db->fd, PID_NAME, 0);
	unlinkat(db->fd, LOG_NAME, 0);
	{
		_cleanup_close_ int dfd = cfg_dir(db, false, err);

		if (dfd >= 0)
			unlinkat(dfd, CFG_GLOBAL, 0);
		cir_err_clear(err);
	}
	unlinkat(db->fd, CFG_DIR, AT_REMOVEDIR);
	return (int)np;
}

/* A new configuration with listeners changed: a new process (seamless),
 * or the first one.  Without spawning (the CNI plugin) the files wait
 * for the next start. */
static int hap_reload(struct cir_lb_db *db, struct cir_error *err)
{
	return hap_start(db, err);
}

/* Targets change live; when haproxy is not running, start it (it reads
 * the files just written) or, if this caller may not, leave it to the
 * next start.  Returns 1 when the running process must be told, 0 when
 * nothing more is to be done. */
static int live_or_start(struct cir_lb_db *db, struct cir_error *err)
{
	int r;

	if (running(db))
		return 1;
	r = hap_start(db, err);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ ops */

static int hap_create(struct cir_lb_db *db, const struct cir_lb_service *s,
		      struct cir_error *err)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int r, n;

	n = cir_lb_vip_setup(db, &s->vip.ip, false, err);
	if (n < 0)
		return n;
	r = cfg_write(db, s, err);
	if (r >= 0)
		r = hap_reload(db, err);
	if (r < 0) {
		cfg_remove(db, s->name, &e2);
		return r;
	}
	return n + 1;
}

static int hap_remove(struct cir_lb_db *db, const struct cir_lb_service *s,
		      struct cir_error *err)
{
	struct cfg_names cn;
	int r;

	r = cfg_remove(db, s->name, err);
	if (r < 0)
		return r;
	r = cfg_list(db, &cn, err);
	if (r < 0)
		return r;
	r = (int)cn.n;
	cfg_names_free(&cn);
	if (r == 0)
		return hap_stop(db, err);
	/* Its listener closes in the new process; connections it carries
	 * finish in the old one. */
	return running(db) ? hap_reload(db, err) : 0;
}

/* Servers HAProxy has in backend s that s's record lacks (left in
 * maintenance by a removal while they carried connections): delete the
 * ones that are idle now. */
static void sweep(struct cir_lb_db *db, const struct cir_lb_service *s)
{
	static const char *const ok[] = { "Server deleted", NULL };
	struct cir_error e2 = CIR_ERROR_INIT;
	_cleanup_free_ char *ans = NULL;
	char cmd[CIR_NAME_MAX + 64];
	char *save = NULL;

	snprintf(cmd, sizeof(cmd), "show servers state %s", s->name);
	if (api_cmd(db, cmd, &ans, &e2) < 0)
		return;
	for (char *l = strtok_r(ans, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char be[CIR_NAME_MAX + 1], srv[80];
		bool known = false;

		/* be_id be_name srv_id srv_name ... */
		if (l[0] == '#' || sscanf(l, "%*d %128s %*d %79s", be, srv) != 2 ||
		    strcmp(be, s->name) != 0)
			continue;
		for (size_t i = 0; !known && i < s->n_targets; i++) {
			char n[80];

			srv_name(&s->targets[i].addr, n, sizeof(n));
			known = strcmp(n, srv) == 0;
		}
		if (known)
			continue;
		snprintf(cmd, sizeof(cmd), "set server %s/%s state maint", s->name, srv);
		api_do(db, cmd, NULL, &e2);
		snprintf(cmd, sizeof(cmd), "del server %s/%s", s->name, srv);
		api_do(db, cmd, ok, &e2);
		cir_err_clear(&e2);
	}
}

static int hap_target_add(struct cir_lb_db *db, const struct cir_lb_service *s,
			  const struct cir_lb_target *t, struct cir_error *err)
{
	static const char *const ok[] = { "New server registered", NULL };
	_cleanup_(buf_free) struct buf b = { 0 };
	char n[80], a[CIR_LB_ADDR_STRLEN + 8], cmd[CIR_NAME_MAX + 128];
	int r;

	r = cfg_write(db, s, err);
	if (r < 0)
		return r;
	r = live_or_start(db, err);
	if (r <= 0)
		return r < 0 ? r : 1;
	sweep(db, s);
	srv_name(&t->addr, n, sizeof(n));
	hap_addr(&t->addr, a, sizeof(a));
	bprintf(&b, "add server %s/%s %s", s->name, n, a);
	server_opts(&b, s, t);
	if (b.oom)
		return cir_err(err, ENOMEM, "out of memory");
	r = api_do(db, b.p, ok, err);
	if (r < 0 && strstr(err->msg, "already exists")) {
		/* A target removed while it carried connections, back again. */
		cir_err_clear(err);
		snprintf(cmd, sizeof(cmd), "set weight %s/%s %u", s->name, n, t->weight);
		r = api_do(db, cmd, NULL, err);
	}
	if (r < 0)
		return r;
	/* Dynamic servers start in maintenance with checks off. */
	if (s->check.type != CIR_LB_CHECK_NONE) {
		snprintf(cmd, sizeof(cmd), "enable health %s/%s", s->name, n);
		r = api_do(db, cmd, NULL, err);
		if (r < 0)
			return r;
	}
	snprintf(cmd, sizeof(cmd), "set server %s/%s state ready", s->name, n);
	r = api_do(db, cmd, NULL, err);
	return r < 0 ? r : 1;
}

static int hap_target_remove(struct cir_lb_db *db, const struct cir_lb_service *s,
			     const struct cir_lb_target *t, struct cir_error *err)
{
	static const char *const ok[] = { "Server deleted", NULL };
	struct cir_error e2 = CIR_ERROR_INIT;
	char n[80], cmd[CIR_NAME_MAX + 128];
	int r;

	r = cfg_write(db, s, err);
	if (r < 0)
		return r;
	if (!running(db))
		return 1;       /* the next start reads the files */
	srv_name(&t->addr, n, sizeof(n));
	/* Maintenance: no new connection goes to it, open ones go on. */
	snprintf(cmd, sizeof(cmd), "set server %s/%s state maint", s->name, n);
	r = api_do(db, cmd, NULL, err);
	if (r < 0 && strstr(err->msg, "No such server")) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	/* HAProxy refuses to delete a server with connections: it stays in
	 * maintenance and the next change to the service deletes it. */
	snprintf(cmd, sizeof(cmd), "del server %s/%s", s->name, n);
	api_do(db, cmd, ok, &e2);
	return 1;
}

static int hap_target_weight(struct cir_lb_db *db, const struct cir_lb_service *s,
			     const struct cir_lb_target *t, struct cir_error *err)
{
	char n[80], cmd[CIR_NAME_MAX + 128];
	int r;

	r = cfg_write(db, s, err);
	if (r < 0)
		return r;
	r = live_or_start(db, err);
	if (r <= 0)
		return r < 0 ? r : 1;
	srv_name(&t->addr, n, sizeof(n));
	snprintf(cmd, sizeof(cmd), "set weight %s/%s %u", s->name, n, t->weight);
	r = api_do(db, cmd, NULL, err);
	return r < 0 ? r : 1;
}

struct restore_ctx {
	struct cir_lb_db *db;
	struct cfg_names have;
	int changes, first;
	size_t services;
	struct cir_error *err;
};

static int restore_fn(const struct cir_lb_service *s, void *arg)
{
	struct restore_ctx *rc = arg;
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	if (s->backend != CIR_LB_BACKEND_HAPROXY)
		return 0;
	rc->services++;
	for (size_t i = 0; i < rc->have.n; i++)
		if (strcmp(rc->have.v[i], s->name) == 0)
			rc->have.v[i][0] = '\0';        /* has a record */
	r = cir_lb_vip_setup(rc->db, &s->vip.ip, false, &e2);
	if (r >= 0) {
		rc->changes += r;
		r = cfg_write(rc->db, s, &e2);
	}
	if (r > 0)
		rc->changes++;
	if (r < 0 && !rc->first) {
		rc->first = r;
		*rc->err = e2;
		cir_err_wrap(rc->err, "restore service %s", s->name);
	}
	return 0;
}

static int hap_restore(struct cir_lb_db *db, struct cir_error *err)
{
	struct restore_ctx rc = { .db = db, .err = err };
	int r;

	r = cfg_list(db, &rc.have, err);
	if (r < 0)
		return r;
	r = cir_lb_list(db, restore_fn, &rc, err);
	/* Files of services that have no record any more. */
	for (size_t i = 0; r >= 0 && i < rc.have.n; i++)
		if (rc.have.v[i][0] && cfg_remove(db, rc.have.v[i], err) >= 0)
			rc.changes++;
	cfg_names_free(&rc.have);
	if (r < 0)
		return r;
	if (rc.services == 0) {
		if (rc.changes || running(db))
			rc.changes += hap_stop(db, err) > 0;
		return rc.first ? rc.first : rc.changes;
	}
	if (!running(db) || rc.changes) {
		r = hap_start(db, err);
		if (r < 0)
			return r;
		rc.changes += r;
	}
	return rc.first ? rc.first : rc.changes;
}

/* One CSV field of line (0-based) into out. */
static void csv_field(const char *line, int idx, char *out, size_t len)
{
	const char *p = line;

	for (int i = 0; i < idx && p; i++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p) {
		out[0] = '\0';
		return;
	}
	snprintf(out, len, "%.*s", (int)strcspn(p, ",\n"), p);
}

static int csv_col(const char *header, const char *name)
{
	const char *p = header;
	size_t nl = strlen(name);

	if (*p == '#')
		p += 2;
	for (int i = 0; p; i++) {
		if (strncmp(p, name, nl) == 0 && (p[nl] == ',' || p[nl] == '\n'))
			return i + (header[0] == '#' ? 0 : 0);
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return -1;
}

static void state_of(const char *status, char *out, size_t len)
{
	if (strncmp(status, "UP", 2) == 0)
		snprintf(out, len, "up");
	else if (strncmp(status, "DOWN", 4) == 0)
		snprintf(out, len, "down");
	else if (strncmp(status, "MAINT", 5) == 0)
		snprintf(out, len, "maint");
	else if (strncmp(status, "DRAIN", 5) == 0)
		snprintf(out, len, "drain");
	else if (strncmp(status, "NOLB", 4) == 0)
		snprintf(out, len, "nolb");
	else
		snprintf(out, len, "%s", "");
}

static int hap_status(struct cir_lb_db *db, const struct cir_lb_service *s, bool *present,
		      struct cir_lb_target_status *st, struct cir_error *err)
{
	_cleanup_free_ char *ans = NULL;
	char *save = NULL, *hdr;
	int cpx, csv, cscur, cstatus, r;

	*present = false;
	memset(st, 0, s->n_targets * sizeof(*st));
	if (!running(db))
		return cir_err(err, ESRCH, "haproxy is not running (run circuit restore)");
	r = api_cmd(db, "show stat", &ans, err);
	if (r < 0)
		return r;
	hdr = strtok_r(ans, "\n", &save);
	if (!hdr || hdr[0] != '#')
		return cir_err(err, EBADMSG, "haproxy: show stat: no header");
	cpx = csv_col(hdr, "pxname");
	csv = csv_col(hdr, "svname");
	cscur = csv_col(hdr, "scur");
	cstatus = csv_col(hdr, "status");
	if (cpx < 0 || csv < 0 || cscur < 0 || cstatus < 0)
		return cir_err(err, EBADMSG, "haproxy: show stat: unknown columns");
	for (char *l = strtok_r(NULL, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char px[CIR_NAME_MAX + 1], sv[80], cur[16], status[32];

		csv_field(l, cpx, px, sizeof(px));
		if (strcmp(px, s->name) != 0)
			continue;
		csv_field(l, csv, sv, sizeof(sv));
		if (strcmp(sv, "BACKEND") == 0) {
			*present = true;
			continue;
		}
		for (size_t i = 0; i < s->n_targets; i++) {
			char n[80];

			srv_name(&s->targets[i].addr, n, sizeof(n));
			if (strcmp(n, sv) != 0)
				continue;
			csv_field(l, cscur, cur, sizeof(cur));
			csv_field(l, cstatus, status, sizeof(status));
			st[i].programmed = true;
			st[i].active = (uint32_t)strtoul(cur, NULL, 10);
			state_of(status, st[i].state, sizeof(st[i].state));
		}
	}
	return 0;
}

static int hap_active(struct cir_lb_db *db, const struct cir_lb_service *s,
		      const struct cir_lb_addr *a, uint32_t *out, struct cir_error *err)
{
	_cleanup_free_ struct cir_lb_target_status *st = NULL;
	struct cir_lb_service one = *s;
	struct cir_lb_target t = { .addr = *a };
	bool present;
	int r;

	*out = 0;
	one.targets = &t;
	one.n_targets = 1;
	st = calloc(1, sizeof(*st));
	if (!st)
		return cir_err(err, ENOMEM, "out of memory");
	r = hap_status(db, &one, &present, st, err);
	if (r < 0)
		return r;
	*out = st[0].active;
	return 0;
}

const struct cir_lb_backend_ops cir_lb_haproxy_ops = {
	.name = "haproxy",
	.validate = hap_validate,
	.create = hap_create,
	.remove = hap_remove,
	.target_add = hap_target_add,
	.target_remove = hap_target_remove,
	.target_weight = hap_target_weight,
	.restore = hap_restore,
	.status = hap_status,
	.active = hap_active,
};
