// SPDX-License-Identifier: Apache-2.0
/*
 * haproxy_proc.c - the haproxy process: started (posix_spawn, its own
 * session, a fixed environment) on the generated configuration, seamlessly
 * over a running one, and stopped with every old process still finishing
 * connections.  Only callers with db->may_spawn start it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "haproxy_int.h"

#define HAPROXY_BIN "/usr/sbin/haproxy"

CIR_DEFINE_CLEANUP(DIR, closedir)

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

/* The command line of a start: haproxy -D -f CFG -p PIDFILE, and with a
 * running one, -x SOCK -sf OLDPID. */
struct hap_cmd {
	char bin[PATH_MAX], cfg[PATH_MAX], pidf[PATH_MAX], sock[PATH_MAX], logf[PATH_MAX];
	char oldpid[24];
	const char *argv[12];
};

static int start_cmd(struct cir_lb_db *db, struct hap_cmd *c, struct cir_error *err)
{
	const char *env_bin = getenv("CIRCUIT_HAPROXY");
	pid_t old = 0;
	int n = 0;

	snprintf(c->bin, sizeof(c->bin), "%s",
		 env_bin && env_bin[0] == '/' ? env_bin : HAPROXY_BIN);
	if (cir_lb_path(db, CFG_DIR, c->cfg, sizeof(c->cfg), err) < 0 ||
	    cir_lb_path(db, PID_NAME, c->pidf, sizeof(c->pidf), err) < 0 ||
	    cir_lb_path(db, SOCK_NAME, c->sock, sizeof(c->sock), err) < 0 ||
	    cir_lb_path(db, LOG_NAME, c->logf, sizeof(c->logf), err) < 0)
		return -err->errnum;
	if (cir_hap_running(db))
		old = pid_read(db);
	c->argv[n++] = "haproxy";
	c->argv[n++] = "-D";
	c->argv[n++] = "-f";
	c->argv[n++] = c->cfg;
	c->argv[n++] = "-p";
	c->argv[n++] = c->pidf;
	if (old > 0) {
		snprintf(c->oldpid, sizeof(c->oldpid), "%d", (int)old);
		c->argv[n++] = "-x";
		c->argv[n++] = c->sock;
		c->argv[n++] = "-sf";
		c->argv[n++] = c->oldpid;
	}
	c->argv[n] = NULL;
	return 0;
}

/* Run c in a session of its own (it outlives this command and its
 * terminal): stdin and stdout /dev/null, stderr its log, signals default
 * and unblocked.  0 or posix_spawn's positive error. */
static int spawn_detached(const struct hap_cmd *c, pid_t *pid)
{
	char *envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, c->logf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
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
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(pid, c->bin, &fa, &at, (char *const *)c->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return r;
}

/* Wait for the starting process: it exits 0 once it has bound and
 * detached; otherwise its first [ALERT] is the error. */
static int wait_started(struct cir_lb_db *db, pid_t pid, struct cir_error *err)
{
	char alert[320];
	int st = 0;

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
	return 0;
}

/*
 * Start haproxy on the generated configuration; with a running one, the
 * new process takes its listening sockets (-x) and tells it to finish its
 * connections and exit (-sf): nothing is dropped.  HAProxy binds before it
 * detaches, so its exit status says whether the configuration holds.
 */
int cir_hap_start(struct cir_lb_db *db, struct cir_error *err)
{
	struct hap_cmd c;
	pid_t pid;
	int r;

	if (!db->may_spawn)
		return 0;
	r = start_cmd(db, &c, err);
	if (r < 0)
		return r;
	r = spawn_detached(&c, &pid);
	if (r != 0)
		return cir_err(err, r, "haproxy: run %s: %s (install Debian's haproxy)", c.bin,
			       strerror(r));
	r = wait_started(db, pid, err);
	return r < 0 ? r : 1;
}

/* One read of /proc/PID/FILE into buf, NUL terminated: its length, or
 * <= 0 when there is nothing to read (the process is gone). */
static ssize_t proc_read(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n > 0)
		buf[n] = '\0';
	return n;
}

static bool pid_alive(pid_t pid)
{
	char buf[256], *p;

	if (proc_read(pid, "stat", buf, sizeof(buf)) <= 0)
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Is pid a haproxy running on cfg (its argv has "-f" cfg)? */
static bool pid_is_ours(pid_t pid, const char *cfg)
{
	char buf[4096];
	ssize_t n = proc_read(pid, "cmdline", buf, sizeof(buf));

	for (char *p = buf; n > 0 && p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, "-f") == 0 && p + 3 < buf + n && strcmp(p + 3, cfg) == 0)
			return true;
	return false;
}

/*
 * Stop every haproxy running on this store's configuration: the current
 * one and old ones still finishing connections after a reload.  Then the
 * socket, pid file and configuration go.
 */
int cir_hap_stop(struct cir_lb_db *db, struct cir_error *err)
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
		_cleanup_close_ int dfd = cir_hap_cfg_dir(db, false, err);

		if (dfd >= 0)
			unlinkat(dfd, CFG_GLOBAL, 0);
		cir_err_clear(err);
	}
	unlinkat(db->fd, CFG_DIR, AT_REMOVEDIR);
	return (int)np;
}
