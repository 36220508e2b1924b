// SPDX-License-Identifier: Apache-2.0
/*
 * cni.c - CNI command names, versions, identifiers, the environment,
 * configuration and error JSON.  Results are cni_result.c's, the plugin
 * skeleton cni_main.c's, delegation cni_exec.c's.
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
#include "utf8.h"

extern char **environ;

const char *const cir_cni_versions[] = {
	"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL,
};

static const char *const cmd_names[] = {
	[CIR_CNI_CMD_NONE] = "",
	[CIR_CNI_CMD_ADD] = "ADD",
	[CIR_CNI_CMD_DEL] = "DEL",
	[CIR_CNI_CMD_CHECK] = "CHECK",
	[CIR_CNI_CMD_GC] = "GC",
	[CIR_CNI_CMD_STATUS] = "STATUS",
	[CIR_CNI_CMD_VERSION] = "VERSION",
};

const char *cir_cni_cmd_name(enum cir_cni_cmd c)
{
	if ((size_t)c >= sizeof(cmd_names) / sizeof(cmd_names[0]))
		return "";
	return cmd_names[c];
}

enum cir_cni_cmd cir_cni_cmd_parse(const char *s)
{
	if (!s)
		return CIR_CNI_CMD_NONE;
	for (size_t i = 1; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (strcmp(s, cmd_names[i]) == 0)
			return (enum cir_cni_cmd)i;
	return CIR_CNI_CMD_NONE;
}

/* ---- versions ---- */

int cir_cni_version_cmp(const char *a, const char *b)
{
	for (int i = 0; i < 3; i++) {
		char *ea, *eb;
		long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);

		if (x != y)
			return x < y ? -1 : 1;
		a = *ea == '.' ? ea + 1 : ea;
		b = *eb == '.' ? eb + 1 : eb;
	}
	return 0;
}

bool cir_cni_version_supported(const char *v)
{
	for (size_t i = 0; v && cir_cni_versions[i]; i++)
		if (strcmp(v, cir_cni_versions[i]) == 0)
			return true;
	return false;
}

/* CHECK came with 0.4.0, GC and STATUS with 1.1.0. */
int cir_cni_version_gate(enum cir_cni_cmd cmd, const char *version, struct cir_error *err)
{
	const char *need = NULL;

	if (cmd == CIR_CNI_CMD_CHECK)
		need = "0.4.0";
	else if (cmd == CIR_CNI_CMD_GC || cmd == CIR_CNI_CMD_STATUS)
		need = "1.1.0";
	if (need && cir_cni_version_cmp(version, need) < 0)
		return cir_err_code(err, CIR_CNI_INCOMPATIBLE_VERSION, EINVAL,
				    "%s needs cniVersion %s or later, config is %s",
				    cir_cni_cmd_name(cmd), need, version);
	return 0;
}

/* ---- validation ---- */

static bool id_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

static int check_ident(const char *what, const char *s, size_t max, unsigned int code,
		       struct cir_error *err)
{
	char show[CIR_ERR_SHOWN_MAX];
	size_t n;

	if (!s || !*s)
		return cir_err_code(err, code, EINVAL, "%s is empty", what);
	n = strlen(s);
	cir_err_shown(s, show, sizeof(show));
	if (n > max)
		return cir_err_code(err, code, EINVAL, "%s \"%s\" is longer than %zu bytes", what,
				    show, max);
	if (strstr(s, ".."))
		return cir_err_code(err, code, EINVAL, "%s \"%s\" contains \"..\"", what, show);
	for (size_t i = 0; i < n; i++)
		if (!id_char(s[i], i == 0))
			return cir_err_code(err, code, EINVAL,
					    "%s \"%s\" has invalid characters (allowed: "
					    "[A-Za-z0-9][A-Za-z0-9_.-]*)", what, show);
	return 0;
}

int cir_cni_check_containerid(const char *id, struct cir_error *err)
{
	return check_ident("container ID", id, CIR_CNI_ID_MAX, CIR_CNI_INVALID_ENV, err);
}

int cir_cni_check_network_name(const char *name, struct cir_error *err)
{
	return check_ident("network name", name, CIR_CNI_NAME_MAX, CIR_CNI_INVALID_CONFIG, err);
}

int cir_cni_check_ifname(const char *ifname, struct cir_error *err)
{
	char show[CIR_ERR_SHOWN_MAX];
	size_t n;

	if (!ifname || !*ifname)
		return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL, "interface name is empty");
	n = strlen(ifname);
	cir_err_shown(ifname, show, sizeof(show));
	if (n >= CIR_IFNAMSIZ)
		return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
				    "interface name \"%s\" is longer than %d bytes", show,
				    CIR_IFNAMSIZ - 1);
	if (strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
		return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
				    "interface name \"%s\" is reserved", show);
	/* The kernel's dev_valid_name(): no '/', ':' or whitespace. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = ifname[i];

		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
					    "interface name \"%s\" has an invalid character", show);
	}
	return 0;
}

/* ---- environment ---- */

static const char *env_nonempty(const char *k)
{
	const char *v = getenv(k);

	return (v && *v) ? v : NULL;
}

int cir_cni_env_load(struct cir_cni_env *env, struct cir_error *err)
{
	const char *cmd = getenv("CNI_COMMAND");
	struct cir_cni_env e = { 0 };
	int r;

	if (!cmd || !*cmd)
		return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
				    "required env variable CNI_COMMAND is missing");
	e.cmd = cir_cni_cmd_parse(cmd);
	if (e.cmd == CIR_CNI_CMD_NONE) {
		char show[32];

		return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL, "unknown CNI_COMMAND \"%s\"",
				    cir_err_shown(cmd, show, sizeof(show)));
	}
	e.containerid = env_nonempty("CNI_CONTAINERID");
	e.netns = env_nonempty("CNI_NETNS");
	e.ifname = env_nonempty("CNI_IFNAME");
	e.args = env_nonempty("CNI_ARGS");
	e.path = env_nonempty("CNI_PATH");

	switch (e.cmd) {
	case CIR_CNI_CMD_ADD:
	case CIR_CNI_CMD_CHECK:
		if (!e.netns)
			return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
					    "required env variable CNI_NETNS is missing");
		if (e.netns[0] != '/')
			return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
					    "CNI_NETNS must be an absolute path");
		/* fall through */
	case CIR_CNI_CMD_DEL:
		if (!e.containerid)
			return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
					    "required env variable CNI_CONTAINERID is missing");
		if (!e.ifname)
			return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
					    "required env variable CNI_IFNAME is missing");
		r = cir_cni_check_containerid(e.containerid, err);
		if (r < 0)
			return r;
		r = cir_cni_check_ifname(e.ifname, err);
		if (r < 0)
			return r;
		break;
	default:
		break;
	}
	*env = e;
	return 0;
}

int cir_cni_args_get(const char *args, const char *key, char *buf, size_t len,
		     struct cir_error *err)
{
	size_t klen = strlen(key);
	const char *p = args;

	while (p && *p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);

		if (!eq) {
			char show[CIR_ERR_SHOWN_MAX];

			return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
					    "CNI_ARGS: \"%s\" is not KEY=VALUE",
					    cir_err_shown_n(p, n, show, sizeof(show)));
		}
		if ((size_t)(eq - p) == klen && strncmp(p, key, klen) == 0) {
			size_t vlen = n - klen - 1;

			if (vlen >= len)
				return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
						    "CNI_ARGS: %s is too long", key);
			memcpy(buf, eq + 1, vlen);
			buf[vlen] = '\0';
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* ---- config ---- */

void cir_cni_conf_free(struct cir_cni_conf *conf)
{
	if (!conf)
		return;
	cir_json_free(conf->doc);
	free((char *)conf->raw);
	memset(conf, 0, sizeof(*conf));
}

/* The document is an object with a supported cniVersion. */
static int conf_version(struct cir_cni_conf *c, struct cir_error *err)
{
	char show[32];
	int r;

	if (cir_jnode_type(c->root) != CIR_JOBJECT)
		return cir_err_code(err, CIR_CNI_DECODE, EINVAL,
				    "network configuration: expected a JSON object");
	r = cir_json_str(c->root, "cniVersion", &c->cni_version, err);
	if (r == 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "network configuration: cniVersion is missing");
	if (r < 0)
		return r;
	if (!cir_cni_version_supported(c->cni_version))
		return cir_err_code(err, CIR_CNI_INCOMPATIBLE_VERSION, EINVAL,
				    "incompatible CNI versions: config is \"%s\", plugin supports "
				    "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
				    cir_err_shown(c->cni_version, show, sizeof(show)));
	return 0;
}

/* name, type, ipam (and its type), runtimeConfig, prevResult (parsed). */
static int conf_fields(struct cir_cni_conf *c, struct cir_error *err)
{
	int r;

	r = cir_json_str(c->root, "name", &c->name, err);
	if (r == 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "network configuration: name is missing");
	if (r < 0 || (r = cir_cni_check_network_name(c->name, err)) < 0 ||
	    (r = cir_json_str(c->root, "type", &c->type, err)) < 0 ||
	    (r = cir_json_obj(c->root, "ipam", &c->ipam, err)) < 0)
		return r;
	if (c->ipam && cir_json_str(c->ipam, "type", &c->ipam_type, err) < 0)
		return cir_err_wrap(err, "ipam");
	if ((r = cir_json_obj(c->root, "runtimeConfig", &c->runtime_config, err)) < 0 ||
	    (r = cir_json_obj(c->root, "prevResult", &c->prev_result_node, err)) < 0)
		return r;
	if (!c->prev_result_node)
		return 0;
	if (cir_cni_result_parse(c->prev_result_node, &c->prev_result, err) < 0)
		return cir_err_wrap(err, "prevResult");
	c->has_prev_result = true;
	return 0;
}

int cir_cni_conf_parse(const char *buf, size_t len, enum cir_cni_cmd cmd,
		       struct cir_cni_conf *conf, struct cir_error *err)
{
	struct cir_cni_conf c = { 0 };
	char *raw;
	int r;

	r = cir_json_parse(buf, len, &c.doc, err);
	if (r < 0)
		return cir_err_wrap(err, "network configuration");
	c.root = cir_json_root(c.doc);
	raw = malloc(len + 1);
	if (!raw) {
		cir_json_free(c.doc);
		return cir_err(err, ENOMEM, "out of memory");
	}
	memcpy(raw, buf, len);
	raw[len] = '\0';
	c.raw = raw;
	c.raw_len = len;
	r = conf_version(&c, err);
	if (r >= 0 && cmd != CIR_CNI_CMD_VERSION)
		r = conf_fields(&c, err);
	if (r < 0) {
		cir_cni_conf_free(&c);
		return r;
	}
	*conf = c;
	return 0;
}

int cir_cni_valid_attachments(const struct cir_cni_conf *conf,
			      int (*fn)(const char *cid, const char *ifname, void *arg),
			      void *arg, struct cir_error *err)
{
	const struct cir_jnode *arr = NULL;
	int r;

	r = cir_json_arr(conf->root, "cni.dev/valid-attachments", &arr, err);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < cir_jnode_len(arr); i++) {
		const struct cir_jnode *o = cir_jnode_at(arr, i);
		const char *cid = NULL, *ifn = NULL;

		if (cir_json_str(o, "containerID", &cid, err) <= 0 ||
		    cir_json_str(o, "ifname", &ifn, err) <= 0)
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "cni.dev/valid-attachments[%zu]: expected "
					    "{containerID, ifname} strings", i);
		r = fn(cid, ifn, arg);
		if (r < 0)
			return r;
	}
	return 0;
}

bool cir_cni_gc_keep_live(const struct cir_cni_conf *conf)
{
	bool v = false;

	return cir_json_bool(conf->root, CIR_CNI_GC_KEEP_LIVE, &v, NULL) > 0 && v;
}

/* ---- errors ---- */

int cir_cni_error_format(const char *version, const struct cir_error *err,
			 struct cir_jgen **gen, const char **out, struct cir_error *e2)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	/* Each invalid byte may become a 3-byte U+FFFD. */
	char msg[3 * CIR_ERROR_MSG_MAX];
	int r;

	if (!version || !cir_cni_version_supported(version))
		version = CIR_CNI_SPEC_VERSION;
	/* Messages quote what callers sent (names, paths, another plugin's
	 * own error): made valid UTF-8, the document always encodes. */
	cir_utf8_sanitize(err->msg[0] ? err->msg : strerror(err->errnum), msg, sizeof(msg));
	r = cir_jgen_new(&g, true, e2);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "cniVersion", version);
	cir_jgen_kint(g, "code", cir_err_cni_code(err));
	cir_jgen_kstr(g, "msg", msg);
	cir_jgen_kstr(g, "details", strerror(err->errnum));
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, out, NULL, e2);
	if (r < 0)
		return r;
	*gen = TAKE_PTR(g);
	return 0;
}

