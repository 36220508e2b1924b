// SPDX-License-Identifier: Apache-2.0
/*
 * hook.c - `circuit` as an OCI runtime hook (prestart, createRuntime,
 * poststop), with no arguments or as `circuit hook`.
 *
 * The OCI state arrives on stdin.  Status "creating" (or a pid) connects
 * the container, "stopped" disconnects it.  Network: $NETWORK, else the
 * annotation circuit.network, else the container id; subnet: $SUBNET, else
 * circuit.subnet, else the first free /24 of the pool ($CIRCUIT_POOL or
 * circuit.pool, default 10.254.0.0/16).  A network the hook creates is
 * marked and removed by the poststop that leaves it empty; a network that
 * existed before is never removed here.  Everything runs under the global
 * lock, so concurrent hooks agree on names and subnets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "cluster_local.h"
#include "ip.h"
#include "oci.h"

#define HOOK_POOL_DEFAULT "10.254.0.0/16"
#define HOOK_POOL_PREFIX 24

static int state_parse(struct cir_oci_state *s, struct cir_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	memset(s, 0, sizeof(*s));
	r = cir_json_read_fd(STDIN_FILENO, CIR_JSON_MAX, &buf, &len, err);
	if (r < 0)
		return cir_err_wrap(err, "OCI state");
	return cir_oci_state_parse(buf, len, s, err);
}

static const char *pick(const char *env, const struct cir_oci_state *s, const char *key)
{
	const char *v = getenv(env);

	if (v && *v)
		return v;
	v = cir_oci_state_annotation(s, key);
	return v && *v ? v : NULL;
}

/* Open network name, creating it (*made) when it does not exist: from
 * the subnet asked for, else one picked from the pool. */
static int hook_network(struct cli *c, struct cir_netdb *db, const struct cir_oci_state *s,
			const char *name, const char *subnet, struct cir_network *n, bool *made,
			struct cir_error *err)
{
	struct cir_net_spec spec = { .name = name, .subnet = subnet, .hook = true,
				     .private_only = true };
	char auto_subnet[CIR_CIDR_STRLEN];
	int r;

	r = cir_cluster_net_open_any(cli_net_ctx(c), c->state_dir, db, true, name, true, n, err);
	if (r != -ENOENT)
		return r;
	cir_err_clear(err);
	if (!subnet) {
		const char *pool = pick("CIRCUIT_POOL", s, "circuit.pool");

		r = cir_net_pool_pick(db, pool ? pool : HOOK_POOL_DEFAULT, HOOK_POOL_PREFIX,
				      auto_subnet, sizeof(auto_subnet), err);
		if (r < 0)
			return r;
		spec.subnet = auto_subnet;
	}
	r = cir_net_create(cli_net_ctx(c), db, &spec, err);
	if (r < 0)
		return r;
	*made = true;
	cli_info("%s created", name);
	return cir_network_open(db, name, true, n, err);
}

/* Connect the container to network name (made when needed: *made). */
static int hook_join(struct cli *c, struct cir_netdb *db, const struct cir_oci_state *s,
		     const char *name, bool *made, struct cir_error *err)
{
	_cleanup_network_ struct cir_network n = CIR_NETWORK_INIT;
	const char *subnet = pick("SUBNET", s, "circuit.subnet");
	struct cir_net_attach att = { .pid = s->pid, .cid = s->id, .hook = true };
	int r;

	r = hook_network(c, db, s, name, subnet, &n, made, err);
	if (r >= 0 && !*made && subnet && n.conf.subnet[0] && !cir_net_has_subnet(&n.conf, subnet))
		r = cir_err(err, EEXIST, "network %s exists with subnet %s, not %s", name,
			    n.conf.subnet, subnet);
	return r < 0 ? r : cir_net_connect(cli_net_ctx(c), &n, &att, NULL, err);
}

static int hook_create(struct cli *c, struct cir_netdb *db, const struct cir_oci_state *s,
		       const char *name, struct cir_error *err)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	bool made = false;
	int r;

	if (s->pid <= 0)
		return cir_err(err, EINVAL, "OCI state of %s has no pid", s->id);
	r = hook_join(c, db, s, name, &made, err);
	if (r < 0) {
		if (made)
			cir_net_delete(cli_net_ctx(c), db, name, &e2);
		return cir_err_wrap(err, "container %s", s->id);
	}
	cli_info("connected container %s to network %s", s->id, name);
	return 0;
}

/* Disconnect the container from network name; *remove when that network
 * was made by the hook and has no member left. */
static int hook_leave(struct cli *c, struct cir_netdb *db, const struct cir_oci_state *s,
		      const char *name, bool *remove, struct cir_error *err)
{
	_cleanup_network_ struct cir_network n = CIR_NETWORK_INIT;
	struct cir_member m;
	int r;

	r = cir_network_open(db, name, true, &n, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		cli_debug("network %s not found: nothing to do for %s", name, s->id);
		return 0;
	}
	if (r < 0)
		return r;
	r = cir_member_get(&n, s->id, &m, NULL, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		r = 0;
	} else if (r >= 0) {
		r = cir_net_disconnect(cli_net_ctx(c), &n, &m, err);
		if (r >= 0)
			cli_info("disconnected container %s from network %s", s->id, name);
	}
	if (r < 0)
		return r;
	*remove = n.conf.hook && cir_member_list(&n, NULL, NULL, err) == 0;
	return 0;
}

static int hook_stop(struct cli *c, struct cir_netdb *db, const struct cir_oci_state *s,
		     const char *name, struct cir_error *err)
{
	bool remove = false;
	int r;

	r = hook_leave(c, db, s, name, &remove, err);
	if (r < 0)
		return cir_err_wrap(err, "container %s", s->id);
	if (!remove)
		return 0;
	r = cir_net_delete(cli_net_ctx(c), db, name, err);
	if (r < 0)
		return r;
	cli_info("%s deleted", name);
	return 0;
}

/* The hook proper: parse the OCI state, lock the networks, create or stop. */
static int hook_run(struct cli *c, struct cir_error *err)
{
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	_cleanup_oci_state_ struct cir_oci_state s = { 0 };
	_cleanup_close_ int lock = -1;
	const char *name;
	int r;

	r = state_parse(&s, err);
	if (r < 0)
		return r;
	name = pick("NETWORK", &s, "circuit.network");
	if (!name)
		name = s.id;
	r = cir_cni_check_network_name(name, err);
	if (r >= 0)
		r = cli_db_open(c, &db, err);
	if (r >= 0)
		r = lock = cir_netdb_lock(&db, err);
	if (r < 0)
		return r;
	if (s.status && strcmp(s.status, "stopped") == 0)
		return hook_stop(c, &db, &s, name, err);
	if ((s.status && strcmp(s.status, "creating") == 0) || s.pid > 0)
		return hook_create(c, &db, &s, name, err);
	return cir_err(err, EINVAL, "OCI state of %s: status \"%s\" is neither creating nor "
				    "stopped", s.id, s.status ? s.status : "");
}

int cli_hook_run(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;

	return hook_run(c, &err) < 0 ? cli_fail(c, &err) : CLI_OK;
}
