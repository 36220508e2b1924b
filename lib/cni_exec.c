// SPDX-License-Identifier: Apache-2.0
/*
 * cni_exec.c - delegation to other plugins (IPAM, the steps of a chain):
 * finding one on the search path, running it as an executable, or
 * in-process through the registry of built-in plugins.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni.h"

extern char **environ;

/* ---- delegation ---- */

int cir_cni_find_plugin(const char *type, const char *search_path, char *out, size_t outlen,
			struct cir_error *err)
{
	_cleanup_free_ char *copy = NULL;
	char *save = NULL, *dir;
	char show[CIR_ERR_SHOWN_MAX], showpath[256];

	cir_err_shown(type ? type : "", show, sizeof(show));
	if (!type || !*type || strchr(type, '/') || strcmp(type, ".") == 0 ||
	    strcmp(type, "..") == 0 || strlen(type) > 255)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "invalid plugin type \"%s\"", show);
	if (!search_path || !*search_path)
		return cir_err_code(err, CIR_CNI_INVALID_ENV, ENOENT,
				    "plugin \"%s\": no plugin search path (CNI_PATH is empty)", show);
	copy = strdup(search_path);
	if (!copy)
		return cir_err(err, ENOMEM, "out of memory");
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;

		if (!*dir)
			continue;
		if ((size_t)snprintf(out, outlen, "%s/%s", dir, type) >= outlen)
			continue;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
	}
	return cir_err_code(err, CIR_CNI_INVALID_CONFIG, ENOENT,
			    "failed to find plugin \"%s\" in path [%s]", show,
			    cir_err_shown(search_path, showpath, sizeof(showpath)));
}

static int push_env(char ***envp, size_t *n, size_t *cap, const char *k, const char *v)
{
	char *s;

	if (!v)
		return 0;
	if (*n + 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		char **ne = realloc(*envp, nc * sizeof(char *));

		if (!ne)
			return -ENOMEM;
		*envp = ne;
		*cap = nc;
	}
	if (asprintf(&s, "%s=%s", k, v) < 0)
		return -ENOMEM;
	(*envp)[(*n)++] = s;
	(*envp)[*n] = NULL;
	return 0;
}

static void free_env(char **envp)
{
	for (size_t i = 0; envp && envp[i]; i++)
		free(envp[i]);
	free(envp);
}

static int build_env(char ***out, enum cir_cni_cmd cmd, const struct cir_cni_exec_env *e)
{
	char **envp = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	for (char **p = environ; p && *p; p++) {
		char *eq = strchr(*p, '=');
		char key[64];

		if (!eq || (size_t)(eq - *p) >= sizeof(key))
			continue;
		memcpy(key, *p, eq - *p);
		key[eq - *p] = '\0';
		if (strncmp(key, "CNI_", 4) == 0 && e)
			continue;       /* replaced below */
		if (strcmp(key, "CNI_COMMAND") == 0)
			continue;
		r = push_env(&envp, &n, &cap, key, eq + 1);
		if (r < 0)
			goto fail;
	}
	r = push_env(&envp, &n, &cap, "CNI_COMMAND", cir_cni_cmd_name(cmd));
	if (r >= 0 && e) {
		r = push_env(&envp, &n, &cap, "CNI_CONTAINERID", e->containerid);
		if (r >= 0)
			r = push_env(&envp, &n, &cap, "CNI_NETNS", e->netns);
		if (r >= 0)
			r = push_env(&envp, &n, &cap, "CNI_IFNAME", e->ifname);
		if (r >= 0)
			r = push_env(&envp, &n, &cap, "CNI_ARGS", e->args);
		if (r >= 0)
			r = push_env(&envp, &n, &cap, "CNI_PATH", e->path);
	}
	if (r < 0)
		goto fail;
	if (!envp)
		r = push_env(&envp, &n, &cap, "CNI_COMMAND", cir_cni_cmd_name(cmd));
	*out = envp;
	return r;
fail:
	free_env(envp);
	return r;
}

/* Both ends of a delegate's pipes: its stdin fed from buf, its stdout
 * read into ob. */
struct pump {
	int in, out;                 /* -1 once closed */
	const char *buf;
	size_t len, off;
	char *ob;
	size_t n, cap;
};

static void pump_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The child's stdin is writable: write more, close it when all is
 * written or the child does not read (EPIPE). */
static void pump_write(struct pump *p)
{
	ssize_t k = write(p->in, p->buf + p->off, p->len - p->off);

	if (k < 0 && errno != EINTR && errno != EAGAIN)
		pump_close(&p->in);
	else if (k > 0)
		p->off += k;
	if (p->off == p->len)
		pump_close(&p->in);
}

/* The child's stdout is readable (or closed): read what is there.  -EIO
 * when it says more than a result can be. */
static int pump_read(struct pump *p)
{
	ssize_t k;

	if (p->n + 4097 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16384;
		char *nb;

		if (cap > CIR_JSON_MAX * 2)
			return -EIO;
		nb = realloc(p->ob, cap);
		if (!nb)
			return -EIO;
		p->ob = nb;
		p->cap = cap;
	}
	k = read(p->out, p->ob + p->n, p->cap - p->n - 1);
	if (k < 0 && errno == EINTR)
		return 0;
	if (k <= 0)
		pump_close(&p->out);
	else
		p->n += k;
	return 0;
}

static int pump_loop(struct pump *p)
{
	struct pollfd pf[2];

	for (;;) {
		int nf = 0, r = 0;

		if (p->in >= 0)
			pf[nf++] = (struct pollfd){ .fd = p->in, .events = POLLOUT };
		if (p->out >= 0)
			pf[nf++] = (struct pollfd){ .fd = p->out, .events = POLLIN };
		if (nf == 0)
			return 0;
		if (poll(pf, nf, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -EIO;
		}
		for (int i = 0; i < nf && r >= 0; i++) {
			if (pf[i].fd == p->in && pf[i].revents)
				pump_write(p);
			else if (pf[i].fd == p->out && pf[i].revents)
				r = pump_read(p);
		}
		if (r < 0)
			return r;
	}
}

/* Feed buf to fd_in while collecting fd_out, without deadlocking; closes
 * both.  *out (NUL-terminated, *outlen bytes) is the caller's to free. */
static int pump(int fd_in, const char *buf, size_t len, int fd_out, char **out, size_t *outlen)
{
	struct pump p = { .in = fd_in, .out = fd_out, .buf = buf, .len = len };
	int r;

	if (len == 0)
		pump_close(&p.in);
	r = pump_loop(&p);
	if (r >= 0 && !p.ob && !(p.ob = malloc(1)))
		return -ENOMEM;
	if (r < 0) {
		pump_close(&p.in);
		pump_close(&p.out);
		free(p.ob);
		return r;
	}
	p.ob[p.n] = '\0';
	*out = p.ob;
	*outlen = p.n;
	return 0;
}

static const struct cir_cni_plugin *builtins[CIR_CNI_MAX_BUILTINS];

void cir_cni_builtin_register(const struct cir_cni_plugin *p)
{
	for (size_t i = 0; i < CIR_CNI_MAX_BUILTINS; i++) {
		if (!builtins[i] || builtins[i] == p) {
			builtins[i] = p;
			return;
		}
	}
}

bool cir_cni_builtin_known(const char *type)
{
	for (size_t i = 0; type && i < CIR_CNI_MAX_BUILTINS && builtins[i]; i++)
		if (strcmp(builtins[i]->name, type) == 0)
			return true;
	return false;
}

static const struct cir_cni_plugin *builtin_find(const char *type)
{
	const char *off = getenv("CIRCUIT_EXEC_PLUGINS");

	if (off && strcmp(off, "1") == 0)
		return NULL;
	for (size_t i = 0; i < CIR_CNI_MAX_BUILTINS && builtins[i]; i++)
		if (strcmp(builtins[i]->name, type) == 0)
			return builtins[i];
	return NULL;
}

bool cir_cni_builtin_runs(const char *type)
{
	return type && builtin_find(type) != NULL;
}

/* The environment a built-in sees, as its executable would read it: empty
 * values are absent, and the verbs that need a container have one. */
static int builtin_env(const struct cir_cni_plugin *p, enum cir_cni_cmd cmd,
		       const struct cir_cni_exec_env *x, struct cir_cni_env *env,
		       struct cir_error *err)
{
	int r;

	memset(env, 0, sizeof(*env));
	env->cmd = cmd;
	if (x) {
		env->containerid = x->containerid && *x->containerid ? x->containerid : NULL;
		env->netns = x->netns && *x->netns ? x->netns : NULL;
		env->ifname = x->ifname && *x->ifname ? x->ifname : NULL;
		env->args = x->args && *x->args ? x->args : NULL;
		env->path = x->path && *x->path ? x->path : NULL;
	}
	if (cmd != CIR_CNI_CMD_ADD && cmd != CIR_CNI_CMD_CHECK && cmd != CIR_CNI_CMD_DEL)
		return 0;
	if ((cmd != CIR_CNI_CMD_DEL && !env->netns) || !env->containerid || !env->ifname)
		return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
				    "%s: container ID, netns and ifname are required", p->name);
	r = cir_cni_check_containerid(env->containerid, err);
	return r < 0 ? r : cir_cni_check_ifname(env->ifname, err);
}

/* What cir_cni_main() does for one call, minus stdio and the process. */
static int builtin_run(const struct cir_cni_plugin *p, enum cir_cni_cmd cmd,
		       const struct cir_cni_exec_env *x, const char *stdin_buf, size_t stdin_len,
		       struct cir_cni_result *res, char **out_stdout, struct cir_error *err)
{
	struct cir_cni_env env;
	struct cir_cni_conf conf = { 0 };
	_cleanup_free_ struct cir_cni_result *result = calloc(1, sizeof(*result));
	struct cir_cni_ctx ctx = { .env = &env, .conf = &conf, .result = result };
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	const char *out;
	int r;

	if (!result)
		return cir_err(err, ENOMEM, "out of memory");
	r = builtin_env(p, cmd, x, &env, err);
	if (r >= 0)
		r = cir_cni_conf_parse(stdin_buf, stdin_len, cmd, &conf, err);
	if (r >= 0)
		r = cir_cni_version_gate(cmd, conf.cni_version, err);
	if (r >= 0)
		r = cir_cni_run_verb(p, cmd, &ctx, err);
	if (r >= 0 && cmd == CIR_CNI_CMD_ADD && out_stdout) {
		r = cir_cni_result_format(result, conf.cni_version, &g, &out, err);
		if (r >= 0 && !(*out_stdout = strdup(out)))
			r = cir_err(err, ENOMEM, "out of memory");
	}
	if (r >= 0 && cmd == CIR_CNI_CMD_ADD && res)
		*res = *result;
	cir_cni_conf_free(&conf);
	return r < 0 ? r : 0;
}

/* Start the executable path as type with envp, its stdin and stdout the
 * pipes in_p and out_p (whose child ends are closed here on success). */
static int exec_spawn(const char *type, const char *path, char **envp, int in_p[2],
		      int out_p[2], pid_t *pid, struct cir_error *err)
{
	posix_spawn_file_actions_t fa;
	char *argv[2] = { (char *)type, NULL };
	int r;

	if (pipe2(in_p, O_CLOEXEC) < 0 || pipe2(out_p, O_CLOEXEC) < 0)
		return cir_err(err, errno, "plugin %s: pipe: %s", type, strerror(errno));
	r = posix_spawn_file_actions_init(&fa);
	if (r != 0)
		return cir_err(err, r, "plugin %s: spawn setup: %s", type, strerror(r));
	/* Without both dup2s the child would read and write our own stdio. */
	if ((r = posix_spawn_file_actions_adddup2(&fa, in_p[0], STDIN_FILENO)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(&fa, out_p[1], STDOUT_FILENO)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return cir_err(err, r, "plugin %s: spawn setup: %s", type, strerror(r));
	}
	r = posix_spawn(pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return cir_err(err, r, "plugin %s: exec %s: %s", type, path, strerror(r));
	close(in_p[0]);
	close(out_p[1]);
	in_p[0] = out_p[1] = -1;
	return 0;
}

/* A delegate that failed: its error JSON becomes ours (code kept), else
 * what its exit status says. */
static int exec_failed(const char *type, int status, const char *out, size_t outlen,
		       struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	struct cir_error e2 = CIR_ERROR_INIT;
	const char *msg = NULL;
	uint32_t code = CIR_CNI_INTERNAL;

	/* Its reply may quote bytes that are no UTF-8: still read it. */
	if (outlen && cir_json_parse_lenient(out, outlen, &j, &e2) == 0) {
		cir_json_str(cir_json_root(j), "msg", &msg, &e2);
		cir_json_u32(cir_json_root(j), "code", 0xffffffffu, &code, &e2);
	}
	if (msg)
		return cir_err_code(err, code, EIO, "%s", msg);
	if (WIFSIGNALED(status))
		return cir_err_code(err, CIR_CNI_INTERNAL, EIO, "plugin %s killed by signal %d",
				    type, WTERMSIG(status));
	return cir_err_code(err, code, EIO, "plugin %s failed (exit %d)", type,
			    WEXITSTATUS(status));
}

/* Run the executable path as type: feed it stdin_buf, collect its stdout
 * in *out, reap it; a non-zero exit is exec_failed's error. */
static int exec_run(const char *type, const char *path, char **envp, const char *stdin_buf,
		    size_t stdin_len, char **out, size_t *outlen, struct cir_error *err)
{
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 };
	void (*old_pipe)(int);
	pid_t pid;
	int r, status;

	r = exec_spawn(type, path, envp, in_p, out_p, &pid, err);
	if (r < 0) {
		for (int i = 0; i < 2; i++) {
			if (in_p[i] >= 0)
				close(in_p[i]);
			if (out_p[i] >= 0)
				close(out_p[i]);
		}
		return r;
	}
	old_pipe = signal(SIGPIPE, SIG_IGN);
	r = pump(in_p[1], stdin_buf, stdin_len, out_p[0], out, outlen);   /* closes both */
	signal(SIGPIPE, old_pipe);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return cir_err(err, EIO, "plugin %s: reading its output failed", type);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return exec_failed(type, status, *out, *outlen, err);
	return 0;
}

int cir_cni_exec(const char *type, const char *search_path, enum cir_cni_cmd cmd,
		 const struct cir_cni_exec_env *env, const char *stdin_buf, size_t stdin_len,
		 struct cir_cni_result *res, char **out_stdout, struct cir_error *err)
{
	const struct cir_cni_plugin *builtin = builtin_find(type ? type : "");
	_cleanup_free_ char *out = NULL;
	char path[4096], **envp = NULL;
	size_t outlen = 0;
	int r;

	if (builtin)
		return builtin_run(builtin, cmd, env, stdin_buf, stdin_len, res, out_stdout, err);
	r = cir_cni_find_plugin(type, search_path, path, sizeof(path), err);
	if (r < 0)
		return r;
	r = build_env(&envp, cmd, env);
	if (r < 0)
		return cir_err(err, -r, "plugin %s: environment: %s", type, strerror(-r));
	r = exec_run(type, path, envp, stdin_buf, stdin_len, &out, &outlen, err);
	free_env(envp);
	if (r < 0)
		return r;
	if (res && cmd == CIR_CNI_CMD_ADD) {
		_cleanup_json_ struct cir_json *j = NULL;

		r = cir_json_parse(out, outlen, &j, err);
		if (r >= 0)
			r = cir_cni_result_parse(cir_json_root(j), res, err);
		if (r < 0)
			return cir_err_wrap(err, "plugin %s: result", type);
	}
	if (out_stdout)
		*out_stdout = TAKE_PTR(out);
	return 0;
}
