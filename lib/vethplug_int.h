/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vethplug_int.h - shared by lib/vethplug*.c only: what the plugin hands
 * to its container side (lib/vethplug_ctr.c), run in the container's
 * namespace through cir_netns_run().
 */
#ifndef CIR_VETHPLUG_INT_H
#define CIR_VETHPLUG_INT_H

#include <stdbool.h>

#include "vethplug.h"

/* ADD: the interface to configure, what IPAM gave; filled in: its MAC,
 * its index, and which routes this interface made. */
struct cir_vethplug_ctr {
	const char *ifname;
	const struct cir_cni_result *ipam;
	const struct cir_vethplug_conf *bc;
	char mac[24];
	int ifindex;
	/* Routes another interface already owns (a container on two
	 * networks has one default route) are skipped and not reported. */
	bool route_set[CIR_CNI_MAX_ROUTES];
	bool default_set[CIR_CNI_MAX_IPS];
};

/* The container's interface: addresses, IPv6 link-local off when it has
 * no IPv6 address, up (and lo), routes.  arg: a struct cir_vethplug_ctr. */
int cir_vethplug_ctr_configure(void *arg, struct cir_error *err);

/* CHECK: the interface, the cached result, its index among the result's
 * interfaces (-1 when not listed). */
struct cir_vethplug_ctr_check {
	const char *ifname;
	const struct cir_cni_result *prev;
	int ci;
	bool default_route;          /* the network promises a default route */
};

/* The interface is up with its addresses, routes and promised default
 * routes.  arg: a struct cir_vethplug_ctr_check. */
int cir_vethplug_ctr_verify(void *arg, struct cir_error *err);

#endif
