/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qos_int.h - shared by lib/qos*.c only: the steps of one direction's
 * tree (qos.c) that the by-name verbs of both directions (qos_link.c)
 * use too.
 *
 *   qos.c       one direction's tree: build, read back, clear, rollback;
 *               the ingress path (ifb, mirred redirect)
 *   qos_link.c  both directions of a device by name; the ifb GC
 */
#ifndef CIR_QOS_INT_H
#define CIR_QOS_INT_H

#include <netlink/netlink.h>

#include "error.h"
#include "qos.h"

/* The tree on ifindex as a struct cir_qos; -ENOENT when it is not ours. */
int cir_qs_tree_read(struct nl_sock *sk, int ifindex, struct cir_qos *out,
		     struct cir_error *err);
/* Remove our tree from ifindex; none there is fine. */
int cir_qs_tree_clear(struct nl_sock *sk, int ifindex, struct cir_error *err);
/* Remove ifindex's ingress qdisc and its ifb ifb_name. */
int cir_qs_ingress_clear(struct nl_sock *sk, int ifindex, const char *ifb_name,
			 struct cir_error *err);
/* The ifb's tree when the whole ingress path is in place; -ENOENT if not. */
int cir_qs_ingress_read(struct nl_sock *sk, int ifindex, const char *ifb_name,
			struct cir_qos *out, struct cir_error *err);

#endif
