// SPDX-License-Identifier: Apache-2.0
/* test_portmap.c - --publish and portMappings parsing, the capability
 * arguments, nft element texts, and ctnetlink message building and
 * parsing (lib/conntrack.c).  No kernel state. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include "conntrack.h"
#include "nft.h"
#include "portmap.h"
#include "unit.h"

static void round_trip(const char *in, const char *canon)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_publish p, q;
	char buf[CIR_PUBLISH_STRLEN];

	ck_assert_msg(cir_publish_parse(in, &p, &e) == 0, "%s: %s", in, e.msg);
	ck_assert_str_eq(cir_publish_format(&p, buf, sizeof(buf)), canon);
	ck_assert_int_eq(cir_publish_parse(buf, &q, &e), 0);
	ck_assert_mem_eq(&p, &q, sizeof(p));
}

START_TEST(publish_parse_good)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_publish p;

	round_trip("8080:80", "8080:80/tcp");
	round_trip("8080:80/udp", "8080:80/udp");
	round_trip("8080:80/UDP", "8080:80/udp");
	round_trip("127.0.0.1:8080:80", "127.0.0.1:8080:80/tcp");
	round_trip("[::1]:8080:80/tcp", "[::1]:8080:80/tcp");
	round_trip("[fd00:0::1]:1:65535/sctp", "[fd00::1]:1:65535/sctp");
	round_trip("8080-8081:80-81", "8080-8081:80-81/tcp");
	round_trip("0.0.0.0:9000-9999:9000-9999/udp", "0.0.0.0:9000-9999:9000-9999/udp");
	ck_assert_int_eq(cir_publish_parse("8080-8081:80-81", &p, &e), 0);
	ck_assert_uint_eq(p.host_port, 8080);
	ck_assert_uint_eq(p.container_port, 80);
	ck_assert_uint_eq(p.count, 2);
	ck_assert_uint_eq(p.proto, IPPROTO_TCP);
	ck_assert_int_eq(p.host_ip.af, 0);
}
END_TEST

START_TEST(publish_parse_bad)
{
	static const struct { const char *in, *msg; } bad[] = {
		{ "70000:80", "publish \"70000:80\": host port 70000 out of range 1-65535" },
		{ "80:70000", "publish \"80:70000\": container port 70000 out of range 1-65535" },
		{ "abc", "publish \"abc\": want [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]" },
		{ "1:2:3:4", "publish \"1:2:3:4\": want [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]" },
		{ "0:80", "publish \"0:80\": host port 0 out of range 1-65535" },
		{ "80:80/icmp", "publish \"80:80/icmp\": protocol \"icmp\" is not tcp, udp or sctp" },
		{ "8080-8081:80", "publish \"8080-8081:80\": host and container ranges differ in "
				  "length (2 and 1 ports)" },
		{ "81-80:81-80", "publish \"81-80:81-80\": host port range 81-80 is backwards" },
		{ "::1:80:80", "publish \"::1:80:80\": want [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]" },
		{ "[10.0.0.1]:80:80", "publish \"[10.0.0.1]:80:80\": \"[10.0.0.1]\" is not an IPv6 "
				      "address" },
		{ "10.0.0:80:80", "publish \"10.0.0:80:80\": \"10.0.0\" is not an IPv4 address "
				  "(IPv6 goes in brackets)" },
		{ "a:80:80", NULL }, { ":80", NULL }, { "80:", NULL }, { "80:8a", NULL },
		{ "1-2-3:1-2-3", NULL }, { "[::1]80:80", NULL }, { "[::1]:80", NULL },
		{ "8080:80;flush ruleset", NULL }, { "", "publish: empty value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cir_error e = CIR_ERROR_INIT;
		struct cir_publish p;

		ck_assert_msg(cir_publish_parse(bad[i].in, &p, &e) == -EINVAL, "%s", bad[i].in);
		ck_assert(strchr(e.msg, '\n') == NULL);
		if (bad[i].msg)
			ck_assert_str_eq(e.msg, bad[i].msg);
	}
}
END_TEST

START_TEST(expand_and_caps)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_publish p[3];
	struct cir_portmap m[8];
	size_t n = 0;
	char *doc = NULL;

	ck_assert_int_eq(cir_publish_parse("8080-8081:80-81", &p[0], &e), 0);
	ck_assert_int_eq(cir_publish_parse("127.0.0.1:53:53/udp", &p[1], &e), 0);
	ck_assert_int_eq(cir_publish_expand(p, 2, m, &n, 8, &e), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(m[1].host_port, 8081);
	ck_assert_uint_eq(m[1].container_port, 81);
	ck_assert_int_eq(cir_publish_caps_json(p, 2, &doc, &e), 0);
	ck_assert_str_eq(doc, "{\"portMappings\":["
			 "{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\",\"hostIP\":\"\"},"
			 "{\"hostPort\":8081,\"containerPort\":81,\"protocol\":\"tcp\",\"hostIP\":\"\"},"
			 "{\"hostPort\":53,\"containerPort\":53,\"protocol\":\"udp\","
			 "\"hostIP\":\"127.0.0.1\"}]}");
	free(doc);
	/* The same host port twice (any address overlaps 10.0.0.1). */
	ck_assert_int_eq(cir_publish_parse("10.0.0.1:8081:90", &p[2], &e), 0);
	n = 0;
	ck_assert_int_eq(cir_publish_expand(p + 2, 1, m, &n, 8, &e), 0);
	ck_assert_int_eq(cir_publish_expand(p, 1, m, &n, 8, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "host port tcp/8081 is published twice");
	/* Over the limit. */
	n = 0;
	ck_assert_int_eq(cir_publish_expand(p, 1, m, &n, 1, &e), -E2BIG);
}
END_TEST

START_TEST(host_overlap)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_ip any = { 0 }, z4, z6, a, b, a6;

	cir_ip_parse("0.0.0.0", &z4, &e);
	cir_ip_parse("::", &z6, &e);
	cir_ip_parse("10.0.0.1", &a, &e);
	cir_ip_parse("10.0.0.2", &b, &e);
	cir_ip_parse("fd00::1", &a6, &e);
	ck_assert(cir_portmap_host_overlap(&any, &a));
	ck_assert(cir_portmap_host_overlap(&a6, &any));
	ck_assert(cir_portmap_host_overlap(&z4, &a));
	ck_assert(!cir_portmap_host_overlap(&z4, &a6));
	ck_assert(cir_portmap_host_overlap(&z6, &a6));
	ck_assert(cir_portmap_host_overlap(&a, &a));
	ck_assert(!cir_portmap_host_overlap(&a, &b));
	ck_assert(!cir_portmap_host_overlap(&a, &a6));
}
END_TEST

static const struct cir_jnode *parse_doc(const char *text, struct cir_json **j)
{
	struct cir_error e = CIR_ERROR_INIT;

	ck_assert_int_eq(cir_json_parse(text, strlen(text), j, &e), 0);
	return cir_json_root(*j);
}

START_TEST(portmappings_json)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_portmap m[4];
	struct cir_json *j = NULL;
	size_t n = 9;

	/* The reference plugin's runtimeConfig, "" protocol = tcp. */
	ck_assert_int_eq(cir_portmap_parse_json(parse_doc(
		"[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\",\"hostIP\":\"\"},"
		"{\"hostPort\":53,\"containerPort\":5353,\"protocol\":\"udp\",\"hostIP\":\"::1\"},"
		"{\"hostPort\":9,\"containerPort\":9,\"protocol\":\"\"}]", &j), m, &n, 4, &e), 0);
	cir_json_free(j);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(m[1].proto, IPPROTO_UDP);
	ck_assert_int_eq(m[1].host_ip.af, AF_INET6);
	ck_assert_uint_eq(m[2].proto, IPPROTO_TCP);
	ck_assert_int_eq(cir_portmap_parse_json(NULL, m, &n, 4, &e), 0);
	ck_assert_uint_eq(n, 0);

	static const struct { const char *doc, *msg; } bad[] = {
		{ "{}", "portMappings: expected an array" },
		{ "[1]", "portMappings[0]: expected an object" },
		{ "[{\"hostPort\":70000,\"containerPort\":80}]", NULL },
		{ "[{\"hostPort\":\"80\",\"containerPort\":80}]", NULL },
		{ "[{\"containerPort\":80}]", "portMappings[0]: hostPort missing or 0 (want 1-65535)" },
		{ "[{\"hostPort\":80,\"containerPort\":80,\"protocol\":\"icmp\"}]",
		  "portMappings[0]: protocol \"icmp\" is not tcp, udp or sctp" },
		{ "[{\"hostPort\":80,\"containerPort\":80,\"hostIP\":\"1.2.3\"}]", NULL },
		{ "[{\"hostPort\":80,\"containerPort\":80},{\"hostPort\":80,\"containerPort\":81,"
		  "\"hostIP\":\"10.0.0.1\"}]", "portMappings[1]: host port tcp/80 is published twice" },
		{ "[{\"hostPort\":1,\"containerPort\":1},{\"hostPort\":2,\"containerPort\":2},"
		  "{\"hostPort\":3,\"containerPort\":3},{\"hostPort\":4,\"containerPort\":4},"
		  "{\"hostPort\":5,\"containerPort\":5}]", "portMappings: more than 4 entries" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = cir_portmap_parse_json(parse_doc(bad[i].doc, &j), m, &n, 4, &e);

		cir_json_free(j);
		ck_assert_msg(r < 0, "%s", bad[i].doc);
		if (bad[i].msg)
			ck_assert_str_eq(e.msg, bad[i].msg);
	}
}
END_TEST

START_TEST(nft_elements)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_nft_pm v = { .host_port = 8080, .port = 80, .proto = IPPROTO_TCP };
	char buf[256];
	const char *map;

	cir_ip_parse("10.1.0.2", &v.addr, &e);
	ck_assert_int_eq(cir_nft_pm_element(&v, buf, sizeof(buf), &map, &e), 0);
	ck_assert_str_eq(map, "pm4any");
	ck_assert_str_eq(buf, "tcp . 8080 : 10.1.0.2 . 80");
	cir_ip_parse("0.0.0.0", &v.host, &e);
	ck_assert_int_eq(cir_nft_pm_element(&v, buf, sizeof(buf), &map, &e), 0);
	ck_assert_str_eq(map, "pm4any");
	cir_ip_parse("127.0.0.1", &v.host, &e);
	v.proto = IPPROTO_UDP;
	ck_assert_int_eq(cir_nft_pm_element(&v, buf, sizeof(buf), &map, &e), 0);
	ck_assert_str_eq(map, "pm4");
	ck_assert_str_eq(buf, "127.0.0.1 . udp . 8080 : 10.1.0.2 . 80");
	cir_ip_parse("fd00::2", &v.addr, &e);
	ck_assert_int_eq(cir_nft_pm_element(&v, buf, sizeof(buf), &map, &e), -EINVAL);
	cir_ip_parse("::1", &v.host, &e);
	ck_assert_int_eq(cir_nft_pm_element(&v, buf, sizeof(buf), &map, &e), 0);
	ck_assert_str_eq(map, "pm6");
	ck_assert_str_eq(buf, "::1 . udp . 8080 : fd00::2 . 80");
	v.proto = 1;     /* icmp */
	ck_assert_int_eq(cir_nft_pm_element(&v, buf, sizeof(buf), &map, &e), -EINVAL);
	v.proto = IPPROTO_TCP;
	v.port = 0;
	ck_assert_int_eq(cir_nft_pm_element(&v, buf, sizeof(buf), &map, &e), -EINVAL);
	ck_assert_int_eq(cir_nft_portmap_add(&v, 1, NULL, &e), -EINVAL);   /* before any kernel call */
}
END_TEST

START_TEST(ct_dump_request)
{
	unsigned char buf[64];
	const struct nlmsghdr *nh = (const void *)buf;
	const struct nfgenmsg *nf = (const void *)(buf + NLMSG_HDRLEN);
	int len = cir_ct_dump_build(AF_INET6, 7, buf, sizeof(buf));

	ck_assert_int_eq(len, NLMSG_HDRLEN + 4);
	ck_assert_uint_eq(nh->nlmsg_len, (unsigned int)len);
	ck_assert_uint_eq(nh->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET);
	ck_assert_uint_eq(nh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	ck_assert_uint_eq(nh->nlmsg_seq, 7);
	ck_assert_uint_eq(nf->nfgen_family, AF_INET6);
	ck_assert_uint_eq(nf->version, NFNETLINK_V0);
	ck_assert_int_eq(cir_ct_dump_build(AF_INET, 1, buf, 8), -ENOSPC);
}
END_TEST

/* A tiny attribute writer for the synthetic kernel message. */
static size_t put(unsigned char *b, size_t off, uint16_t type, const void *v, size_t len)
{
	struct nlattr *a = (struct nlattr *)(b + off);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy(b + off + NLA_HDRLEN, v, len);
	memset(b + off + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	return off + NLA_ALIGN(NLA_HDRLEN + len);
}

static size_t nest_end(unsigned char *b, size_t start, size_t off)
{
	((struct nlattr *)(b + start))->nla_len = (uint16_t)(off - start);
	return off;
}

static size_t tuple(unsigned char *b, size_t off, uint16_t type, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport)
{
	size_t t = off, ip, pr;
	uint32_t s, d;
	uint8_t proto = IPPROTO_UDP;
	uint16_t sp = htons(sport), dp = htons(dport);

	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, dst, &d);
	off = put(b, off, NLA_F_NESTED | type, "", 0);
	ip = off;
	off = put(b, off, NLA_F_NESTED | CTA_TUPLE_IP, "", 0);
	off = put(b, off, CTA_IP_V4_SRC, &s, 4);
	off = put(b, off, CTA_IP_V4_DST, &d, 4);
	nest_end(b, ip, off);
	pr = off;
	off = put(b, off, NLA_F_NESTED | CTA_TUPLE_PROTO, "", 0);
	off = put(b, off, CTA_PROTO_NUM, &proto, 1);
	off = put(b, off, CTA_PROTO_SRC_PORT, &sp, 2);
	off = put(b, off, CTA_PROTO_DST_PORT, &dp, 2);
	nest_end(b, pr, off);
	return nest_end(b, t, off);
}

START_TEST(ct_entry_match_delete)
{
	unsigned char msg[512], del[512];
	struct nlmsghdr *nh = (struct nlmsghdr *)msg;
	struct nfgenmsg *nf = (struct nfgenmsg *)(msg + NLMSG_HDRLEN);
	struct cir_ct_entry e;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ct_filter f = { .family = AF_INET, .l4proto = IPPROTO_UDP,
				   .orig_dst_port = 5353 };
	size_t off, torig;
	uint16_t zone = htons(3);
	int len;

	/* A DNATed UDP flow 198.18.0.2:40000 -> 198.18.0.1:5353, answered by
	 * 10.254.7.2:5353, in zone 3. */
	memset(msg, 0, sizeof(msg));
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*nf));
	torig = off;
	off = tuple(msg, off, CTA_TUPLE_ORIG, "198.18.0.2", "198.18.0.1", 40000, 5353);
	off = tuple(msg, off, CTA_TUPLE_REPLY, "10.254.7.2", "198.18.0.2", 5353, 40000);
	off = put(msg, off, CTA_ZONE, &zone, 2);
	nh->nlmsg_len = (uint32_t)off;
	nh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nf->nfgen_family = AF_INET;

	ck_assert_int_eq(cir_ct_entry_parse(msg, off, &e), 0);
	ck_assert_int_eq(e.family, AF_INET);
	ck_assert_uint_eq(e.l4proto, IPPROTO_UDP);
	ck_assert_uint_eq(e.orig_sport, 40000);
	ck_assert_uint_eq(e.orig_dport, 5353);
	ck_assert_uint_eq(e.reply_sport, 5353);
	ck_assert(e.has_zone);
	ck_assert_uint_eq(e.zone, 3);

	ck_assert(cir_ct_entry_matches(&f, &e));
	cir_ip_parse("198.18.0.1", &f.orig_dst, &err);
	ck_assert(cir_ct_entry_matches(&f, &e));
	cir_ip_parse("10.254.7.2", &f.reply_src, &err);
	f.reply_src_port = 5353;
	ck_assert(cir_ct_entry_matches(&f, &e));
	f.reply_src_port = 53;
	ck_assert(!cir_ct_entry_matches(&f, &e));
	f.reply_src_port = 0;
	cir_ip_parse("10.254.7.3", &f.reply_src, &err);
	ck_assert(!cir_ct_entry_matches(&f, &e));
	f.reply_src.af = 0;
	f.orig_dst_port = 5354;
	ck_assert(!cir_ct_entry_matches(&f, &e));
	f.orig_dst_port = 0;
	f.l4proto = IPPROTO_TCP;
	ck_assert(!cir_ct_entry_matches(&f, &e));
	f.l4proto = 0;
	f.family = AF_INET6;
	ck_assert(!cir_ct_entry_matches(&f, &e));

	/* The delete names the original tuple as the kernel sent it, and
	 * the zone. */
	len = cir_ct_delete_build(&e, 9, del, sizeof(del));
	ck_assert_int_gt(len, 0);
	nh = (struct nlmsghdr *)del;
	ck_assert_uint_eq(nh->nlmsg_len, (unsigned int)len);
	ck_assert_uint_eq(nh->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE);
	ck_assert_uint_eq(nh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	ck_assert_uint_eq(nh->nlmsg_seq, 9);
	ck_assert_uint_eq(((struct nfgenmsg *)(del + NLMSG_HDRLEN))->nfgen_family, AF_INET);
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*nf));
	ck_assert_mem_eq(del + off, msg + torig, e.tuple_len);
	off += NLA_ALIGN(e.tuple_len);
	ck_assert_uint_eq(((struct nlattr *)(del + off))->nla_type, CTA_ZONE);
	ck_assert_mem_eq(del + off + NLA_HDRLEN, &zone, 2);
	ck_assert_uint_eq((size_t)len, off + NLA_ALIGN(NLA_HDRLEN + 2));
	ck_assert_int_eq(cir_ct_delete_build(&e, 9, del, 16), -ENOSPC);

	/* Malformed: an attribute running past the message, no tuple. */
	((struct nlattr *)(msg + torig))->nla_len = 400;
	ck_assert_int_eq(cir_ct_entry_parse(msg, nh->nlmsg_len, &e), -EBADMSG);
	ck_assert_int_eq(cir_ct_entry_parse(msg, 10, &e), -EBADMSG);
}
END_TEST

START_TEST(ct_flush_bad_filter)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_ct_filter f = { .family = AF_UNIX };

	ck_assert_int_eq(cir_ct_flush(&f, &e), -EINVAL);
	ck_assert_int_eq(cir_ct_flush(NULL, &e), -EINVAL);
	f.family = AF_INET;
	cir_ip_parse("fd00::1", &f.orig_dst, &e);
	ck_assert_int_eq(cir_ct_flush(&f, &e), -EINVAL);
	{
		struct cir_ct_filter two[2] = { { .family = AF_INET }, { .family = AF_INET6 } };

		ck_assert_int_eq(cir_ct_flush_any(two, 2, &e), -EINVAL);   /* two families */
		ck_assert_int_eq(cir_ct_flush_any(two, 0, &e), -EINVAL);
	}
}
END_TEST

static Suite *portmap_suite(void)
{
	Suite *s = suite_create("portmap");
	TCase *tc = tcase_create("parse");
	TCase *tk = tcase_create("conntrack");

	tcase_add_test(tc, publish_parse_good);
	tcase_add_test(tc, publish_parse_bad);
	tcase_add_test(tc, expand_and_caps);
	tcase_add_test(tc, host_overlap);
	tcase_add_test(tc, portmappings_json);
	tcase_add_test(tc, nft_elements);
	suite_add_tcase(s, tc);
	tcase_add_test(tk, ct_dump_request);
	tcase_add_test(tk, ct_entry_match_delete);
	tcase_add_test(tk, ct_flush_bad_filter);
	suite_add_tcase(s, tk);
	return s;
}
CIR_UNIT_SUITE(portmap_suite)
