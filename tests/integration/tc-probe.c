// SPDX-License-Identifier: Apache-2.0
/*
 * tc-probe.c - test-only driver for lib/qos.c and lib/tc.c, compiled by
 * t-tc-*.sh against libcircuit.a.  Acts in the network namespace it runs in
 * (the tests start it with "ip netns exec").  One verb per run; prints
 * results on stdout, "error: <msg> (<ERRNO>)" on stderr and exits with the
 * errno on failure.
 *
 *   tc-probe apply   DEV [ingress IFB] [rate R] [ceil R] [burst S] [delay D]
 *                        [jitter D] [loss P] [loss-corr P]
 *   tc-probe get     DEV [ingress IFB]
 *   tc-probe clear   DEV [ingress IFB]
 *   tc-probe ifb-name DEV
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "qos.h"

static int fail(int r, const struct cir_error *err)
{
	fprintf(stderr, "error: %s (%s)\n", err->msg, strerrorname_np(-r));
	return -r & 0x7f;
}

static int usage(void)
{
	fprintf(stderr, "usage: tc-probe apply|get|clear|ifb-name DEV [ingress IFB] [key value]...\n");
	return 2;
}

static int parse_kv(const char *k, const char *v, struct cir_qos *q, struct cir_error *err)
{
	if (strcmp(k, "rate") == 0)
		return cir_qos_parse_rate(v, &q->rate_kbit, err);
	if (strcmp(k, "ceil") == 0)
		return cir_qos_parse_rate(v, &q->ceil_kbit, err);
	if (strcmp(k, "burst") == 0)
		return cir_qos_parse_size(v, &q->burst_bytes, err);
	if (strcmp(k, "delay") == 0)
		return cir_qos_parse_duration(v, &q->delay_us, err);
	if (strcmp(k, "jitter") == 0)
		return cir_qos_parse_duration(v, &q->jitter_us, err);
	if (strcmp(k, "loss") == 0)
		return cir_qos_parse_percent(v, &q->loss_ppm, err);
	if (strcmp(k, "loss-corr") == 0)
		return cir_qos_parse_percent(v, &q->loss_corr_ppm, err);
	return cir_err(err, EINVAL, "unknown key '%s'", k);
}

int main(int argc, char **argv)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_qos q = { 0 };
	const char *verb, *dev, *ifb = NULL;
	char buf[256];
	int ifindex, i, r;

	if (argc < 3)
		return usage();
	verb = argv[1];
	dev = argv[2];
	if (strcmp(verb, "ifb-name") == 0) {
		char name[CIR_QOS_IFNAMSIZ];

		r = cir_name_ifb(dev, name, &err);
		if (r < 0)
			return fail(r, &err);
		printf("%s\n", name);
		return 0;
	}
	ifindex = (int)if_nametoindex(dev);
	if (ifindex == 0 && strcmp(verb, "clear") != 0) {
		fprintf(stderr, "error: %s: no such device\n", dev);
		return ENODEV;
	}
	for (i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "ingress") == 0) {
			ifb = argv[i + 1];
			continue;
		}
		r = parse_kv(argv[i], argv[i + 1], &q, &err);
		if (r < 0)
			return fail(r, &err);
	}
	if (i != argc)
		return usage();

	if (strcmp(verb, "apply") == 0) {
		r = ifb ? cir_qos_apply_ingress(ifindex, ifb, &q, &err) : cir_qos_apply(ifindex, &q, &err);
		if (r < 0)
			return fail(r, &err);
		cir_qos_format(&q, buf, sizeof(buf));
		printf("applied %s\n", buf);
	} else if (strcmp(verb, "get") == 0) {
		r = ifb ? cir_qos_get_ingress(ifindex, ifb, &q, &err) : cir_qos_get(ifindex, &q, &err);
		if (r < 0)
			return fail(r, &err);
		cir_qos_format(&q, buf, sizeof(buf));
		printf("%s\n", buf);
	} else if (strcmp(verb, "clear") == 0) {
		r = ifb ? cir_qos_clear_ingress(ifindex, ifb, &err) : cir_qos_clear(ifindex, &err);
		if (r < 0)
			return fail(r, &err);
		printf("cleared\n");
	} else {
		return usage();
	}
	return 0;
}
