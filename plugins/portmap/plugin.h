/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.h - circuit-portmap's parsed configuration and verbs.
 */
#ifndef CIR_PLUGIN_PORTMAP_H
#define CIR_PLUGIN_PORTMAP_H

#include <stddef.h>

#include "cni.h"
#include "portmap.h"

struct portmap_conf {
	const char *data_dir;            /* state root override, may be NULL */
	struct cir_portmap *m;           /* runtimeConfig.portMappings, CIR_PORTMAP_MAX */
	size_t n;
};

/* Parse "dataDir" and runtimeConfig.portMappings of conf into *pc (free
 * with portmap_conf_free).  -EINVAL with CNI code 7. */
int portmap_conf_parse(const struct cir_cni_conf *conf, struct portmap_conf *pc,
		       struct cir_error *err);
void portmap_conf_free(struct portmap_conf *pc);

extern const struct cir_cni_plugin cir_portmap_plugin;

#endif
