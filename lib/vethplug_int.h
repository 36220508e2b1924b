/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vethplug_int.h - what lib/vethplug.c (the verbs) and lib/vethplug_ctr.c
 * (the container's side) share; not for plugins (they use vethplug.h).
 */
#ifndef CIR_VETHPLUG_INT_H
#define CIR_VETHPLUG_INT_H

#include <stddef.h>

#include "vethplug.h"

/* The masquerade user of an attachment: "CONTAINERID:IFNAME". */
void cir_vethplug_masq_user(const struct cir_cni_env *env, char *buf, size_t len);

/* ADD: gateways on a->sw (isGateway), the container's addresses, routes
 * and interfaces up, the result, the masquerade. */
int cir_vethplug_add_addresses(struct cir_vethplug_add *a, struct cir_error *err);

/* CHECK of the container's side (interface up, addresses, routes, the
 * promised default route) and of the masquerade. */
int cir_vethplug_check_container(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
				 struct cir_error *err);

#endif
