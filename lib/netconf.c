// SPDX-License-Identifier: Apache-2.0
/*
 * netconf.c - network records, members and conflists in the store, and the
 * conflist chain runner (ADD in order with prevResult, DEL in reverse with
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

#define RECORD_MAX 8192
#define DOC_MAX (256u << 10)

/* ---- small helpers ---- */

static int copy_str(char *dst, size_t size, const char *src, const char *what,
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

/* Read a whole store file into a malloc'd NUL-terminated buffer. */
static int read_doc(int dirfd, const char *name, char **out, struct cir_error *err)
{
	_cleanup_free_ char *buf = malloc(DOC_MAX);
	int r;

	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_store_read(dirfd, name, buf, DOC_MAX, err);
	if (r < 0)
		return r;
	*out = TAKE_PTR(buf);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	char **v;
	size_t n, cap;
};

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int names_add(const char *name, void *arg)
{
	struct names *ns = arg;

	if (!cir_name_valid(name))
		return 0;
	if (ns->n == ns->cap) {
		size_t nc = ns->cap ? ns->cap * 2 : 16;
		char **nv = realloc(ns->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		ns->v = nv;
		ns->cap = nc;
	}
	ns->v[ns->n] = strdup(name);
	if (!ns->v[ns->n])
		return -ENOMEM;
	ns->n++;
	return 0;
}

static int names_read(int dirfd, struct names *ns, struct cir_error *err)
{
	int r;

	*ns = (struct names){ 0 };
	r = cir_store_list(dirfd, names_add, ns, err);
	if (r == -ENOMEM)
		r = cir_err(err, ENOMEM, "out of memory");
	if (r < 0) {
		names_free(ns);
		return r;
	}
	if (ns->n)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_names);
	return 0;
}

/* ---- the database ---- */

int cir_netdb_open(struct cir_netdb *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int fd;

	fd = cir_store_open_sub(&st, dir, CIR_NETCONF_DIR, err);
	if (fd < 0)
		return fd;
	db->st = st;
	db->fd = fd;
	return 0;
}

int cir_netdb_open_ro(struct cir_netdb *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int r, fd = -1;

	r = cir_store_open_sub_ro(&st, dir, CIR_NETCONF_DIR, &fd, err);
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
	struct names ns;
	int r;

	if (db->fd < 0 && db->ro)
		return 0;
	r = names_read(db->fd, &ns, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ns.n && r >= 0; i++)
		r = fn(ns.v[i], arg);
	names_free(&ns);
	return r < 0 ? r : 0;
}

/* ---- records ---- */

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
	if (copy_str(nc->subnets[i], sizeof(nc->subnets[i]), subnet, "subnet", err) < 0 ||
	    copy_str(nc->gateways[i], sizeof(nc->gateways[i]), gateway, "gateway", err) < 0)
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
	    cir_json_u32(root, "blockSize", 128, &c.block_size, err) < 0)
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
	if (copy_str(c.name, sizeof(c.name), name, "name", err) < 0 ||
	    copy_str(c.subnet, sizeof(c.subnet), subnet, "subnet", err) < 0 ||
	    copy_str(c.gateway, sizeof(c.gateway), gw, "gateway", err) < 0 ||
	    copy_str(c.bridge, sizeof(c.bridge), br, "bridge", err) < 0 ||
	    netconf_parse_subnets(root, subnet, gw, &c, err) < 0)
		return cir_err_wrap(err, "network record");
	c.created = (long long)created;
	*nc = c;
	return 0;
}

/* ---- networks ---- */

static int remove_dir_contents(int dirfd)
{
	struct names ns;
	struct cir_error e = CIR_ERROR_INIT;

	if (names_read(dirfd, &ns, &e) < 0)
		return -e.errnum;
	for (size_t i = 0; i < ns.n; i++)
		unlinkat(dirfd, ns.v[i], 0);
	names_free(&ns);
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

int cir_network_open(struct cir_netdb *db, const char *name, bool lock, struct cir_network *n,
		     struct cir_error *err)
{
	struct cir_network x = CIR_NETWORK_INIT;
	_cleanup_json_ struct cir_json *j = NULL;
	char rec[RECORD_MAX];
	int r;

	if (!cir_name_valid(name))
		return cir_name_check("network name", name, err);
	if (db->ro && lock)
		return cir_err(err, EROFS, "network %s: cannot lock a read-only store", name);
	if (db->fd < 0 && db->ro)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "network %s not found", name);
	x.fd = cir_store_dir(db->fd, name, false, err);
	if (x.fd == -ENOENT)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "network %s not found", name);
	if (x.fd < 0)
		return x.fd;
	if (lock) {
		x.lock = cir_store_lock(x.fd, err);
		if (x.lock < 0) {
			r = x.lock;
			x.lock = -1;
			goto fail;
		}
	}
	r = cir_store_read(x.fd, CIR_NETCONF_RECORD, rec, sizeof(rec), err);
	if (r == -ENOENT) {
		r = cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "network %s not found", name);
		goto fail;
	}
	if (r < 0)
		goto fail;
	r = cir_json_parse(rec, r, &j, err);
	if (r >= 0)
		r = cir_netconf_parse(cir_json_root(j), &x.conf, err);
	/* A record copied or damaged into another network's directory must
	 * not make this network act on that one's bridge and state. */
	if (r >= 0 && strcmp(x.conf.name, name) != 0)
		r = cir_err(err, EINVAL, "record names network %s", x.conf.name);
	if (r < 0) {
		cir_err_wrap(err, "network %s", name);
		goto fail;
	}
	r = read_doc(x.fd, CIR_NETCONF_CONFLIST, &x.conflist_raw, err);
	if (r >= 0)
		r = cir_json_parse(x.conflist_raw, r, &x.conflist, err);
	if (r < 0) {
		cir_err_wrap(err, "network %s: conflist", name);
		goto fail;
	}
	x.members_fd = cir_store_dir(x.fd, CIR_NETCONF_MEMBERS, !db->ro, err);
	if (x.members_fd == -ENOENT && db->ro) {
		cir_err_clear(err);     /* no members: cir_member_list() sees none */
		x.members_fd = -1;
	} else if (x.members_fd < 0) {
		r = x.members_fd;
		x.members_fd = -1;
		goto fail;
	}
	*n = x;
	return 0;
fail:
	cir_network_close(&x);
	return r;
}

/* ---- members ---- */

static void member_emit_addresses(struct cir_jgen *g, const struct cir_member *m)
{
	cir_jgen_key(g, "addresses");
	cir_jgen_arr_open(g);
	for (unsigned int i = 0; i < m->n_addresses; i++)
		cir_jgen_str(g, m->addresses[i]);
	cir_jgen_arr_close(g);
}

void cir_member_set_addresses(struct cir_member *m, const struct cir_cni_result *res)
{
	m->address[0] = '\0';
	m->n_addresses = 0;
	for (size_t i = 0; i < res->n_ips && m->n_addresses < CIR_NETCONF_SUBNETS_MAX; i++) {
		if (strlen(res->ips[i].address) >= sizeof(m->addresses[0]))
			continue;
		snprintf(m->addresses[m->n_addresses++], sizeof(m->addresses[0]), "%s",
			 res->ips[i].address);
	}
	if (m->n_addresses)
		memcpy(m->address, m->addresses[0], sizeof(m->address));
}

void cir_member_ip_args(const struct cir_member *m, char *buf, size_t len)
{
	size_t off;

	buf[0] = '\0';
	if (!m->n_addresses)
		return;
	off = (size_t)snprintf(buf, len, "IgnoreUnknown=1;IP=");
	for (unsigned int i = 0; i < m->n_addresses && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%.*s", i ? "," : "",
					(int)strcspn(m->addresses[i], "/"), m->addresses[i]);
}

void cir_member_emit(struct cir_jgen *g, const struct cir_member *m)
{
	cir_jgen_kstr(g, "container", m->cid);
	cir_jgen_kint(g, "pid", m->pid);
	cir_jgen_kstr(g, "interface", m->ifname);
	cir_jgen_kstr(g, "address", m->address);
	member_emit_addresses(g, m);
	cir_jgen_kstr(g, "netns", m->netns);
	cir_jgen_kbool(g, "hook", m->hook);
	if (m->pending)
		cir_jgen_kbool(g, "pending", true);
}

static int member_parse(const struct cir_jnode *root, struct cir_member *m,
			struct cir_error *err)
{
	const char *cid = NULL, *ifname = NULL, *boot = NULL, *ns = NULL, *addr = NULL;
	const struct cir_jnode *addrs = NULL;
	uint64_t pid = 0, st = 0;

	memset(m, 0, sizeof(*m));
	if (cir_json_str(root, "container", &cid, err) < 0 ||
	    cir_json_str(root, "interface", &ifname, err) < 0 ||
	    cir_json_u64(root, "pid", INT32_MAX, &pid, err) < 0 ||
	    cir_json_u64(root, "starttime", UINT64_MAX, &st, err) < 0 ||
	    cir_json_str(root, "bootId", &boot, err) < 0 ||
	    cir_json_str(root, "netns", &ns, err) < 0 ||
	    cir_json_str(root, "address", &addr, err) < 0 ||
	    cir_json_arr(root, "addresses", &addrs, err) < 0 ||
	    cir_json_bool(root, "hook", &m->hook, err) < 0 ||
	    cir_json_bool(root, "pending", &m->pending, err) < 0)
		return -err->errnum;
	if (!cid || !ifname)
		return cir_err(err, EINVAL, "container or interface missing");
	if (copy_str(m->cid, sizeof(m->cid), cid, "container", err) < 0 ||
	    copy_str(m->ifname, sizeof(m->ifname), ifname, "interface", err) < 0 ||
	    copy_str(m->boot_id, sizeof(m->boot_id), boot, "bootId", err) < 0 ||
	    copy_str(m->netns, sizeof(m->netns), ns, "netns", err) < 0 ||
	    copy_str(m->address, sizeof(m->address), addr, "address", err) < 0)
		return -err->errnum;
	/* A member written before dual stack has its one address only. */
	for (size_t i = 0; i < cir_jnode_len(addrs) && i < CIR_NETCONF_SUBNETS_MAX; i++)
		if (copy_str(m->addresses[m->n_addresses++], sizeof(m->addresses[0]),
			     cir_jnode_str(cir_jnode_at(addrs, i)), "addresses", err) < 0)
			return -err->errnum;
	if (!m->n_addresses && m->address[0]) {
		memcpy(m->addresses[0], m->address, sizeof(m->address));
		m->n_addresses = 1;
	}
	m->pid = (long long)pid;
	m->starttime = st;
	return 0;
}

int cir_member_get(struct cir_network *n, const char *cid, struct cir_member *m,
		   char **result_json, struct cir_error *err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ struct cir_json *j = NULL;
	const struct cir_jnode *res;
	int r;

	if (!cir_name_valid(cid))
		return cir_name_check("container id", cid, err);
	if (n->members_fd < 0)
		return cir_err(err, ENOENT, "network %s: member %s not found", n->conf.name, cid);
	r = read_doc(n->members_fd, cid, &buf, err);
	if (r < 0)
		return r;
	r = cir_json_parse(buf, r, &j, err);
	if (r >= 0)
		r = member_parse(cir_json_root(j), m, err);
	/* Disconnecting it would DEL and forget the container it names. */
	if (r >= 0 && strcmp(m->cid, cid) != 0) {
		char show[80];

		r = cir_err(err, EINVAL, "record names container %s",
			    cir_err_shown(m->cid, show, sizeof(show)));
	}
	if (r < 0)
		return cir_err_wrap(err, "network %s: member %s", n->conf.name, cid);
	if (result_json) {
		*result_json = NULL;
		res = cir_jnode_get(cir_json_root(j), "result");
		if (res && cir_jnode_type(res) == CIR_JOBJECT) {
			_cleanup_jgen_ struct cir_jgen *g = NULL;

			r = cir_jgen_new(&g, false, err);
			if (r < 0)
				return r;
			cir_jgen_node(g, res);
			r = cir_jgen_finish_dup(g, result_json, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int cir_member_put(struct cir_network *n, const struct cir_member *m, const char *result_json,
		   struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_json_ struct cir_json *res = NULL;
	const char *buf;
	size_t len;
	int r;

	if (!cir_name_valid(m->cid))
		return cir_name_check("container id", m->cid, err);
	if (result_json) {
		r = cir_json_parse(result_json, strlen(result_json), &res, err);
		if (r < 0)
			return cir_err_wrap(err, "cached result");
	}
	r = cir_jgen_new(&g, true, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "container", m->cid);
	cir_jgen_kstr(g, "interface", m->ifname);
	cir_jgen_kint(g, "pid", m->pid);
	cir_jgen_key(g, "starttime");
	cir_jgen_uint(g, m->starttime);
	cir_jgen_kstr(g, "bootId", m->boot_id);
	cir_jgen_kstr(g, "netns", m->netns);
	cir_jgen_kstr(g, "address", m->address);
	member_emit_addresses(g, m);
	cir_jgen_kbool(g, "hook", m->hook);
	if (m->pending)
		cir_jgen_kbool(g, "pending", true);
	if (res) {
		cir_jgen_key(g, "result");
		cir_jgen_node(g, cir_json_root(res));
	}
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, &buf, &len, err);
	if (r < 0)
		return r;
	return cir_store_write(n->members_fd, m->cid, buf, len, err);
}

int cir_member_del(struct cir_network *n, const char *cid, struct cir_error *err)
{
	if (!cir_name_valid(cid))
		return cir_name_check("container id", cid, err);
	return cir_store_unlink(n->members_fd, cid, err);
}

int cir_member_list(struct cir_network *n, int (*fn)(const struct cir_member *m, void *arg),
		    void *arg, struct cir_error *err)
{
	struct names ns;
	int r, count = 0;

	if (n->members_fd < 0)
		return 0;
	r = names_read(n->members_fd, &ns, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ns.n; i++) {
		struct cir_member m;

		r = cir_member_get(n, ns.v[i], &m, NULL, err);
		if (r == -ENOENT) {
			cir_err_clear(err);
			continue;
		}
		if (r < 0)
			break;
		count++;
		r = fn ? fn(&m, arg) : 0;
		if (r < 0)
			break;
	}
	names_free(&ns);
	return r < 0 ? r : count;
}

static int read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;

	if (fd < 0)
		return -errno;
	k = read(fd, buf, size - 1);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	return (int)k;
}

static int boot_id(char *buf, size_t size)
{
	int r = read_small("/proc/sys/kernel/random/boot_id", buf, size);

	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* State letter and start time (field 22) of /proc/PID/stat. */
static int proc_stat(long long pid, char *state, unsigned long long *starttime)
{
	char path[64], buf[1024];
	const char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	*state = p[2];
	p += 2;
	/* p is at field 3; skip to field 22. */
	for (int f = 3; f < 22; f++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*starttime = strtoull(p, NULL, 10);
	return 0;
}

int cir_member_set_process(struct cir_member *m, long long pid, struct cir_error *err)
{
	unsigned long long st;
	char state;
	int r;

	if (pid <= 0 || pid > INT32_MAX)
		return cir_err(err, EINVAL, "invalid pid %lld", pid);
	r = proc_stat(pid, &state, &st);
	if (r == -ESRCH || (r == 0 && (state == 'Z' || state == 'X')))
		return cir_err_code(err, CIR_CNI_UNKNOWN_CONTAINER, ESRCH,
				    "process %lld not found", pid);
	if (r < 0)
		return cir_err(err, -r, "process %lld: %s", pid, strerror(-r));
	r = boot_id(m->boot_id, sizeof(m->boot_id));
	if (r < 0)
		return cir_err(err, -r, "boot id: %s", strerror(-r));
	m->pid = pid;
	m->starttime = st;
	snprintf(m->netns, sizeof(m->netns), "/proc/%lld/ns/net", pid);
	return 0;
}

int cir_member_alive(const struct cir_member *m)
{
	char boot[40], state;
	unsigned long long st;

	if (m->pid <= 0 || boot_id(boot, sizeof(boot)) < 0 || strcmp(boot, m->boot_id) != 0)
		return 0;
	if (proc_stat(m->pid, &state, &st) < 0 || state == 'Z' || state == 'X')
		return 0;
	return st == m->starttime;
}

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
				       strcmp(type, CIR_NETCONF_BRIDGE_PLUGIN) == 0)) {
			const char *br = cir_jnode_str(cir_jnode_get(p, "bridge"));

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
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "type", CIR_NETCONF_BRIDGE_PLUGIN);
	cir_jgen_kstr(g, "bridge", nc->bridge);
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
	cir_jgen_map_close(g);
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
static int plugin_stdin(const struct cir_json *conflist, const char *version,
			const struct cir_jnode *plugin, const struct cir_jnode *prev,
			const struct cir_chain_attachment *valid, size_t n_valid, bool gc,
			bool keep_live, char **out, struct cir_error *err)
{
	static const char *const skip[] = { "cniVersion", "name", "prevResult", NULL };
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	const struct cir_jnode *root = cir_json_root(conflist);
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
	cir_jgen_members_except(g, plugin, skip);
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

	r = plugin_stdin(conflist, NULL, plugin, prev, NULL, 0, false, false, &in, err);
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
		r = plugin_stdin(conflist, version, p, NULL, valid, n, true, keep_live, &in, &e);
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
