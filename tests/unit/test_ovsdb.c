// SPDX-License-Identifier: Apache-2.0
/*
 * test_ovsdb.c - lib/ovsdb.c without a server: the transactions circuit-ovs
 * sends (exact JSON), the stream framing, reply checking and the readers of
 * OVSDB's set, map and uuid notations (RFC 7047 section 5.1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static Suite *ovsdb_suite(void)
{
	Suite *s = suite_create("ovsdb");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, bridge_add_request);
	tcase_add_test(tc, port_add_untagged_and_del_request);
	tcase_add_test(tc, bridge_del_waits_on_ports_as_read);
	tcase_add_test(tc, names_are_escaped);
	tcase_add_test(tc, framing);
	tcase_add_test(tc, reply_errors);
	tcase_add_test(tc, notations);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(ovsdb_suite)
