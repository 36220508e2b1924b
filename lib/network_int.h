/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network_int.h - shared by lib/network*.c and lib/cluster_{local,sync}.c
 * only: the ctx's message line.
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

#endif
