// SPDX-License-Identifier: Apache-2.0
/*
 * units.c - the values users type on the command line and in configs:
 * rates, sizes, durations and percentages (lib/qos), addresses and
 * prefixes and their special or private ranges (lib/ip), ADDR:PORT
 * (lib/lb), protocols, schedulers and forwarding methods, names and
 * interface names, the CLI's numbers and pids (hook/cli.c), CNI versions
 * and commands, and log lines quoting any of them (lib/log).  The
 * input is one or two NUL-separated strings; every parser sees the first,
 * the prefix relations see both.  Checks: what parses is in range and
 * formats to text that parses back to the same value.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sys/socket.h>

#include "cli.h"
#include "cni.h"
#include "fuzz.h"
#include "ip.h"
#include "ipvs.h"
#include "lb.h"
#include "log.h"
#include "names.h"
#include "qos.h"
#include "store.h"

static void qos_values(const char *s)
{
	struct cir_error err = CIR_ERROR_INIT;
	char buf[64];
	uint64_t k, k2;
	uint32_t v, v2;
	int r;

	r = cir_qos_parse_rate(s, &k, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(k >= 1 && k <= CIR_QOS_RATE_MAX_KBIT);
		cir_qos_format_rate(k, buf, sizeof(buf));
		FUZZ_CHECK(cir_qos_parse_rate(buf, &k2, &err) == 0 && k2 == k);
	}
	cir_err_clear(&err);
	r = cir_qos_parse_size(s, &v, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(v >= 1 && v <= CIR_QOS_BURST_MAX);
		snprintf(buf, sizeof(buf), "%ub", v);
		FUZZ_CHECK(cir_qos_parse_size(buf, &v2, &err) == 0 && v2 == v);
	}
	cir_err_clear(&err);
	r = cir_qos_parse_duration(s, &v, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(v <= CIR_QOS_DELAY_MAX_US);
		cir_qos_format_duration(v, buf, sizeof(buf));
		FUZZ_CHECK(cir_qos_parse_duration(buf, &v2, &err) == 0 && v2 == v);
	}
	cir_err_clear(&err);
	r = cir_qos_parse_percent(s, &v, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(v <= CIR_QOS_PPM);
		cir_qos_format_percent(v, buf, sizeof(buf));
		FUZZ_CHECK(cir_qos_parse_percent(buf, &v2, &err) == 0 && v2 == v);
		FUZZ_CHECK(cir_qos_prob_to_ppm(cir_qos_ppm_to_prob(v)) == v);
	}
}

static void ip_values(const char *s)
{
	static const unsigned int flags[] = {
		0, CIR_CIDR_NETWORK, CIR_CIDR_HOSTS, CIR_CIDR_NETWORK | CIR_CIDR_HOSTS,
	};
	struct cir_error err = CIR_ERROR_INIT;
	char buf[CIR_CIDR_STRLEN], buf2[CIR_CIDR_STRLEN];
	struct cir_ip ip, ip2, a, b;
	struct cir_cidr c, c2;
	int r;

	r = cir_ip_parse(s, &ip, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(ip.af == AF_INET || ip.af == AF_INET6);
		cir_ip_format(&ip, buf, sizeof(buf));
		FUZZ_CHECK(cir_ip_parse(buf, &ip2, &err) == 0 && cir_ip_eq(&ip, &ip2));
		cir_ip_format(&ip2, buf2, sizeof(buf2));
		FUZZ_CHECK(strcmp(buf, buf2) == 0);
		if (cir_ip_next(&ip, &a) == 0) {
			FUZZ_CHECK(cir_ip_cmp(&a, &ip) > 0);
			FUZZ_CHECK(cir_ip_prev(&a, &b) == 0 && cir_ip_eq(&b, &ip));
		}
	}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		cir_err_clear(&err);
		r = cir_cidr_parse(s, flags[i], &c, &err);
		if (r < 0) {
			FUZZ_CHECK_ERR(r, &err);
			continue;
		}
		FUZZ_CHECK(c.prefix <= cir_ip_bits(c.ip.af));
		cir_cidr_format(&c, buf, sizeof(buf));
		FUZZ_CHECK(cir_cidr_parse(buf, flags[i], &c2, &err) == 0);
		FUZZ_CHECK(cir_ip_eq(&c.ip, &c2.ip) && c.prefix == c2.prefix);
		FUZZ_CHECK(cir_cidr_contains(&c, &c.ip));
		cir_cidr_network(&c, &a);
		cir_cidr_broadcast(&c, &b);
		FUZZ_CHECK(cir_cidr_contains(&c, &a) && cir_cidr_contains(&c, &b));
		FUZZ_CHECK(cir_ip_cmp(&a, &c.ip) <= 0 && cir_ip_cmp(&c.ip, &b) <= 0);
		if (cir_cidr_first_host(&c, &a) == 0) {
			FUZZ_CHECK(cir_cidr_last_host(&c, &b) == 0);
			FUZZ_CHECK(cir_ip_cmp(&a, &b) <= 0);
			FUZZ_CHECK(cir_cidr_contains(&c, &a) && cir_cidr_contains(&c, &b));
		}
		if (flags[i] & CIR_CIDR_HOSTS)
			FUZZ_CHECK(cir_cidr_first_host(&c, &a) == 0);
		/* No private-use range is special (loopback, multicast ...). */
		if (cir_cidr_private(&c))
			FUZZ_CHECK(!cir_cidr_special(&c));
	}
}

static void lb_values(const char *s)
{
	struct cir_error err = CIR_ERROR_INIT;
	char buf[CIR_LB_ADDR_STRLEN];
	struct cir_lb_addr a, a2;
	enum cir_ipvs_fwd m;
	uint16_t proto;
	int r;

	r = cir_lb_addr_parse("target", s, &a, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(a.port >= 1);
		cir_lb_addr_format(&a, buf, sizeof(buf));
		FUZZ_CHECK(cir_lb_addr_parse("target", buf, &a2, &err) == 0);
		FUZZ_CHECK(cir_ip_eq(&a.ip, &a2.ip) && a.port == a2.port);
	}
	cir_err_clear(&err);
	r = cir_lb_proto_parse(s, &proto, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(strcmp(cir_lb_proto_name(proto), s) == 0);
	cir_err_clear(&err);
	r = cir_lb_sched_check(s, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	cir_err_clear(&err);
	r = cir_ipvs_fwd_parse(s, &m, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(cir_ipvs_fwd_parse(cir_lb_method_name(m), &m, &err) == 0);
}

static void name_values(const char *s)
{
	struct cir_error err = CIR_ERROR_INIT;
	char ifb[CIR_QOS_IFNAMSIZ], br[16], veth[16], shown[80];
	int r;

	FUZZ_CHECK(cir_name_valid(s) == (cir_name_check("name", s, &err) == 0));
	if (cir_name_valid(s))
		FUZZ_CHECK(cir_store_name_valid(s));
	cir_err_clear(&err);
	r = cir_cni_check_containerid(s, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	cir_err_clear(&err);
	r = cir_cni_check_network_name(s, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(cir_name_valid(s));
		cir_name_bridge(s, br);
		FUZZ_CHECK(strlen(br) <= 15);
	}
	cir_err_clear(&err);
	r = cir_cni_check_ifname(s, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		FUZZ_CHECK(strlen(s) < CIR_IFNAMSIZ);
		FUZZ_CHECK(cir_name_ifb(s, ifb, &err) == 0);
		FUZZ_CHECK(strlen(ifb) < CIR_QOS_IFNAMSIZ && strncmp(ifb, "cq", 2) == 0);
		cir_name_host_veth("c1", s, veth);
		FUZZ_CHECK(strlen(veth) == 15);
	}
	for (size_t len = 0; len < sizeof(shown); len += 13) {
		cir_err_shown(s, shown, len);
		FUZZ_CHECK(len == 0 || strlen(shown) < len);
	}
}

/* A log line quoting s stays one line of printable text. */
static void log_line(const char *s)
{
	static const size_t lens[] = { 1, 12, 64, 4096 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *buf = malloc(lens[i]);

		FUZZ_CHECK(buf);
		cir_log_format(buf, lens[i], CIR_LOG_ERROR, 3, s);
		FUZZ_CHECK(strlen(buf) < lens[i]);
		for (const char *p = buf; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		free(buf);
	}
}

static void cli_values(const char *s)
{
	static const unsigned long long max[] = { 0, 65535, UINT32_MAX, ULLONG_MAX };
	unsigned long long v;

	bool digits = *s != '\0';

	for (const char *p = s; *p; p++)
		digits = digits && isdigit((unsigned char)*p);
	FUZZ_CHECK(cli_arg_is_pid(s) == digits);
	for (size_t i = 0; i < sizeof(max) / sizeof(max[0]); i++) {
		if (cli_parse_uint(s, 1, max[i], &v) < 0)
			continue;
		FUZZ_CHECK(v >= 1 && v <= max[i]);
		FUZZ_CHECK(digits);     /* an unsigned decimal: digits only */
	}
	if (cir_cni_version_supported(s))
		FUZZ_CHECK(cir_cni_version_cmp(s, s) == 0);
	(void)cir_cni_version_cmp(s, "1.0.0");
	if (cir_cni_cmd_parse(s) != CIR_CNI_CMD_NONE)
		FUZZ_CHECK(strcmp(cir_cni_cmd_name(cir_cni_cmd_parse(s)), s) == 0);
}

/* Two prefixes: overlap is symmetric and agrees with containment. */
static void prefix_pair(const char *x, const char *y)
{
	struct cir_cidr a, b;
	struct cir_ip na, nb;

	if (cir_cidr_parse(x, 0, &a, NULL) < 0 || cir_cidr_parse(y, 0, &b, NULL) < 0)
		return;
	FUZZ_CHECK(cir_cidr_overlap(&a, &b) == cir_cidr_overlap(&b, &a));
	cir_cidr_network(&a, &na);
	cir_cidr_network(&b, &nb);
	if (a.ip.af == b.ip.af && a.prefix <= b.prefix && cir_cidr_contains(&a, &nb))
		FUZZ_CHECK(cir_cidr_overlap(&a, &b));
	if (!cir_cidr_overlap(&a, &b))
		FUZZ_CHECK(!cir_cidr_contains(&a, &nb) && !cir_cidr_contains(&b, &na));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *f[2];
	size_t n = fuzz_split(data, size, &copy, f, 2);

	qos_values(f[0]);
	ip_values(f[0]);
	lb_values(f[0]);
	name_values(f[0]);
	cli_values(f[0]);
	log_line(f[0]);
	if (n == 2)
		prefix_pair(f[0], f[1]);
	free(copy);
	return 0;
}
