/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qos_cli.h - "circuit network qos set|reset|show" and the callbacks the
 * rest of the CLI calls (network delete, inspect, disconnect).
 * (Not "qos.h": that name is lib/qos.h's, and hook/ comes first in the
 * include path of the files in hook/.)
 */
#ifndef CIR_HOOK_QOS_CLI_H
#define CIR_HOOK_QOS_CLI_H

#include "cli.h"

/* The verbs of the "network qos" group. */
extern const struct cli_cmd cli_qos_cmds[];

/* Network n (locked) is being deleted: its members are already gone;
 * delete ifbs left without a device.  The record goes with the directory. */
int cli_qos_network_delete(struct cli *c, struct cir_network *n, struct cir_error *err);

/* Add "qos": {...} to the map `circuit network inspect` has open. */
int cli_qos_network_inspect(struct cli *c, struct cir_network *n, struct cir_jgen *g,
			    struct cir_error *err);

/*
 * Member cid left network n (locked), after its chain DEL: forget its own
 * link settings (the "containers" entry of circuit-qos in the chain), so
 * that a later container with the same id starts from the default.
 * Idempotent.
 */
int cli_qos_member_gone(struct cli *c, struct cir_network *n, const char *cid,
			struct cir_error *err);

#endif
