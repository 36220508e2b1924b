// SPDX-License-Identifier: Apache-2.0
/*
 * cni.c - CNI environment, configuration, results, errors, the plugin
 * skeleton, and delegation to other plugins (IPAM, chains).
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

/* ---- results ---- */

/* Copy src into a result field of n bytes, or fail: never truncate. */
static int copy_field(char *dst, size_t n, const char *src, const char *what,
		      struct cir_error *err)
{
	size_t len = src ? strlen(src) : 0;

	if (len >= n) {
		char show[CIR_ERR_SHOWN_MAX];

		return cir_err_code(err, CIR_CNI_ERR_INTERNAL, ENAMETOOLONG,
				    "result: %s \"%s\" is longer than %zu bytes", what,
				    cir_err_shown(src, show, sizeof(show)), n - 1);
	}
	memcpy(dst, src ? src : "", len + 1);
	return 0;
}

static int result_full(const char *what, int max, struct cir_error *err)
{
	return cir_err_code(err, CIR_CNI_ERR_INTERNAL, ENOSPC,
			    "result: more than %d %s (the most a result holds)", max, what);
}

int cir_cni_result_add_iface(struct cir_cni_result *res, const char *name, const char *mac,
			     unsigned int mtu, const char *sandbox, struct cir_error *err)
{
	struct cir_cni_iface i = { .mtu = mtu };
	int r;

	if (res->n_ifaces >= CIR_CNI_MAX_IFACES)
		return result_full("interfaces", CIR_CNI_MAX_IFACES, err);
	if ((r = copy_field(i.name, sizeof(i.name), name, "interface name", err)) < 0 ||
	    (r = copy_field(i.mac, sizeof(i.mac), mac, "interface mac", err)) < 0 ||
	    (r = copy_field(i.sandbox, sizeof(i.sandbox), sandbox, "interface sandbox", err)) < 0)
		return r;
	res->ifaces[res->n_ifaces] = i;
	return (int)res->n_ifaces++;
}

int cir_cni_result_add_ip(struct cir_cni_result *res, const char *cidr, const char *gw,
			  int iface, struct cir_error *err)
{
	struct cir_cni_ip ip = { .iface = iface };
	int r;

	if (res->n_ips >= CIR_CNI_MAX_IPS)
		return result_full("ips", CIR_CNI_MAX_IPS, err);
	if ((r = copy_field(ip.address, sizeof(ip.address), cidr, "ip address", err)) < 0 ||
	    (r = copy_field(ip.gateway, sizeof(ip.gateway), gw, "ip gateway", err)) < 0)
		return r;
	res->ips[res->n_ips] = ip;
	return (int)res->n_ips++;
}

int cir_cni_result_add_route(struct cir_cni_result *res, const char *dst, const char *gw,
			     struct cir_error *err)
{
	struct cir_cni_route rt;
	int r;

	if (res->n_routes >= CIR_CNI_MAX_ROUTES)
		return result_full("routes", CIR_CNI_MAX_ROUTES, err);
	if ((r = copy_field(rt.dst, sizeof(rt.dst), dst, "route dst", err)) < 0 ||
	    (r = copy_field(rt.gw, sizeof(rt.gw), gw, "route gw", err)) < 0)
		return r;
	res->routes[res->n_routes] = rt;
	return (int)res->n_routes++;
}

static int bounded_str(const struct cir_jnode *obj, const char *key, char *dst, size_t n,
		       bool required, const char *ctx, struct cir_error *err)
{
	const char *s = NULL;
	int r = cir_json_str(obj, key, &s, err);

	if (r < 0)
		return cir_err_wrap(err, "%s", ctx);
	if (r == 0) {
		if (required)
			return cir_err_code(err, CIR_CNI_DECODE, EINVAL, "%s: missing %s", ctx, key);
		dst[0] = '\0';
		return 0;
	}
	if (strlen(s) >= n)
		return cir_err_code(err, CIR_CNI_DECODE, EINVAL, "%s: %s is too long", ctx, key);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int parse_str_list(const struct cir_jnode *obj, const char *key, char *base, size_t stride,
			  size_t max, size_t *count, struct cir_error *err)
{
	const struct cir_jnode *arr = NULL;
	int r = cir_json_arr(obj, key, &arr, err);

	if (r <= 0)
		return r < 0 ? cir_err_wrap(err, "dns") : 0;
	for (size_t i = 0; i < cir_jnode_len(arr); i++) {
		const char *s = cir_jnode_str(cir_jnode_at(arr, i));

		if (!s || strlen(s) >= stride)
			return cir_err_code(err, CIR_CNI_DECODE, EINVAL,
					    "dns: %s: expected strings shorter than %zu", key, stride);
		if (*count >= max)
			return cir_err_code(err, CIR_CNI_DECODE, E2BIG, "dns: too many %s", key);
		memcpy(base + stride * (*count)++, s, strlen(s) + 1);
	}
	return 0;
}

int cir_cni_result_parse(const struct cir_jnode *n, struct cir_cni_result *res,
			 struct cir_error *err)
{
	const struct cir_jnode *arr = NULL, *dns = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if (cir_jnode_type(n) != CIR_JOBJECT)
		return cir_err_code(err, CIR_CNI_DECODE, EINVAL, "result: expected an object");
	if (cir_jnode_get(n, "ip4") || cir_jnode_get(n, "ip6"))
		return cir_err_code(err, CIR_CNI_INCOMPATIBLE_VERSION, EINVAL,
				    "result: version 0.2.0 results are not supported");

	r = cir_json_arr(n, "interfaces", &arr, err);
	if (r < 0)
		return cir_err_wrap(err, "result");
	for (size_t i = 0; r > 0 && i < cir_jnode_len(arr); i++) {
		const struct cir_jnode *o = cir_jnode_at(arr, i);
		struct cir_cni_iface *f;
		uint32_t mtu = 0;

		if (res->n_ifaces >= CIR_CNI_MAX_IFACES)
			return cir_err_code(err, CIR_CNI_DECODE, E2BIG, "result: too many interfaces");
		if (cir_jnode_type(o) != CIR_JOBJECT)
			return cir_err_code(err, CIR_CNI_DECODE, EINVAL,
					    "result: interfaces: expected objects");
		f = &res->ifaces[res->n_ifaces];
		if (bounded_str(o, "name", f->name, sizeof(f->name), true, "result interface", err) < 0 ||
		    bounded_str(o, "mac", f->mac, sizeof(f->mac), false, "result interface", err) < 0 ||
		    bounded_str(o, "sandbox", f->sandbox, sizeof(f->sandbox), false,
				"result interface", err) < 0)
			return -err->errnum;
		if (cir_json_u32(o, "mtu", 1u << 20, &mtu, err) < 0)
			return cir_err_wrap(err, "result interface");
		f->mtu = mtu;
		res->n_ifaces++;
	}

	arr = NULL;
	r = cir_json_arr(n, "ips", &arr, err);
	if (r < 0)
		return cir_err_wrap(err, "result");
	for (size_t i = 0; r > 0 && i < cir_jnode_len(arr); i++) {
		const struct cir_jnode *o = cir_jnode_at(arr, i);
		struct cir_cni_ip *ip;
		uint32_t idx;
		int has;

		if (res->n_ips >= CIR_CNI_MAX_IPS)
			return cir_err_code(err, CIR_CNI_DECODE, E2BIG, "result: too many ips");
		if (cir_jnode_type(o) != CIR_JOBJECT)
			return cir_err_code(err, CIR_CNI_DECODE, EINVAL, "result: ips: expected objects");
		ip = &res->ips[res->n_ips];
		if (bounded_str(o, "address", ip->address, sizeof(ip->address), true, "result ip",
				err) < 0 ||
		    bounded_str(o, "gateway", ip->gateway, sizeof(ip->gateway), false, "result ip",
				err) < 0)
			return -err->errnum;
		has = cir_json_u32(o, "interface", CIR_CNI_MAX_IFACES - 1, &idx, err);
		if (has < 0)
			return cir_err_wrap(err, "result ip");
		ip->iface = has ? (int)idx : -1;
		if (ip->iface >= 0 && (size_t)ip->iface >= res->n_ifaces)
			return cir_err_code(err, CIR_CNI_DECODE, EINVAL,
					    "result ip: interface index %d out of range", ip->iface);
		res->n_ips++;
	}

	arr = NULL;
	r = cir_json_arr(n, "routes", &arr, err);
	if (r < 0)
		return cir_err_wrap(err, "result");
	for (size_t i = 0; r > 0 && i < cir_jnode_len(arr); i++) {
		const struct cir_jnode *o = cir_jnode_at(arr, i);
		struct cir_cni_route *rt;

		if (res->n_routes >= CIR_CNI_MAX_ROUTES)
			return cir_err_code(err, CIR_CNI_DECODE, E2BIG, "result: too many routes");
		if (cir_jnode_type(o) != CIR_JOBJECT)
			return cir_err_code(err, CIR_CNI_DECODE, EINVAL,
					    "result: routes: expected objects");
		rt = &res->routes[res->n_routes];
		if (bounded_str(o, "dst", rt->dst, sizeof(rt->dst), true, "result route", err) < 0 ||
		    bounded_str(o, "gw", rt->gw, sizeof(rt->gw), false, "result route", err) < 0)
			return -err->errnum;
		res->n_routes++;
	}

	r = cir_json_obj(n, "dns", &dns, err);
	if (r < 0)
		return cir_err_wrap(err, "result");
	if (r > 0) {
		struct cir_cni_dns *d = &res->dns;

		if (parse_str_list(dns, "nameservers", &d->nameservers[0][0],
				   sizeof(d->nameservers[0]), CIR_CNI_MAX_DNS, &d->n_nameservers,
				   err) < 0 ||
		    parse_str_list(dns, "search", &d->search[0][0], sizeof(d->search[0]),
				   CIR_CNI_MAX_DNS, &d->n_search, err) < 0 ||
		    parse_str_list(dns, "options", &d->options[0][0], sizeof(d->options[0]),
				   CIR_CNI_MAX_DNS, &d->n_options, err) < 0 ||
		    bounded_str(dns, "domain", d->domain, sizeof(d->domain), false, "dns", err) < 0)
			return -err->errnum;
	}
	return 0;
}

static void emit_list(struct cir_jgen *g, const char *key, const char *base, size_t stride,
		      size_t n)
{
	if (!n)
		return;
	cir_jgen_key(g, key);
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < n; i++)
		cir_jgen_str(g, base + i * stride);
	cir_jgen_arr_close(g);
}

void cir_cni_result_emit(struct cir_jgen *g, const struct cir_cni_result *res,
			 const char *version)
{
	/* 0.3.x and 0.4.0 tag each IP with its family. */
	bool tag_family = cir_cni_version_cmp(version, "1.0.0") < 0;
	const struct cir_cni_dns *d = &res->dns;

	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "cniVersion", version);
	if (res->n_ifaces) {
		cir_jgen_key(g, "interfaces");
		cir_jgen_arr_open(g);
		for (size_t i = 0; i < res->n_ifaces; i++) {
			const struct cir_cni_iface *f = &res->ifaces[i];

			cir_jgen_map_open(g);
			cir_jgen_kstr(g, "name", f->name);
			if (f->mac[0])
				cir_jgen_kstr(g, "mac", f->mac);
			if (f->mtu && cir_cni_version_cmp(version, "1.0.0") >= 0)
				cir_jgen_kint(g, "mtu", f->mtu);
			if (f->sandbox[0])
				cir_jgen_kstr(g, "sandbox", f->sandbox);
			cir_jgen_map_close(g);
		}
		cir_jgen_arr_close(g);
	}
	if (res->n_ips) {
		cir_jgen_key(g, "ips");
		cir_jgen_arr_open(g);
		for (size_t i = 0; i < res->n_ips; i++) {
			const struct cir_cni_ip *ip = &res->ips[i];

			cir_jgen_map_open(g);
			if (tag_family)
				cir_jgen_kstr(g, "version", strchr(ip->address, ':') ? "6" : "4");
			cir_jgen_kstr(g, "address", ip->address);
			if (ip->gateway[0])
				cir_jgen_kstr(g, "gateway", ip->gateway);
			if (ip->iface >= 0)
				cir_jgen_kint(g, "interface", ip->iface);
			cir_jgen_map_close(g);
		}
		cir_jgen_arr_close(g);
	}
	if (res->n_routes) {
		cir_jgen_key(g, "routes");
		cir_jgen_arr_open(g);
		for (size_t i = 0; i < res->n_routes; i++) {
			cir_jgen_map_open(g);
			cir_jgen_kstr(g, "dst", res->routes[i].dst);
			if (res->routes[i].gw[0])
				cir_jgen_kstr(g, "gw", res->routes[i].gw);
			cir_jgen_map_close(g);
		}
		cir_jgen_arr_close(g);
	}
	cir_jgen_key(g, "dns");
	cir_jgen_map_open(g);
	emit_list(g, "nameservers", &d->nameservers[0][0], sizeof(d->nameservers[0]),
		  d->n_nameservers);
	if (d->domain[0])
		cir_jgen_kstr(g, "domain", d->domain);
	emit_list(g, "search", &d->search[0][0], sizeof(d->search[0]), d->n_search);
	emit_list(g, "options", &d->options[0][0], sizeof(d->options[0]), d->n_options);
	cir_jgen_map_close(g);
	cir_jgen_map_close(g);
}

int cir_cni_result_format(const struct cir_cni_result *res, const char *version,
			  struct cir_jgen **gen, const char **out, struct cir_error *err)
{
	struct cir_jgen *g = NULL;
	int r;

	r = cir_jgen_new(&g, false, err);
	if (r < 0)
		return r;
	cir_cni_result_emit(g, res, version);
	r = cir_jgen_finish(g, out, NULL, err);
	if (r < 0) {
		cir_jgen_free(g);
		return r;
	}
	*gen = g;
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

	if (cir_jnode_type(c.root) != CIR_JOBJECT) {
		r = cir_err_code(err, CIR_CNI_DECODE, EINVAL,
				 "network configuration: expected a JSON object");
		goto fail;
	}
	r = cir_json_str(c.root, "cniVersion", &c.cni_version, err);
	if (r <= 0) {
		if (r == 0)
			r = cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					 "network configuration: cniVersion is missing");
		goto fail;
	}
	if (!cir_cni_version_supported(c.cni_version)) {
		char show[32];

		r = cir_err_code(err, CIR_CNI_INCOMPATIBLE_VERSION, EINVAL,
				 "incompatible CNI versions: config is \"%s\", plugin supports "
				 "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
				 cir_err_shown(c.cni_version, show, sizeof(show)));
		goto fail;
	}
	if (cmd == CIR_CNI_CMD_VERSION) {
		*conf = c;
		return 0;
	}
	r = cir_json_str(c.root, "name", &c.name, err);
	if (r == 0)
		r = cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				 "network configuration: name is missing");
	if (r < 0)
		goto fail;
	r = cir_cni_check_network_name(c.name, err);
	if (r < 0)
		goto fail;
	r = cir_json_str(c.root, "type", &c.type, err);
	if (r < 0)
		goto fail;
	r = cir_json_obj(c.root, "ipam", &c.ipam, err);
	if (r < 0)
		goto fail;
	if (c.ipam) {
		r = cir_json_str(c.ipam, "type", &c.ipam_type, err);
		if (r < 0) {
			cir_err_wrap(err, "ipam");
			goto fail;
		}
	}
	r = cir_json_obj(c.root, "runtimeConfig", &c.runtime_config, err);
	if (r < 0)
		goto fail;
	r = cir_json_obj(c.root, "prevResult", &c.prev_result_node, err);
	if (r < 0)
		goto fail;
	if (c.prev_result_node) {
		r = cir_cni_result_parse(c.prev_result_node, &c.prev_result, err);
		if (r < 0) {
			cir_err_wrap(err, "prevResult");
			goto fail;
		}
		c.has_prev_result = true;
	}
	*conf = c;
	return 0;
fail:
	cir_cni_conf_free(&c);
	return r;
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

/* CHECK came with 0.4.0, GC and STATUS with 1.1.0. */
static int version_gate(enum cir_cni_cmd cmd, const char *version, struct cir_error *err)
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

static int read_all(int fd, char **out, size_t *len, size_t max, struct cir_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0, n = 0;

	for (;;) {
		ssize_t k;

		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb)
				return cir_err(err, ENOMEM, "out of memory");
			buf = nb;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return cir_err_code(err, CIR_CNI_IO, errno, "read: %s", strerror(errno));
		if (k == 0)
			break;
		n += k;
		if (n > max)
			return cir_err_code(err, CIR_CNI_DECODE, EFBIG, "input larger than %zu bytes",
					    max);
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return cir_err(err, ENOMEM, "out of memory");
	}
	buf[n] = '\0';
	*out = TAKE_PTR(buf);
	*len = n;
	return 0;
}

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

int cir_cni_main(const struct cir_cni_plugin *p,
		 int (*sandbox)(const struct cir_cni_conf *conf, struct cir_error *err))
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_env env = { 0 };
	struct cir_cni_conf conf = { 0 };
	struct cir_cni_result *res = NULL;
	struct cir_cni_ctx ctx = { 0 };
	_cleanup_free_ char *in = NULL;
	const char *version = NULL;
	const char *cmd = getenv("CNI_COMMAND");
	char hint[16];
	size_t inlen = 0;
	int r, rc = 1;

	/* Without CNI_COMMAND a person probably ran us: say what we are on
	 * stderr, and still answer with the CNI error a runtime expects. */
	if (!cmd || !*cmd) {
		fprintf(stderr, "%s: %s\nCNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, "
			"1.0.0, 1.1.0\n", p->name, p->about);
		cir_err_code(&err, CIR_CNI_INVALID_ENV, EINVAL,
			     "required env variable CNI_COMMAND is missing");
		report(p, NULL, &err);
		return 1;
	}
	if (strcmp(cmd, "VERSION") == 0) {
		/* VERSION runs no delegate: the filter for an empty config. */
		if (sandbox(&conf, &err) < 0) {
			cir_cni_print_error(NULL, &err);
			return 1;
		}
		/* stdin is optional for VERSION. */
		if (!isatty(STDIN_FILENO) && read_all(STDIN_FILENO, &in, &inlen, CIR_JSON_MAX,
						      &err) == 0 && inlen) {
			_cleanup_json_ struct cir_json *j = NULL;
			const char *v = NULL;

			if (cir_json_parse(in, inlen, &j, &err) == 0 &&
			    cir_json_str(cir_json_root(j), "cniVersion", &v, &err) > 0)
				return print_version(v);
		}
		return print_version(NULL);
	}

	r = read_all(STDIN_FILENO, &in, &inlen, CIR_JSON_MAX, &err);
	if (r < 0)
		goto out;
	r = cir_cni_env_load(&env, &err);
	if (r < 0) {
		/* Best effort: answer in the caller's version. */
		version = version_hint(in, inlen, hint, sizeof(hint));
		goto out;
	}
	r = cir_cni_conf_parse(in, inlen, env.cmd, &conf, &err);
	if (r < 0) {
		/* The version may still be readable for the error reply. */
		version = version_hint(in, inlen, hint, sizeof(hint));
		goto out;
	}
	version = conf.cni_version;
	/* Input parsed: from here on only the calls this plugin needs, with
	 * exec only if this config makes it run a delegate (lib/sandbox.h). */
	r = sandbox(&conf, &err);
	if (r < 0)
		goto out;

	res = calloc(1, sizeof(*res));
	if (!res) {
		r = cir_err(&err, ENOMEM, "out of memory");
		goto out;
	}
	ctx.env = &env;
	ctx.conf = &conf;
	ctx.result = res;

	r = version_gate(env.cmd, version, &err);
	if (r < 0)
		goto out;
	switch (env.cmd) {
	case CIR_CNI_CMD_ADD:
		r = p->add ? p->add(&ctx, &err)
			   : cir_err_code(&err, CIR_CNI_INVALID_ENV, EOPNOTSUPP, "ADD not supported");
		if (r >= 0) {
			_cleanup_jgen_ struct cir_jgen *g = NULL;
			const char *out;

			r = cir_cni_result_format(res, version, &g, &out, &err);
			if (r >= 0)
				r = write_stdout(out, &err);
			if (r < 0) {
				/* The runtime never saw a result: ADD failed, and a
				 * failed ADD leaves nothing behind. */
				struct cir_error e2 = CIR_ERROR_INIT;

				cir_err_wrap(&err, "result");
				if (p->del && p->del(&ctx, &e2) < 0)
					cir_err_append(&err, "; undoing the ADD failed too: %s",
						       e2.msg);
				else
					cir_err_append(&err, "; the ADD was undone");
			}
		}
		break;
	case CIR_CNI_CMD_DEL:
		r = p->del ? p->del(&ctx, &err) : 0;
		break;
	case CIR_CNI_CMD_CHECK:
		r = p->check ? p->check(&ctx, &err) : 0;
		break;
	case CIR_CNI_CMD_GC:
		r = p->gc ? p->gc(&ctx, &err) : 0;
		break;
	case CIR_CNI_CMD_STATUS:
		r = p->status ? p->status(&ctx, &err) : 0;
		break;
	default:
		r = cir_err_code(&err, CIR_CNI_INVALID_ENV, EINVAL, "unsupported CNI_COMMAND");
		break;
	}
out:
	if (r < 0)
		report(p, version, &err);
	else
		rc = 0;
	free(res);
	cir_cni_conf_free(&conf);
	return rc;
}

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
	r = version_gate(cmd, conf.cni_version, err);
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
