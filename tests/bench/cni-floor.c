// SPDX-License-Identifier: Apache-2.0
/*
 * cni-floor.c - the kernel's floor for a bridge attachment, run the way a
 * runtime runs a CNI plugin (fork+exec, env and stdin in, JSON out), so
 * that make bench can time it beside the real plugins: what any bridge
 * plugin must ask of the kernel and nothing else.
 *
 *   ADD: a veth pair, the container end born in CNI_NETNS as CNI_IFNAME,
 *        the host end (cf + 12 hex of CNI_CONTAINERID's hash) enslaved to
 *        the bridge named in the config ("bridge", made beforehand) and
 *        up: two requests.
 *   DEL: delete the host end (the pair goes with it): one request.
 *
 * No IPAM, no store, no checks: a bench tool, not a plugin.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "link.h"
#include "nl.h"

static int fail(const char *what, const struct cir_error *err)
{
	printf("{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"%s: %s\"}\n", what, err->msg);
	return 1;
}

static void host_name(const char *cid, char out[16])
{
	uint64_t h = 1469598103934665603ULL;          /* FNV-1a */

	for (const char *p = cid; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(out, 16, "cf%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

/* The config's "bridge" value, found textually: this tool reads only
 * the bench's own configs. */
static int bridge_of(const char *conf, char out[16])
{
	const char *p = strstr(conf, "\"bridge\"");

	if (!p || !(p = strchr(p + 8, '"')))
		return -1;
	p++;
	size_t n = strcspn(p, "\"");
	if (n == 0 || n > 15)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

int main(void)
{
	struct cir_error err = CIR_ERROR_INIT;
	const char *cmd = getenv("CNI_COMMAND"), *cid = getenv("CNI_CONTAINERID");
	const char *netns = getenv("CNI_NETNS"), *ifname = getenv("CNI_IFNAME");
	struct nl_sock *sk = NULL;
	struct cir_link_info br, li;
	char conf[4096], host[16], bridge[16];
	size_t n;
	int nsfd;

	n = fread(conf, 1, sizeof(conf) - 1, stdin);
	conf[n] = 0;
	if (!cmd || !cid || !ifname)
		return 2;
	host_name(cid, host);
	if (cir_nl_route_open(&sk, &err) < 0)
		return fail("netlink", &err);
	if (strcmp(cmd, "DEL") == 0) {
		if (cir_link_delete(sk, host, &err) < 0 && err.errnum != ENODEV)
			return fail("delete", &err);
		return 0;
	}
	if (strcmp(cmd, "ADD") != 0 || !netns || bridge_of(conf, bridge) < 0)
		return 2;
	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return 2;
	if (cir_link_get(sk, bridge, &br, &err) < 0)
		return fail("bridge", &err);
	if (cir_link_veth_create(sk, host, ifname, nsfd, 0, &err) < 0)
		return fail("veth", &err);
	if (cir_link_get(sk, host, &li, &err) < 0 ||
	    cir_link_set_master_up(sk, li.ifindex, br.ifindex, &err) < 0)
		return fail("enslave", &err);
	printf("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"%s\"}]}\n", host);
	return 0;
}
