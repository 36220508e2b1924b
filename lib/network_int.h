/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network_int.h - shared by lib/network*.c and lib/cluster_{local,sync}.c
 * only: the ctx's message line; what network_create.c uses of network.c.
 *
 *   network.c         ensure, who owns a bridge, teardown, delete
 *   network_create.c  create (the spec checked, record and conflist)
 */
#ifndef CIR_NETWORK_INT_H
#define CIR_NETWORK_INT_H

#include "network.h"

/* Hand one formatted line to ctx->log (nothing when there is none, nor for
 * a debug line when ctx->debug is off). */
void cir_net_log(const struct cir_net_ctx *ctx, enum cir_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define net_debug(ctx, ...) cir_net_log(ctx, CIR_LOG_DEBUG, __VA_ARGS__)
#define net_warn(ctx, ...) cir_net_log(ctx, CIR_LOG_WARN, __VA_ARGS__)

/* May network nc (being created) own its bridge?  -EEXIST (CNI code
 * CIR_CNI_EXISTS) when another network names it or it exists without
 * Circuit's mark for nc. */
int cir_nw_bridge_claim(struct cir_netdb *db, const struct cir_netconf *nc,
			struct cir_error *err);
/* Remove a network's bridge and masquerade; missing objects are fine. */
int cir_nw_net_teardown(const struct cir_net_ctx *ctx, struct cir_netdb *db,
			const struct cir_netconf *nc, struct cir_error *err);

#endif
