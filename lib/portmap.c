// SPDX-License-Identifier: Apache-2.0
/*
 * portmap.c - published ports: parsing, the store, and the kernel steps.
 *
 * Store (spec/circuit-portmap.md), under <root>/portmap/, one flock for
 * all of it (a host port is a host-wide resource):
 *   att/<network>/<cid>:<ifname>   the attachment's record (JSON): its
 *                                  mappings, addresses, bridge, netns
 *   ports/<proto>-<port>/<key>     a reservation: key "any", or the host
 *                                  address ("0.0.0.0", "::", "10.1.2.3");
 *                                  content "network cid ifname"
 *   bridges/<bridge>               how many attachments publish through it
 * A conflict check reads the one small directory of its port: flat in the
 * number of published ports.  The record is written before the
 * reservations, so every reservation has a record naming it (GC).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <netlink/socket.h>

#include "cleanup.h"
#include "conntrack.h"
#include "link.h"
#include "nft.h"
#include "nl.h"
#include "portmap.h"
#include "store.h"
#include "sysctl.h"

#define PM_DIR "portmap"          /* <root>/portmap/{att,ports,bridges}/ */
#define PM_ATT "att"

/* ---- parsing ---- */

int cir_portmap_proto_parse(const char *s, uint8_t *proto, struct cir_error *err)
{
	char show[32];

	if (s && !strcasecmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (s && !strcasecmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (s && !strcasecmp(s, "sctp"))
		*proto = IPPROTO_SCTP;
	else
		return cir_err(err, EINVAL, "protocol \"%s\" is not tcp, udp or sctp",
			       s ? cir_err_shown(s, show, sizeof(show)) : "");
	return 0;
}

const char *cir_portmap_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: return "?";
	}
}

static bool ip_any(const struct cir_ip *ip)
{
	size_t len = ip->af == AF_INET6 ? 16 : 4;

	if (ip->af == 0)
		return true;
	for (size_t i = 0; i < len; i++)
		if (ip->addr[i])
			return false;
	return true;
}

bool cir_portmap_host_overlap(const struct cir_ip *a, const struct cir_ip *b)
{
	if (a->af == 0 || b->af == 0)
		return true;
	if (a->af != b->af)
		return false;
	return ip_any(a) || ip_any(b) || cir_ip_eq(a, b);
}

/* "N" or "N-M" in [p, end) into *first, *count.  what names the side. */
static int port_range(const char *p, const char *end, const char *what, uint16_t *first,
		      uint16_t *count, const char *show, struct cir_error *err)
{
	unsigned long v[2] = { 0, 0 };
	int k = 0;

	if (p == end)
		return cir_err(err, EINVAL, "publish \"%s\": %s port missing", show, what);
	while (p < end && k < 2) {
		const char *s = p;

		while (p < end && *p >= '0' && *p <= '9') {
			v[k] = v[k] * 10 + (unsigned long)(*p - '0');
			if (v[k] > 65535) {
				/* read the rest of the digits for the message */
				while (p < end && *p >= '0' && *p <= '9')
					p++;
				return cir_err(err, EINVAL, "publish \"%s\": %s port %.*s out of "
					       "range 1-65535", show, what, (int)(p - s), s);
			}
			p++;
		}
		if (p == s)
			return cir_err(err, EINVAL, "publish \"%s\": %s port is not a number",
				       show, what);
		if (v[k] == 0)
			return cir_err(err, EINVAL, "publish \"%s\": %s port 0 out of range "
				       "1-65535", show, what);
		k++;
		if (p < end && *p == '-' && k == 1)
			p++;
		else
			break;
	}
	if (p != end)
		return cir_err(err, EINVAL, "publish \"%s\": %s port is not a number or range",
			       show, what);
	if (k == 2 && v[1] < v[0])
		return cir_err(err, EINVAL, "publish \"%s\": %s port range %lu-%lu is backwards",
			       show, what, v[0], v[1]);
	*first = (uint16_t)v[0];
	*count = (uint16_t)(k == 2 ? v[1] - v[0] + 1 : 1);
	return 0;
}

/* The optional host address in front of s (up to end): "[IPV6]:" or
 * "IPV4:" before HOSTPORT:CONTAINERPORT; *ports gets where the ports start. */
static int publish_host(const char *s, const char *end, const char *show,
			struct cir_ip *host_ip, const char **ports, struct cir_error *err)
{
	char host[CIR_IP_TEXT_MAX + 1];
	const char *colon;

	*ports = s;
	if (*s == '[') {
		const char *rb = memchr(s, ']', (size_t)(end - s));

		if (!rb || rb + 1 >= end || rb[1] != ':')
			return cir_err(err, EINVAL, "publish \"%s\": want [IPV6]:HOSTPORT:"
				       "CONTAINERPORT", show);
		if ((size_t)(rb - s - 1) > CIR_IP_TEXT_MAX)
			return cir_err(err, EINVAL, "publish \"%s\": host address too long", show);
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		if (cir_ip_parse(host, host_ip, err) < 0 || host_ip->af != AF_INET6)
			return cir_err(err, EINVAL, "publish \"%s\": \"[%s]\" is not an IPv6 "
				       "address", show, host);
		*ports = rb + 2;
	} else {
		/* Two colons: HOSTIP:HOSTPORT:CONTAINERPORT. */
		size_t colons = 0;

		for (const char *q = s; q < end; q++)
			colons += *q == ':';
		if (colons == 2) {
			colon = memchr(s, ':', (size_t)(end - s));
			if ((size_t)(colon - s) > CIR_IP_TEXT_MAX)
				return cir_err(err, EINVAL, "publish \"%s\": host address too long",
					       show);
			memcpy(host, s, (size_t)(colon - s));
			host[colon - s] = '\0';
			if (cir_ip_parse(host, host_ip, err) < 0 || host_ip->af != AF_INET)
				return cir_err(err, EINVAL, "publish \"%s\": \"%s\" is not an IPv4 "
					       "address (IPv6 goes in brackets)", show, host);
			*ports = colon + 1;
		} else if (colons != 1) {
			return cir_err(err, EINVAL, "publish \"%s\": want [HOSTIP:]HOSTPORT:"
				       "CONTAINERPORT[/tcp|udp]", show);
		}
	}
	return 0;
}

int cir_publish_parse(const char *s, struct cir_publish *p, struct cir_error *err)
{
	char show[CIR_PUBLISH_STRLEN];
	const char *end, *slash, *ports, *c2;
	uint16_t hcount, ccount;
	struct cir_publish x = { 0 };
	int r;

	if (!s || !*s)
		return cir_err(err, EINVAL, "publish: empty value");
	cir_err_shown(s, show, sizeof(show));
	if (strlen(s) > CIR_PUBLISH_STRLEN)
		return cir_err(err, EINVAL, "publish \"%s\": too long", show);
	end = s + strlen(s);
	x.proto = IPPROTO_TCP;
	slash = strrchr(s, '/');
	if (slash) {
		r = cir_portmap_proto_parse(slash + 1, &x.proto, err);
		if (r < 0)
			return cir_err_wrap(err, "publish \"%s\"", show);
		end = slash;
	}
	r = publish_host(s, end, show, &x.host_ip, &ports, err);
	if (r < 0)
		return r;
	c2 = memchr(ports, ':', (size_t)(end - ports));
	if (!c2)
		return cir_err(err, EINVAL, "publish \"%s\": want [HOSTIP:]HOSTPORT:"
			       "CONTAINERPORT[/tcp|udp]", show);
	r = port_range(ports, c2, "host", &x.host_port, &hcount, show, err);
	if (r >= 0)
		r = port_range(c2 + 1, end, "container", &x.container_port, &ccount, show, err);
	if (r < 0)
		return r;
	if (hcount != ccount)
		return cir_err(err, EINVAL, "publish \"%s\": host and container ranges differ in "
			       "length (%u and %u ports)", show, hcount, ccount);
	x.count = hcount;
	*p = x;
	return 0;
}

const char *cir_publish_format(const struct cir_publish *p, char *buf, size_t len)
{
	char host[CIR_IP_STRLEN + 3] = "", hp[16], cp[16];

	if (p->host_ip.af == AF_INET6) {
		char a[CIR_IP_STRLEN];

		snprintf(host, sizeof(host), "[%s]:", cir_ip_format(&p->host_ip, a, sizeof(a)));
	} else if (p->host_ip.af == AF_INET) {
		char a[CIR_IP_STRLEN];

		snprintf(host, sizeof(host), "%s:", cir_ip_format(&p->host_ip, a, sizeof(a)));
	}
	if (p->count > 1) {
		snprintf(hp, sizeof(hp), "%u-%u", p->host_port, p->host_port + p->count - 1);
		snprintf(cp, sizeof(cp), "%u-%u", p->container_port,
			 p->container_port + p->count - 1);
	} else {
		snprintf(hp, sizeof(hp), "%u", p->host_port);
		snprintf(cp, sizeof(cp), "%u", p->container_port);
	}
	snprintf(buf, len, "%s%s:%s/%s", host, hp, cp, cir_portmap_proto_name(p->proto));
	return buf;
}

static int clash_check(const struct cir_portmap *m, size_t n, const struct cir_portmap *x,
		       struct cir_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].proto == x->proto && m[i].host_port == x->host_port &&
		    cir_portmap_host_overlap(&m[i].host_ip, &x->host_ip))
			return cir_err(err, EINVAL, "host port %s/%u is published twice",
				       cir_portmap_proto_name(x->proto), x->host_port);
	return 0;
}

int cir_publish_expand(const struct cir_publish *p, size_t np, struct cir_portmap *out,
		       size_t *n, size_t max, struct cir_error *err)
{
	for (size_t i = 0; i < np; i++) {
		for (unsigned int k = 0; k < p[i].count; k++) {
			struct cir_portmap m = {
				.host_ip = p[i].host_ip,
				.host_port = (uint16_t)(p[i].host_port + k),
				.container_port = (uint16_t)(p[i].container_port + k),
				.proto = p[i].proto,
			};

			if (*n >= max)
				return cir_err(err, E2BIG, "more than %zu published ports", max);
			if (clash_check(out, *n, &m, err) < 0)
				return -EINVAL;
			out[(*n)++] = m;
		}
	}
	return 0;
}

int cir_portmap_parse_json(const struct cir_jnode *arr, struct cir_portmap *out, size_t *n,
			   size_t max, struct cir_error *err)
{
	*n = 0;
	if (!arr)
		return 0;
	if (cir_jnode_type(arr) != CIR_JARRAY)
		return cir_err(err, EINVAL, "portMappings: expected an array");
	if (cir_jnode_len(arr) > max)
		return cir_err(err, E2BIG, "portMappings: more than %zu entries", max);
	for (size_t i = 0; i < cir_jnode_len(arr); i++) {
		const struct cir_jnode *o = cir_jnode_at(arr, i);
		const char *proto = "tcp", *host = NULL;
		uint32_t hp = 0, cp = 0;
		struct cir_portmap m = { 0 };
		int r;

		if (cir_jnode_type(o) != CIR_JOBJECT) {
			r = cir_err(err, EINVAL, "expected an object");
			goto bad;
		}
		if (cir_json_u32(o, "hostPort", 65535, &hp, err) < 0 ||
		    cir_json_u32(o, "containerPort", 65535, &cp, err) < 0 ||
		    cir_json_str(o, "protocol", &proto, err) < 0 ||
		    cir_json_str(o, "hostIP", &host, err) < 0) {
			r = -err->errnum;
			goto bad;
		}
		if (hp == 0 || cp == 0) {
			r = cir_err(err, EINVAL, "%s missing or 0 (want 1-65535)",
				    hp == 0 ? "hostPort" : "containerPort");
			goto bad;
		}
		/* The reference plugin takes "" for the default protocol. */
		if (!*proto)
			proto = "tcp";
		r = cir_portmap_proto_parse(proto, &m.proto, err);
		if (r >= 0 && host && *host)
			r = cir_ip_parse(host, &m.host_ip, err);
		if (r < 0)
			goto bad;
		m.host_port = (uint16_t)hp;
		m.container_port = (uint16_t)cp;
		if (clash_check(out, *n, &m, err) < 0) {
			r = -EINVAL;
			goto bad;
		}
		out[(*n)++] = m;
		continue;
bad:
		return cir_err_wrap(err, "portMappings[%zu]", i);
	}
	return 0;
}

void cir_portmap_emit(struct cir_jgen *g, const struct cir_portmap *m)
{
	char host[CIR_IP_STRLEN] = "";

	if (m->host_ip.af)
		cir_ip_format(&m->host_ip, host, sizeof(host));
	cir_jgen_map_open(g);
	cir_jgen_kint(g, "hostPort", m->host_port);
	cir_jgen_kint(g, "containerPort", m->container_port);
	cir_jgen_kstr(g, "protocol", cir_portmap_proto_name(m->proto));
	cir_jgen_kstr(g, "hostIP", host);
	cir_jgen_map_close(g);
}

/* "portMappings": [...] of n mappings into the open map. */
static void emit_mappings(struct cir_jgen *g, const struct cir_portmap *m, size_t n)
{
	cir_jgen_key(g, "portMappings");
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < n; i++)
		cir_portmap_emit(g, &m[i]);
	cir_jgen_arr_close(g);
}

int cir_publish_caps_json(const struct cir_publish *p, size_t np, char **out,
			  struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_free_ struct cir_portmap *m = NULL;
	size_t n = 0;
	int r;

	m = calloc(CIR_PORTMAP_MAX, sizeof(*m));
	if (!m)
		return cir_err(err, ENOMEM, "published ports: %s", strerror(ENOMEM));
	r = cir_publish_expand(p, np, m, &n, CIR_PORTMAP_MAX, err);
	if (r < 0)
		return r;
	r = cir_jgen_new(&g, false, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	emit_mappings(g, m, n);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

/* ---- the store ---- */

struct pm_store {
	struct cir_store st;
	int top, att, ports, bridges, lock;
};

static void pm_close(struct pm_store *s)
{
	int *fds[] = { &s->lock, &s->bridges, &s->ports, &s->att, &s->top };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	cir_store_close(&s->st);
}

/* Open (with create, making) portmap/ and take its lock.  Without create,
 * -ENOENT without a message when nothing was ever published here. */
static int pm_open(const char *data_dir, bool create, struct pm_store *s, struct cir_error *err)
{
	int r;

	*s = (struct pm_store){ .st = CIR_STORE_INIT, .top = -1, .att = -1, .ports = -1,
				.bridges = -1, .lock = -1 };
	r = cir_store_data_dir_check(data_dir, create, err);
	if (r >= 0)
		r = create ? cir_store_open(&s->st, data_dir, err)
			   : cir_store_open_existing(&s->st, data_dir, err);
	if (r >= 0) {
		s->top = cir_store_dir(s->st.fd, PM_DIR, create, err);
		r = s->top;
	}
	if (r >= 0)
		r = s->lock = cir_store_lock(s->top, err);
	if (r >= 0)
		r = s->att = cir_store_dir(s->top, PM_ATT, true, err);
	if (r >= 0)
		r = s->ports = cir_store_dir(s->top, "ports", true, err);
	if (r >= 0)
		r = s->bridges = cir_store_dir(s->top, "bridges", true, err);
	if (r < 0) {
		pm_close(s);
		if (r == -ENOENT && !create) {
			cir_err_clear(err);
			return r;
		}
		return cir_err_wrap(err, "published ports state");
	}
	return 0;
}

static int att_name(const struct cir_portmap_owner *o, char *buf, size_t len,
		    struct cir_error *err)
{
	if (!cir_name_valid(o->network))
		return cir_name_check("network name", o->network, err);
	if (!cir_name_valid(o->cid))
		return cir_name_check("container id", o->cid, err);
	if ((size_t)snprintf(buf, len, "%s:%s", o->cid, o->ifname) >= len ||
	    !cir_store_name_valid(buf) || strchr(o->ifname, ':') || strchr(o->ifname, ' '))
		return cir_err(err, EINVAL, "interface name is invalid");
	return 0;
}

static void port_dir_name(const struct cir_portmap *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", cir_portmap_proto_name(m->proto), m->host_port);
}

static void port_key(const struct cir_ip *ip, char *buf, size_t len)
{
	if (ip->af == 0)
		snprintf(buf, len, "any");
	else
		cir_ip_format(ip, buf, len);
}

struct holder_scan {
	int dirfd;
	const struct cir_portmap *m;
	const char *mine;            /* "network cid ifname" */
	char other[CIR_NAME_MAX * 2 + 40];
	bool clash;
};

static int holder_check(const char *name, void *arg)
{
	struct holder_scan *h = arg;
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_ip ip = { 0 };
	char owner[sizeof(h->other)];

	if (strcmp(name, "any") != 0 && cir_ip_parse(name, &ip, &e) < 0)
		return 0;           /* not ours to judge */
	if (!cir_portmap_host_overlap(&ip, &h->m->host_ip))
		return 0;
	if (cir_store_read(h->dirfd, name, owner, sizeof(owner), &e) < 0)
		owner[0] = '\0';
	if (strcmp(owner, h->mine) == 0)
		return 0;
	snprintf(h->other, sizeof(h->other), "%s", owner);
	h->clash = true;
	return -EADDRINUSE;
}

/* Is m's host port free of other holders?  0 yes, -EADDRINUSE (code
 * CIR_CNI_EXISTS) with the holder named. */
static int port_free(struct pm_store *s, const struct cir_portmap *m, const char *mine,
		     struct cir_error *err)
{
	char dname[32];
	_cleanup_close_ int d = -1;
	struct holder_scan h = { .m = m, .mine = mine };
	struct cir_error e = CIR_ERROR_INIT;
	char net[CIR_NAME_MAX + 1] = "", cid[CIR_NAME_MAX * 2] = "";

	port_dir_name(m, dname, sizeof(dname));
	d = cir_store_dir(s->ports, dname, false, &e);
	if (d == -ENOENT)
		return 0;
	if (d < 0) {
		*err = e;
		return d;
	}
	h.dirfd = d;
	cir_store_list(d, holder_check, &h, &e);
	if (!h.clash)
		return 0;
	char host[CIR_IP_STRLEN] = "";

	sscanf(h.other, "%128s %255s", net, cid);
	if (m->host_ip.af)
		cir_ip_format(&m->host_ip, host, sizeof(host));
	return cir_err_code(err, CIR_CNI_EXISTS, EADDRINUSE,
			    "host port %s/%u%s%s is already published by container %s on network %s",
			    cir_portmap_proto_name(m->proto), m->host_port, host[0] ? " on " : "",
			    host, cid[0] ? cid : "?", net[0] ? net : "?");
}

static int reserve(struct pm_store *s, const struct cir_portmap *m, const char *mine,
		   struct cir_error *err)
{
	char dname[32], key[CIR_IP_STRLEN];
	_cleanup_close_ int d = -1;
	int r;

	port_dir_name(m, dname, sizeof(dname));
	port_key(&m->host_ip, key, sizeof(key));
	d = cir_store_dir(s->ports, dname, true, err);
	if (d < 0)
		return d;
	r = cir_store_create(d, key, mine, strlen(mine), err);
	if (r == -EEXIST) {
		/* Ours from an ADD that died before recording: take it over. */
		cir_err_clear(err);
		r = cir_store_write(d, key, mine, strlen(mine), err);
	}
	return r;
}

static void unreserve(struct pm_store *s, const struct cir_portmap *m, const char *mine)
{
	char dname[32], key[CIR_IP_STRLEN], owner[CIR_NAME_MAX * 2 + 40];
	struct cir_error e = CIR_ERROR_INIT;
	_cleanup_close_ int d = -1;

	port_dir_name(m, dname, sizeof(dname));
	port_key(&m->host_ip, key, sizeof(key));
	d = cir_store_dir(s->ports, dname, false, &e);
	if (d < 0)
		return;
	/* Only our own reservation: another holder's stays. */
	if (cir_store_read(d, key, owner, sizeof(owner), &e) >= 0 && strcmp(owner, mine) == 0)
		cir_store_unlink(d, key, &e);
	if (unlinkat(s->ports, dname, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		return;
}

/* Bridge user count: add delta, return the new count (>= 0). */
static int bridge_count(struct pm_store *s, const char *bridge, int delta, struct cir_error *err)
{
	char buf[32];
	struct cir_error e = CIR_ERROR_INIT;
	long v = 0;
	int r;

	if (cir_store_read(s->bridges, bridge, buf, sizeof(buf), &e) > 0)
		v = strtol(buf, NULL, 10);
	if (v < 0)
		v = 0;
	v += delta;
	if (v <= 0) {
		cir_store_unlink(s->bridges, bridge, &e);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%ld", v);
	r = cir_store_write(s->bridges, bridge, buf, strlen(buf), err);
	return r < 0 ? r : (int)v;
}

/* ---- records ---- */

struct pm_record {
	char bridge[16];
	char netns[256];
	struct cir_ip addr4, addr6;
	struct cir_cidr net4, net6;
	struct cir_portmap *m;       /* CIR_PORTMAP_MAX */
	size_t n;
};

static void record_free(struct pm_record *r)
{
	free(r->m);
	r->m = NULL;
}

static int record_format(const struct cir_portmap_owner *o, const struct cir_portmap *m, size_t n,
			 const struct cir_portmap_target *t, char **out, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	char a[CIR_IP_STRLEN];
	int r;

	r = cir_jgen_new(&g, false, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "network", o->network);
	cir_jgen_kstr(g, "container", o->cid);
	cir_jgen_kstr(g, "ifname", o->ifname);
	cir_jgen_kstr(g, "netns", o->netns ? o->netns : "");
	cir_jgen_kstr(g, "bridge", t->bridge);
	cir_jgen_kstr(g, "address4", t->addr4.af ? cir_ip_format(&t->addr4, a, sizeof(a)) : "");
	cir_jgen_kstr(g, "address6", t->addr6.af ? cir_ip_format(&t->addr6, a, sizeof(a)) : "");
	cir_jgen_kstr(g, "subnet4", t->net4.ip.af ? cir_cidr_format(&t->net4, a, sizeof(a)) : "");
	cir_jgen_kstr(g, "subnet6", t->net6.ip.af ? cir_cidr_format(&t->net6, a, sizeof(a)) : "");
	emit_mappings(g, m, n);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

static int record_read(int dirfd, const char *name, struct pm_record *rec, struct cir_error *err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ struct cir_json *j = NULL;
	const char *bridge = "", *netns = "", *a4 = "", *a6 = "", *n4 = "", *n6 = "";
	const struct cir_jnode *root, *arr = NULL;
	size_t size = 1u << 20;
	int r;

	memset(rec, 0, sizeof(*rec));
	buf = malloc(size);
	rec->m = calloc(CIR_PORTMAP_MAX, sizeof(*rec->m));
	if (!buf || !rec->m) {
		record_free(rec);
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	}
	r = cir_store_read(dirfd, name, buf, size, err);
	if (r >= 0)
		r = cir_json_parse(buf, (size_t)r, &j, err);
	if (r < 0)
		goto fail;
	root = cir_json_root(j);
	if (cir_json_str(root, "bridge", &bridge, err) < 0 ||
	    cir_json_str(root, "netns", &netns, err) < 0 ||
	    cir_json_str(root, "address4", &a4, err) < 0 ||
	    cir_json_str(root, "address6", &a6, err) < 0 ||
	    cir_json_str(root, "subnet4", &n4, err) < 0 ||
	    cir_json_str(root, "subnet6", &n6, err) < 0 ||
	    cir_json_arr(root, "portMappings", &arr, err) < 0) {
		r = -err->errnum;
		goto fail;
	}
	if (strlen(bridge) >= sizeof(rec->bridge) || strlen(netns) >= sizeof(rec->netns)) {
		r = cir_err(err, EINVAL, "bridge or netns too long");
		goto fail;
	}
	snprintf(rec->bridge, sizeof(rec->bridge), "%s", bridge);
	snprintf(rec->netns, sizeof(rec->netns), "%s", netns);
	r = 0;
	if (*a4)
		r = cir_ip_parse(a4, &rec->addr4, err);
	if (r >= 0 && *a6)
		r = cir_ip_parse(a6, &rec->addr6, err);
	if (r >= 0 && *n4)
		r = cir_cidr_parse(n4, 0, &rec->net4, err);
	if (r >= 0 && *n6)
		r = cir_cidr_parse(n6, 0, &rec->net6, err);
	if (r >= 0)
		r = cir_portmap_parse_json(arr, rec->m, &rec->n, CIR_PORTMAP_MAX, err);
	if (r >= 0)
		return 0;
fail:
	record_free(rec);
	return r == -ENOENT ? r : cir_err_wrap(err, "published ports record %s", name);
}

/*
 * The kernel elements of m[0..n) towards t: an any-address mapping goes to
 * every family the container has; an address of one family needs a
 * container address of that family.  *out is malloc'd.
 */
static int elements(const struct cir_portmap *m, size_t n, const struct cir_ip *a4,
		    const struct cir_ip *a6, struct cir_nft_pm **out, size_t *nout,
		    struct cir_error *err)
{
	struct cir_nft_pm *v = calloc(2 * n + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	for (size_t i = 0; i < n; i++) {
		const struct cir_ip *fam[2] = { a4, a6 };
		int made = 0;

		for (int f = 0; f < 2; f++) {
			if (!fam[f]->af)
				continue;
			if (m[i].host_ip.af && m[i].host_ip.af != fam[f]->af)
				continue;
			v[k++] = (struct cir_nft_pm){ .host = m[i].host_ip, .addr = *fam[f],
						      .host_port = m[i].host_port,
						      .port = m[i].container_port,
						      .proto = m[i].proto };
			made++;
		}
		if (!made) {
			char h[CIR_IP_STRLEN] = "";

			free(v);
			if (m[i].host_ip.af)
				cir_ip_format(&m[i].host_ip, h, sizeof(h));
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "host port %s/%u%s%s: the container has no IPv%d address",
					    cir_portmap_proto_name(m[i].proto), m[i].host_port,
					    h[0] ? " on " : "", h,
					    m[i].host_ip.af == AF_INET6 ? 6 : 4);
		}
	}
	*out = v;
	*nout = k;
	return 0;
}

/* Does some mapping reach 127.0.0.1 (an IPv4 element on any address or a
 * 127/8 host address)? */
static bool needs_localnet(const struct cir_nft_pm *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].addr.af == AF_INET &&
		    (v[i].host.af == 0 || ip_any(&v[i].host) || v[i].host.addr[0] == 127))
			return true;
	return false;
}

/* Flush UDP conntrack entries of the elements' host ports (with
 * to_target, only those DNATed to the element's address and port): one
 * dump per family, whatever the number of ports. */
static int ct_flush_udp(const struct cir_nft_pm *v, size_t n, bool to_target,
			struct cir_error *err)
{
	_cleanup_free_ struct cir_ct_filter *f = calloc(n + 1, sizeof(*f));
	int fams[2] = { AF_INET, AF_INET6 };

	if (!f)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	for (int k = 0; k < 2; k++) {
		size_t nf = 0;
		int r;

		for (size_t i = 0; i < n; i++) {
			if (v[i].proto != IPPROTO_UDP || v[i].addr.af != fams[k])
				continue;
			f[nf] = (struct cir_ct_filter){ .family = fams[k], .l4proto = IPPROTO_UDP,
							.orig_dst_port = v[i].host_port };
			if (v[i].host.af && !ip_any(&v[i].host))
				f[nf].orig_dst = v[i].host;
			if (to_target) {
				f[nf].reply_src = v[i].addr;
				f[nf].reply_src_port = v[i].port;
			}
			nf++;
		}
		if (!nf)
			continue;
		r = cir_ct_flush_any(f, nf, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * With br_netfilter passing bridged IPv4/IPv6 to the IP hooks, the kernel
 * bridges a DNATed frame whose new destination sits on the bridge it came
 * from instead of routing it; a container calling its own published port
 * then needs its bridge port to send the frame back where it came from
 * (hairpin mode).  Without br_netfilter the flow is routed and no port
 * setting matters, so nothing is changed.
 */
static int hairpin_port(const struct cir_portmap_target *t, struct cir_error *err)
{
	static const char *const keys[] = { "net/bridge/bridge-nf-call-iptables",
					     "net/bridge/bridge-nf-call-ip6tables" };
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	bool brnf = false;
	int r;

	if (!t->port[0])
		return 0;
	for (size_t i = 0; i < 2; i++) {
		char v[8];
		struct cir_error e = CIR_ERROR_INIT;

		if (cir_sysctl_read(keys[i], v, sizeof(v), &e) >= 0 && v[0] == '1')
			brnf = true;
	}
	if (!brnf)
		return 0;
	r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = cir_link_get(sk, t->port, &li, err);
	if (r >= 0)
		r = cir_link_set_hairpin(sk, li.ifindex, true, err);
	return r < 0 ? cir_err_wrap(err, "port %s: hairpin mode (br_netfilter)", t->port) : 0;
}

static void owner_text(const struct cir_portmap_owner *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", o->network, o->cid, o->ifname);
}

/* Undo a recorded attachment: kernel elements, reservations, bridge
 * count, record.  Kernel first: a failure keeps the store, so a retry
 * finds what to remove. */
static int detach_locked(struct pm_store *s, int netdir, const char *name,
			 const struct cir_portmap_owner *o, struct cir_error *err)
{
	struct pm_record rec;
	struct cir_nft_pm_bridge br;
	_cleanup_free_ struct cir_nft_pm *v = NULL;
	char mine[CIR_NAME_MAX * 2 + 40];
	size_t nv = 0;
	int r, left = 1, users = 1;

	r = record_read(netdir, name, &rec, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	owner_text(o, mine, sizeof(mine));
	r = elements(rec.m, rec.n, &rec.addr4, &rec.addr6, &v, &nv, err);
	if (r < 0) {
		/* A record we cannot turn into elements made none. */
		cir_err_clear(err);
		nv = 0;
	}
	for (size_t i = 0; i < rec.n; i++)
		unreserve(s, &rec.m[i], mine);
	if (rec.bridge[0]) {
		users = bridge_count(s, rec.bridge, 0, err);
		if (users < 0)
			users = 1;
	}
	left = cir_store_dir_empty(s->ports) != 1;      /* unsure: keep the shared objects */
	br = (struct cir_nft_pm_bridge){ .name = rec.bridge, .net4 = rec.net4, .net6 = rec.net6 };
	r = cir_nft_portmap_del(v, nv, rec.bridge[0] && users <= 1 ? &br : NULL, !left, err);
	if (r < 0) {
		/* Put the reservations back: the store must name what the
		 * kernel still has. */
		struct cir_error e2 = CIR_ERROR_INIT;

		for (size_t i = 0; i < rec.n; i++)
			reserve(s, &rec.m[i], mine, &e2);
		record_free(&rec);
		return r;
	}
	if (rec.bridge[0] && bridge_count(s, rec.bridge, -1, err) == 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		/* Back to the kernel's default once nothing is published
		 * through the bridge (a gone bridge: ENOENT, fine). */
		cir_sysctl_if_ensure(4, rec.bridge, "route_localnet", "0", &e2);
	}
	cir_store_unlink(netdir, name, err);
	r = ct_flush_udp(v, nv, true, err);
	record_free(&rec);
	return r < 0 ? r : 1;
}

static int net_dir(struct pm_store *s, const char *network, bool create, struct cir_error *err)
{
	return cir_store_dir(s->att, network, create, err);
}

/* The store side of an attach: what this attachment had is replaced, its
 * host ports must be free, its record is written.  Nothing to undo on
 * failure. */
static int attach_record(struct pm_store *s, int nd, const char *name, const char *mine,
			 const struct cir_portmap_owner *o, const struct cir_portmap *m,
			 size_t n, const struct cir_portmap_target *t, struct cir_error *err)
{
	_cleanup_free_ char *doc = NULL;
	int r;

	/* A repeated ADD replaces what this attachment had. */
	r = detach_locked(s, nd, name, o, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = port_free(s, &m[i], mine, err);
		if (r < 0)
			return r;
	}
	r = record_format(o, m, n, t, &doc, err);
	if (r >= 0)
		r = cir_store_write(nd, name, doc, strlen(doc), err);
	return r;
}

/* The host ports reserved (*reserved of them) and the bridge's users
 * counted (*counted). */
static int attach_reserve(struct pm_store *s, const struct cir_portmap *m, size_t n,
			  const struct cir_portmap_target *t, const char *mine, size_t *reserved,
			  bool *counted, struct cir_error *err)
{
	int r;

	for (; *reserved < n; (*reserved)++) {
		r = reserve(s, &m[*reserved], mine, err);
		if (r < 0)
			return r;
	}
	if (t->bridge[0]) {
		r = bridge_count(s, t->bridge, 1, err);
		if (r < 0)
			return r;
		*counted = true;
	}
	return 0;
}

/* The kernel side: the nft elements (*added once made), the hairpin port,
 * route_localnet on the bridge where a mapping needs it, stale UDP flows. */
static int attach_kernel(const struct cir_nft_pm *v, size_t nv, const struct cir_portmap_target *t,
			 const struct cir_nft_pm_bridge *br, bool *added, struct cir_error *err)
{
	int r;

	r = cir_nft_portmap_add(v, nv, t->bridge[0] ? br : NULL, err);
	if (r < 0)
		return r;
	*added = true;
	r = hairpin_port(t, err);
	if (r < 0)
		return r;
	if (t->bridge[0] && needs_localnet(v, nv)) {
		r = cir_sysctl_if_ensure(4, t->bridge, "route_localnet", "1", err);
		if (r < 0)
			return cir_err_wrap(err, "bridge %s: route_localnet", t->bridge);
	}
	/* Entries made before the mapping existed would keep bypassing it. */
	return ct_flush_udp(v, nv, false, err);
}

int cir_portmap_attach(const char *data_dir, const struct cir_portmap_owner *o,
		       const struct cir_portmap *m, size_t n,
		       const struct cir_portmap_target *t, struct cir_error *err)
{
	struct pm_store s;
	struct cir_nft_pm_bridge br = { .name = t->bridge, .net4 = t->net4, .net6 = t->net6 };
	_cleanup_free_ struct cir_nft_pm *v = NULL;
	_cleanup_close_ int nd = -1;
	char name[CIR_NAME_MAX + 32], mine[CIR_NAME_MAX * 2 + 40];
	struct cir_error e2 = CIR_ERROR_INIT;
	size_t nv = 0, reserved = 0;
	bool counted = false, added = false;
	int r;

	r = att_name(o, name, sizeof(name), err);
	if (r < 0)
		return r;
	if (t->bridge[0] && !cir_sysctl_ifname_valid(t->bridge))
		return cir_err(err, EINVAL, "published ports: bridge name is invalid");
	r = elements(m, n, &t->addr4, &t->addr6, &v, &nv, err);
	if (r < 0)
		return r;
	r = pm_open(data_dir, true, &s, err);
	if (r < 0)
		return r;
	owner_text(o, mine, sizeof(mine));
	r = nd = net_dir(&s, o->network, true, err);
	if (r >= 0)
		r = attach_record(&s, nd, name, mine, o, m, n, t, err);
	if (r < 0)
		goto out;
	r = attach_reserve(&s, m, n, t, mine, &reserved, &counted, err);
	if (r >= 0)
		r = attach_kernel(v, nv, t, &br, &added, err);
	if (r >= 0) {
		r = 0;
		goto out;
	}
	if (added) {
		int users = counted ? bridge_count(&s, t->bridge, 0, &e2) : 0;

		for (size_t i = 0; i < reserved; i++)
			unreserve(&s, &m[i], mine);
		reserved = 0;
		cir_nft_portmap_del(v, nv, counted && users <= 1 ? &br : NULL,
				    cir_store_dir_empty(s.ports) == 1, &e2);
	}
	for (size_t i = 0; i < reserved; i++)
		unreserve(&s, &m[i], mine);
	if (counted)
		bridge_count(&s, t->bridge, -1, &e2);
	cir_store_unlink(nd, name, &e2);
out:
	pm_close(&s);
	return r;
}

int cir_portmap_detach(const char *data_dir, const struct cir_portmap_owner *o,
		       struct cir_error *err)
{
	struct pm_store s;
	_cleanup_close_ int nd = -1;
	char name[CIR_NAME_MAX + 32];
	int r;

	r = att_name(o, name, sizeof(name), err);
	if (r < 0)
		return r;
	r = pm_open(data_dir, false, &s, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	nd = net_dir(&s, o->network, false, err);
	if (nd == -ENOENT) {
		cir_err_clear(err);
		r = 0;
	} else if (nd < 0) {
		r = nd;
	} else {
		r = detach_locked(&s, nd, name, o, err);
	}
	pm_close(&s);
	return r < 0 ? r : 0;
}

static bool same_mapping(const struct cir_portmap *a, const struct cir_portmap *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       a->container_port == b->container_port && a->host_ip.af == b->host_ip.af &&
	       (!a->host_ip.af || cir_ip_eq(&a->host_ip, &b->host_ip));
}

int cir_portmap_verify(const char *data_dir, const struct cir_portmap_owner *o,
		       const struct cir_portmap *m, size_t n, struct cir_error *err)
{
	struct pm_store s;
	struct pm_record rec = { 0 };
	_cleanup_free_ struct cir_nft_pm *v = NULL;
	_cleanup_close_ int nd = -1;
	char name[CIR_NAME_MAX + 32];
	size_t nv = 0;
	int r;

	r = att_name(o, name, sizeof(name), err);
	if (r < 0)
		return r;
	r = pm_open(data_dir, false, &s, err);
	if (r == -ENOENT)
		return n ? cir_err(err, ENOENT, "no published ports recorded") : 0;
	if (r < 0)
		return r;
	nd = net_dir(&s, o->network, false, err);
	r = nd < 0 ? nd : record_read(nd, name, &rec, err);
	if (r == -ENOENT) {
		pm_close(&s);
		return n ? cir_err(err, ENOENT, "no published ports recorded for %s", name) : 0;
	}
	if (r < 0)
		goto out;
	r = 0;
	if (rec.n != n)
		r = cir_err(err, EINVAL, "%zu published ports recorded, %zu asked for", rec.n, n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		bool found = false;

		for (size_t k = 0; k < rec.n && !found; k++)
			found = same_mapping(&m[i], &rec.m[k]);
		if (!found)
			r = cir_err(err, EINVAL, "host port %s/%u is not recorded",
				    cir_portmap_proto_name(m[i].proto), m[i].host_port);
	}
	if (r >= 0)
		r = elements(rec.m, rec.n, &rec.addr4, &rec.addr6, &v, &nv, err);
	if (r >= 0) {
		r = cir_nft_portmap_exists(v, nv, err);
		r = r == 0 ? -ENOENT : r < 0 ? r : 0;
	}
out:
	record_free(&rec);
	pm_close(&s);
	return r;
}

struct gc_scan {
	struct pm_store *s;
	int nd;
	const char *network;
	bool (*valid)(const char *cid, const char *ifname, const char *netns, void *arg);
	void *arg;
	int released;
	struct cir_error *err;
};

static int gc_one(const char *name, void *arg)
{
	struct gc_scan *g = arg;
	struct pm_record rec;
	struct cir_error e = CIR_ERROR_INIT;
	char cid[CIR_NAME_MAX + 1], ifname[32];
	const char *colon = strrchr(name, ':');
	struct cir_portmap_owner o;

	if (!colon || (size_t)(colon - name) > CIR_NAME_MAX || strlen(colon + 1) >= sizeof(ifname))
		return 0;
	memcpy(cid, name, (size_t)(colon - name));
	cid[colon - name] = '\0';
	snprintf(ifname, sizeof(ifname), "%s", colon + 1);
	if (record_read(g->nd, name, &rec, &e) < 0)
		return 0;
	if (g->valid(cid, ifname, rec.netns, g->arg)) {
		record_free(&rec);
		return 0;
	}
	record_free(&rec);
	o = (struct cir_portmap_owner){ .network = g->network, .cid = cid, .ifname = ifname };
	if (detach_locked(g->s, g->nd, name, &o, &e) > 0)
		g->released++;
	return 0;
}

int cir_portmap_gc(const char *data_dir, const char *network,
		   bool (*valid)(const char *cid, const char *ifname, const char *netns, void *arg),
		   void *arg, struct cir_error *err)
{
	struct pm_store s;
	struct gc_scan g = { .network = network, .valid = valid, .arg = arg, .err = err };
	int r;

	if (!cir_name_valid(network))
		return cir_name_check("network name", network, err);
	r = pm_open(data_dir, false, &s, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	g.s = &s;
	g.nd = net_dir(&s, network, false, err);
	if (g.nd == -ENOENT) {
		cir_err_clear(err);
		pm_close(&s);
		return 0;
	}
	r = g.nd < 0 ? g.nd : cir_store_list(g.nd, gc_one, &g, err);
	if (g.nd >= 0)
		close(g.nd);
	pm_close(&s);
	return r < 0 ? r : g.released;
}

int cir_portmap_network_forget(const struct cir_store *st, const char *network,
			       struct cir_error *err)
{
	struct cir_error e = CIR_ERROR_INIT;
	_cleanup_close_ int top = cir_store_dir(st->fd, PM_DIR, false, &e);
	_cleanup_close_ int att = top >= 0 ? cir_store_dir(top, PM_ATT, false, &e) : -1;

	if (att >= 0 && unlinkat(att, network, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cir_err(err, errno, "%s", strerror(errno));
	return 0;
}
