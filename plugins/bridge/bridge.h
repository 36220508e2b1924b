/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bridge.h - circuit-bridge's parsed configuration and verbs.
 */
#ifndef CIR_PLUGIN_BRIDGE_H
#define CIR_PLUGIN_BRIDGE_H

#include <stdbool.h>

#include "cni.h"

struct bridge_conf {
	char bridge[CIR_IFNAMSIZ];
	bool is_gateway;             /* gateway address on the bridge (default true) */
	bool is_default_gateway;     /* default route in the container via it */
	bool ip_masq;                /* outbound masquerade for the subnets */
	bool ip_masq6;               /* ... IPv6 ones included (default with ip_masq) */
	unsigned int mtu;            /* 0 = kernel default */
	bool hairpin;
	bool promisc;
	const char *data_dir;        /* state root override, may be NULL */
};

/* Parse and validate the plugin-specific keys of conf. */
int bridge_conf_parse(const struct cir_cni_conf *conf, struct bridge_conf *bc,
		      struct cir_error *err);

extern const struct cir_cni_plugin cir_bridge_plugin;

#endif
