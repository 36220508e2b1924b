// SPDX-License-Identifier: Apache-2.0
/*
 * test_ipvs.c - IPVS generic netlink messages without a kernel: what the
 * builder puts in each request, and parsing of hand-made dump replies as
 * the kernel sends them (ip_vs_ctl.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "cleanup.h"
#include "ipvs.h"
#include "unit.h"

#define FAMILY 42

static struct cir_ipvs_service svc4(void)
{
	struct cir_ipvs_service s;

	memset(&s, 0, sizeof(s));
	s.af = AF_INET;
	s.protocol = IPPROTO_TCP;
	inet_pton(AF_INET, "10.96.0.10", &s.addr.v4);
	s.port = 80;
	strcpy(s.sched, "rr");
	return s;
}

static struct cir_ipvs_dest dest4(void)
{
	struct cir_ipvs_dest d;

	memset(&d, 0, sizeof(d));
	inet_pton(AF_INET, "10.91.1.2", &d.addr.v4);
	d.port = 8080;
	d.weight = 3;
	d.fwd = CIR_IPVS_FWD_ROUTE;
	d.u_threshold = 100;
	d.l_threshold = 10;
	return d;
}

/* Split a request into its genl header and the nested attribute tables. */
static void split(struct nl_msg *msg, uint8_t want_cmd, struct nlattr **svc, struct nlattr **dest)
{
	struct nlattr *tb[IPVS_CMD_ATTR_MAX + 1];
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);

	ck_assert_int_eq(nlh->nlmsg_type, FAMILY);
	ck_assert_uint_eq(g->cmd, want_cmd);
	ck_assert_uint_eq(g->version, IPVS_GENL_VERSION);
	ck_assert_int_eq(genlmsg_parse(nlh, 0, tb, IPVS_CMD_ATTR_MAX, NULL), 0);
	for (int i = 0; i <= IPVS_SVC_ATTR_MAX; i++)
		svc[i] = NULL;
	for (int i = 0; i <= IPVS_DEST_ATTR_MAX; i++)
		dest[i] = NULL;
	if (tb[IPVS_CMD_ATTR_SERVICE])
		ck_assert_int_eq(nla_parse_nested(svc, IPVS_SVC_ATTR_MAX, tb[IPVS_CMD_ATTR_SERVICE],
						  NULL), 0);
	if (tb[IPVS_CMD_ATTR_DEST])
		ck_assert_int_eq(nla_parse_nested(dest, IPVS_DEST_ATTR_MAX, tb[IPVS_CMD_ATTR_DEST],
						  NULL), 0);
}

START_TEST(build_new_service)
{
	_cleanup_nl_msg_ struct nl_msg *msg = NULL;
	struct nlattr *s[IPVS_SVC_ATTR_MAX + 1], *d[IPVS_DEST_ATTR_MAX + 1];
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipvs_service svc = svc4();
	struct ip_vs_flags fl;
	uint8_t want[16] = { 10, 96, 0, 10 };

	svc.flags = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_HASHED;
	svc.timeout = 300;
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_SERVICE, 0, &svc, NULL, &msg, &err), 0);
	split(msg, IPVS_CMD_NEW_SERVICE, s, d);
	ck_assert_ptr_null(d[IPVS_DEST_ATTR_ADDR]);
	ck_assert_uint_eq(nla_get_u16(s[IPVS_SVC_ATTR_AF]), AF_INET);
	ck_assert_uint_eq(nla_get_u16(s[IPVS_SVC_ATTR_PROTOCOL]), IPPROTO_TCP);
	/* 16 bytes, IPv4 in front, zeros after: the kernel's nf_inet_addr */
	ck_assert_int_eq(nla_len(s[IPVS_SVC_ATTR_ADDR]), 16);
	ck_assert_mem_eq(nla_data(s[IPVS_SVC_ATTR_ADDR]), want, 16);
	ck_assert_uint_eq(nla_get_u16(s[IPVS_SVC_ATTR_PORT]), htons(80));
	ck_assert_ptr_null(s[IPVS_SVC_ATTR_FWMARK]);
	ck_assert_str_eq(nla_get_string(s[IPVS_SVC_ATTR_SCHED_NAME]), "rr");
	ck_assert_int_eq(nla_len(s[IPVS_SVC_ATTR_FLAGS]), sizeof(fl));
	memcpy(&fl, nla_data(s[IPVS_SVC_ATTR_FLAGS]), sizeof(fl));
	ck_assert_uint_eq(fl.flags, IP_VS_SVC_F_PERSISTENT); /* HASHED is the kernel's */
	ck_assert_uint_eq(fl.mask, ~0u);
	ck_assert_uint_eq(nla_get_u32(s[IPVS_SVC_ATTR_TIMEOUT]), 300);
	ck_assert_uint_eq(nla_get_u32(s[IPVS_SVC_ATTR_NETMASK]), 0xffffffffu);
}
END_TEST

START_TEST(build_key_only_and_defaults)
{
	_cleanup_nl_msg_ struct nl_msg *del = NULL, *add = NULL;
	struct nlattr *s[IPVS_SVC_ATTR_MAX + 1], *d[IPVS_DEST_ATTR_MAX + 1];
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipvs_service svc = svc4();

	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_DEL_SERVICE, 0, &svc, NULL, &del, &err), 0);
	split(del, IPVS_CMD_DEL_SERVICE, s, d);
	ck_assert_ptr_nonnull(s[IPVS_SVC_ATTR_ADDR]);
	ck_assert_ptr_null(s[IPVS_SVC_ATTR_SCHED_NAME]);
	ck_assert_ptr_null(s[IPVS_SVC_ATTR_FLAGS]);
	ck_assert_ptr_null(s[IPVS_SVC_ATTR_TIMEOUT]);

	/* no scheduler given: wlc; IPv4 /24 persistence: a be32 mask */
	svc.sched[0] = 0;
	svc.netmask = 24;
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_SERVICE, 0, &svc, NULL, &add, &err), 0);
	split(add, IPVS_CMD_NEW_SERVICE, s, d);
	ck_assert_str_eq(nla_get_string(s[IPVS_SVC_ATTR_SCHED_NAME]), "wlc");
	ck_assert_uint_eq(nla_get_u32(s[IPVS_SVC_ATTR_NETMASK]), htonl(0xffffff00u));
}
END_TEST

START_TEST(build_v6_and_fwmark)
{
	_cleanup_nl_msg_ struct nl_msg *m6 = NULL, *fw = NULL;
	struct nlattr *s[IPVS_SVC_ATTR_MAX + 1], *d[IPVS_DEST_ATTR_MAX + 1];
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipvs_service svc = svc4();
	struct in6_addr a6;

	svc.af = AF_INET6;
	inet_pton(AF_INET6, "fd00::10", &svc.addr.v6);
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_SERVICE, 0, &svc, NULL, &m6, &err), 0);
	split(m6, IPVS_CMD_NEW_SERVICE, s, d);
	inet_pton(AF_INET6, "fd00::10", &a6);
	ck_assert_mem_eq(nla_data(s[IPVS_SVC_ATTR_ADDR]), &a6, 16);
	/* IPv6 persistence granularity is a plain prefix length, default 128 */
	ck_assert_uint_eq(nla_get_u32(s[IPVS_SVC_ATTR_NETMASK]), 128);

	memset(&svc, 0, sizeof(svc));
	svc.af = AF_INET;
	svc.fwmark = 7;
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_DEL_SERVICE, 0, &svc, NULL, &fw, &err), 0);
	split(fw, IPVS_CMD_DEL_SERVICE, s, d);
	ck_assert_uint_eq(nla_get_u32(s[IPVS_SVC_ATTR_FWMARK]), 7);
	ck_assert_ptr_null(s[IPVS_SVC_ATTR_PROTOCOL]);
	ck_assert_ptr_null(s[IPVS_SVC_ATTR_ADDR]);
}
END_TEST

START_TEST(build_dest)
{
	_cleanup_nl_msg_ struct nl_msg *add = NULL, *del = NULL, *mixed = NULL;
	struct nlattr *s[IPVS_SVC_ATTR_MAX + 1], *d[IPVS_DEST_ATTR_MAX + 1];
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipvs_service svc = svc4();
	struct cir_ipvs_dest dest = dest4();
	uint8_t want[16] = { 10, 91, 1, 2 };

	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_DEST, 0, &svc, &dest, &add, &err), 0);
	split(add, IPVS_CMD_NEW_DEST, s, d);
	/* the service is named by its key only */
	ck_assert_uint_eq(nla_get_u16(s[IPVS_SVC_ATTR_PORT]), htons(80));
	ck_assert_ptr_null(s[IPVS_SVC_ATTR_SCHED_NAME]);
	ck_assert_int_eq(nla_len(d[IPVS_DEST_ATTR_ADDR]), 16);
	ck_assert_mem_eq(nla_data(d[IPVS_DEST_ATTR_ADDR]), want, 16);
	ck_assert_uint_eq(nla_get_u16(d[IPVS_DEST_ATTR_PORT]), htons(8080));
	ck_assert_uint_eq(nla_get_u32(d[IPVS_DEST_ATTR_FWD_METHOD]), IP_VS_CONN_F_DROUTE);
	ck_assert_uint_eq(nla_get_u32(d[IPVS_DEST_ATTR_WEIGHT]), 3);
	ck_assert_uint_eq(nla_get_u32(d[IPVS_DEST_ATTR_U_THRESH]), 100);
	ck_assert_uint_eq(nla_get_u32(d[IPVS_DEST_ATTR_L_THRESH]), 10);
	ck_assert_ptr_null(d[IPVS_DEST_ATTR_ADDR_FAMILY]);

	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_DEL_DEST, 0, &svc, &dest, &del, &err), 0);
	split(del, IPVS_CMD_DEL_DEST, s, d);
	ck_assert_ptr_nonnull(d[IPVS_DEST_ATTR_ADDR]);
	ck_assert_ptr_null(d[IPVS_DEST_ATTR_WEIGHT]);
	ck_assert_ptr_null(d[IPVS_DEST_ATTR_FWD_METHOD]);

	/* an IPv6 dest behind an IPv4 service names its family */
	dest.af = AF_INET6;
	inet_pton(AF_INET6, "fd00:1::2", &dest.addr.v6);
	dest.fwd = CIR_IPVS_FWD_TUNNEL;
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_DEST, 0, &svc, &dest, &mixed, &err), 0);
	split(mixed, IPVS_CMD_NEW_DEST, s, d);
	ck_assert_uint_eq(nla_get_u16(d[IPVS_DEST_ATTR_ADDR_FAMILY]), AF_INET6);
}
END_TEST

START_TEST(build_rejects)
{
	struct nl_msg *msg = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipvs_service svc = svc4();
	struct cir_ipvs_dest dest = dest4();

	ck_assert_int_eq(cir_ipvs_msg_build(0, IPVS_CMD_FLUSH, 0, NULL, NULL, &msg, &err), -EINVAL);
	svc.protocol = IPPROTO_ICMP;
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_SERVICE, 0, &svc, NULL, &msg, &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "service: unsupported protocol 1");
	svc = svc4();
	svc.af = AF_UNIX;
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_SERVICE, 0, &svc, NULL, &msg, &err),
			 -EINVAL);
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_DEST, 0, NULL, &dest, &msg, &err),
			 -EINVAL);
	ck_assert_ptr_null(msg);
}
END_TEST

START_TEST(build_flush_and_dump)
{
	_cleanup_nl_msg_ struct nl_msg *fl = NULL, *dump = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	struct genlmsghdr *g;

	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_FLUSH, 0, NULL, NULL, &fl, &err), 0);
	g = nlmsg_data(nlmsg_hdr(fl));
	ck_assert_uint_eq(g->cmd, IPVS_CMD_FLUSH);
	ck_assert_int_eq(genlmsg_attrlen(g, 0), 0);
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_GET_SERVICE, NLM_F_DUMP, NULL, NULL, &dump,
					    &err), 0);
	ck_assert_int_eq(nlmsg_hdr(dump)->nlmsg_flags & NLM_F_DUMP, NLM_F_DUMP);
}
END_TEST

/* A service reply as ip_vs_genl_fill_service() lays it out. */
static struct nl_msg *kernel_service_reply(bool v6)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct ip_vs_flags fl = { .flags = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_HASHED, .mask = ~0u };
	union cir_ipvs_addr a;
	struct nlattr *svc, *st;

	memset(&a, 0, sizeof(a));
	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(genlmsg_put(msg, 1, 1, FAMILY, 0, NLM_F_MULTI, IPVS_CMD_NEW_SERVICE,
					  IPVS_GENL_VERSION));
	svc = nla_nest_start(msg, IPVS_CMD_ATTR_SERVICE);
	nla_put_u16(msg, IPVS_SVC_ATTR_AF, v6 ? AF_INET6 : AF_INET);
	nla_put_u16(msg, IPVS_SVC_ATTR_PROTOCOL, IPPROTO_UDP);
	if (v6)
		inet_pton(AF_INET6, "fd00::53", &a.v6);
	else
		inet_pton(AF_INET, "10.96.0.53", &a.v4);
	nla_put(msg, IPVS_SVC_ATTR_ADDR, sizeof(a), &a);
	nla_put_u16(msg, IPVS_SVC_ATTR_PORT, htons(53));
	nla_put_string(msg, IPVS_SVC_ATTR_SCHED_NAME, "wrr");
	nla_put(msg, IPVS_SVC_ATTR_FLAGS, sizeof(fl), &fl);
	nla_put_u32(msg, IPVS_SVC_ATTR_TIMEOUT, 360);
	nla_put_u32(msg, IPVS_SVC_ATTR_NETMASK, v6 ? 64 : htonl(0xffffff00u));
	st = nla_nest_start(msg, IPVS_SVC_ATTR_STATS);
	nla_put_u32(msg, IPVS_STATS_ATTR_CONNS, 1);
	nla_nest_end(msg, st);
	st = nla_nest_start(msg, IPVS_SVC_ATTR_STATS64);
	nla_put_u64(msg, IPVS_STATS_ATTR_CONNS, 5000000000ull);
	nla_put_u64(msg, IPVS_STATS_ATTR_INPKTS, 11);
	nla_put_u64(msg, IPVS_STATS_ATTR_OUTBYTES, 12);
	nla_nest_end(msg, st);
	nla_nest_end(msg, svc);
	return msg;
}

START_TEST(parse_service_reply)
{
	_cleanup_nl_msg_ struct nl_msg *m4 = kernel_service_reply(false);
	_cleanup_nl_msg_ struct nl_msg *m6 = kernel_service_reply(true);
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipvs_service s;
	char buf[CIR_IPVS_FMT_MAX];

	ck_assert_int_eq(cir_ipvs_service_parse(nlmsg_hdr(m4), &s, &err), 0);
	ck_assert_uint_eq(s.af, AF_INET);
	ck_assert_uint_eq(s.protocol, IPPROTO_UDP);
	ck_assert_str_eq(cir_ipvs_service_format(&s, buf, sizeof(buf)), "udp 10.96.0.53:53");
	ck_assert_str_eq(s.sched, "wrr");
	ck_assert_uint_eq(s.flags, IP_VS_SVC_F_PERSISTENT);
	ck_assert_uint_eq(s.timeout, 360);
	ck_assert_uint_eq(s.netmask, 24);
	ck_assert_uint_eq(s.stats.conns, 5000000000ull); /* 64-bit stats win */
	ck_assert_uint_eq(s.stats.inpkts, 11);
	ck_assert_uint_eq(s.stats.outbytes, 12);

	ck_assert_int_eq(cir_ipvs_service_parse(nlmsg_hdr(m6), &s, &err), 0);
	ck_assert_str_eq(cir_ipvs_service_format(&s, buf, sizeof(buf)), "udp [fd00::53]:53");
	ck_assert_uint_eq(s.netmask, 64);
}
END_TEST

START_TEST(parse_roundtrip)
{
	_cleanup_nl_msg_ struct nl_msg *msg = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipvs_service in = svc4(), out;

	in.flags = IP_VS_SVC_F_PERSISTENT;
	in.timeout = 60;
	in.netmask = 16;
	ck_assert_int_eq(cir_ipvs_msg_build(FAMILY, IPVS_CMD_NEW_SERVICE, 0, &in, NULL, &msg, &err), 0);
	ck_assert_int_eq(cir_ipvs_service_parse(nlmsg_hdr(msg), &out, &err), 0);
	ck_assert_mem_eq(&in, &out, sizeof(in));
}
END_TEST

START_TEST(parse_dest_reply)
{
	_cleanup_nl_msg_ struct nl_msg *msg = nlmsg_alloc();
	struct cir_error err = CIR_ERROR_INIT;
	union cir_ipvs_addr a;
	struct cir_ipvs_dest d;
	struct nlattr *n, *st;
	char buf[CIR_IPVS_FMT_MAX];

	/* as ip_vs_genl_fill_dest(): no 64-bit stats here, LOCALNODE bits */
	memset(&a, 0, sizeof(a));
	inet_pton(AF_INET, "10.91.2.2", &a.v4);
	genlmsg_put(msg, 1, 1, FAMILY, 0, NLM_F_MULTI, IPVS_CMD_NEW_DEST, IPVS_GENL_VERSION);
	n = nla_nest_start(msg, IPVS_CMD_ATTR_DEST);
	nla_put(msg, IPVS_DEST_ATTR_ADDR, sizeof(a), &a);
	nla_put_u16(msg, IPVS_DEST_ATTR_PORT, htons(8080));
	nla_put_u32(msg, IPVS_DEST_ATTR_FWD_METHOD, IP_VS_CONN_F_TUNNEL);
	nla_put_u32(msg, IPVS_DEST_ATTR_WEIGHT, 7);
	nla_put_u32(msg, IPVS_DEST_ATTR_U_THRESH, 0);
	nla_put_u32(msg, IPVS_DEST_ATTR_L_THRESH, 0);
	nla_put_u32(msg, IPVS_DEST_ATTR_ACTIVE_CONNS, 4);
	nla_put_u32(msg, IPVS_DEST_ATTR_INACT_CONNS, 9);
	nla_put_u32(msg, IPVS_DEST_ATTR_PERSIST_CONNS, 2);
	nla_put_u16(msg, IPVS_DEST_ATTR_ADDR_FAMILY, AF_INET);
	st = nla_nest_start(msg, IPVS_DEST_ATTR_STATS);
	nla_put_u32(msg, IPVS_STATS_ATTR_CONNS, 10);
	nla_put_u64(msg, IPVS_STATS_ATTR_INBYTES, 1234);
	nla_nest_end(msg, st);
	nla_nest_end(msg, n);

	ck_assert_int_eq(cir_ipvs_dest_parse(nlmsg_hdr(msg), AF_INET6, &d, &err), 0);
	ck_assert_uint_eq(d.af, AF_INET); /* the dest's own family wins */
	ck_assert_str_eq(cir_ipvs_dest_format(&d, 0, buf, sizeof(buf)), "10.91.2.2:8080");
	ck_assert_int_eq(d.fwd, CIR_IPVS_FWD_TUNNEL);
	ck_assert_str_eq(cir_ipvs_fwd_name(d.fwd), "tunnel");
	ck_assert_uint_eq(d.weight, 7);
	ck_assert_uint_eq(d.active_conns, 4);
	ck_assert_uint_eq(d.inact_conns, 9);
	ck_assert_uint_eq(d.persist_conns, 2);
	ck_assert_uint_eq(d.stats.conns, 10);
	ck_assert_uint_eq(d.stats.inbytes, 1234);
}
END_TEST

START_TEST(parse_malformed)
{
	_cleanup_nl_msg_ struct nl_msg *empty = nlmsg_alloc();
	_cleanup_nl_msg_ struct nl_msg *shortv6 = nlmsg_alloc();
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipvs_service s;
	struct cir_ipvs_dest d;
	struct nlattr *n;
	struct in_addr a4 = { 0 };

	s.port = 4242;
	genlmsg_put(empty, 1, 1, FAMILY, 0, 0, IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION);
	ck_assert_int_eq(cir_ipvs_service_parse(nlmsg_hdr(empty), &s, &err), -EBADMSG);
	ck_assert_uint_eq(s.port, 4242); /* untouched on failure */
	ck_assert_int_eq(cir_ipvs_dest_parse(nlmsg_hdr(empty), AF_INET, &d, &err), -EBADMSG);

	genlmsg_put(shortv6, 1, 1, FAMILY, 0, 0, IPVS_CMD_NEW_SERVICE, IPVS_GENL_VERSION);
	n = nla_nest_start(shortv6, IPVS_CMD_ATTR_SERVICE);
	nla_put_u16(shortv6, IPVS_SVC_ATTR_AF, AF_INET6);
	nla_put_u16(shortv6, IPVS_SVC_ATTR_PROTOCOL, IPPROTO_TCP);
	nla_put(shortv6, IPVS_SVC_ATTR_ADDR, sizeof(a4), &a4);
	nla_put_u16(shortv6, IPVS_SVC_ATTR_PORT, htons(1));
	nla_nest_end(shortv6, n);
	ck_assert_int_eq(cir_ipvs_service_parse(nlmsg_hdr(shortv6), &s, &err), -EBADMSG);
	ck_assert_str_eq(err.msg, "ipvs service reply: short address");
}
END_TEST

START_TEST(fwd_names)
{
	struct cir_error err = CIR_ERROR_INIT;
	enum cir_ipvs_fwd f = CIR_IPVS_FWD_MASQ;

	ck_assert_int_eq(cir_ipvs_fwd_parse("dr", &f, &err), 0);
	ck_assert_int_eq(f, CIR_IPVS_FWD_ROUTE);
	ck_assert_int_eq(cir_ipvs_fwd_parse("nat", &f, &err), 0);
	ck_assert_int_eq(f, CIR_IPVS_FWD_MASQ);
	ck_assert_int_eq(cir_ipvs_fwd_parse("ipip", &f, &err), 0);
	ck_assert_int_eq(f, CIR_IPVS_FWD_TUNNEL);
	ck_assert_int_eq(cir_ipvs_fwd_parse("bogus", &f, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "unknown forwarding method 'bogus' (masq, route, tunnel)");
}
END_TEST

START_TEST(key_eq)
{
	struct cir_ipvs_service a = svc4(), b = svc4();
	struct cir_ipvs_dest x = dest4(), y = dest4();

	b.flags = IP_VS_SVC_F_PERSISTENT; /* settings are not the key */
	strcpy(b.sched, "wlc");
	ck_assert(cir_ipvs_service_key_eq(&a, &b));
	b.port = 81;
	ck_assert(!cir_ipvs_service_key_eq(&a, &b));
	b = svc4();
	b.addr.v6.s6_addr[15] = 1; /* beyond the IPv4 address: ignored */
	ck_assert(cir_ipvs_service_key_eq(&a, &b));
	a.fwmark = b.fwmark = 9;
	b.port = 1;
	ck_assert(cir_ipvs_service_key_eq(&a, &b));

	y.weight = 0;
	y.af = AF_INET; /* explicit family == the service's */
	ck_assert(cir_ipvs_dest_key_eq(&x, &y, AF_INET));
	y.port = 1;
	ck_assert(!cir_ipvs_dest_key_eq(&x, &y, AF_INET));
}
END_TEST

static Suite *ipvs_suite(void)
{
	Suite *s = suite_create("ipvs");
	TCase *b = tcase_create("build");
	TCase *p = tcase_create("parse");

	tcase_add_test(b, build_new_service);
	tcase_add_test(b, build_key_only_and_defaults);
	tcase_add_test(b, build_v6_and_fwmark);
	tcase_add_test(b, build_dest);
	tcase_add_test(b, build_rejects);
	tcase_add_test(b, build_flush_and_dump);
	tcase_add_test(p, parse_service_reply);
	tcase_add_test(p, parse_roundtrip);
	tcase_add_test(p, parse_dest_reply);
	tcase_add_test(p, parse_malformed);
	tcase_add_test(p, fwd_names);
	tcase_add_test(p, key_eq);
	suite_add_tcase(s, b);
	suite_add_tcase(s, p);
	return s;
}
CIR_UNIT_SUITE(ipvs_suite)
