// SPDX-License-Identifier: Apache-2.0
/*
 * cni_result.c - CNI results: building one, parsing (prevResult, a
 * delegate's stdout, the cached result), and emitting it in every
 * supported version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cni.h"
#include "utf8.h"

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

/* Each object of array key of n through one(), counted in *count. */
static int parse_array(const struct cir_jnode *n, const char *key, size_t max, size_t *count,
		       int (*one)(const struct cir_jnode *o, struct cir_cni_result *res,
				  struct cir_error *err),
		       struct cir_cni_result *res, struct cir_error *err)
{
	const struct cir_jnode *arr = NULL;
	int r = cir_json_arr(n, key, &arr, err);

	if (r < 0)
		return cir_err_wrap(err, "result");
	for (size_t i = 0; r > 0 && i < cir_jnode_len(arr); i++) {
		const struct cir_jnode *o = cir_jnode_at(arr, i);

		if (*count >= max)
			return cir_err_code(err, CIR_CNI_DECODE, E2BIG, "result: too many %s", key);
		if (cir_jnode_type(o) != CIR_JOBJECT)
			return cir_err_code(err, CIR_CNI_DECODE, EINVAL,
					    "result: %s: expected objects", key);
		if (one(o, res, err) < 0)
			return -err->errnum;
		(*count)++;
	}
	return 0;
}

static int parse_iface(const struct cir_jnode *o, struct cir_cni_result *res,
		       struct cir_error *err)
{
	struct cir_cni_iface *f = &res->ifaces[res->n_ifaces];
	uint32_t mtu = 0;

	if (bounded_str(o, "name", f->name, sizeof(f->name), true, "result interface", err) < 0 ||
	    bounded_str(o, "mac", f->mac, sizeof(f->mac), false, "result interface", err) < 0 ||
	    bounded_str(o, "sandbox", f->sandbox, sizeof(f->sandbox), false, "result interface",
			err) < 0)
		return -err->errnum;
	if (cir_json_u32(o, "mtu", 1u << 20, &mtu, err) < 0)
		return cir_err_wrap(err, "result interface");
	f->mtu = mtu;
	return 0;
}

static int parse_ip(const struct cir_jnode *o, struct cir_cni_result *res, struct cir_error *err)
{
	struct cir_cni_ip *ip = &res->ips[res->n_ips];
	uint32_t idx;
	int has;

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
	return 0;
}

static int parse_route(const struct cir_jnode *o, struct cir_cni_result *res,
		       struct cir_error *err)
{
	struct cir_cni_route *rt = &res->routes[res->n_routes];

	if (bounded_str(o, "dst", rt->dst, sizeof(rt->dst), true, "result route", err) < 0 ||
	    bounded_str(o, "gw", rt->gw, sizeof(rt->gw), false, "result route", err) < 0)
		return -err->errnum;
	return 0;
}

static int parse_dns(const struct cir_jnode *n, struct cir_cni_dns *d, struct cir_error *err)
{
	const struct cir_jnode *dns = NULL;
	int r;

	r = cir_json_obj(n, "dns", &dns, err);
	if (r < 0)
		return cir_err_wrap(err, "result");
	if (r == 0)
		return 0;
	if (parse_str_list(dns, "nameservers", &d->nameservers[0][0], sizeof(d->nameservers[0]),
			   CIR_CNI_MAX_DNS, &d->n_nameservers, err) < 0 ||
	    parse_str_list(dns, "search", &d->search[0][0], sizeof(d->search[0]),
			   CIR_CNI_MAX_DNS, &d->n_search, err) < 0 ||
	    parse_str_list(dns, "options", &d->options[0][0], sizeof(d->options[0]),
			   CIR_CNI_MAX_DNS, &d->n_options, err) < 0 ||
	    bounded_str(dns, "domain", d->domain, sizeof(d->domain), false, "dns", err) < 0)
		return -err->errnum;
	return 0;
}

int cir_cni_result_parse(const struct cir_jnode *n, struct cir_cni_result *res,
			 struct cir_error *err)
{
	int r;

	memset(res, 0, sizeof(*res));
	if (cir_jnode_type(n) != CIR_JOBJECT)
		return cir_err_code(err, CIR_CNI_DECODE, EINVAL, "result: expected an object");
	if (cir_jnode_get(n, "ip4") || cir_jnode_get(n, "ip6"))
		return cir_err_code(err, CIR_CNI_INCOMPATIBLE_VERSION, EINVAL,
				    "result: version 0.2.0 results are not supported");
	r = parse_array(n, "interfaces", CIR_CNI_MAX_IFACES, &res->n_ifaces, parse_iface, res, err);
	if (r >= 0)
		r = parse_array(n, "ips", CIR_CNI_MAX_IPS, &res->n_ips, parse_ip, res, err);
	if (r >= 0)
		r = parse_array(n, "routes", CIR_CNI_MAX_ROUTES, &res->n_routes, parse_route, res,
				err);
	if (r >= 0)
		r = parse_dns(n, &res->dns, err);
	return r;
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

static void emit_ifaces(struct cir_jgen *g, const struct cir_cni_result *res,
			const char *version)
{
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

static void emit_ips(struct cir_jgen *g, const struct cir_cni_result *res, const char *version)
{
	/* 0.3.x and 0.4.0 tag each IP with its family. */
	bool tag_family = cir_cni_version_cmp(version, "1.0.0") < 0;

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

static void emit_routes(struct cir_jgen *g, const struct cir_cni_result *res)
{
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

static void emit_dns(struct cir_jgen *g, const struct cir_cni_dns *d)
{
	cir_jgen_key(g, "dns");
	cir_jgen_map_open(g);
	emit_list(g, "nameservers", &d->nameservers[0][0], sizeof(d->nameservers[0]),
		  d->n_nameservers);
	if (d->domain[0])
		cir_jgen_kstr(g, "domain", d->domain);
	emit_list(g, "search", &d->search[0][0], sizeof(d->search[0]), d->n_search);
	emit_list(g, "options", &d->options[0][0], sizeof(d->options[0]), d->n_options);
	cir_jgen_map_close(g);
}

void cir_cni_result_emit(struct cir_jgen *g, const struct cir_cni_result *res,
			 const char *version)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "cniVersion", version);
	if (res->n_ifaces)
		emit_ifaces(g, res, version);
	if (res->n_ips)
		emit_ips(g, res, version);
	if (res->n_routes)
		emit_routes(g, res);
	emit_dns(g, &res->dns);
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

