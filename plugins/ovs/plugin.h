/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.h - circuit-ovs's parsed configuration and verbs.
 */
#ifndef CIR_PLUGIN_OVS_H
#define CIR_PLUGIN_OVS_H

#include <limits.h>
#include <stdbool.h>

#include "cni.h"
#include "vethplug.h"

struct ovs_conf {
	char bridge[CIR_IFNAMSIZ];   /* OVS bridge = its internal (gateway) interface */
	unsigned int vlan;           /* Port.tag of every container port, 0 = none */
	const char *ovsdb;           /* ovsdb-server's unix socket, NULL = default */
	struct cir_vethplug_conf v;  /* the keys every veth main plugin reads */
};

/* Parse and validate the plugin-specific keys of conf (spec/ovs.md). */
int ovs_conf_parse(const struct cir_cni_conf *conf, struct ovs_conf *oc, struct cir_error *err);

extern const struct cir_cni_plugin cir_ovs_plugin;

#endif
