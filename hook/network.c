// SPDX-License-Identifier: Apache-2.0
/*
 * network.c - "circuit network create|ls|inspect|export|connect|disconnect|
 * delete" and the network operations the hook and restore share.
 *
 * A network Circuit generates ("managed") owns its bridge "c-<name>", the
 * gateway address on it and its masquerade from create to delete; members
 * are attached by running the network's conflist chain (circuit-bridge +
 * circuit-ipam, or an imported chain) with CNI ADD against /proc/PID/ns/net.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "addr.h"
#include "cleanup.h"
#include "cli.h"
#include "portmap.h"
#include "qos_cli.h"
#include "ip.h"
#include "link.h"
#include "names.h"
#include "netns.h"
#include "masq.h"
#include "nft.h"
#include "nl.h"
#include "runc.h"
#include "sysctl.h"

/* ---- what a new subnet must not overlap ---- */

static int taken_add(struct cli_taken_set *t, const struct cir_cidr *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int taken_add(struct cli_taken_set *t, const struct cir_cidr *c, const char *fmt, ...)
{
	va_list ap;

	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 32;
		void *p = reallocarray(t->v, nc, sizeof(*t->v));

		if (!p)
			return -ENOMEM;
		t->v = p;
		t->cap = nc;
	}
	t->v[t->n].c = *c;
	va_start(ap, fmt);
	vsnprintf(t->v[t->n].what, sizeof(t->v[t->n].what), fmt, ap);
	va_end(ap);
	t->n++;
	return 0;
}

void cli_taken_free(struct cli_taken_set *t)
{
	free(t->v);
	*t = (struct cli_taken_set){ 0 };
}

struct taken_scan {
	struct cir_netdb *db;
	const char *self;
	struct cli_taken_set *t;
};

static int taken_network(const char *name, void *arg)
{
	struct taken_scan *s = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_cidr other;
	int r = 0;

	if (s->self && strcmp(name, s->self) == 0)
		return 0;
	if (cir_network_open(s->db, name, false, &n, &e) < 0)
		return 0;
	for (unsigned int i = 0; r >= 0 && i < n.conf.n_subnets; i++)
		if (cir_cidr_parse(n.conf.subnets[i], 0, &other, &e) == 0)
			r = taken_add(s->t, &other, "network %s (%s)", name, n.conf.subnets[i]);
	cir_network_close(&n);
	return r;
}

static int taken_addresses(struct nl_sock *sk, struct cli_taken_set *t, struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	int r;

	r = rtnl_addr_alloc_cache(sk, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list addresses");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);
		struct cir_cidr c = { 0 };
		char ifn[IF_NAMESIZE] = "?", ab[CIR_CIDR_STRLEN];
		size_t len;

		if (!local)
			continue;
		c.ip.af = rtnl_addr_get_family(a);
		len = nl_addr_get_len(local);
		if ((c.ip.af != AF_INET || len != 4) && (c.ip.af != AF_INET6 || len != 16))
			continue;
		memcpy(c.ip.addr, nl_addr_get_binary_addr(local), len);
		c.prefix = rtnl_addr_get_prefixlen(a);
		if_indextoname(rtnl_addr_get_ifindex(a), ifn);
		if (taken_add(t, &c, "address %s on %s", cir_cidr_format(&c, ab, sizeof(ab)), ifn) < 0)
			return cir_err(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* Routes of the main table more specific than a default route: a subnet
 * there would take over traffic the host sends elsewhere (a VPN, a
 * routed lab network). */
static int taken_routes(struct nl_sock *sk, struct cli_taken_set *t, struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	int r;

	r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list routes");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);
		struct cir_cidr c = { 0 };
		char ifn[IF_NAMESIZE] = "?", db[CIR_CIDR_STRLEN];
		size_t len;

		if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || !dst ||
		    nl_addr_get_prefixlen(dst) == 0 || rtnl_route_get_type(rt) != RTN_UNICAST)
			continue;
		c.ip.af = rtnl_route_get_family(rt);
		len = nl_addr_get_len(dst);
		if ((c.ip.af != AF_INET || len != 4) && (c.ip.af != AF_INET6 || len != 16))
			continue;
		memcpy(c.ip.addr, nl_addr_get_binary_addr(dst), len);
		c.prefix = nl_addr_get_prefixlen(dst);
		if (rtnl_route_get_nnexthops(rt) > 0)
			if_indextoname(rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, 0)), ifn);
		if (taken_add(t, &c, "route %s on %s", cir_cidr_format(&c, db, sizeof(db)), ifn) < 0)
			return cir_err(err, ENOMEM, "out of memory");
	}
	return 0;
}

int cli_net_taken(struct cir_netdb *db, const char *self, struct cli_taken_set *t,
		  struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct taken_scan s = { db, self, t };
	int r;

	*t = (struct cli_taken_set){ 0 };
	r = cir_netdb_list(db, taken_network, &s, err);
	if (r == -ENOMEM)
		r = cir_err(err, ENOMEM, "out of memory");
	if (r >= 0)
		r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = taken_addresses(sk, t, err);
	if (r >= 0)
		r = taken_routes(sk, t, err);
	if (r < 0)
		cli_taken_free(t);
	return r;
}

const struct cli_taken *cli_taken_find(const struct cli_taken_set *t, const struct cir_cidr *sn)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].c.ip.af == sn->ip.af && cir_cidr_overlap(&t->v[i].c, sn))
			return &t->v[i];
	return NULL;
}

int cli_net_overlaps(struct cir_netdb *db, const char *subnet, const char *self,
		     struct cir_error *err)
{
	struct cli_taken_set t;
	const struct cli_taken *hit;
	char buf[CIR_CIDR_STRLEN];
	struct cir_cidr sn;
	int r;

	r = cir_cidr_parse(subnet, 0, &sn, err);
	if (r < 0)
		return r;
	cir_cidr_network(&sn, &sn.ip);
	r = cli_net_taken(db, self, &t, err);
	if (r < 0)
		return r;
	hit = cli_taken_find(&t, &sn);
	if (hit)
		cir_err(err, EEXIST, "subnet %s overlaps %s", cir_cidr_format(&sn, buf, sizeof(buf)),
			hit->what);
	cli_taken_free(&t);
	return hit ? 1 : 0;
}

/* ---- kernel objects of a managed network ---- */

/* Gateway gw/prefix of subnet on the bridge (1 when added) and forwarding
 * of its family on (1 when it was off). */
static int net_gateway(struct nl_sock *sk, const struct cir_netconf *nc, int ifindex,
		       const char *subnet, const char *gateway, struct cir_error *err)
{
	struct cir_cidr sn;
	int r, changes = 0;

	r = cir_cidr_parse(subnet, 0, &sn, err);
	if (r < 0)
		return r;
	if (gateway[0]) {
		char gw[CIR_CIDR_STRLEN + 8];

		/* An IPv6 address is added with IFA_F_NODAD (lib/addr.c): no
		 * tentative period before the first packets pass. */
		snprintf(gw, sizeof(gw), "%s/%u", gateway, sn.prefix);
		r = cir_addr_has(sk, ifindex, gw, err);
		if (r == 0) {
			r = cir_addr_add(sk, ifindex, gw, true, err);
			changes++;
		}
		if (r < 0)
			return cir_err_wrap(err, "bridge %s: gateway %s", nc->bridge, gw);
	}
	r = sn.ip.af == AF_INET ? cir_sysctl_ip_forward_enable(err)
				: cir_sysctl_ip6_forward_enable(err);
	if (r < 0)
		return r;
	return changes + r;
}

int cli_net_ensure(struct cli *c, const struct cir_netconf *nc, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info br;
	char alias[CIR_NAME_BRIDGE_ALIAS_MAX], masq[CIR_NETCONF_SUBNETS_MAX * CIR_CIDR_STRLEN];
	bool created = false;
	int r, changes = 0;

	if (!nc->managed)
		return 0;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	cir_name_bridge_alias(nc->name, alias);
	r = cir_link_bridge_ensure(sk, nc->bridge, nc->mtu, false, alias, &br, &created, err);
	if (r < 0)
		return cir_err_wrap(err, "bridge %s", nc->bridge);
	changes += created;
	for (unsigned int i = 0; i < nc->n_subnets; i++) {
		r = net_gateway(sk, nc, br.ifindex, nc->subnets[i], nc->gateways[i], err);
		if (r < 0)
			return r;
		changes += r;
	}
	if (nc->masquerade && cir_netconf_masq_subnets(nc, masq, sizeof(masq)) > 0) {
		/* The network is a user of its own masquerade from create to
		 * delete, so the chain outlives its last member (lib/masq.h). */
		r = cir_nft_masq_exists(nc->name, err);
		if (r >= 0) {
			changes += r == 0;
			r = cir_masq_acquire(NULL, nc->name, CIR_MASQ_OWNER, masq, true, err);
		}
		if (r < 0)
			return cir_err_wrap(err, "masquerade for %s", masq);
	}
	cli_debug("network %s: bridge %s, %u subnets, masquerade %s%s (%d changes)", nc->name,
		  nc->bridge, nc->n_subnets, nc->masquerade ? "on" : "off",
		  nc->masquerade && !nc->masquerade6 ? " (IPv4 only)" : "", changes);
	return changes;
}

static bool masq_keep_none(const char *user, void *arg)
{
	return false;
}

/* ---- who owns a bridge ---- */

struct bridge_scan {
	struct cir_netdb *db;
	const char *bridge;
	const char *self;
	char other[CIR_CNI_NAME_MAX + 1];
};

static int bridge_user(const char *name, void *arg)
{
	struct bridge_scan *s = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	bool hit;

	if (strcmp(name, s->self) == 0 || cir_network_open(s->db, name, false, &n, &e) < 0)
		return 0;
	hit = strcmp(n.conf.bridge, s->bridge) == 0;
	cir_network_close(&n);
	if (!hit)
		return 0;
	snprintf(s->other, sizeof(s->other), "%s", name);
	return -EEXIST;
}

/* Another network of the store whose chain names bridge: its name into
 * other (1), or 0 when none. */
static int bridge_named_elsewhere(struct cir_netdb *db, const char *bridge, const char *self,
				  char other[CIR_CNI_NAME_MAX + 1])
{
	struct bridge_scan s = { db, bridge, self, "" };
	struct cir_error e = CIR_ERROR_INIT;

	if (!bridge[0] || cir_netdb_list(db, bridge_user, &s, &e) != -EEXIST)
		return 0;
	snprintf(other, CIR_CNI_NAME_MAX + 1, "%s", s.other);
	return 1;
}

/*
 * May network nc (being created) own its bridge?  Not when another network
 * names it, nor when it exists already without Circuit's mark for this very
 * network (made by hand, by another tool, or for another network): adopting
 * it would let `network delete` remove it under its real owner's
 * containers.  A bridge marked for this name (left by a chain of this
 * network that another runtime ran) is this network's.
 */
static int bridge_claim(struct cir_netdb *db, const struct cir_netconf *nc,
			struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	char other[CIR_CNI_NAME_MAX + 1], alias[CIR_NAME_BRIDGE_ALIAS_MAX];
	struct cir_link_info li;
	int r;

	if (bridge_named_elsewhere(db, nc->bridge, nc->name, other))
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "bridge %s is already network %s's", nc->bridge, other);
	if (!nc->managed)
		return 0;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, nc->bridge, &li, err);
	if (r == -ENODEV) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	cir_name_bridge_alias(nc->name, alias);
	if (strcmp(li.alias, alias) == 0)
		return 0;
	return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
			    "bridge %s already exists and Circuit did not make it for network %s "
			    "(delete it, or import the chain that uses it with --conflist)",
			    nc->bridge, nc->name);
}

/* Remove a network's bridge and masquerade; missing objects are fine.  A
 * bridge marked for another owner, or named by another network, stays. */
static int net_teardown(struct cir_netdb *db, const struct cir_netconf *nc,
			struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	char other[CIR_CNI_NAME_MAX + 1], alias[CIR_NAME_BRIDGE_ALIAS_MAX];
	struct cir_link_info li;
	int r;

	if (nc->bridge[0] && nc->managed) {
		r = cir_nl_route_open(&sk, err);
		if (r < 0)
			return r;
		cir_name_bridge_alias(nc->name, alias);
		r = cir_link_get(sk, nc->bridge, &li, err);
		if (r == 0 && li.alias[0] && strcmp(li.alias, alias) != 0) {
			cli_warn("network %s: bridge %s is marked \"%s\", not ours: kept", nc->name,
				 nc->bridge, li.alias);
		} else if (r == 0 && bridge_named_elsewhere(db, nc->bridge, nc->name, other)) {
			cli_warn("network %s: bridge %s is also network %s's: kept", nc->name,
				 nc->bridge, other);
		} else if (r == 0) {
			r = cir_link_delete(sk, nc->bridge, err);
			if (r < 0 && r != -ENODEV)
				return cir_err_wrap(err, "bridge %s", nc->bridge);
		}
		cir_err_clear(err);
		/* Host veths its DELs left detached (their namespace pinned
		 * elsewhere): the network is going, so are they. */
		cir_name_released_alias(nc->name, alias);
		cir_link_delete_detached(sk, alias, NULL);
	}
	if (nc->masquerade) {
		/* Every user goes with the network, members that failed to
		 * disconnect included. */
		r = cir_masq_gc(NULL, nc->name, masq_keep_none, NULL, err);
		if (r < 0)
			return cir_err_wrap(err, "masquerade");
	}
	return 0;
}

/* ---- create ---- */

static int read_text(const char *path, char **out, size_t *len, struct cir_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t n;

	if (!f)
		return cir_err(err, errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0)
		return cir_err(err, errno, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return cir_err(err, EISDIR, "%s: is a directory", path);
	buf = malloc(CIR_JSON_MAX + 1);
	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	n = fread(buf, 1, CIR_JSON_MAX + 1, f);
	if (ferror(f))
		return cir_err(err, EIO, "%s: read error", path);
	if (n > CIR_JSON_MAX)
		return cir_err(err, EFBIG, "%s: larger than %u bytes", path, CIR_JSON_MAX);
	buf[n] = '\0';
	*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

/*
 * One subnet of a network Circuit generates, checked (a network address
 * with room for hosts, no reserved or, for a container's request, public
 * range) and appended to nc with its gateway: --gateway when it lies in
 * this subnet, else the first host.  At most one subnet per family.
 */
static int spec_subnet(const struct cli_net_spec *spec, const char *text,
		       struct cir_netconf *nc, struct cir_error *err)
{
	char subnet[CIR_CIDR_STRLEN], gateway[CIR_IP_STRLEN];
	struct cir_cidr sn;
	struct cir_ip gw;
	const char *kind;
	int r;

	r = cir_cidr_parse_subnet(text, &sn, err);
	if (r < 0)
		return r;
	cir_cidr_format(&sn, subnet, sizeof(subnet));
	kind = cir_cidr_special(&sn);
	if (kind && !spec->allow_reserved)
		return cir_err(err, EINVAL, "subnet %s is in a %s range (--allow-reserved "
			       "to take it anyway)", subnet, kind);
	/* A subnet a container asks for would re-route whatever the host
	 * reaches through its default route in that range: only the
	 * private-use ranges, which the host does not reach that way. */
	if (spec->private_only && (kind || !cir_cidr_private(&sn)))
		return cir_err(err, EPERM, "subnet %s is not a private-use range "
			       "(10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): a container "
			       "may not ask for it; create the network with 'circuit network "
			       "create' first", subnet);
	if (spec->gateway && cir_ip_parse(spec->gateway, &gw, NULL) == 0 &&
	    gw.af == sn.ip.af) {
		struct cir_ip net, bc;

		cir_cidr_network(&sn, &net);
		cir_cidr_broadcast(&sn, &bc);
		if (!cir_cidr_contains(&sn, &gw) || cir_ip_eq(&gw, &net) ||
		    (gw.af == AF_INET && cir_ip_eq(&gw, &bc)))
			return cir_err(err, EINVAL, "gateway %s is not a host address of %s",
				       spec->gateway, subnet);
	} else {
		r = cir_cidr_first_host(&sn, &gw);
		if (r < 0)
			return cir_err(err, -r, "subnet %s has no host address", subnet);
	}
	cir_ip_format(&gw, gateway, sizeof(gateway));
	return cir_netconf_add_subnet(nc, subnet, gateway, err);
}

static int spec_to_conf(const struct cli_net_spec *spec, struct cir_netconf *nc,
			char **conflist, struct cir_error *err)
{
	int r;

	memset(nc, 0, sizeof(*nc));
	r = cir_cni_check_network_name(spec->name, err);
	if (r < 0)
		return r;
	snprintf(nc->name, sizeof(nc->name), "%s", spec->name);
	nc->hook = spec->hook;
	nc->created = (long long)time(NULL);
	if (spec->conflist) {
		_cleanup_free_ char *text = NULL;
		_cleanup_json_ struct cir_json *j = NULL;
		size_t len = 0;

		r = read_text(spec->conflist, &text, &len, err);
		if (r < 0)
			return r;
		r = cir_conflist_normalize(text, len, spec->name, spec->cni_version, conflist, err);
		if (r < 0)
			return cir_err_wrap(err, "%s", spec->conflist);
		r = cir_json_parse(*conflist, strlen(*conflist), &j, err);
		if (r < 0)
			return r;
		cir_conflist_describe(cir_json_root(j), nc);
		return 0;
	}
	if (spec->gateway) {
		struct cir_ip gw;
		bool used = false;

		r = cir_ip_parse(spec->gateway, &gw, err);
		if (r < 0)
			return cir_err_wrap(err, "gateway");
		for (int i = -1; i < spec->n_more && !used; i++) {
			struct cir_cidr sn;
			const char *t = i < 0 ? spec->subnet : spec->more_subnets[i];

			used = cir_cidr_parse(t, 0, &sn, NULL) == 0 && sn.ip.af == gw.af;
		}
		if (!used)
			return cir_err(err, EINVAL, "gateway %s: no subnet of its address family",
				       spec->gateway);
	}
	for (int i = -1; i < spec->n_more; i++) {
		r = spec_subnet(spec, i < 0 ? spec->subnet : spec->more_subnets[i], nc, err);
		if (r < 0)
			return r;
	}
	cir_name_bridge(nc->name, nc->bridge);
	nc->mtu = spec->mtu;
	nc->masquerade = !spec->no_masquerade;
	nc->masquerade6 = nc->masquerade && !spec->no_masquerade6;
	nc->managed = true;
	return cir_conflist_generate(nc, spec->cni_version, conflist, err);
}

int cli_net_create(struct cli *c, struct cir_netdb *db, const struct cli_net_spec *spec,
		   struct cir_error *err)
{
	_cleanup_free_ char *conflist = NULL;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_netconf nc;
	int r;

	r = spec_to_conf(spec, &nc, &conflist, err);
	if (r < 0)
		return r;
	r = cir_network_open(db, nc.name, false, &n, err);
	cir_network_close(&n);
	if (r == 0)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST, "network %s already exists",
				    nc.name);
	cir_err_clear(err);
	for (unsigned int i = 0; i < nc.n_subnets; i++) {
		r = cli_net_overlaps(db, nc.subnets[i], nc.name, err);
		if (r > 0)
			return -EEXIST;
		if (r < 0)
			return r;
	}
	r = bridge_claim(db, &nc, err);
	if (r < 0)
		return r;
	r = cir_network_create(db, &nc, conflist, err);
	if (r < 0)
		return r;
	r = cli_net_ensure(c, &nc, err);
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		net_teardown(db, &nc, &e2);
		cir_network_remove(db, nc.name, &e2);
		return cir_err_wrap(err, "network %s", nc.name);
	}
	return 0;
}

/* ---- connect / disconnect ---- */

struct dup_scan {
	struct cli *c;
	struct cir_network *n;
	const char *cid;
	dev_t dev;
	ino_t ino;
	long long pid;
	struct cir_member found;
	int dup;         /* 1: its namespace is already attached; 2: same member, same process */
	char takeover[CIR_IFNAMSIZ];   /* interface of an unfinished connect rolled back */
	struct cir_error *err;
};

static bool same_netns(const struct cir_member *m, const struct dup_scan *s)
{
	struct stat st;

	return stat(m->netns, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

static int dup_check(const struct cir_member *m, void *arg)
{
	struct dup_scan *s = arg;
	bool alive = cir_member_alive(m);
	bool mine = strcmp(m->cid, s->cid) == 0;

	if (m->pending && (mine || (alive && same_netns(m, s)))) {
		/* A connect of this container that never finished (we hold
		 * the network's lock, so nobody is still running it): undo
		 * what it made, then attach again on the same interface, so
		 * that the container ends with one interface on the network
		 * and the network's routes. */
		int r;

		cli_debug("network %s: rolling back the unfinished connect of %s (%s)",
			  s->n->conf.name, m->cid, m->ifname);
		r = cli_net_disconnect(s->c, s->n, m, s->err);
		if (r < 0)
			return cir_err_wrap(s->err, "unfinished connect of %s", m->cid);
		snprintf(s->takeover, sizeof(s->takeover), "%s", m->ifname);
		return 0;
	}
	if (mine) {
		if (alive) {
			s->found = *m;
			s->dup = m->pid == s->pid ? 2 : 1;
			return -EEXIST;
		}
		/* A member left by a process that is gone: clear it first. */
		struct cir_error e = CIR_ERROR_INIT;

		cli_debug("network %s: clearing stale member %s", s->n->conf.name, m->cid);
		cli_net_disconnect(s->c, s->n, m, &e);
		return 0;
	}
	if (alive && same_netns(m, s)) {
		s->found = *m;
		s->dup = 1;
		return -EEXIST;
	}
	return 0;
}

struct free_if {
	char name[CIR_IFNAMSIZ];
};

static int first_free_eth(void *arg, struct cir_error *err)
{
	struct free_if *f = arg;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	for (int i = 0; i < 1000; i++) {
		snprintf(f->name, sizeof(f->name), "eth%d", i);
		r = cir_link_get(sk, f->name, NULL, err);
		if (r == -ENODEV) {
			cir_err_clear(err);
			return 0;
		}
		if (r < 0)
			return r;
	}
	return cir_err(err, ENOSPC, "no free interface name eth0..eth999");
}

int cli_member_caps(const struct cir_member *m, struct cir_json **caps, struct cir_error *err)
{
	struct cir_publish p[CIR_MEMBER_PUBLISH_MAX];
	_cleanup_free_ char *doc = NULL;
	int r;

	*caps = NULL;
	if (!m->n_publish)
		return 0;
	for (unsigned int i = 0; i < m->n_publish; i++) {
		r = cir_publish_parse(m->publish[i], &p[i], err);
		if (r < 0)
			return r;
	}
	r = cir_publish_caps_json(p, m->n_publish, &doc, err);
	if (r < 0)
		return r;
	return cir_json_parse(doc, strlen(doc), caps, err);
}

/* Check att's --publish values against n's chain and keep their canonical
 * text in m: one line of error for the first bad one. */
static int publish_set(struct cir_network *n, const struct cli_attach *att, struct cir_member *m,
		       struct cir_error *err)
{
	struct cir_publish p[CIR_MEMBER_PUBLISH_MAX];
	_cleanup_free_ struct cir_portmap *all = NULL;
	size_t total = 0;
	int r;

	if (att->n_publish <= 0)
		return 0;
	if (att->n_publish > CIR_MEMBER_PUBLISH_MAX)
		return cir_err(err, E2BIG, "at most %d --publish values", CIR_MEMBER_PUBLISH_MAX);
	for (int i = 0; i < att->n_publish; i++) {
		r = cir_publish_parse(att->publish[i], &p[i], err);
		if (r < 0)
			return r;
	}
	all = calloc(CIR_PORTMAP_MAX, sizeof(*all));
	if (!all)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	r = cir_publish_expand(p, (size_t)att->n_publish, all, &total, CIR_PORTMAP_MAX, err);
	if (r < 0)
		return cir_err_wrap(err, "publish");
	if (!cir_conflist_has_capability(n->conflist, "portMappings"))
		return cir_err(err, EOPNOTSUPP, "network %s cannot publish ports: no plugin of its "
			       "chain has the portMappings capability (add {\"type\": \"%s\", "
			       "\"capabilities\": {\"portMappings\": true}} to it)", n->conf.name,
			       CIR_NETCONF_PORTMAP_PLUGIN);
	for (int i = 0; i < att->n_publish; i++)
		cir_publish_format(&p[i], m->publish[i], sizeof(m->publish[i]));
	m->n_publish = (unsigned int)att->n_publish;
	return 0;
}

int cli_net_connect(struct cli *c, struct cir_network *n, const struct cli_attach *att,
		    struct cir_member *out, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *caps = NULL;
	struct cir_member m = { 0 };
	struct dup_scan ds = { 0 };
	struct free_if fi = { { 0 } };
	struct cir_chain_rt rt = { 0 };
	struct cir_cni_result res;
	_cleanup_free_ char *result = NULL;
	_cleanup_close_ int nsfd = -1;
	char args[128] = "";
	struct stat st;
	int r;

	r = cir_member_set_process(&m, att->pid, err);
	if (r < 0)
		return r;
	/* Bad --publish input is refused before anything is looked at. */
	r = publish_set(n, att, &m, err);
	if (r >= 0)
		r = cli_member_caps(&m, &caps, err);
	if (r < 0)
		return r;
	if (att->cid)
		snprintf(m.cid, sizeof(m.cid), "%s", att->cid);
	else
		snprintf(m.cid, sizeof(m.cid), "pid-%lld", att->pid);
	r = cir_cni_check_containerid(m.cid, err);
	if (r < 0)
		return r;
	m.hook = att->hook;
	r = cir_netns_open_pid((pid_t)att->pid, &nsfd, err);
	if (r < 0)
		return r;
	/* A process sharing the host's namespace (no netns of its own, or
	 * PID 1's): attaching it would give the host an eth0, an address and
	 * a default route.  Checked before anything else is looked at. */
	r = cir_netns_is_host(nsfd, err);
	if (r < 0)
		return r;
	if (r > 0)
		return cir_err(err, EPERM, "process %lld is in the host's network namespace: "
			       "refusing to connect it", att->pid);
	if (fstat(nsfd, &st) < 0)
		return cir_err(err, errno, "netns of %lld: %s", att->pid, strerror(errno));
	/* Connects of one container to two networks run under two network
	 * locks: without this both would pick the same free ethN. */
	r = cir_netns_lock(nsfd, err);
	if (r < 0)
		return r;
	ds = (struct dup_scan){ .c = c, .n = n, .cid = m.cid, .dev = st.st_dev, .ino = st.st_ino,
				.pid = att->pid, .err = err };
	r = cir_member_list(n, dup_check, &ds, err);
	if (ds.dup == 2 && att->hook) {
		/* prestart and createRuntime both calling us: already done. */
		if (out)
			*out = ds.found;
		return 0;
	}
	if (ds.dup) {
		char who[32];

		snprintf(who, sizeof(who), "%lld", att->pid);
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "container %s is already connected to network %s (as %s, %s)",
				    att->name ? att->name : who, n->conf.name, ds.found.cid,
				    ds.found.ifname);
	}
	if (r < 0)
		return r;
	if (att->ifname) {
		r = cir_cni_check_ifname(att->ifname, err);
		if (r < 0)
			return r;
		snprintf(m.ifname, sizeof(m.ifname), "%s", att->ifname);
	} else if (ds.takeover[0]) {
		snprintf(m.ifname, sizeof(m.ifname), "%s", ds.takeover);
	} else {
		r = cir_netns_run(nsfd, first_free_eth, &fi, err);
		if (r < 0)
			return cir_err_wrap(err, "container %lld", att->pid);
		snprintf(m.ifname, sizeof(m.ifname), "%s", fi.name);
	}
	if (att->ip) {
		struct cir_ip ip;

		r = cir_ip_parse(att->ip, &ip, err);
		if (r < 0)
			return r;
		snprintf(args, sizeof(args), "IgnoreUnknown=1;IP=%s", att->ip);
	}
	rt = (struct cir_chain_rt){ .cid = m.cid, .netns = m.netns, .ifname = m.ifname,
				    .args = args[0] ? args : NULL, .path = c->plugin_path,
				    .caps = caps ? cir_json_root(caps) : NULL };
	cli_debug("network %s: ADD %s %s %s (plugins from %s)", n->conf.name, m.cid, m.netns,
		  m.ifname, c->plugin_path);
	/* Intent first: a connect killed from here on leaves a pending
	 * member that the next connect, disconnect, gc or restore of this
	 * network rolls back (never an attachment nobody knows). */
	m.pending = true;
	r = cir_member_put(n, &m, NULL, err);
	if (r < 0)
		return r;
	r = cir_chain_add(n->conflist, &rt, &result, &res, err);
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		cir_member_del(n, m.cid, &e2);
		return r;
	}
	m.pending = false;
	cir_member_set_addresses(&m, &res);
	r = cir_member_put(n, &m, result, err);
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		if (cir_chain_del(n->conflist, &rt, result, &e2) >= 0)
			cir_member_del(n, m.cid, &e2);
		return r;
	}
	if (out)
		*out = m;
	return 0;
}

int cli_net_disconnect(struct cli *c, struct cir_network *n, const struct cir_member *m,
		       struct cir_error *err)
{
	_cleanup_free_ char *result = NULL;
	_cleanup_json_ struct cir_json *caps = NULL;
	struct cir_error e2 = CIR_ERROR_INIT;
	struct cir_member cur;
	struct cir_chain_rt rt;
	int r;

	r = cir_member_get(n, m->cid, &cur, &result, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	/* libcni passes the capability arguments on DEL too; a record whose
	 * values no longer parse must not block the teardown. */
	cli_member_caps(&cur, &caps, &e2);
	rt = (struct cir_chain_rt){ .cid = cur.cid,
				    .netns = cir_member_alive(&cur) ? cur.netns : NULL,
				    .ifname = cur.ifname, .path = c->plugin_path,
				    .caps = caps ? cir_json_root(caps) : NULL };
	cli_debug("network %s: DEL %s %s", n->conf.name, cur.cid, cur.ifname);
	r = cir_chain_del(n->conflist, &rt, result, err);
	if (r < 0)
		return r;
	r = cir_member_del(n, cur.cid, err);
	if (r >= 0)
		r = cli_qos_member_gone(c, n, cur.cid, err);
	return r < 0 ? r : 0;
}

/* ---- delete ---- */

struct del_scan {
	struct cli *c;
	struct cir_network *n;
};

static void reap_host_veth(const struct cir_member *m)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	char host[CIR_IFNAMSIZ];

	cir_name_host_veth(m->cid, m->ifname, host);
	if (cir_nl_route_open(&sk, NULL) < 0 || cir_link_get(sk, host, &li, NULL) < 0)
		return;
	if (li.master == 0 && !li.up)
		cir_link_delete(sk, host, NULL);
}

static int del_member(const struct cir_member *m, void *arg)
{
	struct del_scan *s = arg;
	struct cir_error e = CIR_ERROR_INIT;

	if (cli_net_disconnect(s->c, s->n, m, &e) < 0) {
		cli_warn("network %s: disconnect %s: %s (forgetting it)", s->n->conf.name, m->cid,
			 e.msg);
		cir_member_del(s->n, m->cid, &e);
	}
	/* A member whose process is gone may have left its host veth detached
	 * (circuit-bridge DEL leaves a dead namespace's pair to the kernel);
	 * if its namespace is pinned elsewhere that pair would stay.  The
	 * network is going: delete it now. */
	reap_host_veth(m);
	return 0;
}

/* What Circuit's plugins kept for a managed network, in the same store:
 * <root>/{ipam,qos,masq}/<name> and <root>/portmap/att/<name> (members are
 * gone, so is its chain). */
static void remove_plugin_state(struct cir_netdb *db, const char *name)
{
	static const char *const parts[] = { "ipam", "qos", "masq" };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct cir_error e = CIR_ERROR_INIT;
		int fd = cir_store_dir(db->st.fd, parts[i], false, &e);

		if (fd < 0)
			continue;
		if (cir_store_remove_tree(fd, name, &e) < 0)
			cli_warn("network %s: %s state: %s", name, parts[i], e.msg);
		close(fd);
	}
	/* circuit-portmap: its members are gone, so are their records; the
	 * network's empty record directory goes with it. */
	{
		struct cir_error e = CIR_ERROR_INIT;
		int top = cir_store_dir(db->st.fd, "portmap", false, &e);
		int att = top >= 0 ? cir_store_dir(top, "att", false, &e) : -1;

		if (att >= 0 && unlinkat(att, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			cli_warn("network %s: portmap state: %s", name, strerror(errno));
		if (att >= 0)
			close(att);
		if (top >= 0)
			close(top);
	}
}

int cli_net_delete(struct cli *c, struct cir_netdb *db, const char *name,
		   struct cir_error *err)
{
	struct cir_network n = CIR_NETWORK_INIT;
	struct del_scan ds = { c, &n };
	int r;

	r = cir_network_open(db, name, true, &n, err);
	if (r < 0)
		return r;
	r = cir_member_list(&n, del_member, &ds, err);
	for (const struct cli_group *g = cli_groups; r >= 0 && g->name; g++)
		if (g->network_delete)
			r = g->network_delete(c, &n, err);
	if (r >= 0)
		r = net_teardown(db, &n.conf, err);
	if (r >= 0)
		r = cir_network_remove(db, name, err);
	if (r >= 0 && n.conf.managed)
		remove_plugin_state(db, name);
	cir_network_close(&n);
	return r;
}

/* ---- commands ---- */

static int parse_pid(struct cli *c, const char *s, long long *pid)
{
	unsigned long long v;

	if (cli_parse_uint(s, 1, 4194304, &v) < 0)
		return cli_usage(c, "invalid PID \"%s\"", s);
	*pid = (long long)v;
	return 0;
}

/* PID or runc container ID: *id is NULL for a PID (in *pid), else the ID,
 * checked as a CNI container id (it names a file under runc's root). */
static int parse_container(struct cli *c, const char *s, long long *pid, const char **id)
{
	struct cir_error e = CIR_ERROR_INIT;
	char shown[64];

	*id = NULL;
	*pid = 0;
	if (cli_arg_is_pid(s))
		return parse_pid(c, s, pid);
	if (cir_cni_check_containerid(s, &e) < 0)
		return cli_usage(c, "invalid PID or container ID \"%s\"",
				 cir_err_shown(s, shown, sizeof(shown)));
	*id = s;
	return 0;
}

static int cmd_create(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cli_net_spec spec = { 0 };
	const char *mtu = cli_opt(a, "mtu");
	_cleanup_close_ int lock = -1;
	int r;

	spec.name = a->pos[0];
	spec.subnet = a->npos > 1 ? a->pos[1] : NULL;
	if (cli_opt(a, "scope") && strcmp(cli_opt(a, "scope"), "local") != 0) {
		if (strcmp(cli_opt(a, "scope"), "cluster") != 0)
			return cli_usage(c, "invalid --scope \"%.32s\" (local or cluster)",
					 cli_opt(a, "scope"));
		if (!spec.subnet || cli_opt(a, "subnet") || cli_opt(a, "gateway") || mtu ||
		    cli_opt(a, "conflist") || cli_opt(a, "no-masquerade") ||
		    cli_opt(a, "no-masquerade6"))
			return cli_usage(c, "--scope cluster takes NAME SUBNET and --vni, "
					    "--block-size, --allow-reserved only (the MTU follows "
					    "the underlay)");
		if (cli_cluster_net_create(c, spec.name, spec.subnet, cli_opt(a, "vni"),
					   cli_opt(a, "block-size"), &err) < 0)
			return cli_fail(c, &err);
		cli_info("%s created (cluster)", spec.name);
		return CLI_OK;
	}
	if (cli_opt(a, "vni") || cli_opt(a, "block-size"))
		return cli_usage(c, "--vni and --block-size need --scope cluster");
	spec.n_more = cli_opt_all(a, "subnet", &spec.more_subnets);
	spec.gateway = cli_opt(a, "gateway");
	spec.no_masquerade = cli_opt(a, "no-masquerade") != NULL;
	spec.no_masquerade6 = cli_opt(a, "no-masquerade6") != NULL;
	spec.allow_reserved = cli_opt(a, "allow-reserved") != NULL;
	spec.conflist = cli_opt(a, "conflist");
	spec.cni_version = cli_opt(a, "cni-version");
	if (spec.cni_version && !cir_cni_version_supported(spec.cni_version))
		return cli_usage(c, "invalid --cni-version \"%s\" (%s)", spec.cni_version,
				 CIR_CNI_VERSIONS_TEXT);
	if (spec.conflist && (spec.subnet || spec.n_more || spec.gateway || mtu ||
			      spec.no_masquerade || spec.no_masquerade6))
		return cli_usage(c, "--conflist takes no SUBNET, --subnet, --gateway, --mtu, "
				    "--no-masquerade or --no-masquerade6: the chain says it all");
	if (!spec.subnet && spec.n_more) {
		/* NAME --subnet A [--subnet B]: the first is the SUBNET. */
		spec.subnet = spec.more_subnets[0];
		spec.more_subnets++;
		spec.n_more--;
	}
	if (!spec.conflist && !spec.subnet)
		return cli_usage(c, "missing SUBNET");
	if (mtu) {
		unsigned long long v;

		if (cli_parse_uint(mtu, 68, 65535, &v) < 0)
			return cli_usage(c, "invalid --mtu \"%s\" (68..65535)", mtu);
		spec.mtu = (unsigned int)v;
	}
	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = lock = cir_netdb_lock(&db, &err);
	if (r >= 0)
		r = cli_net_create(c, &db, &spec, &err);
	cir_netdb_close(&db);
	if (r < 0)
		return cli_fail(c, &err);
	cli_info("%s created", spec.name);
	return CLI_OK;
}

struct ls_scan {
	bool scope;                  /* a cluster is configured: the SCOPE column */
	struct cir_netdb *db;
	struct cli_table *t;
	struct cir_jgen *g;
	struct nl_sock **sk;         /* for shown_mtu() */
	int nmembers;
};

/* The MTU a network's JSON shows: the record's, else what its bridge has
 * (the kernel's default, or the smallest of its ports), else 1500 (no
 * bridge, or none named by an imported chain).  *sk is opened on first use
 * and left to the caller to free. */
static unsigned int shown_mtu(struct nl_sock **sk, const struct cir_netconf *nc)
{
	struct cir_link_info li;

	if (nc->mtu)
		return nc->mtu;
	if (nc->bridge[0] && (*sk || cir_nl_route_open(sk, NULL) >= 0) &&
	    cir_link_get(*sk, nc->bridge, &li, NULL) >= 0 && li.mtu)
		return li.mtu;
	return 1500;
}

static int ls_one(const char *name, void *arg)
{
	struct ls_scan *s = arg;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	int r;

	if (cir_network_open(s->db, name, false, &n, &e) < 0)
		return 0;   /* deleted meanwhile */
	if (s->t) {
		char subnets[CIR_NETCONF_SUBNETS_MAX * (CIR_CIDR_STRLEN + 1)] = "-";
		size_t off = 0;

		for (unsigned int i = 0; i < n.conf.n_subnets; i++)
			off += (size_t)snprintf(subnets + off, sizeof(subnets) - off, "%s%s",
						i ? "," : "", n.conf.subnets[i]);
		r = cli_table_row(s->t, n.conf.name, subnets,
				  s->scope ? (n.conf.cluster ? "cluster" : "local") : NULL, NULL);
	} else {
		cir_jgen_map_open(s->g);
		cir_netconf_emit_shown(s->g, &n.conf, shown_mtu(s->sk, &n.conf));
		r = cir_member_list(&n, NULL, NULL, &e);
		cir_jgen_kint(s->g, "members", r < 0 ? 0 : r);
		cir_jgen_map_close(s->g);
		r = 0;
	}
	cir_network_close(&n);
	return r;
}

static int check_format(struct cli *c, const struct cli_args *a, bool *json)
{
	const char *f = cli_opt(a, "format");

	*json = false;
	if (!f || strcmp(f, "table") == 0)
		return 0;
	if (strcmp(f, "json") == 0) {
		*json = true;
		return 0;
	}
	return cli_usage(c, "unknown --format \"%s\" (table or json)", f);
}

static int cmd_ls(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct ls_scan s = { false, &db, NULL, NULL, &sk, 0 };
	bool json;
	int r;

	r = check_format(c, a, &json);
	if (r)
		return r;
	r = cli_db_open_ro(c, &db, &err);
	if (r < 0)
		return cli_fail(c, &err);
	if (json) {
		r = cli_json_new(&g, &err);
		if (r >= 0) {
			s.g = g;
			cir_jgen_arr_open(g);
			r = cir_netdb_list(&db, ls_one, &s, &err);
			if (r >= 0)
				cli_cluster_net_ls(c, &db, NULL, g);
			cir_jgen_arr_close(g);
		}
		if (r >= 0)
			r = cli_json_print(g, &err);
	} else {
		s.t = cli_table_new();
		if (!s.t)
			r = cir_err(&err, ENOMEM, "out of memory");
		else if ((s.scope = cli_cluster_configured(c)))
			r = cli_table_row(s.t, "NAME", "SUBNET", "SCOPE", NULL);
		else
			r = cli_table_row(s.t, "NAME", "SUBNET", NULL);
		if (r >= 0)
			r = cir_netdb_list(&db, ls_one, &s, &err);
		if (r >= 0 && s.scope)
			r = cli_cluster_net_ls(c, &db, s.t, NULL) < 0 ? -ENOMEM : 0;
		if (r == -ENOMEM)
			r = cir_err(&err, ENOMEM, "out of memory");
		if (r >= 0)
			cli_table_print(s.t, stdout);
		cli_table_free(s.t);
	}
	cir_netdb_close(&db);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

static int inspect_member(const struct cir_member *m, void *arg)
{
	struct cir_jgen *g = arg;

	cir_jgen_map_open(g);
	cir_member_emit(g, m);
	cir_jgen_kbool(g, "running", cir_member_alive(m));
	cir_jgen_map_close(g);
	return 0;
}

static int cmd_inspect(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cli_db_open_ro(c, &db, &err);
	if (r >= 0)
		r = cir_network_open(&db, a->pos[0], false, &n, &err);
	if (r >= 0)
		r = cli_json_new(&g, &err);
	if (r >= 0) {
		cir_jgen_map_open(g);
		cir_netconf_emit_shown(g, &n.conf, shown_mtu(&sk, &n.conf));
		cir_jgen_key(g, "members");
		cir_jgen_arr_open(g);
		r = cir_member_list(&n, inspect_member, g, &err);
		cir_jgen_arr_close(g);
		for (const struct cli_group *gr = cli_groups; r >= 0 && gr->name; gr++)
			if (gr->network_inspect)
				r = gr->network_inspect(c, &n, g, &err);
		cir_jgen_map_close(g);
	}
	if (r >= 0)
		r = cli_json_print(g, &err);
	cir_network_close(&n);
	cir_netdb_close(&db);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

static int cmd_export(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	const char *version = cli_opt(a, "cni-version");
	_cleanup_free_ char *doc = NULL;
	const char *text;
	int r;

	if (version && !cir_cni_version_supported(version))
		return cli_usage(c, "invalid --cni-version \"%s\" (%s)", version,
				 CIR_CNI_VERSIONS_TEXT);
	r = cli_db_open_ro(c, &db, &err);
	if (r >= 0)
		r = cir_network_open(&db, a->pos[0], false, &n, &err);
	if (r == -ENOENT && cli_cluster_configured(c)) {
		/* A cluster network not made here yet: make it. */
		cir_netdb_close(&db);
		r = cli_db_open(c, &db, &err);
		if (r >= 0)
			r = cli_network_open_any(c, &db, false, a->pos[0], false, &n, &err);
	}
	/* Another version for another runtime: the same chain, re-emitted. */
	if (r >= 0 && version)
		r = cir_conflist_normalize(n.conflist_raw, strlen(n.conflist_raw), NULL, version,
					   &doc, &err);
	if (r >= 0) {
		size_t len;

		text = doc ? doc : n.conflist_raw;
		len = strlen(text);
		fputs(text, stdout);
		if (len == 0 || text[len - 1] != '\n')
			fputc('\n', stdout);
	}
	cir_network_close(&n);
	cir_netdb_close(&db);
	return r < 0 ? cli_fail(c, &err) : CLI_OK;
}

static int cmd_connect(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cli_attach att = { 0 };
	const char *id;
	int r;

	r = parse_container(c, a->pos[0], &att.pid, &id);
	if (r)
		return r;
	att.ip = cli_opt(a, "ip");
	att.ifname = cli_opt(a, "ifname");
	{
		const char *const *pub = NULL;

		att.n_publish = cli_opt_all(a, "publish", &pub);
		att.publish = pub;
		/* Bad input is a usage error, one line, before any state. */
		for (int i = 0; i < att.n_publish; i++) {
			struct cir_publish p;

			if (cir_publish_parse(pub[i], &p, &err) < 0)
				return cli_fail(c, &err);
		}
	}
	if (id) {
		/* A runc container: its init process, and its ID as the CNI
		 * container id (as the hook attaches it). */
		if (cir_runc_pid(NULL, id, &att.pid, &err) < 0)
			return cli_fail(c, &err);
		att.cid = att.name = id;
	}
	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = cli_network_open_any(c, &db, false, a->pos[1], true, &n, &err);
	if (r >= 0)
		r = cli_net_connect(c, &n, &att, NULL, &err);
	cir_network_close(&n);
	cir_netdb_close(&db);
	if (r < 0)
		return cli_fail(c, &err);
	if (id)
		cli_info("connected container %s to network %s", id, a->pos[1]);
	else
		cli_info("connected container %lld to network %s", att.pid, a->pos[1]);
	return CLI_OK;
}

struct pid_scan {
	long long pid;
	const struct cir_runc_state *runc;   /* match runc's process instead of pid */
	struct cir_member m;
	int found;           /* 2: alive match, 1: recorded with this pid */
};

static int find_pid(const struct cir_member *m, void *arg)
{
	struct pid_scan *s = arg;

	if (s->runc ? !cir_runc_is_member(s->runc, m) : m->pid != s->pid)
		return 0;
	if (cir_member_alive(m)) {
		s->m = *m;
		s->found = 2;
		return -EEXIST;
	}
	if (!s->found) {
		s->m = *m;
		s->found = 1;
	}
	return 0;
}

/* The member a disconnect names: by PID as recorded (a live process first),
 * or by runc container ID: the member with that container id (the hook's,
 * or connected by ID), else the member holding the process runc recorded
 * for it (connected by PID; it need not run any more). */
static int find_member(struct cir_network *n, const char *id, struct pid_scan *ps,
		       struct cir_error *err)
{
	struct cir_runc_state rs;
	int r;

	if (id) {
		r = cir_member_get(n, id, &ps->m, NULL, err);
		if (r >= 0) {
			ps->found = 2;
			return 0;
		}
		if (r != -ENOENT)
			return r;
		cir_err_clear(err);
		r = cir_runc_state_read(NULL, id, &rs, err);
		if (r < 0)
			return r;
		ps->runc = &rs;
	}
	r = cir_member_list(n, find_pid, ps, err);
	ps->runc = NULL;
	if (r == -EEXIST || r >= 0)
		r = 0;
	if (r >= 0 && !ps->found) {
		struct cir_member probe;

		if (id)
			r = cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
					 "container %s is not connected to network %s", id,
					 n->conf.name);
		else if (cir_member_set_process(&probe, ps->pid, err) < 0)
			r = -ESRCH;
		else
			r = cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
					 "container %lld is not connected to network %s", ps->pid,
					 n->conf.name);
	}
	return r;
}

static int cmd_disconnect(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct pid_scan ps = { 0 };
	const char *id;
	int r;

	r = parse_container(c, a->pos[0], &ps.pid, &id);
	if (r)
		return r;
	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = cir_network_open(&db, a->pos[1], true, &n, &err);
	if (r >= 0)
		r = find_member(&n, id, &ps, &err);
	if (r >= 0)
		r = cli_net_disconnect(c, &n, &ps.m, &err);
	cir_network_close(&n);
	cir_netdb_close(&db);
	if (r < 0)
		return cli_fail(c, &err);
	if (id)
		cli_info("disconnected container %s from network %s", id, a->pos[1]);
	else
		cli_info("disconnected container %lld from network %s", ps.pid, a->pos[1]);
	return CLI_OK;
}

static int cmd_delete(struct cli *c, const struct cli_args *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netdb db = CIR_NETDB_INIT;
	_cleanup_close_ int lock = -1;
	int r;

	bool cluster = false, local = false;

	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = lock = cir_netdb_lock(&db, &err);
	if (r >= 0) {
		struct cir_network n = CIR_NETWORK_INIT;
		struct cir_error e2 = CIR_ERROR_INIT;

		local = cir_network_open(&db, a->pos[0], false, &n, &e2) == 0;
		cluster = local && n.conf.cluster;
		cir_network_close(&n);
		r = cli_net_delete(c, &db, a->pos[0], &err);
	}
	/* A cluster network: its overlay here and its record in etcd. */
	if ((r >= 0 && cluster) || (r == -ENOENT && !local && cli_cluster_configured(c))) {
		struct cir_error e2 = CIR_ERROR_INIT;
		int r2 = cli_cluster_net_delete(c, a->pos[0], local, &e2);

		if (r2 != -ENOENT || local) {
			r = r2;
			err = e2;
		}
	}
	cir_netdb_close(&db);
	if (r < 0)
		return cli_fail(c, &err);
	cli_info("%s deleted", a->pos[0]);
	return CLI_OK;
}

const struct cli_cmd cli_network_cmds[] = {
	{ "create", "NAME SUBNET [--subnet SUBNET] [--gateway IP] [--no-masquerade] "
	  "[--no-masquerade6] [--mtu N] | NAME --conflist FILE",
	  "create a network: bridge c-NAME, gateway, masquerade and a CNI conflist",
	  "Examples:\n"
	  "  circuit network create sandbox 10.254.1.0/24\n"
	  "  circuit network create dual 10.254.3.0/24 --subnet fd00:1::/64\n"
	  "  circuit network create db 10.254.2.0/24 --gateway 10.254.2.254 --mtu 1400\n"
	  "  circuit network create lab --conflist /etc/cni/net.d/lab.conflist\n"
	  "A subnet must not overlap another network or an address on this host.\n"
	  "--subnet adds a subnet of the other address family (dual stack): the\n"
	  "bridge gets a gateway of each, each container an address of each and\n"
	  "both default routes.\n"
	  "With --conflist the chain may name any CNI plugins (bridge, host-local,\n"
	  "portmap, bandwidth, firewall ...); the name on the command line wins.\n"
	  "The conflist says cniVersion 1.0.0 (what podman 4 and containerd 1.6\n"
	  "read); --cni-version V sets another, also on an imported one.\n"
	  "--scope cluster records the network in the cluster's etcd: every host\n"
	  "sees it and makes it (bridge, gateway, VXLAN port) when it is used there:\n"
	  "  circuit network create blue 10.128.0.0/16 --scope cluster --vni 4242\n",
	  { { "subnet", true, "SUBNET", "another subnet, at most one per address family" },
	    { "gateway", true, "IP", "gateway address on the bridge (default: first host of "
	      "each subnet; this one for its family)" },
	    { "no-masquerade", false, NULL, "do not masquerade traffic leaving the subnets" },
	    { "no-masquerade6", false, NULL, "masquerade IPv4 only (a routed IPv6 prefix)" },
	    { "mtu", true, "N", "MTU of the bridge and container interfaces" },
	    { "conflist", true, "FILE", "import a CNI conflist (or single-plugin .conf)" },
	    { "allow-reserved", false, NULL, "allow a loopback, link-local, multicast range" },
	    { "cni-version", true, "V", "cniVersion of the conflist (default 1.0.0)" },
	    { "scope", true, "SCOPE", "local (default) or cluster: a network across hosts" },
	    { "vni", true, "N", "cluster: VXLAN network id (default from the name)" },
	    { "block-size", true, "N", "cluster: prefix length of a host's address blocks "
	      "(default 26, IPv6 122)" } },
	  1, 2, cmd_create },
	{ "ls", "[--format table|json]", "list networks",
	  "Examples:\n  circuit network ls\n  circuit network ls --format json\n",
	  { { "format", true, "FORMAT", "table (default) or json" } }, 0, 0, cmd_ls },
	{ "inspect", "NAME", "show a network, its members and its QoS as JSON",
	  "Example:\n  circuit network inspect sandbox\n", { { NULL } }, 1, 1, cmd_inspect },
	{ "export", "NAME [--cni-version V]",
	  "print the network's CNI conflist (for other CNI runtimes)",
	  "--cni-version prints the same chain at another cniVersion\n"
	  "(" CIR_CNI_VERSIONS_TEXT ") for a runtime that wants it;\n"
	  "the stored conflist does not change.\n"
	  "Examples:\n  circuit network export sandbox > /etc/cni/net.d/10-sandbox.conflist\n"
	  "  circuit network export sandbox --cni-version 0.4.0\n",
	  { { "cni-version", true, "V", "print at this cniVersion" } }, 1, 1, cmd_export },
	{ "connect", "PID|ID NAME [--ip IP] [--ifname IF] [--publish SPEC]...",
	  "attach the network namespace of process PID (or runc container ID)",
	  "The container gets eth0, or the next free ethN when it already has one.\n"
	  "A runc container ID is looked up in runc's state ($CIRCUIT_RUNC_ROOT,\n"
	  "default /run/runc) and becomes the CNI container id.\n"
	  "Examples:\n  circuit network connect 4668 sandbox\n"
	  "  circuit network connect web-00 sandbox\n"
	  "  circuit network connect 4668 sandbox --ip 10.254.1.10 --ifname eth1\n"
	  "  circuit network connect 4668 sandbox --publish 8080:80\n"
	  "  circuit network connect 4668 sandbox --publish 127.0.0.1:5353:53/udp\n"
	  "  circuit network connect 4668 sandbox --publish 9000-9001:80-81\n"
	  "  circuit network connect 4668 sandbox --publish [fd00::1]:8443:443\n"
	  "A published port is reachable at any host address (or HOSTIP) of the\n"
	  "host, from outside, from the host itself (127.0.0.1 too) and from other\n"
	  "containers; a host port published already is refused.\n",
	  { { "ip", true, "IP", "request this address" },
	    { "ifname", true, "IF", "container interface name" },
	    { "publish", true, "SPEC",
	      "publish a container port on the host: [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp] "
	      "(repeatable; ranges A-B:C-D; an IPv6 HOSTIP in brackets)" } },
	  2, 2, cmd_connect },
	{ "disconnect", "PID|ID NAME",
	  "detach a process's (or runc container's) namespace from a network",
	  "A runc container ID finds the member connected by that ID or by the PID\n"
	  "runc recorded for it.\n"
	  "Examples:\n  circuit network disconnect 4668 sandbox\n"
	  "  circuit network disconnect web-00 sandbox\n", { { NULL } }, 2, 2,
	  cmd_disconnect },
	{ "delete", "NAME", "disconnect all members and remove the network",
	  "Example:\n  circuit network delete sandbox\n", { { NULL } }, 1, 1, cmd_delete },
	{ NULL },
};
