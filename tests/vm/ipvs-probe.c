// SPDX-License-Identifier: Apache-2.0
/*
 * ipvs-probe.c - test-only driver for lib/ipvs (built by tests/vm/run.sh,
 * used inside the test VM).  Each verb makes one library call in the
 * current network namespace; "list" prints what the library dumps in the
 * shape of `ipvsadm -Ln` so a test can compare the two.
 *
 *   ipvs-probe add-service  tcp|udp VIP:PORT SCHED [persistent SECS]
 *   ipvs-probe edit-service tcp|udp VIP:PORT SCHED [persistent SECS]
 *   ipvs-probe del-service  tcp|udp VIP:PORT
 *   ipvs-probe get-service  tcp|udp VIP:PORT
 *   ipvs-probe add-dest     tcp|udp VIP:PORT RIP:PORT WEIGHT [masq|route|tunnel]
 *   ipvs-probe edit-dest    tcp|udp VIP:PORT RIP:PORT WEIGHT [masq|route|tunnel]
 *   ipvs-probe del-dest     tcp|udp VIP:PORT RIP:PORT
 *   ipvs-probe list | stats | flush
 *
 * Addresses: 10.0.0.1:80 or [fd00::1]:80.  Exit status: 0 ok, 3 EEXIST,
 * 4 ENOENT, 5 EPROTONOSUPPORT, 2 usage, 1 anything else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "ipvs.h"

static int usage(void)
{
	fprintf(stderr, "usage: ipvs-probe VERB ... (see tests/vm/ipvs-probe.c)\n");
	return 2;
}

static int exit_code(int r)
{
	switch (-r) {
	case 0:
		return 0;
	case EEXIST:
		return 3;
	case ENOENT:
		return 4;
	case EPROTONOSUPPORT:
		return 5;
	default:
		return 1;
	}
}

/* "1.2.3.4:80" or "[fd00::1]:80" */
static int parse_hostport(const char *s, uint16_t *af, union cir_ipvs_addr *a, uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	size_t len;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		len = (size_t)(end - s - 1);
		colon = end + 1;
		s++;
		*af = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		len = (size_t)(colon - s);
		*af = AF_INET;
	}
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = 0;
	memset(a, 0, sizeof(*a));
	if (inet_pton(*af, host, a) != 1)
		return -EINVAL;
	*port = (uint16_t)atoi(colon + 1);
	return 0;
}

static int parse_service(char **argv, struct cir_ipvs_service *svc)
{
	memset(svc, 0, sizeof(*svc));
	if (!strcmp(argv[0], "tcp"))
		svc->protocol = IPPROTO_TCP;
	else if (!strcmp(argv[0], "udp"))
		svc->protocol = IPPROTO_UDP;
	else
		return -EINVAL;
	return parse_hostport(argv[1], &svc->af, &svc->addr, &svc->port);
}

static const char *fwd_ipvsadm(enum cir_ipvs_fwd f)
{
	switch ((int)f) {
	case CIR_IPVS_FWD_MASQ:
		return "Masq";
	case CIR_IPVS_FWD_ROUTE:
		return "Route";
	case CIR_IPVS_FWD_TUNNEL:
		return "Tunnel";
	case IP_VS_CONN_F_LOCALNODE:
		return "Local";
	default:
		return "?";
	}
}

/* One service and its dests, as `ipvsadm -Ln` prints them (whitespace aside). */
static int print_service(struct cir_ipvs *h, const struct cir_ipvs_service *s, bool stats,
			 struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_dest *d = NULL;
	char buf[CIR_IPVS_FMT_MAX];
	size_t n = 0;
	int r;

	cir_ipvs_service_format(s, buf, sizeof(buf));
	/* "tcp 1.2.3.4:80" -> "TCP 1.2.3.4:80" */
	for (char *p = buf; *p && *p != ' '; p++)
		*p = (char)(*p - 'a' + 'A');
	printf("%s %s", buf, s->sched);
	if (s->flags & IP_VS_SVC_F_PERSISTENT)
		printf(" persistent %u", s->timeout);
	printf("\n");
	r = cir_ipvs_dest_dump(h, s, &d, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		cir_ipvs_dest_format(&d[i], s->af, buf, sizeof(buf));
		if (stats)
			printf("  -> %s conns=%llu\n", buf, (unsigned long long)d[i].stats.conns);
		else
			printf("  -> %s %s %u %u %u\n", buf, fwd_ipvsadm(d[i].fwd), d[i].weight,
			       d[i].active_conns, d[i].inact_conns);
	}
	return 0;
}

static int list(struct cir_ipvs *h, bool stats, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_service *s = NULL;
	size_t n = 0;
	int r;

	r = cir_ipvs_service_dump(h, &s, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = print_service(h, &s[i], stats, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int run(int argc, char **argv, struct cir_error *err)
{
	_cleanup_ipvs_ struct cir_ipvs *h = NULL;
	struct cir_ipvs_service svc;
	struct cir_ipvs_dest dest;
	const char *verb = argv[1];
	int r;

	r = cir_ipvs_open(&h, err);
	if (r < 0)
		return r;
	if (!strcmp(verb, "list"))
		return list(h, false, err);
	if (!strcmp(verb, "stats"))
		return list(h, true, err);
	if (!strcmp(verb, "flush"))
		return cir_ipvs_flush(h, err);
	if (argc < 4 || parse_service(argv + 2, &svc) < 0)
		return cir_err(err, EINVAL, "usage: bad service");

	if (!strcmp(verb, "add-service") || !strcmp(verb, "edit-service")) {
		if (argc < 5)
			return cir_err(err, EINVAL, "usage: no scheduler");
		snprintf(svc.sched, sizeof(svc.sched), "%s", argv[4]);
		if (argc >= 7 && !strcmp(argv[5], "persistent")) {
			svc.flags |= IP_VS_SVC_F_PERSISTENT;
			svc.timeout = (uint32_t)atoi(argv[6]);
		}
		return verb[0] == 'a' ? cir_ipvs_service_add(h, &svc, err)
				      : cir_ipvs_service_edit(h, &svc, err);
	}
	if (!strcmp(verb, "del-service"))
		return cir_ipvs_service_del(h, &svc, err);
	if (!strcmp(verb, "get-service")) {
		struct cir_ipvs_service got;

		r = cir_ipvs_service_get(h, &svc, &got, err);
		if (r < 0)
			return r;
		return print_service(h, &got, false, err);
	}

	if (argc < 5)
		return cir_err(err, EINVAL, "usage: no dest");
	memset(&dest, 0, sizeof(dest));
	if (parse_hostport(argv[4], &dest.af, &dest.addr, &dest.port) < 0)
		return cir_err(err, EINVAL, "usage: bad dest '%s'", argv[4]);
	if (!strcmp(verb, "del-dest"))
		return cir_ipvs_dest_del(h, &svc, &dest, err);
	if (argc < 6)
		return cir_err(err, EINVAL, "usage: no weight");
	dest.weight = (uint32_t)atoi(argv[5]);
	if (argc >= 7) {
		r = cir_ipvs_fwd_parse(argv[6], &dest.fwd, err);
		if (r < 0)
			return r;
	}
	if (!strcmp(verb, "add-dest"))
		return cir_ipvs_dest_add(h, &svc, &dest, err);
	if (!strcmp(verb, "edit-dest"))
		return cir_ipvs_dest_edit(h, &svc, &dest, err);
	return cir_err(err, EINVAL, "usage: unknown verb '%s'", verb);
}

int main(int argc, char **argv)
{
	struct cir_error err = CIR_ERROR_INIT;
	int r;

	if (argc < 2)
		return usage();
	r = run(argc, argv, &err);
	if (r < 0)
		fprintf(stderr, "ipvs-probe: %s\n", err.msg);
	return exit_code(r);
}
