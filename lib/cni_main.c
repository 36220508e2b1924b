// SPDX-License-Identifier: Apache-2.0
/*
 * cni_main.c - the plugin skeleton every Circuit plugin's main() calls
 * (cir_cni_main): read the environment and stdin, gate the version,
 * dispatch to the plugin's verb, print the result or the CNI error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni.h"
#include "utf8.h"

/* Write doc and a newline to stdout, all of it or an error. */
static int write_stdout(const char *doc, struct cir_error *err)
{
	errno = 0;
	if (fputs(doc, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
		int e = errno ? errno : EIO;

		clearerr(stdout);
		return cir_err_code(err, CIR_CNI_IO, e, "writing to stdout: %s", strerror(e));
	}
	return 0;
}

int cir_cni_print_error(const char *version, const struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cir_error e2 = CIR_ERROR_INIT;
	char ascii[CIR_ERROR_MSG_MAX];
	const char *out;
	size_t i;

	if (cir_cni_error_format(version, err, &g, &out, &e2) == 0)
		return write_stdout(out, &e2);
	/* No memory for the generator: the same reply with the message's
	 * bytes outside printable ASCII (and quotes) as '?', which is always
	 * a valid JSON string. */
	if (!version || !cir_cni_version_supported(version))
		version = CIR_CNI_SPEC_VERSION;
	for (i = 0; err->msg[i] && i + 1 < sizeof(ascii); i++) {
		unsigned char c = (unsigned char)err->msg[i];

		ascii[i] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
	}
	ascii[i] = '\0';
	errno = 0;
	if (printf("{\"cniVersion\":\"%s\",\"code\":%u,\"msg\":\"%s\"}\n", version,
		   cir_err_cni_code(err), ascii[0] ? ascii : "error") < 0 ||
	    fflush(stdout) == EOF)
		return -(errno ? errno : EIO);
	return 0;
}

/* ---- skeleton ---- */

static int print_version(const char *requested)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	const char *out;

	if (cir_jgen_new(&g, false, NULL) < 0)
		return 1;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "cniVersion",
		      requested && cir_cni_version_supported(requested) ? requested
									 : CIR_CNI_SPEC_VERSION);
	cir_jgen_key(g, "supportedVersions");
	cir_jgen_arr_open(g);
	for (size_t i = 0; cir_cni_versions[i]; i++)
		cir_jgen_str(g, cir_cni_versions[i]);
	cir_jgen_arr_close(g);
	cir_jgen_map_close(g);
	if (cir_jgen_finish(g, &out, NULL, NULL) < 0)
		return 1;
	return write_stdout(out, NULL) < 0 ? 1 : 0;
}

/*
 * The cniVersion to answer an error in: the caller's, read from stdin even
 * when the configuration was refused (a bad name, invalid UTF-8), as long
 * as it is one we speak.  NULL otherwise.
 */
static const char *version_hint(const char *in, size_t inlen, char *buf, size_t len)
{
	_cleanup_json_ struct cir_json *j = NULL;
	const char *v = NULL;

	if (!in || !inlen || cir_json_parse_lenient(in, inlen, &j, NULL) < 0 ||
	    cir_json_str(cir_json_root(j), "cniVersion", &v, NULL) <= 0 ||
	    !cir_cni_version_supported(v))
		return NULL;
	snprintf(buf, len, "%s", v);
	return buf;
}

/* Print the error reply; when stdout cannot take it, say it on stderr
 * (libcni reads stderr when stdout is empty). */
static void report(const struct cir_cni_plugin *p, const char *version,
		   const struct cir_error *err)
{
	if (cir_cni_print_error(version, err) < 0)
		fprintf(stderr, "%s: %s\n", p->name, err->msg);
}

/* No CNI_COMMAND: a person probably ran us.  Say what we are on stderr,
 * and still answer with the CNI error a runtime expects. */
static int run_no_command(const struct cir_cni_plugin *p)
{
	struct cir_error err = CIR_ERROR_INIT;

	fprintf(stderr, "%s: %s\nCNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, "
		"1.0.0, 1.1.0\n", p->name, p->about);
	cir_err_code(&err, CIR_CNI_INVALID_ENV, EINVAL,
		     "required env variable CNI_COMMAND is missing");
	report(p, NULL, &err);
	return 1;
}

/* VERSION: no delegate runs (the sandbox for an empty config); stdin, with
 * the cniVersion to answer in, is optional. */
static int run_version(int (*sandbox)(const struct cir_cni_conf *conf, struct cir_error *err))
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_conf conf = { 0 };
	_cleanup_free_ char *in = NULL;
	size_t inlen = 0;

	if (sandbox(&conf, &err) < 0) {
		cir_cni_print_error(NULL, &err);
		return 1;
	}
	if (!isatty(STDIN_FILENO) &&
	    cir_json_read_fd(STDIN_FILENO, CIR_JSON_MAX, &in, &inlen, &err) == 0 && inlen) {
		_cleanup_json_ struct cir_json *j = NULL;
		const char *v = NULL;

		if (cir_json_parse(in, inlen, &j, &err) == 0 &&
		    cir_json_str(cir_json_root(j), "cniVersion", &v, &err) > 0)
			return print_version(v);
	}
	return print_version(NULL);
}

/* Read stdin and the environment into *env and *conf.  *version is the
 * version to answer in, also on failure when it can be read (best effort). */
static int load_input(struct cir_cni_env *env, struct cir_cni_conf *conf, const char **version,
		      char hint[16], struct cir_error *err)
{
	_cleanup_free_ char *in = NULL;
	size_t inlen = 0;
	int r;

	r = cir_json_read_fd(STDIN_FILENO, CIR_JSON_MAX, &in, &inlen, err);
	if (r < 0)
		return r;
	r = cir_cni_env_load(env, err);
	if (r >= 0)
		r = cir_cni_conf_parse(in, inlen, env->cmd, conf, err);
	if (r < 0) {
		*version = version_hint(in, inlen, hint, 16);
		return r;
	}
	*version = conf->cni_version;
	return 0;
}

/* ADD, then print its result; a result the runtime never saw means the ADD
 * failed, and a failed ADD leaves nothing behind (DEL undoes it). */
static int run_add(const struct cir_cni_plugin *p, struct cir_cni_ctx *ctx, const char *version,
		   struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	struct cir_error e2 = CIR_ERROR_INIT;
	const char *out;
	int r;

	r = cir_cni_run_verb(p, CIR_CNI_CMD_ADD, ctx, err);
	if (r < 0)
		return r;
	r = cir_cni_result_format(ctx->result, version, &g, &out, err);
	if (r >= 0)
		r = write_stdout(out, err);
	if (r >= 0)
		return r;
	cir_err_wrap(err, "result");
	if (p->del && p->del(ctx, &e2) < 0)
		cir_err_append(err, "; undoing the ADD failed too: %s", e2.msg);
	else
		cir_err_append(err, "; the ADD was undone");
	return r;
}

int cir_cni_run_verb(const struct cir_cni_plugin *p, enum cir_cni_cmd cmd,
		     struct cir_cni_ctx *ctx, struct cir_error *err)
{
	int (*verb)(struct cir_cni_ctx *ctx, struct cir_error *err) = NULL;

	switch (cmd) {
	case CIR_CNI_CMD_ADD:
		if (!p->add)
			return cir_err_code(err, CIR_CNI_INVALID_ENV, EOPNOTSUPP,
					    "ADD not supported");
		verb = p->add;
		break;
	case CIR_CNI_CMD_DEL:
		verb = p->del;
		break;
	case CIR_CNI_CMD_CHECK:
		verb = p->check;
		break;
	case CIR_CNI_CMD_GC:
		verb = p->gc;
		break;
	case CIR_CNI_CMD_STATUS:
		verb = p->status;
		break;
	default:
		return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL, "unsupported CNI_COMMAND");
	}
	return verb ? verb(ctx, err) : 0;
}

int cir_cni_main(const struct cir_cni_plugin *p,
		 int (*sandbox)(const struct cir_cni_conf *conf, struct cir_error *err))
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_env env = { 0 };
	struct cir_cni_conf conf = { 0 };
	_cleanup_free_ struct cir_cni_result *res = NULL;
	struct cir_cni_ctx ctx = { .env = &env, .conf = &conf };
	const char *version = NULL;
	const char *cmd = getenv("CNI_COMMAND");
	char hint[16];
	int r;

	if (!cmd || !*cmd)
		return run_no_command(p);
	if (strcmp(cmd, "VERSION") == 0)
		return run_version(sandbox);
	r = load_input(&env, &conf, &version, hint, &err);
	/* Input parsed: from here on only the calls this plugin needs, with
	 * exec only if this config makes it run a delegate (lib/sandbox.h). */
	if (r >= 0)
		r = sandbox(&conf, &err);
	if (r >= 0 && !(res = calloc(1, sizeof(*res))))
		r = cir_err(&err, ENOMEM, "out of memory");
	ctx.result = res;
	if (r >= 0)
		r = cir_cni_version_gate(env.cmd, version, &err);
	if (r >= 0 && env.cmd == CIR_CNI_CMD_ADD)
		r = run_add(p, &ctx, version, &err);
	else if (r >= 0)
		r = cir_cni_run_verb(p, env.cmd, &ctx, &err);
	if (r < 0)
		report(p, version, &err);
	cir_cni_conf_free(&conf);
	return r < 0 ? 1 : 0;
}
