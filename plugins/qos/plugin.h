/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.h - circuit-qos's verbs.  Its configuration is parsed by
 * cir_qos_entry_for_container (lib/qosnet.h) into a struct cir_qos_dirs,
 * whose directions are named from the container.
 */
#ifndef CIR_PLUGIN_QOS_H
#define CIR_PLUGIN_QOS_H

#include "cni.h"
#include "qos.h"

extern const struct cir_cni_plugin cir_qos_plugin;

#endif
