// SPDX-License-Identifier: Apache-2.0
/*
 * qosnet.c - the records of a network's QoS: the circuit-qos chain entry
 * (one parser, one emitter, for the CLI and the plugin), qos.json (the
 * bridge's settings), loading both and rewriting the chain.  What is done
 * with them in the kernel is qosnet_apply.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "qosnet.h"
#include "store.h"

#define QOS_RECORD "qos.json"
#define QOS_RECORD_MAX 4096

/* ---- the chain entry ---- */

static struct cir_qos_member *entry_find(const struct cir_qos_entry *e, const char *cid)
{
	for (size_t i = 0; cid && i < e->n_ov; i++)
		if (strcmp(e->ov[i].cid, cid) == 0)
			return &e->ov[i];
	return NULL;
}

const struct cir_qos_dirs *cir_qos_entry_get(const struct cir_qos_entry *e, const char *cid)
{
	const struct cir_qos_member *o = entry_find(e, cid);

	return o ? &o->q : &e->def;
}

bool cir_qos_entry_has(const struct cir_qos_entry *e, const char *cid)
{
	return entry_find(e, cid) != NULL;
}

int cir_qos_entry_set(struct cir_qos_entry *e, const char *cid, const struct cir_qos_dirs *d)
{
	struct cir_qos_member *o = entry_find(e, cid), *n;

	if (!o) {
		n = realloc(e->ov, (e->n_ov + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		e->ov = n;
		o = &e->ov[e->n_ov++];
		snprintf(o->cid, sizeof(o->cid), "%s", cid);
	}
	o->q = *d;
	return 0;
}

void cir_qos_entry_drop(struct cir_qos_entry *e, const char *cid)
{
	struct cir_qos_member *o = entry_find(e, cid);

	if (o)
		*o = e->ov[--e->n_ov];
}

void cir_qos_entry_free(struct cir_qos_entry *e)
{
	free(e->ov);
	memset(e, 0, sizeof(*e));
}

int cir_qos_entry_parse(const struct cir_jnode *entry, struct cir_qos_entry *e,
			struct cir_error *err)
{
	const struct cir_jnode *ctrs = NULL;
	int r;

	memset(e, 0, sizeof(*e));
	r = cir_qos_dirs_parse(entry, &e->def, err);
	if (r >= 0)
		r = cir_json_obj(entry, "containers", &ctrs, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cir_jnode_nkeys(ctrs); i++) {
		const char *cid = cir_jnode_key_at(ctrs, i);
		struct cir_qos_dirs d = { 0 };

		r = cir_qos_dirs_parse(cir_jnode_value_at(ctrs, i), &d, err);
		if (r < 0)
			return cir_err_wrap(err, "containers.%s", cid);
		if (strlen(cid) > CIR_CNI_ID_MAX)
			return cir_err(err, EINVAL, "containers: id of %zu bytes", strlen(cid));
		if (cir_qos_entry_set(e, cid, &d) < 0)
			return cir_err(err, ENOMEM, "out of memory");
	}
	return 0;
}

void cir_qos_entry_emit(struct cir_jgen *g, const struct cir_qos_entry *e)
{
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "type", CIR_QOS_PLUGIN);
	cir_qos_dirs_emit(g, &e->def);
	if (e->n_ov) {
		cir_jgen_key(g, "containers");
		cir_jgen_map_open(g);
		for (size_t i = 0; i < e->n_ov; i++) {
			cir_jgen_key(g, e->ov[i].cid);
			cir_jgen_map_open(g);
			cir_qos_dirs_emit(g, &e->ov[i].q);
			cir_jgen_map_close(g);
		}
		cir_jgen_map_close(g);
	}
	cir_jgen_map_close(g);
}

static int invalid(struct cir_error *err, const char *ctx)
{
	err->code = CIR_CNI_INVALID_CONFIG;
	return cir_err_wrap(err, "%s", ctx);
}

int cir_qos_entry_for_container(const struct cir_cni_conf *conf, const char *cid,
				struct cir_qos_dirs *d, struct cir_error *err)
{
	const struct cir_jnode *obj = conf->root, *per = NULL, *bw = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	r = cir_json_obj(conf->root, "containers", &per, err);
	if (r < 0)
		return invalid(err, "qos");
	if (r > 0 && cid) {
		const struct cir_jnode *mine = cir_jnode_get(per, cid);

		if (mine) {
			if (cir_jnode_type(mine) != CIR_JOBJECT)
				return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
						    "qos: containers.%s: expected object", cid);
			obj = mine;
		}
	}
	r = cir_qos_dirs_parse(obj, d, err);
	if (r < 0)
		return invalid(err, obj == conf->root ? "qos" : "qos: containers entry");
	if (conf->runtime_config) {
		r = cir_json_obj(conf->runtime_config, "bandwidth", &bw, err);
		if (r < 0)
			return invalid(err, "runtimeConfig");
		if (r > 0 && (r = cir_qos_bandwidth_parse(bw, d, err)) < 0)
			return invalid(err, "runtimeConfig.bandwidth");
	}
	if ((r = cir_qos_validate(&d->ingress, err)) < 0)
		return invalid(err, "qos ingress (into the container)");
	if ((r = cir_qos_validate(&d->egress, err)) < 0)
		return invalid(err, "qos egress (out of the container)");
	return 0;
}

/* ---- loading a network's records ---- */

/* The chain's circuit-qos entry, or NULL. */
static const struct cir_jnode *chain_entry(const struct cir_network *n, bool *bandwidth)
{
	const struct cir_jnode *plugins = cir_jnode_get(cir_json_root(n->conflist), "plugins");
	const struct cir_jnode *found = NULL;

	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		const struct cir_jnode *p = cir_jnode_at(plugins, i);
		const char *type = cir_jnode_str(cir_jnode_get(p, "type"));

		if (type && strcmp(type, CIR_QOS_PLUGIN) == 0)
			found = p;
		else if (type && strcmp(type, "bandwidth") == 0 && bandwidth)
			*bandwidth = true;
	}
	return found;
}

/* qos.json: {"network": {settings}}. */
static int record_read(struct cir_network *n, struct cir_qos *net, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	const struct cir_jnode *obj = NULL;
	char buf[QOS_RECORD_MAX];
	int r;

	r = cir_store_read(n->fd, QOS_RECORD, buf, sizeof(buf), err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	r = cir_json_parse(buf, (size_t)r, &j, err);
	if (r >= 0)
		r = cir_json_obj(cir_json_root(j), "network", &obj, err);
	if (r > 0)
		r = cir_qos_conf_parse(obj, net, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: %s", n->conf.name, QOS_RECORD);
	return 0;
}

/* Rewrite qos.json for the network-level settings (removed when empty). */
int cir_qosnet_record_write(struct cir_network *n, const struct cir_qos *net,
			    struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	const char *buf;
	size_t len;
	int r;

	if (cir_qos_is_empty(net)) {
		r = cir_store_unlink(n->fd, QOS_RECORD, err);
		return r < 0 ? r : 0;
	}
	r = cir_jgen_new(&g, true, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_key(g, "network");
	cir_jgen_map_open(g);
	cir_qos_conf_emit(g, net);
	cir_jgen_map_close(g);
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, &buf, &len, err);
	if (r < 0)
		return r;
	return cir_store_write(n->fd, QOS_RECORD, buf, len, err);
}

int cir_qosnet_load(struct cir_network *n, struct cir_qosnet *st, struct cir_error *err)
{
	const struct cir_jnode *e;
	int r;

	memset(st, 0, sizeof(*st));
	r = record_read(n, &st->net, err);
	if (r < 0)
		return r;
	e = chain_entry(n, &st->bandwidth);
	if (!e)
		return 0;
	r = cir_qos_entry_parse(e, &st->chain, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: %s in the chain", n->conf.name,
				    CIR_QOS_PLUGIN);
	return 0;
}

void cir_qosnet_free(struct cir_qosnet *st)
{
	cir_qos_entry_free(&st->chain);
}

/* Rewrite the conflist with the circuit-qos entry e (dropped when it holds
 * nothing), and swap the new document into n. */
int cir_qosnet_chain_write(struct cir_network *n, const struct cir_qos_entry *e,
			   struct cir_error *err)
{
	static const char *const skip[] = { "plugins", NULL };
	const struct cir_jnode *root = cir_json_root(n->conflist);
	const struct cir_jnode *plugins = cir_jnode_get(root, "plugins");
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_json_ struct cir_json *j = NULL;
	_cleanup_free_ char *raw = NULL;
	const char *buf;
	size_t len;
	int r;

	r = cir_jgen_new(&g, true, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_members_except(g, root, skip);
	cir_jgen_key(g, "plugins");
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < cir_jnode_len(plugins); i++) {
		const struct cir_jnode *p = cir_jnode_at(plugins, i);
		const char *type = cir_jnode_str(cir_jnode_get(p, "type"));

		if (!type || strcmp(type, CIR_QOS_PLUGIN) != 0)
			cir_jgen_node(g, p);
	}
	if (!cir_qos_dirs_is_empty(&e->def) || e->n_ov)
		cir_qos_entry_emit(g, e);
	cir_jgen_arr_close(g);
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, &buf, &len, err);
	if (r >= 0)
		r = cir_json_parse(buf, len, &j, err);
	if (r >= 0)
		r = cir_conflist_check(cir_json_root(j), err);
	if (r < 0)
		return r;
	raw = strndup(buf, len);
	if (!raw)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_store_write(n->fd, CIR_NETCONF_CONFLIST, buf, len, err);
	if (r < 0)
		return cir_err_wrap(err, "network %s: conflist", n->conf.name);
	cir_json_free(n->conflist);
	n->conflist = TAKE_PTR(j);
	free(n->conflist_raw);
	n->conflist_raw = TAKE_PTR(raw);
	return 0;
}

void cir_qosnet_emit_settings(struct cir_jgen *g, const char *key, const struct cir_qos_dirs *d)
{
	cir_jgen_key(g, key);
	if (cir_qos_dirs_is_empty(d)) {
		cir_jgen_null(g);
		return;
	}
	cir_jgen_map_open(g);
	cir_qos_dirs_emit(g, d);
	cir_jgen_map_close(g);
}

void cir_qosnet_emit(struct cir_jgen *g, const struct cir_qosnet *st)
{
	struct cir_qos_dirs net = { st->net, st->net };

	cir_jgen_key(g, "qos");
	cir_jgen_map_open(g);
	cir_qosnet_emit_settings(g, "network", &net);
	cir_qosnet_emit_settings(g, "default", &st->chain.def);
	cir_jgen_key(g, "containers");
	cir_jgen_map_open(g);
	for (size_t i = 0; i < st->chain.n_ov; i++)
		cir_qosnet_emit_settings(g, st->chain.ov[i].cid, &st->chain.ov[i].q);
	cir_jgen_map_close(g);
	cir_jgen_map_close(g);
}

int cir_qosnet_network_forget(const struct cir_store *st, const char *network,
			      struct cir_error *err)
{
	return cir_store_forget(st, CIR_QOS_STATE_DIR, network, err);
}
