/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nl.h - netlink sockets bound to the calling thread's current network
 * namespace.  Open the socket after entering the namespace it must act in
 * (see netns.h); a socket keeps the namespace it was created in.
 */
#ifndef CIR_NL_H
#define CIR_NL_H

#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "error.h"

/* Open and connect a NETLINK_ROUTE socket.  *out is set only on success. */
int cir_nl_route_open(struct nl_sock **out, struct cir_error *err);

/* Open and connect a NETLINK_GENERIC socket.  *out is set only on success. */
int cir_nl_genl_open(struct nl_sock **out, struct cir_error *err);

/* Translate a negative libnl return value into -errno and fill *err with
 * "<what>: <strerror>".  Returns the -errno. */
int cir_nl_err(struct cir_error *err, int nlerr, const char *what);

#endif
