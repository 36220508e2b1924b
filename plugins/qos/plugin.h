/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.h - circuit-qos's parsed configuration and verbs.
 *
 * Directions are named from the container, as the CNI bandwidth
 * capability names them: "ingress" is traffic INTO the container (the
 * egress of the host-side veth), "egress" is traffic OUT of it (the
 * ingress of the host-side veth, shaped on an ifb).
 */
#ifndef CIR_PLUGIN_QOS_H
#define CIR_PLUGIN_QOS_H

#include "cni.h"
#include "qos.h"

struct qos_conf {
	struct cir_qos ingress;      /* into the container: host veth egress */
	struct cir_qos egress;       /* out of the container: host veth ingress (ifb) */
};

/*
 * Parse and validate the settings for container cid from conf: the
 * "containers"[cid] object when there is one, else the top level; flat
 * keys for both directions, "ingress"/"egress" objects per direction, the
 * bandwidth plugin's ingressRate/ingressBurst/egressRate/egressBurst
 * (bit/s, bits), and finally runtimeConfig.bandwidth over all of it.
 * Errors carry CNI code 7 (invalid config).
 */
int qos_conf_parse(const struct cir_cni_conf *conf, const char *cid, struct qos_conf *qc,
		   struct cir_error *err);

extern const struct cir_cni_plugin cir_qos_plugin;

#endif
