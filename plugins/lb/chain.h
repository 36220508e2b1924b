/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chain.h - circuit-lb's parsed configuration and verbs.
 */
#ifndef CIR_PLUGIN_LB_H
#define CIR_PLUGIN_LB_H

#include <stdint.h>

#include "cni.h"
#include "ipvs.h"
#include "store.h"

#define LB_JOINS_MAX 32

/* One entry of "services": join service `name` on `port` (0 = the
 * service's own port) with `weight` and `method`. */
struct lb_join {
	char name[CIR_NAME_MAX + 1];
	uint16_t port;
	uint32_t weight;
	enum cir_ipvs_fwd method;
};

struct lb_conf {
	const char *data_dir;        /* state root override, may be NULL */
	struct lb_join joins[LB_JOINS_MAX];
	size_t n_joins;
};

/* Parse and validate the plugin-specific keys of conf: "services" (an
 * array, may be empty), "dataDir".  -EINVAL with CNI code 7. */
int lb_conf_parse(const struct cir_cni_conf *conf, struct lb_conf *lc, struct cir_error *err);

extern const struct cir_cni_plugin cir_lb_plugin;

#endif
