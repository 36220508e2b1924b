// SPDX-License-Identifier: Apache-2.0
/*
 * test_ovsdb.c - lib/ovsdb.c without a server: the transactions circuit-ovs
 * sends (exact JSON), the stream framing, reply checking and the readers of
 * OVSDB's set, map and uuid notations (RFC 7047 section 5.1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ovs.h"
#include "ovsdb.h"
#include "unit.h"

static char *request(cir_ovsdb_ops_fn ops, const struct cir_ovsdb_names *n)
{
	struct cir_error err = CIR_ERROR_INIT;
	char *out = NULL;

	ck_assert_int_eq(cir_ovsdb_request(7, ops, n, &out, &err), 0);
	return out;
}

START_TEST(bridge_add_request)
{
	struct cir_ovsdb_names n = { .bridge = "c-ova", .network = "ova", .tag = 10 };
	char *s = request(cir_ovsdb_ops_bridge_add, &n);

	ck_assert_str_eq(s,
		"{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
		"{\"op\":\"wait\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"c-ova\"]],"
		"\"columns\":[\"_uuid\"],\"until\":\"==\",\"rows\":[],\"timeout\":0},"
		"{\"op\":\"insert\",\"table\":\"Interface\",\"row\":{\"name\":\"c-ova\","
		"\"type\":\"internal\",\"external_ids\":[\"map\",[[\"circuit-network\",\"ova\"]]]},"
		"\"uuid-name\":\"gwif\"},"
		"{\"op\":\"insert\",\"table\":\"Port\",\"row\":{\"name\":\"c-ova\","
		"\"interfaces\":[\"named-uuid\",\"gwif\"],\"tag\":10,"
		"\"external_ids\":[\"map\",[[\"circuit-network\",\"ova\"]]]},\"uuid-name\":\"gwport\"},"
		"{\"op\":\"insert\",\"table\":\"Bridge\",\"row\":{\"name\":\"c-ova\","
		"\"ports\":[\"named-uuid\",\"gwport\"],"
		"\"external_ids\":[\"map\",[[\"circuit-network\",\"ova\"]]]},\"uuid-name\":\"br\"},"
		"{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],"
		"\"mutations\":[[\"bridges\",\"insert\",[\"named-uuid\",\"br\"]]]}],\"id\":7}");
	free(s);
}
END_TEST

START_TEST(port_add_untagged_and_del_request)
{
	struct cir_ovsdb_names n = { .bridge = "c-ova", .port = "cv1234", .network = "ova" };
	char *s = request(cir_ovsdb_ops_port_add, &n);

	ck_assert_str_eq(s,
		"{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
		"{\"op\":\"wait\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"c-ova\"]],"
		"\"columns\":[\"_uuid\"],\"until\":\"!=\",\"rows\":[],\"timeout\":0},"
		"{\"op\":\"insert\",\"table\":\"Interface\",\"row\":{\"name\":\"cv1234\","
		"\"external_ids\":[\"map\",[[\"circuit-network\",\"ova\"]]]},\"uuid-name\":\"if\"},"
		"{\"op\":\"insert\",\"table\":\"Port\",\"row\":{\"name\":\"cv1234\","
		"\"interfaces\":[\"named-uuid\",\"if\"],"
		"\"external_ids\":[\"map\",[[\"circuit-network\",\"ova\"]]]},\"uuid-name\":\"port\"},"
		"{\"op\":\"mutate\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"c-ova\"]],"
		"\"mutations\":[[\"ports\",\"insert\",[\"named-uuid\",\"port\"]]]}],\"id\":7}");
	free(s);
	n.uuid = "0b5f-1";
	s = request(cir_ovsdb_ops_port_del, &n);
	ck_assert_str_eq(s,
		"{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
		"{\"op\":\"mutate\",\"table\":\"Bridge\","
		"\"where\":[[\"ports\",\"includes\",[\"uuid\",\"0b5f-1\"]]],"
		"\"mutations\":[[\"ports\",\"delete\",[\"uuid\",\"0b5f-1\"]]]}],\"id\":7}");
	free(s);
}
END_TEST

START_TEST(bridge_del_waits_on_ports_as_read)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	const char *ports = "{\"p\":[\"set\",[[\"uuid\",\"a\"],[\"uuid\",\"b\"]]]}";
	struct cir_ovsdb_names n = { .uuid = "br-1" };
	char *s;

	ck_assert_int_eq(cir_json_parse(ports, strlen(ports), &j, &err), 0);
	n.ports = cir_jnode_get(cir_json_root(j), "p");
	s = request(cir_ovsdb_ops_bridge_del, &n);
	ck_assert_str_eq(s,
		"{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
		"{\"op\":\"wait\",\"table\":\"Bridge\",\"where\":[[\"_uuid\",\"==\",[\"uuid\",\"br-1\"]]],"
		"\"columns\":[\"ports\"],\"until\":\"==\","
		"\"rows\":[{\"ports\":[\"set\",[[\"uuid\",\"a\"],[\"uuid\",\"b\"]]]}],\"timeout\":0},"
		"{\"op\":\"mutate\",\"table\":\"Open_vSwitch\",\"where\":[],"
		"\"mutations\":[[\"bridges\",\"delete\",[\"uuid\",\"br-1\"]]]}],\"id\":7}");
	free(s);
	cir_json_free(j);
}
END_TEST

START_TEST(root_add_and_owned_ports_requests)
{
	struct cir_ovsdb_names n = { .network = "ova" };
	char *s = request(cir_ovsdb_ops_root_add, &n);

	ck_assert_str_eq(s,
		"{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
		"{\"op\":\"wait\",\"table\":\"Open_vSwitch\",\"where\":[],"
		"\"columns\":[\"_uuid\"],\"until\":\"==\",\"rows\":[],\"timeout\":0},"
		"{\"op\":\"insert\",\"table\":\"Open_vSwitch\",\"row\":{}}],\"id\":7}");
	free(s);
	s = request(cir_ovsdb_ops_owned_ports, &n);
	ck_assert_str_eq(s,
		"{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
		"{\"op\":\"select\",\"table\":\"Port\",\"where\":[[\"external_ids\","
		"\"includes\",[\"map\",[[\"circuit-network\",\"ova\"]]]]],"
		"\"columns\":[\"_uuid\",\"name\"]}],\"id\":7}");
	free(s);
}
END_TEST

START_TEST(names_are_escaped)
{
	/* A hostile name stays a JSON string: no injection into the request. */
	struct cir_ovsdb_names n = { .port = "x\",\"op\":\"delete", .bridge = "b" };
	char *s = request(cir_ovsdb_ops_find, &n);

	ck_assert_ptr_nonnull(strstr(s, "\"x\\\",\\\"op\\\":\\\"delete\""));
	free(s);
}
END_TEST

START_TEST(framing)
{
	ck_assert_int_eq(cir_ovsdb_frame("", 0), 0);
	ck_assert_int_eq(cir_ovsdb_frame("  \n", 3), 0);
	ck_assert_int_eq(cir_ovsdb_frame("{\"a\":[1,", 8), 0);
	ck_assert_int_eq(cir_ovsdb_frame("{\"a\":\"}\"}{\"b\":1}", 16), 9);
	ck_assert_int_eq(cir_ovsdb_frame(" {\"a\":\"\\\"}\"}", 12), 12);
	ck_assert_int_eq(cir_ovsdb_frame("[1]", 3), -EBADMSG);
	ck_assert_int_eq(cir_ovsdb_frame("{]}", 3), 2);   /* "{]": the parser refuses it */
	ck_assert_int_eq(cir_ovsdb_frame("}", 1), -EBADMSG);
}
END_TEST

static int check(const char *reply, size_t n_ops, struct cir_error *err)
{
	struct cir_json *j = NULL;
	int r;

	ck_assert_int_eq(cir_json_parse(reply, strlen(reply), &j, err), 0);
	r = cir_ovsdb_reply_check(cir_json_root(j), 7, n_ops, err);
	cir_json_free(j);
	return r;
}

START_TEST(reply_errors)
{
	struct cir_error err = CIR_ERROR_INIT;

	ck_assert_int_eq(check("{\"id\":7,\"error\":null,\"result\":[{},{\"count\":1}]}", 2, &err),
			 0);
	ck_assert_int_eq(check("{\"id\":8,\"error\":null,\"result\":[]}", 0, &err), -EBADMSG);
	ck_assert_int_eq(check("{\"id\":7,\"error\":\"unknown database\",\"result\":null}", 1,
			       &err), -EPROTO);
	ck_assert_str_eq(err.msg, "ovsdb: unknown database");
	ck_assert_int_eq(check("{\"id\":7,\"error\":null,\"result\":[{\"error\":\"timed out\"},"
			       "{\"error\":\"aborted\"}]}", 2, &err), -ESTALE);
	ck_assert_str_eq(err.msg, "ovsdb: operation 0: timed out");
	ck_assert_int_eq(check("{\"id\":7,\"error\":null,\"result\":[{},{},{},"
			       "{\"error\":\"constraint violation\",\"details\":\"dup name\"}]}",
			       3, &err), -EEXIST);
	ck_assert_str_eq(err.msg, "ovsdb: operation 3: constraint violation: dup name");
	ck_assert_int_eq(check("{\"id\":7,\"error\":null,\"result\":[{}]}", 2, &err), -EBADMSG);
	ck_assert_int_eq(check("{\"id\":7,\"error\":null,\"result\":{}}", 0, &err), -EBADMSG);
}
END_TEST

START_TEST(notations)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	const char *doc = "{\"result\":[{\"rows\":[{\"_uuid\":[\"uuid\",\"u1\"],"
			  "\"one\":[\"uuid\",\"p1\"],"
			  "\"many\":[\"set\",[[\"uuid\",\"p1\"],[\"uuid\",\"p2\"]]],"
			  "\"none\":[\"set\",[]],"
			  "\"ids\":[\"map\",[[\"circuit-network\",\"ova\"],[\"k\",\"v\"]]]}]},"
			  "{\"count\":1}]}";
	const struct cir_jnode *root, *row;

	ck_assert_int_eq(cir_json_parse(doc, strlen(doc), &j, &err), 0);
	root = cir_json_root(j);
	row = cir_jnode_at(cir_ovsdb_rows(cir_ovsdb_result(root, 0)), 0);
	ck_assert_ptr_nonnull(row);
	ck_assert_str_eq(cir_ovsdb_uuid(cir_jnode_get(row, "_uuid")), "u1");
	ck_assert_ptr_null(cir_ovsdb_uuid(cir_jnode_get(row, "ids")));
	ck_assert_uint_eq(cir_ovsdb_set_len(cir_jnode_get(row, "one")), 1);
	ck_assert_uint_eq(cir_ovsdb_set_len(cir_jnode_get(row, "many")), 2);
	ck_assert_uint_eq(cir_ovsdb_set_len(cir_jnode_get(row, "none")), 0);
	ck_assert(cir_ovsdb_set_has_uuid(cir_jnode_get(row, "one"), "p1"));
	ck_assert(cir_ovsdb_set_has_uuid(cir_jnode_get(row, "many"), "p2"));
	ck_assert(!cir_ovsdb_set_has_uuid(cir_jnode_get(row, "many"), "p3"));
	ck_assert(!cir_ovsdb_set_has_uuid(cir_jnode_get(row, "none"), "p1"));
	ck_assert_str_eq(cir_ovsdb_map_get(cir_jnode_get(row, "ids"), "circuit-network"), "ova");
	ck_assert_ptr_null(cir_ovsdb_map_get(cir_jnode_get(row, "ids"), "nope"));
	ck_assert_int_eq(cir_ovsdb_count(cir_ovsdb_result(root, 1)), 1);
	ck_assert_int_eq(cir_ovsdb_count(cir_ovsdb_result(root, 0)), -1);
	ck_assert_ptr_null(cir_ovsdb_result(root, 2));
	cir_json_free(j);
}
END_TEST

START_TEST(bridge_read_and_set_requests)
{
	struct cir_ovsdb_names n = { .bridge = "c-ovc", .network = "ovc", .tag = 12,
				     .mtu = 1400 };
	char *s = request(cir_ovsdb_ops_bridge_read, &n);

	ck_assert_str_eq(s,
		"{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
		"{\"op\":\"select\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"c-ovc\"]],"
		"\"columns\":[\"_uuid\",\"external_ids\"]},"
		"{\"op\":\"select\",\"table\":\"Port\",\"where\":[[\"name\",\"==\",\"c-ovc\"]],"
		"\"columns\":[\"_uuid\",\"tag\"]},"
		"{\"op\":\"select\",\"table\":\"Interface\",\"where\":[[\"name\",\"==\",\"c-ovc\"]],"
		"\"columns\":[\"_uuid\",\"mtu_request\"]}],\"id\":7}");
	free(s);
	s = request(cir_ovsdb_ops_bridge_set, &n);
	ck_assert_str_eq(s,
		"{\"method\":\"transact\",\"params\":[\"Open_vSwitch\","
		"{\"op\":\"wait\",\"table\":\"Bridge\",\"where\":[[\"name\",\"==\",\"c-ovc\"],"
		"[\"external_ids\",\"includes\",[\"map\",[[\"circuit-network\",\"ovc\"]]]]],"
		"\"columns\":[\"_uuid\"],\"until\":\"!=\",\"rows\":[],\"timeout\":0},"
		"{\"op\":\"update\",\"table\":\"Port\",\"where\":[[\"name\",\"==\",\"c-ovc\"]],"
		"\"row\":{\"tag\":12}},"
		"{\"op\":\"update\",\"table\":\"Interface\",\"where\":[[\"name\",\"==\",\"c-ovc\"]],"
		"\"row\":{\"mtu_request\":1400}}],\"id\":7}");
	free(s);
	/* 0: the column emptied (untagged, OVS's default MTU) */
	n.tag = n.mtu = 0;
	s = request(cir_ovsdb_ops_bridge_set, &n);
	ck_assert_ptr_nonnull(strstr(s, "\"row\":{\"tag\":[\"set\",[]]}"));
	ck_assert_ptr_nonnull(strstr(s, "\"row\":{\"mtu_request\":[\"set\",[]]}"));
	free(s);
}
END_TEST

static int parse_bridge(const char *reply, struct cir_json **j, struct cir_ovsdb_bridge *b,
			struct cir_error *err)
{
	ck_assert_int_eq(cir_json_parse(reply, strlen(reply), j, err), 0);
	return cir_ovsdb_bridge_parse(cir_json_root(*j), b, err);
}

START_TEST(bridge_parse)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_json *j = NULL;
	struct cir_ovsdb_bridge b;

	ck_assert_int_eq(parse_bridge("{\"result\":[{\"rows\":[]},{\"rows\":[]},{\"rows\":[]}]}",
				      &j, &b, &err), 0);
	ck_assert(!b.exists && !b.port && !b.iface && !b.owner);
	cir_json_free(j);
	ck_assert_int_eq(parse_bridge("{\"result\":["
		"{\"rows\":[{\"_uuid\":[\"uuid\",\"b\"],"
		"\"external_ids\":[\"map\",[[\"circuit-network\",\"ovc\"]]]}]},"
		"{\"rows\":[{\"_uuid\":[\"uuid\",\"p\"],\"tag\":30}]},"
		"{\"rows\":[{\"_uuid\":[\"uuid\",\"i\"],\"mtu_request\":1300}]}]}", &j, &b, &err), 0);
	ck_assert(b.exists && b.port && b.iface);
	ck_assert_str_eq(b.owner, "ovc");
	ck_assert_uint_eq(b.tag, 30);
	ck_assert_uint_eq(b.mtu, 1300);
	cir_json_free(j);
	/* made by hand: no mark, no tag, no mtu_request */
	ck_assert_int_eq(parse_bridge("{\"result\":["
		"{\"rows\":[{\"_uuid\":[\"uuid\",\"b\"],\"external_ids\":[\"map\",[]]}]},"
		"{\"rows\":[{\"_uuid\":[\"uuid\",\"p\"],\"tag\":[\"set\",[]]}]},"
		"{\"rows\":[{\"_uuid\":[\"uuid\",\"i\"],\"mtu_request\":[\"set\",[]]}]}]}",
		&j, &b, &err), 0);
	ck_assert(b.exists && b.port && b.iface && !b.owner);
	ck_assert_uint_eq(b.tag, 0);
	ck_assert_uint_eq(b.mtu, 0);
	cir_json_free(j);
	/* hostile values */
	ck_assert_int_eq(parse_bridge("{\"result\":[{\"rows\":[{}]},"
		"{\"rows\":[{\"tag\":\"10\"}]},{\"rows\":[]}]}", &j, &b, &err), -EBADMSG);
	cir_json_free(j);
	ck_assert_int_eq(parse_bridge("{\"result\":[{\"rows\":[{}]},"
		"{\"rows\":[{\"tag\":5000}]},{\"rows\":[]}]}", &j, &b, &err), -EBADMSG);
	cir_json_free(j);
	ck_assert_int_eq(parse_bridge("{\"result\":[{\"rows\":[{}]},{\"rows\":[]},"
		"{\"rows\":[{\"mtu_request\":[\"set\",[1,2]]}]}]}", &j, &b, &err), -EBADMSG);
	cir_json_free(j);
}
END_TEST

/*
 * A fake ovsdb-server: the replies sit in the socket before the client
 * sends anything (ids 1, 2, ... in order); afterwards the requests it sent
 * are read back from the other end.
 */
struct fake {
	struct cir_ovsdb c;
	int peer;
};

static void fake_open(struct fake *f, const char *const *replies)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f->c = (struct cir_ovsdb)CIR_OVSDB_INIT;
	f->c.fd = sv[0];
	f->peer = sv[1];
	for (; *replies; replies++)
		ck_assert_int_eq(write(f->peer, *replies, strlen(*replies)),
				 (ssize_t)strlen(*replies));
}

/* What the client sent, closing both ends. */
static char *fake_close(struct fake *f)
{
	static char buf[8192];
	ssize_t n;

	cir_ovsdb_close(&f->c);
	n = read(f->peer, buf, sizeof(buf) - 1);
	close(f->peer);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

#define ROWS_BR(ids, tag, mtu) \
	"{\"id\":1,\"error\":null,\"result\":[" \
	"{\"rows\":[{\"_uuid\":[\"uuid\",\"b\"],\"external_ids\":[\"map\",[" ids "]]}]}," \
	"{\"rows\":[{\"_uuid\":[\"uuid\",\"p\"],\"tag\":" tag "}]}," \
	"{\"rows\":[{\"_uuid\":[\"uuid\",\"i\"],\"mtu_request\":" mtu "}]}]}"
#define ABSENT "{\"id\":1,\"error\":null,\"result\":[{\"rows\":[]},{\"rows\":[]},{\"rows\":[]}]}"
#define MARK(net) "[\"circuit-network\",\"" net "\"]"
#define SET_OK "{\"id\":2,\"error\":null,\"result\":[{},{\"count\":1},{\"count\":1}]}"

START_TEST(bridge_claim)
{
	static const char *const absent[] = { ABSENT, NULL };
	static const char *const ours[] = { ROWS_BR(MARK("ovc"), "30", "1300"), NULL };
	static const char *const bare[] = { ROWS_BR("", "[\"set\",[]]", "[\"set\",[]]"), NULL };
	static const char *const other[] = { ROWS_BR(MARK("x\\u001b[2J"), "1", "1500"), NULL };
	struct cir_error err = CIR_ERROR_INIT;
	struct fake f;

	fake_open(&f, absent);
	ck_assert_int_eq(cir_ovs_bridge_claim(&f.c, "c-ovc", "ovc", &err), 0);
	fake_close(&f);
	fake_open(&f, ours);
	ck_assert_int_eq(cir_ovs_bridge_claim(&f.c, "c-ovc", "ovc", &err), 0);
	fake_close(&f);
	fake_open(&f, bare);
	ck_assert_int_eq(cir_ovs_bridge_claim(&f.c, "c-ovc", "ovc", &err), -EEXIST);
	ck_assert_str_eq(err.msg, "ovs bridge c-ovc already exists and Circuit did not make it "
			 "(no external_ids:circuit-network=ovc): delete it, or set that mark to "
			 "adopt it");
	/* only the read was sent: nothing changed */
	ck_assert_ptr_null(strstr(fake_close(&f), "\"update\""));
	fake_open(&f, other);
	ck_assert_int_eq(cir_ovs_bridge_claim(&f.c, "c-ovc", "ovc", &err), -EEXIST);
	ck_assert_ptr_null(strchr(err.msg, '\033'));
	ck_assert_ptr_nonnull(strstr(err.msg, "is marked for network \"x"));
	fake_close(&f);
}
END_TEST

START_TEST(bridge_converge)
{
	static const char *const drift[] = { ROWS_BR(MARK("ovc"), "30", "1300"), SET_OK, NULL };
	static const char *const same[] = { ROWS_BR(MARK("ovc"), "12", "1400"), NULL };
	static const char *const bare[] = { ROWS_BR("", "30", "1300"), NULL };
	static const char *const absent[] = { ABSENT, NULL };
	struct cir_error err = CIR_ERROR_INIT;
	struct fake f;
	const char *sent;

	fake_open(&f, drift);
	ck_assert_int_eq(cir_ovs_bridge_converge(&f.c, "c-ovc", "ovc", 12, 1400, &err), 1);
	sent = fake_close(&f);
	ck_assert_ptr_nonnull(strstr(sent, "\"row\":{\"tag\":12}"));
	ck_assert_ptr_nonnull(strstr(sent, "\"row\":{\"mtu_request\":1400}"));
	/* already as recorded, not ours, absent: one read, no update */
	fake_open(&f, same);
	ck_assert_int_eq(cir_ovs_bridge_converge(&f.c, "c-ovc", "ovc", 12, 1400, &err), 0);
	ck_assert_ptr_null(strstr(fake_close(&f), "\"update\""));
	fake_open(&f, bare);
	ck_assert_int_eq(cir_ovs_bridge_converge(&f.c, "c-ovc", "ovc", 12, 1400, &err), 0);
	ck_assert_ptr_null(strstr(fake_close(&f), "\"update\""));
	fake_open(&f, absent);
	ck_assert_int_eq(cir_ovs_bridge_converge(&f.c, "c-ovc", "ovc", 12, 1400, &err), 0);
	ck_assert_ptr_null(strstr(fake_close(&f), "\"update\""));
	/* the record untagged: the tag goes */
	fake_open(&f, drift);
	ck_assert_int_eq(cir_ovs_bridge_converge(&f.c, "c-ovc", "ovc", 0, 1300, &err), 1);
	ck_assert_ptr_nonnull(strstr(fake_close(&f), "\"row\":{\"tag\":[\"set\",[]]}"));
}
END_TEST

static Suite *ovsdb_suite(void)
{
	Suite *s = suite_create("ovsdb");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, bridge_add_request);
	tcase_add_test(tc, port_add_untagged_and_del_request);
	tcase_add_test(tc, bridge_del_waits_on_ports_as_read);
	tcase_add_test(tc, root_add_and_owned_ports_requests);
	tcase_add_test(tc, names_are_escaped);
	tcase_add_test(tc, framing);
	tcase_add_test(tc, reply_errors);
	tcase_add_test(tc, notations);
	tcase_add_test(tc, bridge_read_and_set_requests);
	tcase_add_test(tc, bridge_parse);
	tcase_add_test(tc, bridge_claim);
	tcase_add_test(tc, bridge_converge);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(ovsdb_suite)
