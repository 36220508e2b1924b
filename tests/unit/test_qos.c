// SPDX-License-Identifier: Apache-2.0
/* test_qos.c - qos parsers, validation, formatting, ifb names, tc maths. */
#include <errno.h>
#include <string.h>

#include "json.h"
#include "names.h"
#include "qos.h"
#include "tc.h"
#include "unit.h"

static uint64_t rate_ok(const char *s)
{
	struct cir_error e = CIR_ERROR_INIT;
	uint64_t v = 0;

	ck_assert_msg(cir_qos_parse_rate(s, &v, &e) == 0, "rate '%s': %s", s, e.msg);
	return v;
}

static int rate_bad(const char *s, struct cir_error *e)
{
	uint64_t v = 4242;
	int r = cir_qos_parse_rate(s, &v, e);

	ck_assert_msg(r < 0, "rate '%s' accepted", s);
	ck_assert_uint_eq(v, 4242); /* untouched on failure */
	ck_assert_msg(e->msg[0] && e->msg[strlen(e->msg) - 1] != '.', "message '%s'", e->msg);
	return r;
}

START_TEST(rates)
{
	struct cir_error e = CIR_ERROR_INIT;

	ck_assert_uint_eq(rate_ok("5000"), 5000);
	ck_assert_uint_eq(rate_ok("5mbit"), 5000);
	ck_assert_uint_eq(rate_ok("5Mbit"), 5000);
	ck_assert_uint_eq(rate_ok("500kbit"), 500);
	ck_assert_uint_eq(rate_ok("1gbit"), 1000000);
	ck_assert_uint_eq(rate_ok("1.5mbit"), 1500);
	ck_assert_uint_eq(rate_ok("100kbps"), 800);   /* bytes, as tc */
	ck_assert_uint_eq(rate_ok("1mbps"), 8000);
	ck_assert_uint_eq(rate_ok("1500bit"), 2);     /* rounds to kbit */
	ck_assert_uint_eq(rate_ok("100gbit"), CIR_QOS_RATE_MAX_KBIT);
	ck_assert_uint_eq(rate_ok(".5mbit"), 500);

	ck_assert_int_eq(rate_bad("0", &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "greater than zero"));
	ck_assert_int_eq(rate_bad("0mbit", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("-5mbit", &e), -EINVAL);
	ck_assert_str_eq(e.msg, "invalid rate '-5mbit': must not be negative");
	ck_assert_int_eq(rate_bad("5xbit", &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "unknown unit 'xbit'"));
	ck_assert_int_eq(rate_bad("", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("mbit", &e), -EINVAL);
	ck_assert_int_eq(rate_bad(" 5mbit", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("5 mbit", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("1e3", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("0x10", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("inf", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("nan", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("1.2.3mbit", &e), -EINVAL);
	ck_assert_int_eq(rate_bad("101gbit", &e), -ERANGE);
	ck_assert_int_eq(rate_bad("99999999999999999999999999999999", &e), -ERANGE);
	ck_assert_int_eq(rate_bad("400bit", &e), -ERANGE);
	ck_assert_int_eq(rate_bad(NULL, &e), -EINVAL);
}
END_TEST

START_TEST(durations_sizes_percent)
{
	struct cir_error e = CIR_ERROR_INIT;
	uint32_t v = 0;

	ck_assert_int_eq(cir_qos_parse_duration("50ms", &v, &e), 0);
	ck_assert_uint_eq(v, 50000);
	ck_assert_int_eq(cir_qos_parse_duration("1.5s", &v, &e), 0);
	ck_assert_uint_eq(v, 1500000);
	ck_assert_int_eq(cir_qos_parse_duration("200us", &v, &e), 0);
	ck_assert_uint_eq(v, 200);
	ck_assert_int_eq(cir_qos_parse_duration("2MSEC", &v, &e), 0);
	ck_assert_uint_eq(v, 2000);
	ck_assert_int_eq(cir_qos_parse_duration("60s", &v, &e), 0);
	ck_assert_int_eq(cir_qos_parse_duration("0", &v, &e), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cir_qos_parse_duration("0ms", &v, &e), 0);
	ck_assert_uint_eq(v, 0);
	v = 7;
	ck_assert_int_eq(cir_qos_parse_duration("50", &v, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "invalid duration '50': missing unit (us, ms, s)");
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(cir_qos_parse_duration("-1ms", &v, &e), -EINVAL);
	ck_assert_int_eq(cir_qos_parse_duration("5h", &v, &e), -EINVAL);
	ck_assert_int_eq(cir_qos_parse_duration("61s", &v, &e), -ERANGE);
	ck_assert_int_eq(cir_qos_parse_duration("0.1us", &v, &e), -ERANGE);
	ck_assert_int_eq(cir_qos_parse_duration("ms", &v, &e), -EINVAL);

	ck_assert_int_eq(cir_qos_parse_size("1500", &v, &e), 0);
	ck_assert_uint_eq(v, 1500);
	ck_assert_int_eq(cir_qos_parse_size("32k", &v, &e), 0);
	ck_assert_uint_eq(v, 32768);
	ck_assert_int_eq(cir_qos_parse_size("1mb", &v, &e), 0);
	ck_assert_uint_eq(v, 1048576);
	ck_assert_int_eq(cir_qos_parse_size("0", &v, &e), -EINVAL);
	ck_assert_int_eq(cir_qos_parse_size("2g", &v, &e), -ERANGE);
	ck_assert_int_eq(cir_qos_parse_size("5kbit", &v, &e), -EINVAL);

	ck_assert_int_eq(cir_qos_parse_percent("10%", &v, &e), 0);
	ck_assert_uint_eq(v, 100000);
	ck_assert_int_eq(cir_qos_parse_percent("10", &v, &e), 0);
	ck_assert_uint_eq(v, 100000);
	ck_assert_int_eq(cir_qos_parse_percent("0.5%", &v, &e), 0);
	ck_assert_uint_eq(v, 5000);
	ck_assert_int_eq(cir_qos_parse_percent("100%", &v, &e), 0);
	ck_assert_uint_eq(v, CIR_QOS_PPM);
	ck_assert_int_eq(cir_qos_parse_percent("0", &v, &e), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cir_qos_parse_percent("100.1", &v, &e), -ERANGE);
	ck_assert_int_eq(cir_qos_parse_percent("-1%", &v, &e), -EINVAL);
	ck_assert_int_eq(cir_qos_parse_percent("10%%", &v, &e), -EINVAL);
	ck_assert_int_eq(cir_qos_parse_percent("ten", &v, &e), -EINVAL);
	ck_assert_int_eq(cir_qos_parse_percent("0.00001", &v, &e), -ERANGE);
}
END_TEST

START_TEST(validate)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_qos q = { 0 };

	ck_assert(cir_qos_is_empty(&q));
	ck_assert_int_eq(cir_qos_validate(&q, &e), 0);
	q.rate_kbit = 5000;
	q.ceil_kbit = 6000;
	ck_assert_int_eq(cir_qos_validate(&q, &e), 0);
	ck_assert(!cir_qos_has_netem(&q));
	q.ceil_kbit = 4000;
	ck_assert_int_eq(cir_qos_validate(&q, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "ceil 4000kbit is below rate 5000kbit");
	q = (struct cir_qos){ .ceil_kbit = 10 };
	ck_assert_int_eq(cir_qos_validate(&q, &e), -EINVAL);
	q = (struct cir_qos){ .jitter_us = 10 };
	ck_assert_int_eq(cir_qos_validate(&q, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "jitter needs a delay");
	q = (struct cir_qos){ .loss_corr_ppm = 10 };
	ck_assert_int_eq(cir_qos_validate(&q, &e), -EINVAL);
	q = (struct cir_qos){ .loss_ppm = CIR_QOS_PPM + 1 };
	ck_assert_int_eq(cir_qos_validate(&q, &e), -ERANGE);
	q = (struct cir_qos){ .delay_us = 50000, .jitter_us = 5000, .loss_ppm = 1 };
	ck_assert_int_eq(cir_qos_validate(&q, &e), 0);
	ck_assert(cir_qos_has_netem(&q));
	q = (struct cir_qos){ .burst_bytes = 1000 };
	ck_assert_int_eq(cir_qos_validate(&q, &e), -EINVAL);
	/* 1 GiB at 1 kbit/s would take ~8.6e6 s */
	q = (struct cir_qos){ .rate_kbit = 1, .burst_bytes = 1U << 30 };
	ck_assert_int_eq(cir_qos_validate(&q, &e), -ERANGE);
	q = (struct cir_qos){ .rate_kbit = CIR_QOS_RATE_MAX_KBIT + 1 };
	ck_assert_int_eq(cir_qos_validate(&q, &e), -ERANGE);
}
END_TEST

START_TEST(format_round_trip)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_qos q = { .rate_kbit = 5000, .ceil_kbit = 1000000, .burst_bytes = 15000,
			     .delay_us = 50000, .jitter_us = 1500, .loss_ppm = 5000,
			     .loss_corr_ppm = 250000 };
	struct cir_qos z = { 0 };
	char buf[256];
	uint64_t r64;
	uint32_t v;

	cir_qos_format(&q, buf, sizeof(buf));
	ck_assert_str_eq(buf, "rate 5mbit ceil 1gbit burst 15000b delay 50ms jitter 1500us "
			      "loss 0.5% loss-corr 25%");
	cir_qos_format(&z, buf, sizeof(buf));
	ck_assert_str_eq(buf, "none");
	z.rate_kbit = 1234;
	z.delay_us = 2000000;
	z.loss_ppm = 1;
	cir_qos_format(&z, buf, sizeof(buf));
	ck_assert_str_eq(buf, "rate 1234kbit delay 2s loss 0.0001%");
	ck_assert_int_eq(cir_qos_parse_rate("1234kbit", &r64, &e), 0);
	ck_assert_int_eq(cir_qos_parse_percent("0.0001%", &v, &e), 0);
	ck_assert_uint_eq(v, 1);
	/* truncation reports the full length like snprintf */
	ck_assert_int_gt(cir_qos_format(&q, buf, 8), 8);
	ck_assert_str_eq(buf, "rate 5m");
}
END_TEST

START_TEST(prob_scale)
{
	ck_assert_uint_eq(cir_qos_ppm_to_prob(0), 0);
	ck_assert_uint_eq(cir_qos_ppm_to_prob(CIR_QOS_PPM), UINT32_MAX);
	ck_assert_uint_eq(cir_qos_ppm_to_prob(CIR_QOS_PPM / 2), UINT32_MAX / 2 + 1);
	for (uint32_t p = 0; p <= CIR_QOS_PPM; p += 997)
		ck_assert_uint_eq(cir_qos_prob_to_ppm(cir_qos_ppm_to_prob(p)), p);
	ck_assert_uint_eq(cir_qos_prob_to_ppm(cir_qos_ppm_to_prob(CIR_QOS_PPM)), CIR_QOS_PPM);
	ck_assert_uint_eq(cir_qos_prob_to_ppm(cir_qos_ppm_to_prob(1)), 1);
}
END_TEST

START_TEST(matches)
{
	struct cir_qos want = { .rate_kbit = 10000, .delay_us = 50000 };
	struct cir_qos have = { .rate_kbit = 10000, .burst_bytes = 2750, .delay_us = 50000 };

	ck_assert(cir_qos_matches(&want, &have)); /* burst unset in want: ignored */
	have.delay_us = 50300;
	ck_assert(cir_qos_matches(&want, &have));
	have.delay_us = 51000;
	ck_assert(!cir_qos_matches(&want, &have));
	have.delay_us = 50000;
	have.ceil_kbit = 20000;
	ck_assert(!cir_qos_matches(&want, &have));
	want.ceil_kbit = 20000;
	ck_assert(cir_qos_matches(&want, &have));
	want.burst_bytes = 4000;
	ck_assert(!cir_qos_matches(&want, &have));
	have.loss_ppm = 1;
	want.burst_bytes = 0;
	ck_assert(cir_qos_matches(&want, &have));
	have.loss_ppm = 2;
	ck_assert(!cir_qos_matches(&want, &have));
}
END_TEST

START_TEST(ifb_names)
{
	struct cir_error e = CIR_ERROR_INIT;
	char a[CIR_QOS_IFNAMSIZ], b[CIR_QOS_IFNAMSIZ];

	ck_assert_int_eq(cir_name_ifb("eth0", a, &e), 0);
	ck_assert_str_eq(a, "cq-eth0");
	ck_assert_int_eq(cir_name_ifb("abcdefghijkl", a, &e), 0); /* 12: fits */
	ck_assert_str_eq(a, "cq-abcdefghijkl");
	ck_assert_int_eq(cir_name_ifb("cv0123456789abc", a, &e), 0);
	ck_assert_uint_eq(strlen(a), 15);
	ck_assert_int_eq(strncmp(a, "cq_cv0123", 9), 0);
	ck_assert_int_eq(cir_name_ifb("cv0123456789abc", b, &e), 0);
	ck_assert_str_eq(a, b); /* deterministic */
	ck_assert_int_eq(cir_name_ifb("cv0123456789abd", b, &e), 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(cir_name_ifb("", a, &e), -EINVAL);
	ck_assert_int_eq(cir_name_ifb("0123456789abcdef", a, &e), -EINVAL);
}
END_TEST

START_TEST(tc_maths)
{
	/* 10 Mbit/s = 1.25 MB/s: 1 ms = 1250 bytes + MTU */
	ck_assert_uint_eq(cir_tc_burst_default(1250000, 1500), 2750);
	ck_assert_uint_eq(cir_tc_burst_default(1250000, 0), 2750);
	/* 1 kbit/s with a 64k MTU: capped at 60 s of traffic */
	ck_assert_uint_eq(cir_tc_burst_default(125, 65536), 125 * 60);
	/* 1 Tbit/s: 125 MB, still an int */
	ck_assert_uint_eq(cir_tc_burst_default(125000000000ULL, 1500), 125001500);
	ck_assert_uint_eq(cir_tc_htb_quantum(125000, 1500), 12500);
	ck_assert_uint_eq(cir_tc_htb_quantum(1000, 1500), 1500);
	ck_assert_uint_eq(cir_tc_htb_quantum(125000000000ULL, 1500), 200000);
	ck_assert_uint_eq(CIR_TC_HANDLE(1, 0x10), 0x00010010);
	ck_assert_uint_eq(CIR_TC_INGRESS_HANDLE, 0xffff0000);
}
END_TEST

/* Parse JSON text's settings over *q. */
static int conf_parse(const char *text, struct cir_qos *q, struct cir_error *e)
{
	struct cir_json *j = NULL;
	int r;

	ck_assert_int_eq(cir_json_parse(text, strlen(text), &j, e), 0);
	r = cir_qos_conf_parse(cir_json_root(j), q, e);
	cir_json_free(j);
	return r;
}

START_TEST(conf_json)
{
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_qos q = { 0 }, back = { 0 };
	struct cir_jgen *g = NULL;
	const char *buf;
	size_t len;

	ck_assert_int_eq(conf_parse("{\"rate\":5000,\"ceiling\":\"6mbit\",\"burst\":\"32k\","
				    "\"delay\":\"50ms\",\"jitter\":\"1.5ms\",\"loss\":0.5,"
				    "\"lossCorrelation\":\"25%\",\"type\":\"x\"}", &q, &e), 0);
	ck_assert_uint_eq(q.rate_kbit, 5000);
	ck_assert_uint_eq(q.ceil_kbit, 6000);
	ck_assert_uint_eq(q.burst_bytes, 32768);
	ck_assert_uint_eq(q.delay_us, 50000);
	ck_assert_uint_eq(q.jitter_us, 1500);
	ck_assert_uint_eq(q.loss_ppm, 5000);
	ck_assert_uint_eq(q.loss_corr_ppm, 250000);

	/* emit -> parse is the identity */
	ck_assert_int_eq(cir_jgen_new(&g, false, &e), 0);
	cir_jgen_map_open(g);
	cir_qos_conf_emit(g, &q);
	cir_jgen_map_close(g);
	ck_assert_int_eq(cir_jgen_finish(g, &buf, &len, &e), 0);
	ck_assert_str_eq(buf, "{\"rate\":5000,\"ceiling\":6000,\"burst\":32768,\"delay\":\"50ms\","
			      "\"jitter\":\"1500us\",\"loss\":\"0.5%\",\"lossCorrelation\":\"25%\"}");
	ck_assert_int_eq(conf_parse(buf, &back, &e), 0);
	ck_assert_mem_eq(&q, &back, sizeof(q));
	cir_jgen_free(g);

	/* absent keys leave fields alone (merge); "0" and null clear/skip */
	ck_assert_int_eq(conf_parse("{\"delay\":\"0\",\"rate\":null,\"loss\":0}", &q, &e), 0);
	ck_assert_uint_eq(q.rate_kbit, 5000);
	ck_assert_uint_eq(q.delay_us, 0);
	ck_assert_uint_eq(q.loss_ppm, 0);
	ck_assert_uint_eq(q.ceil_kbit, 6000);

	/* bad values: error names the key, *q untouched */
	back = q;
	ck_assert_int_lt(conf_parse("{\"rate\":0}", &q, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "rate"));
	ck_assert_int_lt(conf_parse("{\"rate\":-1}", &q, &e), 0);
	ck_assert_int_lt(conf_parse("{\"rate\":\"fast\"}", &q, &e), 0);
	ck_assert_int_lt(conf_parse("{\"burst\":0}", &q, &e), 0);
	ck_assert_int_lt(conf_parse("{\"delay\":50}", &q, &e), 0);
	ck_assert_str_eq(e.msg, "delay: expected a string");
	ck_assert_int_lt(conf_parse("{\"delay\":\"50\"}", &q, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "delay: invalid duration '50'"));
	ck_assert_int_lt(conf_parse("{\"loss\":101}", &q, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "loss: invalid percentage"));
	ck_assert_int_lt(conf_parse("{\"loss\":\"-1\"}", &q, &e), 0);
	ck_assert_int_lt(conf_parse("{\"rate\":1000, \"delay\":\"x\"}", &q, &e), 0);
	ck_assert_mem_eq(&q, &back, sizeof(q));
	ck_assert_int_lt(conf_parse("[1]", &q, &e), 0);
}
END_TEST

START_TEST(format_single)
{
	char b[32];

	cir_qos_format_rate(5000, b, sizeof(b));
	ck_assert_str_eq(b, "5mbit");
	cir_qos_format_rate(1500, b, sizeof(b));
	ck_assert_str_eq(b, "1500kbit");
	cir_qos_format_duration(1500000, b, sizeof(b));
	ck_assert_str_eq(b, "1500ms");
	cir_qos_format_duration(2000000, b, sizeof(b));
	ck_assert_str_eq(b, "2s");
	cir_qos_format_percent(100000, b, sizeof(b));
	ck_assert_str_eq(b, "10%");
	cir_qos_format_percent(1, b, sizeof(b));
	ck_assert_str_eq(b, "0.0001%");
}
END_TEST

static Suite *qos_suite(void)
{
	Suite *s = suite_create("qos");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, rates);
	tcase_add_test(tc, durations_sizes_percent);
	tcase_add_test(tc, validate);
	tcase_add_test(tc, format_round_trip);
	tcase_add_test(tc, prob_scale);
	tcase_add_test(tc, matches);
	tcase_add_test(tc, ifb_names);
	tcase_add_test(tc, tc_maths);
	tcase_add_test(tc, conf_json);
	tcase_add_test(tc, format_single);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(qos_suite)
