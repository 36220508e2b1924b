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

/* Feed stdin_buf to fd_in while collecting fd_out, without deadlocking. */
static int pump(int fd_in, const char *buf, size_t len, int fd_out, char **out, size_t *outlen)
{
	size_t off = 0, n = 0, cap = 0;
	char *ob = NULL;
	struct pollfd pf[2];

	if (len == 0) {
		close(fd_in);
		fd_in = -1;
	}
	for (;;) {
		int nf = 0, r;

		if (fd_in >= 0)
			pf[nf++] = (struct pollfd){ .fd = fd_in, .events = POLLOUT };
		if (fd_out >= 0)
			pf[nf++] = (struct pollfd){ .fd = fd_out, .events = POLLIN };
		if (nf == 0)
			break;
		r = poll(pf, nf, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		for (int i = 0; i < nf; i++) {
			if (pf[i].fd == fd_in && pf[i].revents) {
				ssize_t k = write(fd_in, buf + off, len - off);

				if (k < 0 && errno != EINTR && errno != EAGAIN) {
					close(fd_in);   /* EPIPE: child does not read */
					fd_in = -1;
				} else if (k > 0) {
					off += k;
				}
				if (fd_in >= 0 && off == len) {
					close(fd_in);
					fd_in = -1;
				}
			} else if (pf[i].fd == fd_out && pf[i].revents) {
				ssize_t k;

				if (n + 4097 > cap) {
					char *nb;

					cap = cap ? cap * 2 : 16384;
					if (cap > CIR_JSON_MAX * 2)
						goto fail;
					nb = realloc(ob, cap);
					if (!nb)
						goto fail;
					ob = nb;
				}
				k = read(fd_out, ob + n, cap - n - 1);
				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0) {
					close(fd_out);
					fd_out = -1;
				} else {
					n += k;
				}
			}
		}
	}
	if (!ob && !(ob = malloc(1)))
		return -ENOMEM;
	ob[n] = '\0';
	*out = ob;
	*outlen = n;
	return 0;
fail:
	if (fd_in >= 0)
		close(fd_in);
	if (fd_out >= 0)
		close(fd_out);
	free(ob);
	return -EIO;
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

/* What cir_cni_main() does for one call, minus stdio and the process. */
static int builtin_run(const struct cir_cni_plugin *p, enum cir_cni_cmd cmd,
		       const struct cir_cni_exec_env *x, const char *stdin_buf, size_t stdin_len,
		       struct cir_cni_result *res, char **out_stdout, struct cir_error *err)
{
	struct cir_cni_env env = { .cmd = cmd };
	struct cir_cni_conf conf = { 0 };
	struct cir_cni_ctx ctx = { 0 };
	_cleanup_free_ struct cir_cni_result *result = NULL;
	int r;

	if (x) {
		env.containerid = x->containerid && *x->containerid ? x->containerid : NULL;
		env.netns = x->netns && *x->netns ? x->netns : NULL;
		env.ifname = x->ifname && *x->ifname ? x->ifname : NULL;
		env.args = x->args && *x->args ? x->args : NULL;
		env.path = x->path && *x->path ? x->path : NULL;
	}
	if (cmd == CIR_CNI_CMD_ADD || cmd == CIR_CNI_CMD_CHECK || cmd == CIR_CNI_CMD_DEL) {
		if (((cmd != CIR_CNI_CMD_DEL) && !env.netns) || !env.containerid || !env.ifname)
			return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
					    "%s: container ID, netns and ifname are required",
					    p->name);
		r = cir_cni_check_containerid(env.containerid, err);
		if (r >= 0)
			r = cir_cni_check_ifname(env.ifname, err);
		if (r < 0)
			return r;
	}
	r = cir_cni_conf_parse(stdin_buf, stdin_len, cmd, &conf, err);
	if (r < 0)
		return r;
	r = cir_cni_version_gate(cmd, conf.cni_version, err);
	if (r < 0)
		goto out;
	result = calloc(1, sizeof(*result));
	if (!result) {
		r = cir_err(err, ENOMEM, "out of memory");
		goto out;
	}
	ctx.env = &env;
	ctx.conf = &conf;
	ctx.result = result;
	switch (cmd) {
	case CIR_CNI_CMD_ADD:
		r = p->add ? p->add(&ctx, err)
			   : cir_err_code(err, CIR_CNI_INVALID_ENV, EOPNOTSUPP, "ADD not supported");
		if (r >= 0 && out_stdout) {
			_cleanup_jgen_ struct cir_jgen *g = NULL;
			const char *out;

			r = cir_cni_result_format(result, conf.cni_version, &g, &out, err);
			if (r >= 0 && !(*out_stdout = strdup(out)))
				r = cir_err(err, ENOMEM, "out of memory");
		}
		if (r >= 0 && res)
			*res = *result;
		break;
	case CIR_CNI_CMD_DEL:
		r = p->del ? p->del(&ctx, err) : 0;
		break;
	case CIR_CNI_CMD_CHECK:
		r = p->check ? p->check(&ctx, err) : 0;
		break;
	case CIR_CNI_CMD_GC:
		r = p->gc ? p->gc(&ctx, err) : 0;
		break;
	case CIR_CNI_CMD_STATUS:
		r = p->status ? p->status(&ctx, err) : 0;
		break;
	default:
		r = cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL, "unsupported command");
		break;
	}
out:
	cir_cni_conf_free(&conf);
	return r < 0 ? r : 0;
}

int cir_cni_exec(const char *type, const char *search_path, enum cir_cni_cmd cmd,
		 const struct cir_cni_exec_env *env, const char *stdin_buf, size_t stdin_len,
		 struct cir_cni_result *res, char **out_stdout, struct cir_error *err)
{
	const struct cir_cni_plugin *builtin;
	char path[4096];
	char **envp = NULL;
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	_cleanup_free_ char *out = NULL;
	size_t outlen = 0;
	char *argv[2];
	pid_t pid;
	int r, status;
	void (*old_pipe)(int);

	builtin = builtin_find(type ? type : "");
	if (builtin)
		return builtin_run(builtin, cmd, env, stdin_buf, stdin_len, res, out_stdout, err);
	r = cir_cni_find_plugin(type, search_path, path, sizeof(path), err);
	if (r < 0)
		return r;
	r = build_env(&envp, cmd, env);
	if (r < 0)
		return cir_err(err, -r, "plugin %s: environment: %s", type, strerror(-r));
	if (pipe2(in_p, O_CLOEXEC) < 0 || pipe2(out_p, O_CLOEXEC) < 0) {
		r = cir_err(err, errno, "plugin %s: pipe: %s", type, strerror(errno));
		goto out_fds;
	}
	r = posix_spawn_file_actions_init(&fa);
	if (r != 0) {
		r = cir_err(err, r, "plugin %s: spawn setup: %s", type, strerror(r));
		goto out_fds;
	}
	/* Without both dup2s the child would read and write our own stdio. */
	if ((r = posix_spawn_file_actions_adddup2(&fa, in_p[0], STDIN_FILENO)) != 0 ||
	    (r = posix_spawn_file_actions_adddup2(&fa, out_p[1], STDOUT_FILENO)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		r = cir_err(err, r, "plugin %s: spawn setup: %s", type, strerror(r));
		goto out_fds;
	}
	argv[0] = (char *)type;
	argv[1] = NULL;
	r = posix_spawn(&pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		r = cir_err(err, r, "plugin %s: exec %s: %s", type, path, strerror(r));
		goto out_fds;
	}
	close(in_p[0]);
	close(out_p[1]);
	in_p[0] = out_p[1] = -1;
	old_pipe = signal(SIGPIPE, SIG_IGN);
	r = pump(in_p[1], stdin_buf, stdin_len, out_p[0], &out, &outlen);
	signal(SIGPIPE, old_pipe);
	in_p[1] = out_p[0] = -1;   /* pump closed them */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = cir_err(err, EIO, "plugin %s: reading its output failed", type);
		goto out_env;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		_cleanup_json_ struct cir_json *j = NULL;
		struct cir_error e2 = CIR_ERROR_INIT;
		const char *msg = NULL;
		uint32_t code = CIR_CNI_INTERNAL;

		/* Its reply may quote bytes that are no UTF-8: still read it. */
		if (outlen && cir_json_parse_lenient(out, outlen, &j, &e2) == 0) {
			cir_json_str(cir_json_root(j), "msg", &msg, &e2);
			cir_json_u32(cir_json_root(j), "code", 0xffffffffu, &code, &e2);
		}
		if (msg) {
			r = cir_err_code(err, code, EIO, "%s", msg);
		} else if (WIFSIGNALED(status)) {
			r = cir_err_code(err, CIR_CNI_INTERNAL, EIO, "plugin %s killed by signal %d",
					 type, WTERMSIG(status));
		} else {
			r = cir_err_code(err, code, EIO, "plugin %s failed (exit %d)", type,
					 WEXITSTATUS(status));
		}
		goto out_env;
	}
	if (res && cmd == CIR_CNI_CMD_ADD) {
		_cleanup_json_ struct cir_json *j = NULL;

		r = cir_json_parse(out, outlen, &j, err);
		if (r >= 0)
			r = cir_cni_result_parse(cir_json_root(j), res, err);
		if (r < 0) {
			cir_err_wrap(err, "plugin %s: result", type);
			goto out_env;
		}
	}
	if (out_stdout)
		*out_stdout = TAKE_PTR(out);
	r = 0;
	goto out_env;
out_fds:
	for (int i = 0; i < 2; i++) {
		if (in_p[i] >= 0)
			close(in_p[i]);
		if (out_p[i] >= 0)
			close(out_p[i]);
	}
out_env:
	free_env(envp);
	return r;
}
