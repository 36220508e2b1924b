// SPDX-License-Identifier: Apache-2.0
/*
 * ipvs_msg.c - IPVS messages without a socket: the text forms of services
 * and dests (format, compare), message building (cir_ipvs_msg_build) and
 * reply parsing (cir_ipvs_service_parse, cir_ipvs_dest_parse).  The
 * handle, the request/reply loop and the verbs are lib/ipvs.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "cleanup.h"
#include "ipvs.h"

static const struct nla_policy cmd_policy[IPVS_CMD_ATTR_MAX + 1] = {
	[IPVS_CMD_ATTR_SERVICE] = { .type = NLA_NESTED },
	[IPVS_CMD_ATTR_DEST] = { .type = NLA_NESTED },
};

static const struct nla_policy svc_policy[IPVS_SVC_ATTR_MAX + 1] = {
	[IPVS_SVC_ATTR_AF] = { .type = NLA_U16 },
	[IPVS_SVC_ATTR_PROTOCOL] = { .type = NLA_U16 },
	[IPVS_SVC_ATTR_ADDR] = { .minlen = sizeof(struct in_addr) },
	[IPVS_SVC_ATTR_PORT] = { .type = NLA_U16 },
	[IPVS_SVC_ATTR_FWMARK] = { .type = NLA_U32 },
	[IPVS_SVC_ATTR_SCHED_NAME] = { .type = NLA_STRING },
	[IPVS_SVC_ATTR_FLAGS] = { .minlen = sizeof(struct ip_vs_flags) },
	[IPVS_SVC_ATTR_TIMEOUT] = { .type = NLA_U32 },
	[IPVS_SVC_ATTR_NETMASK] = { .type = NLA_U32 },
	[IPVS_SVC_ATTR_STATS] = { .type = NLA_NESTED },
	[IPVS_SVC_ATTR_PE_NAME] = { .type = NLA_STRING },
	[IPVS_SVC_ATTR_STATS64] = { .type = NLA_NESTED },
};

static const struct nla_policy dest_policy[IPVS_DEST_ATTR_MAX + 1] = {
	[IPVS_DEST_ATTR_ADDR] = { .minlen = sizeof(struct in_addr) },
	[IPVS_DEST_ATTR_PORT] = { .type = NLA_U16 },
	[IPVS_DEST_ATTR_FWD_METHOD] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_WEIGHT] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_U_THRESH] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_L_THRESH] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_ACTIVE_CONNS] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_INACT_CONNS] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_PERSIST_CONNS] = { .type = NLA_U32 },
	[IPVS_DEST_ATTR_STATS] = { .type = NLA_NESTED },
	[IPVS_DEST_ATTR_ADDR_FAMILY] = { .type = NLA_U16 },
	[IPVS_DEST_ATTR_STATS64] = { .type = NLA_NESTED },
	[IPVS_DEST_ATTR_TUN_TYPE] = { .type = NLA_U8 },
	[IPVS_DEST_ATTR_TUN_PORT] = { .type = NLA_U16 },
	[IPVS_DEST_ATTR_TUN_FLAGS] = { .type = NLA_U16 },
};

/* ---------------------------------------------------------------- format */

static const char *proto_name(uint16_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	default:
		return "proto?";
	}
}

static void addr_port_format(uint16_t af, const union cir_ipvs_addr *a, uint16_t port, char *buf,
			     size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (af == AF_INET6) {
		inet_ntop(AF_INET6, &a->v6, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, port);
	} else {
		inet_ntop(AF_INET, &a->v4, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, port);
	}
}

const char *cir_ipvs_service_format(const struct cir_ipvs_service *svc, char *buf, size_t len)
{
	char ap[CIR_IPVS_FMT_MAX];

	if (svc->fwmark) {
		snprintf(buf, len, "fwmark %u%s", svc->fwmark, svc->af == AF_INET6 ? " ipv6" : "");
		return buf;
	}
	addr_port_format(svc->af, &svc->addr, svc->port, ap, sizeof(ap));
	snprintf(buf, len, "%s %s", proto_name(svc->protocol), ap);
	return buf;
}

const char *cir_ipvs_dest_format(const struct cir_ipvs_dest *dest, uint16_t af, char *buf,
				 size_t len)
{
	addr_port_format(dest->af ? dest->af : af, &dest->addr, dest->port, buf, len);
	return buf;
}

const char *cir_ipvs_fwd_name(enum cir_ipvs_fwd fwd)
{
	switch (fwd) {
	case CIR_IPVS_FWD_MASQ:
		return "masq";
	case CIR_IPVS_FWD_TUNNEL:
		return "tunnel";
	case CIR_IPVS_FWD_ROUTE:
		return "route";
	}
	return "?";
}

int cir_ipvs_fwd_parse(const char *s, enum cir_ipvs_fwd *out, struct cir_error *err)
{
	if (!strcmp(s, "masq") || !strcmp(s, "nat"))
		*out = CIR_IPVS_FWD_MASQ;
	else if (!strcmp(s, "route") || !strcmp(s, "dr"))
		*out = CIR_IPVS_FWD_ROUTE;
	else if (!strcmp(s, "tunnel") || !strcmp(s, "ipip"))
		*out = CIR_IPVS_FWD_TUNNEL;
	else
		return cir_err(err, EINVAL, "unknown forwarding method '%s' (masq, route, tunnel)", s);
	return 0;
}

static bool addr_eq(uint16_t af, const union cir_ipvs_addr *a, const union cir_ipvs_addr *b)
{
	if (af == AF_INET6)
		return !memcmp(&a->v6, &b->v6, sizeof(a->v6));
	return a->v4.s_addr == b->v4.s_addr;
}

bool cir_ipvs_service_key_eq(const struct cir_ipvs_service *a, const struct cir_ipvs_service *b)
{
	if (a->af != b->af || a->fwmark != b->fwmark)
		return false;
	if (a->fwmark)
		return true;
	return a->protocol == b->protocol && a->port == b->port && addr_eq(a->af, &a->addr, &b->addr);
}

bool cir_ipvs_dest_key_eq(const struct cir_ipvs_dest *a, const struct cir_ipvs_dest *b, uint16_t af)
{
	uint16_t fa = a->af ? a->af : af, fb = b->af ? b->af : af;

	return fa == fb && a->port == b->port && addr_eq(fa, &a->addr, &b->addr);
}

/* --------------------------------------------------------------- build */

static bool af_ok(uint16_t af)
{
	return af == AF_INET || af == AF_INET6;
}

/* The kernel reads the address as a 16-byte union nf_inet_addr: always send
 * 16 bytes, an IPv4 address in the first 4 and zeros after it. */
static int put_addr(struct nl_msg *msg, int type, uint16_t af, const union cir_ipvs_addr *a)
{
	union cir_ipvs_addr z;

	memset(&z, 0, sizeof(z));
	if (af == AF_INET6)
		z.v6 = a->v6;
	else
		z.v4 = a->v4;
	return nla_put(msg, type, sizeof(z), &z);
}

/* The kernel's netmask: a be32 mask for IPv4, a plain prefix length for IPv6. */
static uint32_t netmask_attr(uint16_t af, uint32_t plen)
{
	if (af == AF_INET6)
		return plen == 0 || plen > 128 ? 128 : plen;
	if (plen == 0 || plen >= 32)
		return 0xffffffffu;
	return htonl(~0u << (32 - plen));
}

static uint32_t netmask_plen(uint16_t af, uint32_t attr)
{
	uint32_t plen;

	if (af == AF_INET6)
		plen = attr;
	else
		plen = (uint32_t)__builtin_popcount(attr);
	/* Report the default (one client address) as 0, as it was given. */
	return (af == AF_INET6 && plen >= 128) || (af != AF_INET6 && plen >= 32) ? 0 : plen;
}

static int put_service(struct nl_msg *msg, const struct cir_ipvs_service *svc, bool full,
		       struct cir_error *err)
{
	struct nlattr *nest;
	int r = 0;

	if (!af_ok(svc->af))
		return cir_err(err, EINVAL, "service: unsupported address family %u", svc->af);
	if (!svc->fwmark && svc->protocol != IPPROTO_TCP && svc->protocol != IPPROTO_UDP &&
	    svc->protocol != IPPROTO_SCTP)
		return cir_err(err, EINVAL, "service: unsupported protocol %u", svc->protocol);
	nest = nla_nest_start(msg, IPVS_CMD_ATTR_SERVICE);
	if (!nest)
		return cir_err(err, EMSGSIZE, "service: message too large");
	r |= nla_put_u16(msg, IPVS_SVC_ATTR_AF, svc->af);
	if (svc->fwmark) {
		r |= nla_put_u32(msg, IPVS_SVC_ATTR_FWMARK, svc->fwmark);
	} else {
		r |= nla_put_u16(msg, IPVS_SVC_ATTR_PROTOCOL, svc->protocol);
		r |= put_addr(msg, IPVS_SVC_ATTR_ADDR, svc->af, &svc->addr);
		r |= nla_put_u16(msg, IPVS_SVC_ATTR_PORT, htons(svc->port));
	}
	if (full) {
		/* The kernel keeps IP_VS_SVC_F_HASHED for itself: a service
		 * added with it set would never be hashed (found). */
		struct ip_vs_flags fl = {
			.flags = svc->flags & ~(uint32_t)IP_VS_SVC_F_HASHED,
			.mask = ~0u,
		};

		r |= nla_put_string(msg, IPVS_SVC_ATTR_SCHED_NAME, svc->sched[0] ? svc->sched : "wlc");
		r |= nla_put(msg, IPVS_SVC_ATTR_FLAGS, sizeof(fl), &fl);
		r |= nla_put_u32(msg, IPVS_SVC_ATTR_TIMEOUT, svc->timeout);
		r |= nla_put_u32(msg, IPVS_SVC_ATTR_NETMASK, netmask_attr(svc->af, svc->netmask));
	}
	if (r < 0)
		return cir_err(err, EMSGSIZE, "service: message too large");
	nla_nest_end(msg, nest);
	return 0;
}

static int put_dest(struct nl_msg *msg, const struct cir_ipvs_dest *dest, uint16_t svc_af, bool full,
		    struct cir_error *err)
{
	uint16_t af = dest->af ? dest->af : svc_af;
	struct nlattr *nest;
	int r = 0;

	if (!af_ok(af))
		return cir_err(err, EINVAL, "dest: unsupported address family %u", af);
	nest = nla_nest_start(msg, IPVS_CMD_ATTR_DEST);
	if (!nest)
		return cir_err(err, EMSGSIZE, "dest: message too large");
	/* Only a mixed-family dest (IPv6 behind IPv4 via tunnel) needs it;
	 * leaving it out keeps old kernels happy. */
	if (af != svc_af)
		r |= nla_put_u16(msg, IPVS_DEST_ATTR_ADDR_FAMILY, af);
	r |= put_addr(msg, IPVS_DEST_ATTR_ADDR, af, &dest->addr);
	r |= nla_put_u16(msg, IPVS_DEST_ATTR_PORT, htons(dest->port));
	if (full) {
		r |= nla_put_u32(msg, IPVS_DEST_ATTR_FWD_METHOD,
				 (uint32_t)dest->fwd & IP_VS_CONN_F_FWD_MASK);
		r |= nla_put_u32(msg, IPVS_DEST_ATTR_WEIGHT, dest->weight);
		r |= nla_put_u32(msg, IPVS_DEST_ATTR_U_THRESH, dest->u_threshold);
		r |= nla_put_u32(msg, IPVS_DEST_ATTR_L_THRESH, dest->l_threshold);
	}
	if (r < 0)
		return cir_err(err, EMSGSIZE, "dest: message too large");
	nla_nest_end(msg, nest);
	return 0;
}

int cir_ipvs_msg_build(int family, uint8_t cmd, int nlflags, const struct cir_ipvs_service *svc,
		       const struct cir_ipvs_dest *dest, struct nl_msg **out,
		       struct cir_error *err)
{
	_cleanup_nl_msg_ struct nl_msg *msg = NULL;
	bool full_svc = cmd == IPVS_CMD_NEW_SERVICE || cmd == IPVS_CMD_SET_SERVICE;
	bool full_dest = cmd == IPVS_CMD_NEW_DEST || cmd == IPVS_CMD_SET_DEST;
	int r;

	if (family <= 0)
		return cir_err(err, EINVAL, "ipvs: no generic netlink family");
	msg = nlmsg_alloc();
	if (!msg)
		return cir_err(err, ENOMEM, "ipvs: %s", strerror(ENOMEM));
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, nlflags, cmd,
			 IPVS_GENL_VERSION))
		return cir_err(err, EMSGSIZE, "ipvs: message too large");
	if (svc) {
		r = put_service(msg, svc, full_svc, err);
		if (r < 0)
			return r;
	}
	if (dest) {
		if (!svc)
			return cir_err(err, EINVAL, "dest: no service given");
		r = put_dest(msg, dest, svc->af, full_dest, err);
		if (r < 0)
			return r;
	}
	*out = TAKE_PTR(msg);
	return 0;
}

/* --------------------------------------------------------------- parse */

static uint64_t get_uint(const struct nlattr *a)
{
	switch (nla_len(a)) {
	case 8:
		return nla_get_u64((struct nlattr *)a);
	case 4:
		return nla_get_u32((struct nlattr *)a);
	case 2:
		return nla_get_u16((struct nlattr *)a);
	default:
		return 0;
	}
}

/* STATS64 carries every counter as u64; the older STATS mixes u32 and u64. */
static void parse_stats(struct nlattr *s64, struct nlattr *s32, struct cir_ipvs_stats *out)
{
	struct nlattr *tb[IPVS_STATS_ATTR_MAX + 1];
	struct nlattr *s = s64 ? s64 : s32;

	memset(out, 0, sizeof(*out));
	if (!s || nla_parse_nested(tb, IPVS_STATS_ATTR_MAX, s, NULL) < 0)
		return;
	if (tb[IPVS_STATS_ATTR_CONNS])
		out->conns = get_uint(tb[IPVS_STATS_ATTR_CONNS]);
	if (tb[IPVS_STATS_ATTR_INPKTS])
		out->inpkts = get_uint(tb[IPVS_STATS_ATTR_INPKTS]);
	if (tb[IPVS_STATS_ATTR_OUTPKTS])
		out->outpkts = get_uint(tb[IPVS_STATS_ATTR_OUTPKTS]);
	if (tb[IPVS_STATS_ATTR_INBYTES])
		out->inbytes = get_uint(tb[IPVS_STATS_ATTR_INBYTES]);
	if (tb[IPVS_STATS_ATTR_OUTBYTES])
		out->outbytes = get_uint(tb[IPVS_STATS_ATTR_OUTBYTES]);
}

static int get_addr(const struct nlattr *a, uint16_t af, union cir_ipvs_addr *out)
{
	size_t need = af == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);

	if ((size_t)nla_len(a) < need)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	memcpy(out, nla_data(a), need);
	return 0;
}

static int parse_top(const struct nlmsghdr *nlh, int which, struct nlattr **nest)
{
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];

	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, IPVS_CMD_ATTR_MAX,
			  (struct nla_policy *)cmd_policy) < 0)
		return -EBADMSG;
	if (!tb[which])
		return -EBADMSG;
	*nest = tb[which];
	return 0;
}

int cir_ipvs_service_parse(const struct nlmsghdr *nlh, struct cir_ipvs_service *out,
			   struct cir_error *err)
{
	struct nlattr *tb[IPVS_SVC_ATTR_MAX + 1];
	struct cir_ipvs_service s;
	struct nlattr *nest;

	memset(&s, 0, sizeof(s));
	if (parse_top(nlh, IPVS_CMD_ATTR_SERVICE, &nest) < 0 ||
	    nla_parse_nested(tb, IPVS_SVC_ATTR_MAX, nest, (struct nla_policy *)svc_policy) < 0)
		return cir_err(err, EBADMSG, "ipvs service reply: malformed");
	if (!tb[IPVS_SVC_ATTR_AF])
		return cir_err(err, EBADMSG, "ipvs service reply: no address family");
	s.af = nla_get_u16(tb[IPVS_SVC_ATTR_AF]);
	if (!af_ok(s.af))
		return cir_err(err, EBADMSG, "ipvs service reply: address family %u", s.af);
	if (tb[IPVS_SVC_ATTR_FWMARK]) {
		s.fwmark = nla_get_u32(tb[IPVS_SVC_ATTR_FWMARK]);
	}
	if (!s.fwmark) {
		if (!tb[IPVS_SVC_ATTR_PROTOCOL] || !tb[IPVS_SVC_ATTR_ADDR] || !tb[IPVS_SVC_ATTR_PORT])
			return cir_err(err, EBADMSG, "ipvs service reply: no protocol, address or port");
		s.protocol = nla_get_u16(tb[IPVS_SVC_ATTR_PROTOCOL]);
		if (get_addr(tb[IPVS_SVC_ATTR_ADDR], s.af, &s.addr) < 0)
			return cir_err(err, EBADMSG, "ipvs service reply: short address");
		s.port = ntohs(nla_get_u16(tb[IPVS_SVC_ATTR_PORT]));
	}
	if (tb[IPVS_SVC_ATTR_SCHED_NAME])
		nla_strlcpy(s.sched, tb[IPVS_SVC_ATTR_SCHED_NAME], sizeof(s.sched));
	if (tb[IPVS_SVC_ATTR_FLAGS]) {
		struct ip_vs_flags fl;

		memcpy(&fl, nla_data(tb[IPVS_SVC_ATTR_FLAGS]), sizeof(fl));
		s.flags = fl.flags & fl.mask & ~(uint32_t)IP_VS_SVC_F_HASHED;
	}
	if (tb[IPVS_SVC_ATTR_TIMEOUT])
		s.timeout = nla_get_u32(tb[IPVS_SVC_ATTR_TIMEOUT]);
	if (tb[IPVS_SVC_ATTR_NETMASK])
		s.netmask = netmask_plen(s.af, nla_get_u32(tb[IPVS_SVC_ATTR_NETMASK]));
	parse_stats(tb[IPVS_SVC_ATTR_STATS64], tb[IPVS_SVC_ATTR_STATS], &s.stats);
	*out = s;
	return 0;
}

int cir_ipvs_dest_parse(const struct nlmsghdr *nlh, uint16_t af, struct cir_ipvs_dest *out,
			struct cir_error *err)
{
	struct nlattr *tb[IPVS_DEST_ATTR_MAX + 1];
	struct cir_ipvs_dest d;
	struct nlattr *nest;

	memset(&d, 0, sizeof(d));
	if (parse_top(nlh, IPVS_CMD_ATTR_DEST, &nest) < 0 ||
	    nla_parse_nested(tb, IPVS_DEST_ATTR_MAX, nest, (struct nla_policy *)dest_policy) < 0)
		return cir_err(err, EBADMSG, "ipvs dest reply: malformed");
	d.af = tb[IPVS_DEST_ATTR_ADDR_FAMILY] ? nla_get_u16(tb[IPVS_DEST_ATTR_ADDR_FAMILY]) : af;
	if (!af_ok(d.af))
		return cir_err(err, EBADMSG, "ipvs dest reply: address family %u", d.af);
	if (!tb[IPVS_DEST_ATTR_ADDR] || !tb[IPVS_DEST_ATTR_PORT])
		return cir_err(err, EBADMSG, "ipvs dest reply: no address or port");
	if (get_addr(tb[IPVS_DEST_ATTR_ADDR], d.af, &d.addr) < 0)
		return cir_err(err, EBADMSG, "ipvs dest reply: short address");
	d.port = ntohs(nla_get_u16(tb[IPVS_DEST_ATTR_PORT]));
	if (tb[IPVS_DEST_ATTR_FWD_METHOD])
		d.fwd = (enum cir_ipvs_fwd)(nla_get_u32(tb[IPVS_DEST_ATTR_FWD_METHOD]) &
					    IP_VS_CONN_F_FWD_MASK);
	if (tb[IPVS_DEST_ATTR_WEIGHT])
		d.weight = nla_get_u32(tb[IPVS_DEST_ATTR_WEIGHT]);
	if (tb[IPVS_DEST_ATTR_U_THRESH])
		d.u_threshold = nla_get_u32(tb[IPVS_DEST_ATTR_U_THRESH]);
	if (tb[IPVS_DEST_ATTR_L_THRESH])
		d.l_threshold = nla_get_u32(tb[IPVS_DEST_ATTR_L_THRESH]);
	if (tb[IPVS_DEST_ATTR_ACTIVE_CONNS])
		d.active_conns = nla_get_u32(tb[IPVS_DEST_ATTR_ACTIVE_CONNS]);
	if (tb[IPVS_DEST_ATTR_INACT_CONNS])
		d.inact_conns = nla_get_u32(tb[IPVS_DEST_ATTR_INACT_CONNS]);
	if (tb[IPVS_DEST_ATTR_PERSIST_CONNS])
		d.persist_conns = nla_get_u32(tb[IPVS_DEST_ATTR_PERSIST_CONNS]);
	parse_stats(tb[IPVS_DEST_ATTR_STATS64], tb[IPVS_DEST_ATTR_STATS], &d.stats);
	*out = d;
	return 0;
}
