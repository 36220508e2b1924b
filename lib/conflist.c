// SPDX-License-Identifier: Apache-2.0
/*
 * conflist.c - conflists: check, normalize, describe and generate them,
 * and the chain runner (ADD in order with prevResult, DEL in reverse with
 * the cached result, CHECK, GC), as libcni does it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "names.h"
#include "netconf.h"


/* ---- conflists ---- */

int cir_conflist_check(const struct cir_jnode *root, struct cir_error *err)
{
	const struct cir_jnode *plugins = NULL;
	const char *v = NULL, *name = NULL;
	int r;

	if (cir_jnode_type(root) != CIR_JOBJECT)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "conflist: expected an object");
	if (cir_json_str(root, "cniVersion", &v, err) < 0 ||
	    cir_json_str(root, "name", &name, err) < 0 ||
	    cir_json_arr(root, "plugins", &plugins, err) < 0)
		return cir_err_wrap(err, "conflist");
	if (!v || !cir_cni_version_supported(v))
		return cir_err_code(err, CIR_CNI_INCOMPATIBLE_VERSION, EINVAL,
				    "conflist: unsupported cniVersion \"%s\"", v ? v : "");
	if (!name)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL, "conflist: name is missing");
	r = cir_cni_check_network_name(name, err);
	if (r < 0)
		return cir_err_wrap(err, "conflist");
	if (!plugins || cir_jnode_len(plugins) == 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "conflist: plugins must be a non-empty list");
	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		const struct cir_jnode *p = cir_jnode_at(plugins, i);
		const char *type = NULL;

		if (cir_jnode_type(p) != CIR_JOBJECT)
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "conflist: plugin %zu: expected an object", i);
		if (cir_json_str(p, "type", &type, err) < 0)
			return cir_err_wrap(err, "conflist: plugin %zu", i);
		if (!type || !*type || strchr(type, '/'))
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "conflist: plugin %zu: invalid type", i);
	}
	return 0;
}

static int version_check(const char *version, struct cir_error *err)
{
	if (version && !cir_cni_version_supported(version))
		return cir_err_code(err, CIR_CNI_INCOMPATIBLE_VERSION, EINVAL,
				    "unsupported cniVersion \"%.16s\" (" CIR_CNI_VERSIONS_TEXT ")",
				    version);
	return 0;
}

int cir_conflist_normalize(const char *text, size_t len, const char *name, const char *version,
			   char **out, struct cir_error *err)
{
	static const char *const skip[] = { "cniVersion", "name", NULL };
	_cleanup_json_ struct cir_json *j = NULL, *j2 = NULL;
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_free_ char *doc = NULL;
	const struct cir_jnode *root, *v;
	const char *cname = NULL;
	int r;

	r = version_check(version, err);
	if (r < 0)
		return r;
	r = cir_json_parse(text, len, &j, err);
	if (r < 0)
		return cir_err_wrap(err, "conflist");
	root = cir_json_root(j);
	if (cir_jnode_type(root) != CIR_JOBJECT)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
				    "conflist: expected an object");
	cir_json_str(root, "name", &cname, err);
	if (!name)
		name = cname ? cname : "";
	r = cir_jgen_new(&g, true, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	v = cir_jnode_get(root, "cniVersion");
	if (version) {
		cir_jgen_kstr(g, "cniVersion", version);
	} else if (v) {
		cir_jgen_key(g, "cniVersion");
		cir_jgen_node(g, v);
	}
	cir_jgen_kstr(g, "name", name);
	if (cir_jnode_get(root, "plugins") || !cir_jnode_get(root, "type")) {
		cir_jgen_members_except(g, root, skip);
	} else {
		/* A single-plugin .conf becomes a one-plugin list. */
		cir_jgen_key(g, "plugins");
		cir_jgen_arr_open(g);
		cir_jgen_map_open(g);
		cir_jgen_members_except(g, root, skip);
		cir_jgen_map_close(g);
		cir_jgen_arr_close(g);
	}
	cir_jgen_map_close(g);
	r = cir_jgen_finish_dup(g, &doc, err);
	if (r < 0)
		return r;
	r = cir_json_parse(doc, strlen(doc), &j2, err);
	if (r < 0)
		return r;
	r = cir_conflist_check(cir_json_root(j2), err);
	if (r < 0)
		return r;
	*out = TAKE_PTR(doc);
	return 0;
}

/* A subnet an imported chain names, as the record keeps it; one that does
 * not parse, or a second of a family, is not recorded. */
static void describe_subnet(struct cir_netconf *nc, const char *subnet, const char *gw)
{
	struct cir_error e = CIR_ERROR_INIT;

	if (gw && strlen(gw) >= CIR_IP_STRLEN)
		gw = NULL;
	cir_netconf_add_subnet(nc, subnet, gw, &e);
}

void cir_conflist_describe(const struct cir_jnode *root, struct cir_netconf *nc)
{
	const struct cir_jnode *plugins = cir_jnode_get(root, "plugins");
	const char *name = cir_jnode_str(cir_jnode_get(root, "name"));

	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		const struct cir_jnode *p = cir_jnode_at(plugins, i);
		const char *type = cir_jnode_str(cir_jnode_get(p, "type"));
		const struct cir_jnode *ipam = cir_jnode_get(p, "ipam");
		const char *subnet = cir_jnode_str(cir_jnode_get(ipam, "subnet"));
		const char *gw = cir_jnode_str(cir_jnode_get(ipam, "gateway"));
		const struct cir_jnode *ranges = cir_jnode_get(ipam, "ranges");
		const struct cir_jnode *mtu = cir_jnode_get(p, "mtu");

		if (!type)
			continue;
		if (!nc->bridge[0] && (strcmp(type, "bridge") == 0 ||
				       strcmp(type, CIR_NETCONF_BRIDGE_PLUGIN) == 0 ||
				       strcmp(type, CIR_NETCONF_OVS_PLUGIN) == 0)) {
			const char *br = cir_jnode_str(cir_jnode_get(p, "bridge"));
			const char *sock = cir_jnode_str(cir_jnode_get(p, "ovsdbSocket"));

			if (strcmp(type, CIR_NETCONF_OVS_PLUGIN) == 0) {
				struct cir_error e = CIR_ERROR_INIT;

				nc->driver = CIR_NET_DRIVER_OVS;
				if (cir_json_u32(p, "vlan", 4094, &nc->vlan, &e) < 0)
					nc->vlan = 0;
				if (sock && strlen(sock) < sizeof(nc->ovsdb))
					snprintf(nc->ovsdb, sizeof(nc->ovsdb), "%s", sock);
			}

			if (br && strlen(br) < sizeof(nc->bridge))
				snprintf(nc->bridge, sizeof(nc->bridge), "%s", br);
			else if (strcmp(type, "bridge") == 0)
				snprintf(nc->bridge, sizeof(nc->bridge), "cni0");
			else if (name)
				cir_name_bridge(name, nc->bridge);
			if (mtu && cir_jnode_type(mtu) == CIR_JNUMBER) {
				struct cir_error e = CIR_ERROR_INIT;

				cir_json_u32(p, "mtu", 65535, &nc->mtu, &e);
			}
		}
		if (nc->n_subnets)
			continue;
		if (subnet) {
			describe_subnet(nc, subnet, gw);
			continue;
		}
		/* host-local's ranges: the first range of each set (one set
		 * per family for dual stack). */
		for (size_t k = 0; k < cir_jnode_len(ranges); k++) {
			const struct cir_jnode *r0 = cir_jnode_at(cir_jnode_at(ranges, k), 0);

			subnet = cir_jnode_str(cir_jnode_get(r0, "subnet"));
			gw = cir_jnode_str(cir_jnode_get(r0, "gateway"));
			if (subnet)
				describe_subnet(nc, subnet, gw);
		}
	}
}

/* circuit-bridge's "ipam": circuit-ipam over nc's subnets. */
static void gen_ipam(struct cir_jgen *g, const struct cir_netconf *nc)
{
	cir_jgen_key(g, "ipam");
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "type", CIR_NETCONF_IPAM_PLUGIN);
	if (nc->cluster) {
		/* Addresses from this host's blocks (lib/cluster_alloc.c). */
		cir_jgen_key(g, "cluster");
		cir_jgen_map_open(g);
		cir_jgen_kint(g, "blockSize", nc->block_size);
		cir_jgen_map_close(g);
	}
	if (nc->n_subnets <= 1) {
		cir_jgen_kstr(g, "subnet", nc->subnet);
		if (nc->gateway[0])
			cir_jgen_kstr(g, "gateway", nc->gateway);
	} else {
		/* host-local's form: one range set per family. */
		cir_jgen_key(g, "ranges");
		cir_jgen_arr_open(g);
		for (unsigned int i = 0; i < nc->n_subnets; i++) {
			cir_jgen_arr_open(g);
			cir_jgen_map_open(g);
			cir_jgen_kstr(g, "subnet", nc->subnets[i]);
			if (nc->gateways[i][0])
				cir_jgen_kstr(g, "gateway", nc->gateways[i]);
			cir_jgen_map_close(g);
			cir_jgen_arr_close(g);
		}
		cir_jgen_arr_close(g);
	}
	cir_jgen_map_close(g);
}

/* The chain's first entry: circuit-bridge. */
static void gen_bridge(struct cir_jgen *g, const struct cir_netconf *nc)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "type", nc->driver == CIR_NET_DRIVER_OVS ? CIR_NETCONF_OVS_PLUGIN
							 : CIR_NETCONF_BRIDGE_PLUGIN);
	cir_jgen_kstr(g, "bridge", nc->bridge);
	if (nc->driver == CIR_NET_DRIVER_OVS && nc->vlan)
		cir_jgen_kint(g, "vlan", nc->vlan);
	if (nc->driver == CIR_NET_DRIVER_OVS && nc->ovsdb[0])
		cir_jgen_kstr(g, "ovsdbSocket", nc->ovsdb);
	cir_jgen_kbool(g, "isGateway", true);
	cir_jgen_kbool(g, "isDefaultGateway", true);
	/* Members register with the masquerade too (lib/masq.h), so the
	 * exported conflist masquerades on its own in any runtime; the CLI
	 * holds the network's own reference from create to delete. */
	cir_jgen_kbool(g, "ipMasq", nc->masquerade);
	if (nc->masquerade && !nc->masquerade6)
		cir_jgen_kbool(g, "ipMasq6", false);
	if (nc->mtu)
		cir_jgen_kint(g, "mtu", nc->mtu);
	gen_ipam(g, nc);
	cir_jgen_map_close(g);
}

/* Published ports: a no-op for an ADD that asks for none. */
static void gen_portmap(struct cir_jgen *g)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "type", CIR_NETCONF_PORTMAP_PLUGIN);
	cir_jgen_key(g, "capabilities");
	cir_jgen_map_open(g);
	cir_jgen_kbool(g, "portMappings", true);
	cir_jgen_map_close(g);
	cir_jgen_map_close(g);
}

int cir_conflist_generate(const struct cir_netconf *nc, const char *version, char **out,
			  struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r;

	r = version_check(version, err);
	if (r < 0)
		return r;
	r = cir_jgen_new(&g, true, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "cniVersion", version ? version : CIR_NETCONF_CNI_VERSION);
	cir_jgen_kstr(g, "name", nc->name);
	cir_jgen_key(g, "plugins");
	cir_jgen_arr_open(g);
	gen_bridge(g, nc);
	gen_portmap(g);
	cir_jgen_arr_close(g);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

/* ---- the chain runner ---- */

static const char *chain_version(const struct cir_json *conflist)
{
	const char *v = cir_jnode_str(cir_jnode_get(cir_json_root(conflist), "cniVersion"));

	return v ? v : CIR_NETCONF_CNI_VERSION;
}

static const struct cir_jnode *chain_plugins(const struct cir_json *conflist)
{
	return cir_jnode_get(cir_json_root(conflist), "plugins");
}

/*
 * One plugin's stdin: cniVersion (the list's, unless version) and name of
 * the list, the plugin's own keys, prevResult when given, GC's valid
 * attachments when given.
 */
/* The capability arguments of caps that plugin declares true (libcni's
 * runtimeConfig): how many. */
static size_t caps_wanted(const struct cir_jnode *plugin, const struct cir_jnode *caps)
{
	const struct cir_jnode *pc = cir_jnode_get(plugin, "capabilities");
	size_t n = 0;

	if (!caps || cir_jnode_type(pc) != CIR_JOBJECT)
		return 0;
	for (size_t i = 0; i < cir_jnode_nkeys(caps); i++) {
		const struct cir_jnode *v = cir_jnode_get(pc, cir_jnode_key_at(caps, i));

		if (v && cir_jnode_type(v) == CIR_JBOOL && cir_jnode_bool(v))
			n++;
	}
	return n;
}

bool cir_conflist_has_capability(const struct cir_json *conflist, const char *cap)
{
	const struct cir_jnode *plugins = chain_plugins(conflist);

	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		const struct cir_jnode *pc = cir_jnode_get(cir_jnode_at(plugins, i), "capabilities");
		const struct cir_jnode *v = cir_jnode_get(pc, cap);

		if (v && cir_jnode_type(v) == CIR_JBOOL && cir_jnode_bool(v))
			return true;
	}
	return false;
}

static int plugin_stdin(const struct cir_json *conflist, const char *version,
			const struct cir_jnode *plugin, const struct cir_jnode *prev,
			const struct cir_chain_attachment *valid, size_t n_valid, bool gc,
			bool keep_live, const struct cir_jnode *caps, char **out,
			struct cir_error *err)
{
	static const char *const skip[] = { "cniVersion", "name", "prevResult", NULL };
	static const char *const skip_rc[] = { "cniVersion", "name", "prevResult",
					       "runtimeConfig", NULL };
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	const struct cir_jnode *root = cir_json_root(conflist);
	size_t ncaps = caps_wanted(plugin, caps);
	const char *name;
	int r;

	r = cir_jgen_new(&g, false, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "cniVersion", version ? version : chain_version(conflist));
	/* A conflist damaged in the store may lack its name: the plugin
	 * reports that, the runner must not crash on it. */
	name = cir_jnode_str(cir_jnode_get(root, "name"));
	cir_jgen_kstr(g, "name", name ? name : "");
	cir_jgen_members_except(g, plugin, ncaps ? skip_rc : skip);
	if (ncaps) {
		const struct cir_jnode *pc = cir_jnode_get(plugin, "capabilities");

		cir_jgen_key(g, "runtimeConfig");
		cir_jgen_map_open(g);
		for (size_t i = 0; i < cir_jnode_nkeys(caps); i++) {
			const char *k = cir_jnode_key_at(caps, i);
			const struct cir_jnode *v = cir_jnode_get(pc, k);

			if (v && cir_jnode_type(v) == CIR_JBOOL && cir_jnode_bool(v)) {
				cir_jgen_key(g, k);
				cir_jgen_node(g, cir_jnode_value_at(caps, i));
			}
		}
		cir_jgen_map_close(g);
	}
	if (prev) {
		cir_jgen_key(g, "prevResult");
		cir_jgen_node(g, prev);
	}
	if (gc) {
		cir_jgen_key(g, "cni.dev/valid-attachments");
		cir_jgen_arr_open(g);
		for (size_t i = 0; i < n_valid; i++) {
			cir_jgen_map_open(g);
			cir_jgen_kstr(g, "containerID", valid[i].cid);
			cir_jgen_kstr(g, "ifname", valid[i].ifname);
			cir_jgen_map_close(g);
		}
		cir_jgen_arr_close(g);
		if (keep_live)
			cir_jgen_kbool(g, CIR_CNI_GC_KEEP_LIVE, true);
	}
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

static void exec_env(const struct cir_chain_rt *rt, struct cir_cni_exec_env *x)
{
	x->containerid = rt->cid;
	x->netns = rt->netns && *rt->netns ? rt->netns : NULL;
	x->ifname = rt->ifname;
	x->args = rt->args;
	x->path = rt->path;
}

static int run_one(const struct cir_json *conflist, const struct cir_jnode *plugin,
		   enum cir_cni_cmd cmd, const struct cir_chain_rt *rt,
		   const struct cir_jnode *prev, char **out_stdout, struct cir_cni_result *res,
		   struct cir_error *err)
{
	_cleanup_free_ char *in = NULL;
	struct cir_cni_exec_env x;
	const char *type = cir_jnode_str(cir_jnode_get(plugin, "type"));
	int r;

	r = plugin_stdin(conflist, NULL, plugin, prev, NULL, 0, false, false, rt->caps, &in, err);
	if (r < 0)
		return r;
	exec_env(rt, &x);
	r = cir_cni_exec(type, rt->path, cmd, &x, in, strlen(in), res, out_stdout, err);
	if (r < 0) {
		char show[CIR_ERR_SHOWN_MAX];

		return cir_err_wrap(err, "%s %s", cir_err_shown(type ? type : "?", show, sizeof(show)),
				    cir_cni_cmd_name(cmd));
	}
	return 0;
}

int cir_chain_add(const struct cir_json *conflist, const struct cir_chain_rt *rt,
		  char **result_json, struct cir_cni_result *res, struct cir_error *err)
{
	const struct cir_jnode *plugins = chain_plugins(conflist);
	_cleanup_json_ struct cir_json *prev = NULL;
	_cleanup_free_ char *last = NULL;
	struct cir_cni_result tmp;
	size_t n = cir_jnode_len(plugins);
	int r;

	if (n == 0)
		return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL, "conflist has no plugins");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *out = NULL;

		r = run_one(conflist, cir_jnode_at(plugins, i), CIR_CNI_CMD_ADD, rt,
			    prev ? cir_json_root(prev) : NULL, &out, &tmp, err);
		if (r < 0)
			goto fail;
		if (prev)
			cir_json_free(TAKE_PTR(prev));
		r = cir_json_parse(out, strlen(out), &prev, err);
		if (r < 0)
			goto fail;
		free(last);
		last = TAKE_PTR(out);
	}
	if (res)
		*res = tmp;
	*result_json = TAKE_PTR(last);
	return 0;
fail:
	{
		struct cir_error e2 = CIR_ERROR_INIT;

		cir_chain_del(conflist, rt, last, &e2);
	}
	return r;
}

int cir_chain_del(const struct cir_json *conflist, const struct cir_chain_rt *rt,
		  const char *result_json, struct cir_error *err)
{
	const struct cir_jnode *plugins = chain_plugins(conflist);
	_cleanup_json_ struct cir_json *prev = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	int first = 0;

	if (result_json && cir_cni_version_cmp(chain_version(conflist), "0.4.0") >= 0 &&
	    cir_json_parse(result_json, strlen(result_json), &prev, &e) < 0)
		prev = NULL;   /* a damaged cache must not block the teardown */
	for (size_t i = cir_jnode_len(plugins); i-- > 0;) {
		int r = run_one(conflist, cir_jnode_at(plugins, i), CIR_CNI_CMD_DEL, rt,
				prev ? cir_json_root(prev) : NULL, NULL, NULL, &e);

		if (r < 0 && first == 0) {
			first = r;
			*err = e;
		}
	}
	return first;
}

int cir_chain_check(const struct cir_json *conflist, const struct cir_chain_rt *rt,
		    const char *result_json, struct cir_error *err)
{
	const struct cir_jnode *plugins = chain_plugins(conflist);
	_cleanup_json_ struct cir_json *prev = NULL;
	int r;

	if (cir_cni_version_cmp(chain_version(conflist), "0.4.0") < 0)
		return cir_err(err, ENOTSUP, "cniVersion %s has no CHECK", chain_version(conflist));
	if (!result_json)
		return cir_err(err, ENOTSUP, "no cached result to check");
	r = cir_json_parse(result_json, strlen(result_json), &prev, err);
	if (r < 0)
		return cir_err_wrap(err, "cached result");
	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		r = run_one(conflist, cir_jnode_at(plugins, i), CIR_CNI_CMD_CHECK, rt,
			    cir_json_root(prev), NULL, NULL, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cir_chain_gc(const struct cir_json *conflist, const char *path,
		 const struct cir_chain_attachment *valid, size_t n, bool keep_live,
		 struct cir_error *err)
{
	const struct cir_jnode *plugins = chain_plugins(conflist);
	struct cir_error e = CIR_ERROR_INIT;
	/* Keep-live GC runs Circuit's own plugins only, and they all know GC
	 * whatever cniVersion the conflist was exported at for other runtimes. */
	const char *version = keep_live ? CIR_CNI_SPEC_VERSION : NULL;
	int first = 0;

	if (!keep_live && cir_cni_version_cmp(chain_version(conflist), "1.1.0") < 0)
		return 0;
	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		const struct cir_jnode *p = cir_jnode_at(plugins, i);
		const char *type = cir_jnode_str(cir_jnode_get(p, "type"));
		struct cir_cni_exec_env x = { .path = path };
		_cleanup_free_ char *in = NULL;
		int r;

		/* A plugin that does not know the keep-live rule would release
		 * the attachments other runtimes made: leave it alone. */
		if (keep_live && !cir_cni_builtin_known(type))
			continue;
		r = plugin_stdin(conflist, version, p, NULL, valid, n, true, keep_live, NULL, &in,
				 &e);
		if (r >= 0)
			r = cir_cni_exec(type, path, CIR_CNI_CMD_GC, &x, in, strlen(in), NULL, NULL,
					 &e);
		if (r < 0 && first == 0) {
			char show[CIR_ERR_SHOWN_MAX];

			first = r;
			cir_err_wrap(&e, "%s GC", cir_err_shown(type ? type : "?", show, sizeof(show)));
			*err = e;
		}
	}
	return first;
}
