/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bridge.h - circuit-bridge's parsed configuration and verbs.
 */
#ifndef CIR_PLUGIN_BRIDGE_H
#define CIR_PLUGIN_BRIDGE_H

#include <stdbool.h>

#include "cni.h"
#include "vethplug.h"

struct bridge_conf {
	char bridge[CIR_IFNAMSIZ];
	struct cir_vethplug_conf v;  /* the keys every veth main plugin reads */
	bool hairpin;
	bool promisc;
};

/* Parse and validate the plugin-specific keys of conf. */
int bridge_conf_parse(const struct cir_cni_conf *conf, struct bridge_conf *bc,
		      struct cir_error *err);

extern const struct cir_cni_plugin cir_bridge_plugin;

#endif
