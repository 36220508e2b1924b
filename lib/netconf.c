// SPDX-License-Identifier: Apache-2.0
/*
 * netconf.c - the networks database and network records in the store.
 * Members are member.c's; conflists and the chain runner conflist.c's.
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
#include "netconf_int.h"

#define RECORD_MAX 8192

int cir_netconf_copy_str(char *dst, size_t size, const char *src, const char *what,
			 struct cir_error *err)
{
	if (!src)
		src = "";
	if (strlen(src) >= size) {
		char show[40];

		return cir_err(err, EINVAL, "%s \"%s\" is too long", what,
			       cir_err_shown(src, show, sizeof(show)));
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* ---- the database ---- */

int cir_netdb_open(struct cir_netdb *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int r, fd = -1;

	r = cir_store_openf(&st, dir, CIR_NETCONF_DIR, CIR_STORE_CREATE, &fd, err);
	if (r < 0)
		return r;
	db->st = st;
	db->fd = fd;
	return 0;
}

int cir_netdb_open_ro(struct cir_netdb *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int r, fd = -1;

	r = cir_store_openf(&st, dir, CIR_NETCONF_DIR, CIR_STORE_READ_ONLY, &fd, err);
	if (r < 0)
		return r;
	db->st = st;
	db->fd = fd;
	db->ro = true;
	return 0;
}

void cir_netdb_close(struct cir_netdb *db)
{
	if (db->fd >= 0)
		close(db->fd);
	db->fd = -1;
	cir_store_close(&db->st);
}

int cir_netdb_lock(struct cir_netdb *db, struct cir_error *err)
{
	return cir_store_lock(db->fd, err);
}

int cir_netdb_list(struct cir_netdb *db, int (*fn)(const char *name, void *arg), void *arg,
		   struct cir_error *err)
{
	struct cir_store_names ns;
	int r;

	if (db->fd < 0 && db->ro)
		return 0;
	r = cir_store_names_read(db->fd, &ns, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ns.n && r >= 0; i++)
		r = fn(ns.v[i], arg);
	cir_store_names_free(&ns);
	return r < 0 ? r : 0;
}

/* ---- records ---- */

const char *cir_net_driver_name(enum cir_net_driver d)
{
	return d == CIR_NET_DRIVER_OVS ? "ovs" : "bridge";
}

int cir_net_driver_parse(const char *s, enum cir_net_driver *d, struct cir_error *err)
{
	char show[40];

	if (strcmp(s, "bridge") == 0)
		*d = CIR_NET_DRIVER_BRIDGE;
	else if (strcmp(s, "ovs") == 0)
		*d = CIR_NET_DRIVER_OVS;
	else
		return cir_err(err, EINVAL, "driver \"%s\": bridge or ovs",
			       cir_err_shown(s, show, sizeof(show)));
	return 0;
}

/* The record's keys; shown: created in RFC 3339 and mtu as given. */
static void netconf_emit(struct cir_jgen *g, const struct cir_netconf *nc, bool shown,
			 unsigned int mtu)
{
	cir_jgen_kstr(g, "name", nc->name);
	cir_jgen_kstr(g, "subnet", nc->subnet);
	cir_jgen_kstr(g, "gateway", nc->gateway);
	cir_jgen_key(g, "subnets");
	cir_jgen_arr_open(g);
	for (unsigned int i = 0; i < nc->n_subnets; i++)
		cir_jgen_str(g, nc->subnets[i]);
	cir_jgen_arr_close(g);
	cir_jgen_key(g, "gateways");
	cir_jgen_arr_open(g);
	for (unsigned int i = 0; i < nc->n_subnets; i++)
		cir_jgen_str(g, nc->gateways[i]);
	cir_jgen_arr_close(g);
	cir_jgen_kstr(g, "bridge", nc->bridge);
	cir_jgen_kint(g, "mtu", shown ? mtu : nc->mtu);
	cir_jgen_kbool(g, "masquerade", nc->masquerade);
	cir_jgen_kbool(g, "masquerade6", nc->masquerade6);
	cir_jgen_kbool(g, "managed", nc->managed);
	cir_jgen_kbool(g, "hook", nc->hook);
	if (nc->driver != CIR_NET_DRIVER_BRIDGE) {
		cir_jgen_kstr(g, "driver", cir_net_driver_name(nc->driver));
		if (nc->vlan)
			cir_jgen_kint(g, "vlan", nc->vlan);
		if (nc->ovsdb[0])
			cir_jgen_kstr(g, "ovsdbSocket", nc->ovsdb);
	}
	if (nc->cluster) {
		cir_jgen_kstr(g, "scope", "cluster");
		cir_jgen_kint(g, "vni", nc->vni);
		cir_jgen_kint(g, "blockSize", nc->block_size);
	}
	if (shown)
		cir_jgen_ktime(g, "created", nc->created);
	else
		cir_jgen_kint(g, "created", nc->created);
}

void cir_netconf_emit(struct cir_jgen *g, const struct cir_netconf *nc)
{
	netconf_emit(g, nc, false, 0);
}

void cir_netconf_emit_shown(struct cir_jgen *g, const struct cir_netconf *nc,
			    unsigned int mtu)
{
	netconf_emit(g, nc, true, mtu);
}

int cir_netconf_format(const struct cir_netconf *nc, bool pretty, char **out,
		       struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r;

	r = cir_jgen_new(&g, pretty, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_netconf_emit(g, nc);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

static int cidr_family(const char *s)
{
	struct cir_cidr c;

	return cir_cidr_parse(s, 0, &c, NULL) < 0 ? -EINVAL : c.ip.af;
}

int cir_netconf_add_subnet(struct cir_netconf *nc, const char *subnet, const char *gateway,
			   struct cir_error *err)
{
	unsigned int i = nc->n_subnets;
	int af = cidr_family(subnet);

	if (af < 0)
		return cir_err(err, EINVAL, "invalid subnet \"%.64s\"", subnet);
	for (unsigned int k = 0; k < i; k++)
		if (cidr_family(nc->subnets[k]) == af)
			return cir_err(err, EINVAL, "subnets %s and %s: at most one subnet per "
				       "address family", nc->subnets[k], subnet);
	if (i >= CIR_NETCONF_SUBNETS_MAX)
		return cir_err(err, ENOSPC, "subnet %s: at most %d subnets", subnet,
			       CIR_NETCONF_SUBNETS_MAX);
	if (cir_netconf_copy_str(nc->subnets[i], sizeof(nc->subnets[i]), subnet, "subnet", err) < 0 ||
	    cir_netconf_copy_str(nc->gateways[i], sizeof(nc->gateways[i]), gateway, "gateway", err) < 0)
		return -err->errnum;
	if (i == 0) {
		memcpy(nc->subnet, nc->subnets[0], sizeof(nc->subnet));
		memcpy(nc->gateway, nc->gateways[0], sizeof(nc->gateway));
	}
	nc->n_subnets++;
	return 0;
}

int cir_netconf_masq_subnets(const struct cir_netconf *nc, char *buf, size_t len)
{
	size_t off = 0;
	int n = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned int i = 0; i < nc->n_subnets; i++) {
		int k;

		if (cidr_family(nc->subnets[i]) == AF_INET6 && !nc->masquerade6)
			continue;
		k = snprintf(buf + off, len - off, "%s%s", n ? "," : "", nc->subnets[i]);
		if (k < 0 || (size_t)k >= len - off)
			break;
		off += (size_t)k;
		n++;
	}
	return n;
}

/* "subnets" and "gateways" of a record; without them (a record made before
 * dual stack) its one subnet and gateway. */
static int netconf_parse_subnets(const struct cir_jnode *root, const char *subnet,
				 const char *gw, struct cir_netconf *c, struct cir_error *err)
{
	const struct cir_jnode *sv = NULL, *gv = NULL;
	int r;

	if (cir_json_arr(root, "subnets", &sv, err) < 0 ||
	    cir_json_arr(root, "gateways", &gv, err) < 0)
		return -err->errnum;
	if (!sv || cir_jnode_len(sv) == 0) {
		if (!subnet || !*subnet)
			return 0;
		return cir_netconf_add_subnet(c, subnet, gw, err);
	}
	for (size_t i = 0; i < cir_jnode_len(sv); i++) {
		const char *s = cir_jnode_str(cir_jnode_at(sv, i));
		const char *g = cir_jnode_str(cir_jnode_at(gv, i));

		if (!s)
			return cir_err(err, EINVAL, "subnets[%zu]: expected a string", i);
		r = cir_netconf_add_subnet(c, s, g, err);
		if (r < 0)
			return r;
	}
	if (strcmp(c->subnet, subnet ? subnet : "") != 0)
		return cir_err(err, EINVAL, "subnet %s is not the first of subnets (%s)",
			       subnet ? subnet : "", c->subnet);
	return 0;
}

int cir_netconf_parse(const struct cir_jnode *root, struct cir_netconf *nc,
		      struct cir_error *err)
{
	struct cir_netconf c = { 0 };
	const char *name = NULL, *subnet = NULL, *gw = NULL, *br = NULL, *scope = NULL;
	const char *driver = NULL, *ovsdb = NULL;
	uint64_t created = 0;
	int r, m6;

	if (cir_json_str(root, "name", &name, err) < 0 ||
	    cir_json_str(root, "subnet", &subnet, err) < 0 ||
	    cir_json_str(root, "gateway", &gw, err) < 0 ||
	    cir_json_str(root, "bridge", &br, err) < 0 ||
	    cir_json_u32(root, "mtu", 65535, &c.mtu, err) < 0 ||
	    cir_json_bool(root, "masquerade", &c.masquerade, err) < 0 ||
	    cir_json_bool(root, "managed", &c.managed, err) < 0 ||
	    cir_json_bool(root, "hook", &c.hook, err) < 0 ||
	    (m6 = cir_json_bool(root, "masquerade6", &c.masquerade6, err)) < 0 ||
	    cir_json_u64(root, "created", INT64_MAX, &created, err) < 0 ||
	    cir_json_str(root, "scope", &scope, err) < 0 ||
	    cir_json_u32(root, "vni", 16777215, &c.vni, err) < 0 ||
	    cir_json_u32(root, "blockSize", 128, &c.block_size, err) < 0 ||
	    cir_json_str(root, "driver", &driver, err) < 0 ||
	    cir_json_u32(root, "vlan", 4094, &c.vlan, err) < 0 ||
	    cir_json_str(root, "ovsdbSocket", &ovsdb, err) < 0)
		return cir_err_wrap(err, "network record");
	if (driver && cir_net_driver_parse(driver, &c.driver, err) < 0)
		return cir_err_wrap(err, "network record");
	if (scope && strcmp(scope, "cluster") != 0 && strcmp(scope, "local") != 0)
		return cir_err(err, EINVAL, "network record: scope: want local or cluster");
	c.cluster = scope && strcmp(scope, "cluster") == 0;
	if (m6 == 0)
		c.masquerade6 = c.masquerade;   /* a record made before dual stack */
	if (!name)
		return cir_err(err, EINVAL, "network record: name is missing");
	r = cir_cni_check_network_name(name, err);
	if (r < 0)
		return cir_err_wrap(err, "network record");
	if (cir_netconf_copy_str(c.name, sizeof(c.name), name, "name", err) < 0 ||
	    cir_netconf_copy_str(c.subnet, sizeof(c.subnet), subnet, "subnet", err) < 0 ||
	    cir_netconf_copy_str(c.gateway, sizeof(c.gateway), gw, "gateway", err) < 0 ||
	    cir_netconf_copy_str(c.bridge, sizeof(c.bridge), br, "bridge", err) < 0 ||
	    cir_netconf_copy_str(c.ovsdb, sizeof(c.ovsdb), ovsdb, "ovsdbSocket", err) < 0 ||
	    netconf_parse_subnets(root, subnet, gw, &c, err) < 0)
		return cir_err_wrap(err, "network record");
	c.created = (long long)created;
	*nc = c;
	return 0;
}

/* ---- networks ---- */

static int remove_dir_contents(int dirfd)
{
	struct cir_store_names ns;
	struct cir_error e = CIR_ERROR_INIT;

	if (cir_store_names_read(dirfd, &ns, &e) < 0)
		return -e.errnum;
	for (size_t i = 0; i < ns.n; i++)
		unlinkat(dirfd, ns.v[i], 0);
	cir_store_names_free(&ns);
	cir_store_sweep(dirfd, &e);
	return 0;
}

int cir_network_remove(struct cir_netdb *db, const char *name, struct cir_error *err)
{
	_cleanup_close_ int fd = -1, mfd = -1;

	if (!cir_name_valid(name))
		return cir_name_check("network name", name, err);
	fd = cir_store_dir(db->fd, name, false, err);
	if (fd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	/* The record first: from here on openers see no network. */
	if (unlinkat(fd, CIR_NETCONF_RECORD, 0) < 0 && errno != ENOENT)
		return cir_err(err, errno, "network %s: remove record: %s", name, strerror(errno));
	mfd = cir_store_dir(fd, CIR_NETCONF_MEMBERS, false, NULL);
	if (mfd >= 0) {
		remove_dir_contents(mfd);
		unlinkat(fd, CIR_NETCONF_MEMBERS, AT_REMOVEDIR);
	}
	remove_dir_contents(fd);
	unlinkat(fd, CIR_STORE_LOCK, 0);
	if (unlinkat(db->fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cir_err(err, errno, "network %s: remove directory: %s", name,
			       strerror(errno));
	return 0;
}

int cir_network_create(struct cir_netdb *db, const struct cir_netconf *nc,
		       const char *conflist, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	_cleanup_free_ char *rec = NULL;
	_cleanup_close_ int fd = -1, mfd = -1;
	const char *cname = NULL;
	int r;

	r = cir_cni_check_network_name(nc->name, err);
	if (r < 0)
		return r;
	r = cir_json_parse(conflist, strlen(conflist), &j, err);
	if (r < 0)
		return cir_err_wrap(err, "conflist");
	r = cir_conflist_check(cir_json_root(j), err);
	if (r < 0)
		return r;
	cir_json_str(cir_json_root(j), "name", &cname, err);
	if (!cname || strcmp(cname, nc->name) != 0) {
		char show[CIR_ERR_SHOWN_MAX];

		return cir_err(err, EINVAL, "conflist name \"%s\" is not the network name \"%s\"",
			       cir_err_shown(cname ? cname : "", show, sizeof(show)), nc->name);
	}
	r = cir_netconf_format(nc, true, &rec, err);
	if (r < 0)
		return r;
	if (mkdirat(db->fd, nc->name, 0700) < 0) {
		if (errno == EEXIST)
			return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
					    "network %s already exists", nc->name);
		return cir_err(err, errno, "network %s: %s", nc->name, strerror(errno));
	}
	fd = cir_store_dir(db->fd, nc->name, false, err);
	if (fd < 0)
		goto fail;
	mfd = cir_store_dir(fd, CIR_NETCONF_MEMBERS, true, err);
	if (mfd < 0)
		goto fail;
	r = cir_store_write(fd, CIR_NETCONF_CONFLIST, conflist, strlen(conflist), err);
	if (r < 0)
		goto fail;
	r = cir_store_write(fd, CIR_NETCONF_RECORD, rec, strlen(rec), err);
	if (r < 0)
		goto fail;
	return 0;
fail:
	r = -err->errnum;
	cir_network_remove(db, nc->name, NULL);
	return r;
}

void cir_network_close(struct cir_network *n)
{
	if (n->members_fd >= 0)
		close(n->members_fd);
	if (n->fd >= 0)
		close(n->fd);
	if (n->lock >= 0)
		close(n->lock);
	if (n->conflist)
		cir_json_free(n->conflist);
	free(n->conflist_raw);
	*n = (struct cir_network)CIR_NETWORK_INIT;
}

/* The network's directory into x->fd, and its lock into x->lock when
 * asked; "network NAME not found" (CIR_CNI_NOT_FOUND) when absent. */
static int open_dir(struct cir_netdb *db, const char *name, bool lock, struct cir_network *x,
		    struct cir_error *err)
{
	if (!cir_name_valid(name))
		return cir_name_check("network name", name, err);
	if (db->ro && lock)
		return cir_err(err, EROFS, "network %s: cannot lock a read-only store", name);
	if (db->fd < 0 && db->ro)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "network %s not found", name);
	x->fd = cir_store_dir(db->fd, name, false, err);
	if (x->fd == -ENOENT)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "network %s not found", name);
	if (x->fd < 0)
		return x->fd;
	if (lock) {
		int l = cir_store_lock(x->fd, err);

		if (l < 0)
			return l;
		x->lock = l;
	}
	return 0;
}

/* The record into x->conf.  A record copied or damaged into another
 * network's directory must not make this network act on that one's
 * bridge and state: its name must be the directory's. */
static int read_record(struct cir_network *x, const char *name, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	char rec[RECORD_MAX];
	int r;

	r = cir_store_read(x->fd, CIR_NETCONF_RECORD, rec, sizeof(rec), err);
	if (r == -ENOENT)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "network %s not found", name);
	if (r < 0)
		return r;
	r = cir_json_parse(rec, r, &j, err);
	if (r >= 0)
		r = cir_netconf_parse(cir_json_root(j), &x->conf, err);
	if (r >= 0 && strcmp(x->conf.name, name) != 0)
		r = cir_err(err, EINVAL, "record names network %s", x->conf.name);
	if (r < 0)
		cir_err_wrap(err, "network %s", name);
	return r < 0 ? r : 0;
}

/* The conflist, raw and parsed; then the members' directory (made when
 * missing, absent in a read-only store: no members). */
static int read_conflist_members(struct cir_netdb *db, struct cir_network *x, const char *name,
				 struct cir_error *err)
{
	int r;

	r = cir_store_read_doc(x->fd, CIR_NETCONF_CONFLIST, &x->conflist_raw, err);
	if (r >= 0)
		r = cir_json_parse(x->conflist_raw, r, &x->conflist, err);
	if (r < 0) {
		cir_err_wrap(err, "network %s: conflist", name);
		return r;
	}
	r = cir_store_dir(x->fd, CIR_NETCONF_MEMBERS, !db->ro, err);
	if (r == -ENOENT && db->ro) {
		cir_err_clear(err);     /* no members: cir_member_list() sees none */
		return 0;
	}
	if (r < 0)
		return r;
	x->members_fd = r;
	return 0;
}

int cir_network_open(struct cir_netdb *db, const char *name, bool lock, struct cir_network *n,
		     struct cir_error *err)
{
	struct cir_network x = CIR_NETWORK_INIT;
	int r;

	r = open_dir(db, name, lock, &x, err);
	if (r >= 0)
		r = read_record(&x, name, err);
	if (r >= 0)
		r = read_conflist_members(db, &x, name, err);
	if (r < 0) {
		cir_network_close(&x);
		return r;
	}
	*n = x;
	return 0;
}
