// SPDX-License-Identifier: Apache-2.0
/*
 * names.c - derive interface names that fit IFNAMSIZ.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

uint64_t cir_fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void cir_name_bridge(const char *network, char out[16])
{
	size_t n = strlen(network);
	uint64_t h;

	if (n + 2 <= 15) {
		snprintf(out, 16, "c-%s", network);
		return;
	}
	h = cir_fnv1a(CIR_FNV_INIT, network, n);
	snprintf(out, 16, "c-%.7s-%05llx", network, (unsigned long long)(h & 0xfffff));
}

void cir_name_host_veth(const char *containerid, const char *ifname, char out[16])
{
	uint64_t h = CIR_FNV_INIT;

	h = cir_fnv1a(h, containerid, strlen(containerid) + 1);   /* NUL separates */
	h = cir_fnv1a(h, ifname, strlen(ifname));
	snprintf(out, 16, "cv%013llx", (unsigned long long)(h & 0xfffffffffffffULL));
}

void cir_name_bridge_alias(const char *network, char out[CIR_NAME_BRIDGE_ALIAS_MAX])
{
	snprintf(out, CIR_NAME_BRIDGE_ALIAS_MAX, "circuit:%s", network);
}

void cir_name_released_alias(const char *network, char out[CIR_NAME_BRIDGE_ALIAS_MAX])
{
	snprintf(out, CIR_NAME_BRIDGE_ALIAS_MAX, "circuit-released:%s", network);
}

int cir_name_ifb(const char *ifname, char out[16], struct cir_error *err)
{
	size_t n = ifname ? strlen(ifname) : 0;
	uint64_t h;

	if (n == 0 || n >= 16)
		return cir_err(err, EINVAL, "invalid interface name '%s'", ifname ? ifname : "");
	if (n + 3 < 16) {
		snprintf(out, 16, "cq-%s", ifname);
		return 0;
	}
	/* '_' in the third byte keeps hashed names apart from "cq-" ones. */
	h = cir_fnv1a(CIR_FNV_INIT, ifname, n);
	snprintf(out, 16, "cq_%.6s%06llx", ifname, (unsigned long long)(h & 0xffffff));
	return 0;
}
