/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nl.h - netlink sockets bound to the calling thread's current network
 * namespace.  Open the socket after entering the namespace it must act in
 * (see netns.h); a socket keeps the namespace it was created in.
 */
#ifndef CIR_NL_H
#define CIR_NL_H

#include <stdbool.h>

#include <netlink/handlers.h>
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

/* Send the hand-built request m and hand every answer (NL_CB_VALID) to fn
 * with arg, on a copy of the socket's callbacks; then, when ack, read the
 * request's ACK too (an answer and its ACK come apart: left queued, the ACK
 * would be taken by the socket's next request for its own answer).  A
 * dump (NLM_F_DUMP) ends at NLMSG_DONE: no ack.  Returns 0 or a negative
 * libnl code (-NLE_NOMEM when the callbacks cannot be copied). */
int cir_nl_request(struct nl_sock *sk, struct nl_msg *m, nl_recvmsg_msg_cb_t fn, void *arg,
		   bool ack);

#endif
