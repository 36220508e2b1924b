// SPDX-License-Identifier: Apache-2.0
/*
 * portmap_parse.c - published ports as text and JSON: the CLI's --publish
 * grammar, the CNI portMappings capability (parsed, emitted), and the
 * clash rule two mappings of one attachment must keep.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "portmap_int.h"

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

bool cir_pm_ip_any(const struct cir_ip *ip)
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
	return cir_pm_ip_any(a) || cir_pm_ip_any(b) || cir_ip_eq(a, b);
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
void cir_pm_emit_mappings(struct cir_jgen *g, const struct cir_portmap *m, size_t n)
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
	cir_pm_emit_mappings(g, m, n);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}
