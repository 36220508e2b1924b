// SPDX-License-Identifier: Apache-2.0
/*
 * test_lb.c - lib/lb without a kernel: "ADDR:PORT" parsing and printing,
 * schedulers and protocols, records to and from JSON, the IPVS views of a
 * record, and the store (get, list) on a temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "lb.h"
#include "lbagent.h"
#include "lbbackend.h"
#include "lbcache.h"
#include "unit.h"

START_TEST(addr_parse_ok)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_addr a;
	char buf[CIR_LB_ADDR_STRLEN];

	ck_assert_int_eq(cir_lb_addr_parse("vip", "192.168.100.235:80", &a, &e), 0);
	ck_assert_int_eq(a.ip.af, AF_INET);
	ck_assert_int_eq(a.port, 80);
	ck_assert_str_eq(cir_lb_addr_format(&a, buf, sizeof(buf)), "192.168.100.235:80");
	ck_assert_int_eq(cir_lb_addr_parse("vip", "[fd00::10]:65535", &a, &e), 0);
	ck_assert_int_eq(a.ip.af, AF_INET6);
	ck_assert_int_eq(a.port, 65535);
	ck_assert_str_eq(cir_lb_addr_format(&a, buf, sizeof(buf)), "[fd00::10]:65535");
	ck_assert_int_eq(cir_lb_addr_parse("vip", "[FD00:0::1]:1", &a, &e), 0);
	ck_assert_str_eq(cir_lb_addr_format(&a, buf, sizeof(buf)), "[fd00::1]:1");
}
END_TEST

START_TEST(addr_parse_bad)
{
	static const char *const bad[] = {
		"", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:080",
		"10.0.0.1:8a", "10.0.0.1:+80", "10.0.0.1: 80", "fd00::1:80", "[fd00::1]80",
		"[fd00::1]", "[10.0.0.1]:80", "[]:80", ":80", "10.0.0:80", "300.0.0.1:80",
		"10.0.0.1/24:80", "host:80", "10.0.0.1:123456", "[fe80::1%eth0]:80",
	};
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_addr a = { .port = 7 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cir_err_clear(&e);
		ck_assert_msg(cir_lb_addr_parse("target", bad[i], &a, &e) == -EINVAL, "%s", bad[i]);
		ck_assert_msg(strncmp(e.msg, "target", 6) == 0, "%s: %s", bad[i], e.msg);
		ck_assert_int_eq(a.port, 7); /* untouched */
	}
	ck_assert_int_eq(cir_lb_addr_parse("target", NULL, &a, &e), -EINVAL);
}
END_TEST

START_TEST(sched_proto_method)
{
	struct cir_error e = CIR_ERROR_INIT;
	uint16_t p;

	ck_assert_int_eq(cir_lb_sched_check("rr", &e), 0);
	ck_assert_int_eq(cir_lb_sched_check("mh", &e), 0);
	ck_assert_int_eq(cir_lb_sched_check("twos", &e), 0);
	ck_assert_int_eq(cir_lb_sched_check("RR", &e), -EINVAL);
	ck_assert_int_eq(cir_lb_sched_check("", &e), -EINVAL);
	ck_assert_int_eq(cir_lb_sched_check(NULL, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "want rr, wrr"));
	ck_assert_int_eq(cir_lb_proto_parse("tcp", &p, &e), 0);
	ck_assert_int_eq(p, IPPROTO_TCP);
	ck_assert_int_eq(cir_lb_proto_parse("udp", &p, &e), 0);
	ck_assert_int_eq(p, IPPROTO_UDP);
	ck_assert_int_eq(cir_lb_proto_parse("sctp", &p, &e), -EINVAL);
	ck_assert_str_eq(cir_lb_proto_name(IPPROTO_UDP), "udp");
	ck_assert_str_eq(cir_lb_method_name(CIR_IPVS_FWD_MASQ), "nat");
	ck_assert_str_eq(cir_lb_method_name(CIR_IPVS_FWD_ROUTE), "dr");
	ck_assert_str_eq(cir_lb_method_name(CIR_IPVS_FWD_TUNNEL), "tunnel");
}
END_TEST

static int parse_doc(const char *doc, struct cir_lb_service *s, struct cir_error *e)
{
	_cleanup_json_ struct cir_json *j = NULL;
	int r = cir_json_parse(doc, strlen(doc), &j, e);

	return r < 0 ? r : cir_lb_service_parse(cir_json_root(j), s, e);
}

static const char *const good =
	"{\"name\": \"web\", \"address\": \"10.96.0.10\", \"port\": 80, \"protocol\": \"udp\","
	" \"scheduler\": \"wrr\", \"persistent\": 300, \"created\": 1700000000,"
	" \"targets\": [{\"address\": \"10.254.1.2\", \"port\": 8080, \"weight\": 3,"
	"   \"method\": \"dr\", \"bridge\": \"c-net\"},"
	"  {\"address\": \"10.254.1.3\", \"port\": 8080, \"network\": \"net\","
	"   \"container\": \"ctr1\", \"interface\": \"eth0\"}]}";

START_TEST(record_roundtrip)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 }, s2 = { 0 };
	_cleanup_free_ char *doc = NULL, *doc2 = NULL;

	ck_assert_msg(parse_doc(good, &s, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(s.name, "web");
	ck_assert_int_eq(s.protocol, IPPROTO_UDP);
	ck_assert_str_eq(s.sched, "wrr");
	ck_assert_int_eq(s.persistent, 300);
	ck_assert_int_eq(s.created, 1700000000);
	ck_assert_int_eq(s.n_targets, 2);
	ck_assert_int_eq(s.targets[0].weight, 3);
	ck_assert_int_eq(s.targets[0].method, CIR_IPVS_FWD_ROUTE);
	ck_assert_str_eq(s.targets[0].bridge, "c-net");
	ck_assert_str_eq(s.targets[0].owner.cid, "");
	ck_assert_int_eq(s.targets[1].weight, 1);                   /* default */
	ck_assert_int_eq(s.targets[1].method, CIR_IPVS_FWD_MASQ);   /* default */
	ck_assert_str_eq(s.targets[1].owner.network, "net");
	ck_assert_str_eq(s.targets[1].owner.cid, "ctr1");
	ck_assert_str_eq(s.targets[1].owner.ifname, "eth0");

	ck_assert_int_eq(cir_lb_service_format(&s, false, &doc, &e), 0);
	ck_assert_int_eq(parse_doc(doc, &s2, &e), 0);
	ck_assert_int_eq(cir_lb_service_format(&s2, false, &doc2, &e), 0);
	ck_assert_str_eq(doc, doc2);
	ck_assert_ptr_nonnull(strstr(doc, "\"method\":\"dr\""));
	ck_assert_ptr_null(strstr(doc, "\"container\":\"\""));   /* no owner, no keys */
	cir_lb_service_clear(&s);
	cir_lb_service_clear(&s2);
	cir_lb_service_clear(&s2);  /* idempotent */
}
END_TEST

/* The record cache's codec (lib/lbcache): a service with checks, states
 * and owners comes back equal (same JSON), and every truncation of its
 * encoding is refused. */
START_TEST(cache_codec)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 }, s2 = { 0 };
	_cleanup_free_ char *doc = NULL, *doc2 = NULL, *buf = NULL;
	size_t len = 0;

	ck_assert_msg(parse_doc(good, &s, &e) == 0, "%s", e.msg);
	s.mh_port = true;
	s.check = (struct cir_lb_check){ CIR_LB_CHECK_HTTP, "/healthz", 204, 500, 300, 2, 3 };
	s.targets[0].down = true;
	s.targets[0].since = 1732540100;
	snprintf(s.targets[0].error, sizeof(s.targets[0].error), "connect: refused");
	s.targets[1].check = (struct cir_lb_check){ CIR_LB_CHECK_TCP, "", 0, 1000, 1000, 1, 1 };
	ck_assert_int_eq(cir_lbcache_encode(&s, &buf, &len), 0);
	ck_assert_int_eq(cir_lbcache_decode(buf, len, &s2), 0);
	ck_assert_int_eq(cir_lb_service_format(&s, false, &doc, &e), 0);
	ck_assert_int_eq(cir_lb_service_format(&s2, false, &doc2, &e), 0);
	ck_assert_str_eq(doc, doc2);
	for (size_t n = 0; n < len; n++)
		ck_assert_int_eq(cir_lbcache_decode(buf, n, &s2), -EINVAL);
	buf[0] = (char)0xff;    /* a name longer than allowed */
	ck_assert_int_eq(cir_lbcache_decode(buf, len, &s2), -EINVAL);
	cir_lb_service_clear(&s);
	cir_lb_service_clear(&s2);
}
END_TEST

START_TEST(record_defaults)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 };

	ck_assert_int_eq(parse_doc("{\"name\":\"a\",\"address\":\"fd00::1\",\"port\":443}", &s, &e),
			 0);
	ck_assert_int_eq(s.protocol, IPPROTO_TCP);
	ck_assert_str_eq(s.sched, "rr");
	ck_assert_int_eq(s.n_targets, 0);
	ck_assert_ptr_null(s.targets);
	cir_lb_service_clear(&s);
}
END_TEST

START_TEST(record_bad)
{
	static const char *const bad[] = {
		"[]",
		"{\"address\":\"10.0.0.1\",\"port\":80}",
		"{\"name\":\"../x\",\"address\":\"10.0.0.1\",\"port\":80}",
		"{\"name\":\"a\",\"port\":80}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\"}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":70000}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":80,\"protocol\":\"icmp\"}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":80,\"scheduler\":\"x\"}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":80,\"targets\":{}}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":80,\"targets\":[1]}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":80,\"targets\":"
		"[{\"address\":\"fd00::2\",\"port\":80}]}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":80,\"targets\":"
		"[{\"address\":\"10.0.0.2\",\"port\":80,\"method\":\"x\"}]}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":80,\"targets\":"
		"[{\"address\":\"10.0.0.2\",\"port\":80},{\"address\":\"10.0.0.2\",\"port\":80}]}",
		"{\"name\":\"a\",\"address\":\"10.0.0.1\",\"port\":80,\"targets\":"
		"[{\"address\":\"10.0.0.2\",\"port\":80,\"bridge\":\"0123456789abcdef\"}]}",
	};
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		cir_err_clear(&e);
		r = parse_doc(bad[i], &s, &e);
		/* -ERANGE: a number out of range (port 70000) */
		ck_assert_msg(r == -EINVAL || r == -ERANGE, "%zu: %s: %d", i, bad[i], r);
		ck_assert_msg(strncmp(e.msg, "service record", 14) == 0, "%zu: %s", i, e.msg);
		ck_assert_ptr_null(s.targets);
	}
}
END_TEST

START_TEST(to_ipvs)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 };
	struct cir_ipvs_service k;
	struct cir_ipvs_dest d;
	struct cir_lb_addr a;

	ck_assert_int_eq(parse_doc(good, &s, &e), 0);
	cir_lb_service_to_ipvs(&s, &k);
	ck_assert_int_eq(k.af, AF_INET);
	ck_assert_int_eq(k.protocol, IPPROTO_UDP);
	ck_assert_int_eq(k.port, 80);
	ck_assert_int_eq(k.addr.v4.s_addr, htonl(0x0a60000a));
	ck_assert_str_eq(k.sched, "wrr");
	ck_assert_int_eq(k.flags, IP_VS_SVC_F_PERSISTENT);
	ck_assert_int_eq(k.timeout, 300);
	ck_assert_int_eq(k.fwmark, 0);
	cir_lb_target_to_ipvs(&s.targets[0], &d);
	ck_assert_int_eq(d.af, AF_INET);
	ck_assert_int_eq(d.port, 8080);
	ck_assert_int_eq(d.weight, 3);
	ck_assert_int_eq(d.fwd, CIR_IPVS_FWD_ROUTE);
	ck_assert_int_eq(d.addr.v4.s_addr, htonl(0x0afe0102));

	ck_assert_int_eq(cir_lb_addr_parse("t", "10.254.1.3:8080", &a, &e), 0);
	ck_assert_int_eq(cir_lb_target_find(&s, &a), 1);
	a.port = 8081;
	ck_assert_int_eq(cir_lb_target_find(&s, &a), -1);
	s.persistent = 0;
	cir_lb_service_to_ipvs(&s, &k);
	ck_assert_int_eq(k.flags, 0);
	ck_assert_int_eq(k.timeout, 0);
	cir_lb_service_clear(&s);
}
END_TEST

START_TEST(service_check)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_service s = { .name = "web", .protocol = IPPROTO_TCP, .sched = "rr" };

	ck_assert_int_eq(cir_lb_service_check(&s, &e), -EINVAL);   /* no address */
	ck_assert_int_eq(cir_lb_addr_parse("vip", "10.0.0.1:80", &s.vip, &e), 0);
	ck_assert_int_eq(cir_lb_service_check(&s, &e), 0);
	s.protocol = IPPROTO_SCTP;
	ck_assert_int_eq(cir_lb_service_check(&s, &e), -EINVAL);
	s.protocol = IPPROTO_TCP;
	snprintf(s.sched, sizeof(s.sched), "bogus");
	ck_assert_int_eq(cir_lb_service_check(&s, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "service web"));
}
END_TEST

static int collect(const struct cir_lb_service *s, void *arg)
{
	char *out = arg;

	strcat(out, s->name);
	strcat(out, " ");
	return 0;
}

START_TEST(store_get_list)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_lb_service s = { 0 };
	char dir[] = "/tmp/cir-lb-unit.XXXXXX", names[256] = "";
	int lock;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(cir_lb_db_open(&db, dir, &e), 0);
	ck_assert_int_eq(cir_lb_get(&db, "web", &s, &e), -ENOENT);
	ck_assert_str_eq(e.msg, "service web not found");
	ck_assert_int_eq(cir_lb_get(&db, "../etc", &s, &e), -EINVAL);
	ck_assert_int_eq(cir_lb_list(&db, collect, names, &e), 0);
	for (int i = 3; i >= 1; i--) {
		char name[8], doc[128], file[16];

		snprintf(name, sizeof(name), "svc%d", i);
		snprintf(doc, sizeof(doc), "{\"name\":\"%s\",\"address\":\"10.0.0.%d\",\"port\":80}",
			 name, i);
		snprintf(file, sizeof(file), "%s.json", name);
		ck_assert_int_eq(cir_store_write(db.fd, file, doc, strlen(doc), &e), 0);
	}
	/* Not records: skipped. */
	ck_assert_int_eq(cir_store_write(db.fd, "notes.txt", "x", 1, &e), 0);
	ck_assert_int_eq(cir_lb_list(&db, collect, names, &e), 3);
	ck_assert_str_eq(names, "svc1 svc2 svc3 ");
	ck_assert_int_eq(cir_lb_get(&db, "svc2", &s, &e), 0);
	ck_assert_int_eq(s.vip.port, 80);
	/* A record whose name differs from its file is refused. */
	{
		const char *alias = "{\"name\":\"svc1\",\"address\":\"10.0.0.1\",\"port\":80}";

		ck_assert_int_eq(cir_store_write(db.fd, "alias.json", alias, strlen(alias), &e), 0);
	}
	ck_assert_int_eq(cir_lb_get(&db, "alias", &s, &e), -EINVAL);
	lock = cir_lb_lock(&db, &e);
	ck_assert_int_ge(lock, 0);
	close(lock);
	/* Detach from a missing service is a no-op that needs no kernel. */
	{
		struct cir_lb_owner o = { "net", "ctr", "eth0" };

		ck_assert_int_eq(cir_lb_detach(&db, "ghost", &o, &e), 0);
	}
	/* restore on a store without lb/ needs no kernel either */
	{
		struct cir_store st = CIR_STORE_INIT;
		char empty[] = "/tmp/cir-lb-unit2.XXXXXX";

		ck_assert_ptr_nonnull(mkdtemp(empty));
		ck_assert_int_eq(cir_store_open(&st, empty, &e), 0);
		ck_assert_int_eq(cir_lb_restore(&st, &e), 0);
		cir_store_close(&st);
		rmdir(empty);
	}
	cir_lb_service_clear(&s);
	cir_lb_db_close(&db);
	cir_lb_db_close(&db);   /* idempotent */
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

START_TEST(check_values)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_check c;
	char buf[300];
	uint32_t ms = 0;
	const char *bad[] = { "", "udpx", "http:", "http:x", "http:/a b", "HTTP", "tcp:/x",
			      "udp:\x01", "exec:", "exec:rel/x", "exec:/a/../b", "exec:/a/./b",
			      "exec:/a//b", "exec:/a/", "exec:/a b", "exec:/x/..", NULL };

	ck_assert_int_eq(cir_lb_check_parse("tcp", &c, &e), 0);
	ck_assert_int_eq(c.type, CIR_LB_CHECK_TCP);
	ck_assert_int_eq(c.interval_ms, 2000);
	ck_assert_int_eq(c.timeout_ms, 1000);
	ck_assert_int_eq(c.rise, 2);
	ck_assert_int_eq(c.fall, 3);
	ck_assert_str_eq(cir_lb_check_format(&c, buf, sizeof(buf)), "tcp");
	ck_assert_int_eq(cir_lb_check_parse("http", &c, &e), 0);
	ck_assert_str_eq(cir_lb_check_format(&c, buf, sizeof(buf)), "http:/");
	ck_assert_int_eq(c.expect, 200);
	ck_assert_int_eq(cir_lb_check_parse("http:/healthz?x=1", &c, &e), 0);
	ck_assert_str_eq(c.path, "/healthz?x=1");
	ck_assert_int_eq(cir_lb_check_parse("udp", &c, &e), 0);
	ck_assert_int_eq(c.type, CIR_LB_CHECK_UDP);
	ck_assert_str_eq(cir_lb_check_format(&c, buf, sizeof(buf)), "udp");
	ck_assert_int_eq(cir_lb_check_parse("udp:ping me", &c, &e), 0);
	ck_assert_str_eq(c.path, "ping me");
	ck_assert_str_eq(cir_lb_check_format(&c, buf, sizeof(buf)), "udp:ping me");
	ck_assert_int_eq(cir_lb_check_parse("exec:/usr/local/lib/chk.sh", &c, &e), 0);
	ck_assert_int_eq(c.type, CIR_LB_CHECK_EXEC);
	ck_assert_str_eq(cir_lb_check_format(&c, buf, sizeof(buf)), "exec:/usr/local/lib/chk.sh");
	for (int i = 0; bad[i]; i++)
		ck_assert_msg(cir_lb_check_parse(bad[i], &c, &e) == -EINVAL, "%s", bad[i]);
	ck_assert_int_eq(cir_lb_check_parse("tcp", &c, &e), 0);
	c.timeout_ms = 3000;                            /* > interval */
	ck_assert_int_eq(cir_lb_check_valid(&c, &e), -EINVAL);
	c.timeout_ms = 1000;
	c.fall = 0;
	ck_assert_int_eq(cir_lb_check_valid(&c, &e), -EINVAL);

	ck_assert_int_eq(cir_lb_duration_parse("2s", &ms, &e), 0);
	ck_assert_int_eq(ms, 2000);
	ck_assert_int_eq(cir_lb_duration_parse("500ms", &ms, &e), 0);
	ck_assert_int_eq(ms, 500);
	ck_assert_int_eq(cir_lb_duration_parse("3", &ms, &e), 0);
	ck_assert_int_eq(ms, 3000);
	ck_assert_int_eq(cir_lb_duration_parse("1m", &ms, &e), 0);
	ck_assert_int_eq(ms, 60000);
	ck_assert_int_eq(cir_lb_duration_parse("2h", &ms, &e), -EINVAL);
	ck_assert_int_eq(cir_lb_duration_parse("-1s", &ms, &e), -EINVAL);
	ck_assert_int_eq(cir_lb_duration_parse("99999999999s", &ms, &e), -EINVAL);

	ck_assert_int_eq(cir_lbagent_http_status("HTTP/1.0 200 OK\r\n", 17), 200);
	ck_assert_int_eq(cir_lbagent_http_status("HTTP/1.1 404 Not Found\r\n", 24), 404);
	ck_assert_int_eq(cir_lbagent_http_status("HTTP/1.1 200", 12), 200);
	ck_assert_int_eq(cir_lbagent_http_status("HTTP/1.1 20", 11), -EBADMSG);
	ck_assert_int_eq(cir_lbagent_http_status("SSH-2.0-OpenSSH\r\n", 17), -EBADMSG);
	ck_assert_int_eq(cir_lbagent_http_status("HTTP/1.1 2000 x", 15), -EBADMSG);
}
END_TEST

/* A checked service's record keeps its check and each target's health;
 * a down target is weight 0 in IPVS but keeps its configured weight. */
START_TEST(record_check_state)
{
	static const char doc[] =
		"{\"name\": \"web\", \"address\": \"10.96.0.10\", \"port\": 80,"
		" \"check\": {\"type\": \"http\", \"path\": \"/h\", \"expect\": 204,"
		"  \"interval\": 500, \"timeout\": 200, \"rise\": 1, \"fall\": 4},"
		" \"targets\": [{\"address\": \"10.254.1.2\", \"port\": 8080, \"weight\": 5,"
		"   \"state\": \"down\", \"error\": \"connect: Connection refused\","
		"   \"since\": 1700000001},"
		"  {\"address\": \"10.254.1.3\", \"port\": 8080}]}";
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 }, s2 = { 0 };
	struct cir_ipvs_dest d;
	_cleanup_free_ char *out = NULL, *out2 = NULL;

	ck_assert_msg(parse_doc(doc, &s, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(s.check.type, CIR_LB_CHECK_HTTP);
	ck_assert_str_eq(s.check.path, "/h");
	ck_assert_int_eq(s.check.expect, 204);
	ck_assert_int_eq(s.check.interval_ms, 500);
	ck_assert_int_eq(s.check.timeout_ms, 200);
	ck_assert_int_eq(s.check.rise, 1);
	ck_assert_int_eq(s.check.fall, 4);
	ck_assert(s.targets[0].down);
	ck_assert_str_eq(s.targets[0].error, "connect: Connection refused");
	ck_assert_int_eq(s.targets[0].since, 1700000001);
	ck_assert(!s.targets[1].down);
	cir_lb_target_to_ipvs(&s.targets[0], &d);
	ck_assert_int_eq(d.weight, 0);
	ck_assert_int_eq(s.targets[0].weight, 5);
	cir_lb_target_to_ipvs(&s.targets[1], &d);
	ck_assert_int_eq(d.weight, 1);
	ck_assert_int_eq(cir_lb_service_format(&s, false, &out, &e), 0);
	ck_assert_int_eq(parse_doc(out, &s2, &e), 0);
	ck_assert_int_eq(cir_lb_service_format(&s2, false, &out2, &e), 0);
	ck_assert_str_eq(out, out2);
	cir_lb_service_clear(&s);
	cir_lb_service_clear(&s2);
	ck_assert_int_eq(parse_doc("{\"name\": \"w\", \"address\": \"10.0.0.1\", \"port\": 80,"
				   " \"check\": {\"type\": \"icmp\"}}", &s, &e), -EINVAL);
	ck_assert_int_eq(parse_doc("{\"name\": \"w\", \"address\": \"10.0.0.1\", \"port\": 80,"
				   " \"check\": {\"type\": \"tcp\", \"interval\": 100,"
				   " \"timeout\": 500}}", &s, &e), -EINVAL);
	ck_assert_int_eq(parse_doc("{\"name\": \"w\", \"address\": \"10.0.0.1\", \"port\": 80,"
				   " \"targets\": [{\"address\": \"10.0.0.2\", \"port\": 1,"
				   " \"state\": \"sick\"}]}", &s, &e), -EINVAL);
}
END_TEST

/* lb ls's state: the agent's verdict for a checked IPVS target, else the
 * data plane's own. */
START_TEST(target_health)
{
	struct cir_lb_target t[2] = { [0] = { .down = true } };
	struct cir_lb_service s = { .backend = CIR_LB_BACKEND_IPVS, .targets = t,
				    .n_targets = 2 };
	struct cir_lb_target_status d = { .programmed = true, .state = "maint" };

	ck_assert_ptr_null(cir_lb_target_shown_state(&s, &t[0], NULL));
	t[1].check.type = CIR_LB_CHECK_TCP;
	ck_assert_ptr_null(cir_lb_target_shown_state(&s, &t[0], NULL));
	ck_assert_str_eq(cir_lb_target_shown_state(&s, &t[1], &d), "up");
	s.check.type = CIR_LB_CHECK_HTTP;
	ck_assert_str_eq(cir_lb_target_shown_state(&s, &t[0], &d), "down");
	s.backend = CIR_LB_BACKEND_HAPROXY;
	ck_assert_str_eq(cir_lb_target_shown_state(&s, &t[0], &d), "maint");
	ck_assert_ptr_null(cir_lb_target_shown_state(&s, &t[0], NULL));
	d.state[0] = '\0';
	ck_assert_ptr_null(cir_lb_target_shown_state(&s, &t[1], &d));
}
END_TEST

static Suite *lb_suite(void)
{
	Suite *s = suite_create("lb");
	TCase *v = tcase_create("values");
	TCase *r = tcase_create("records");
	TCase *st = tcase_create("store");

	tcase_add_test(v, addr_parse_ok);
	tcase_add_test(v, addr_parse_bad);
	tcase_add_test(v, sched_proto_method);
	tcase_add_test(v, service_check);
	tcase_add_test(r, record_roundtrip);
	tcase_add_test(r, cache_codec);
	tcase_add_test(r, record_defaults);
	tcase_add_test(r, record_bad);
	tcase_add_test(r, to_ipvs);
	tcase_add_test(v, check_values);
	tcase_add_test(r, record_check_state);
	tcase_add_test(v, target_health);
	tcase_add_test(st, store_get_list);
	suite_add_tcase(s, v);
	suite_add_tcase(s, r);
	suite_add_tcase(s, st);
	return s;
}
CIR_UNIT_SUITE(lb_suite)
