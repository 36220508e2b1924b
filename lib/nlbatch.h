/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nlbatch.h - pipelined netlink requests, the one engine under lib/ipvs's
 * and lib/addr's batches (`circuit restore` of thousands of services and
 * VIPs).
 *
 * Requests are packed back to back into one send of up to `bytes`; only
 * the last of each send asks for an ACK, and the kernel, which handles a
 * send's requests in order, answers only the failures, without echoing
 * the request (NETLINK_CAP_ACK).  Each request carries the caller's tag;
 * failed(tag, errnum, arg) is called once per failure (errnum is the
 * kernel's).  Tag UINT32_MAX means failures were lost to a receive buffer
 * overrun: the caller treats every tag of that send as failed.
 */
#ifndef CIR_NLBATCH_H
#define CIR_NLBATCH_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <netlink/netlink.h>

#include "error.h"

struct cir_nl_batch;
typedef void (*cir_nl_batch_failed)(uint32_t tag, int errnum, void *arg);

/* A batch on sk: sends of at most bytes and max_req requests.  fail_size
 * (0: none): the room one failure takes in the socket's receive buffer;
 * the requests per send are then also capped so that a send whose every
 * request fails still fits (a restore where every address exists).  what
 * names the batch in errors ("ipvs batch"). */
int cir_nl_batch_new(struct nl_sock *sk, size_t bytes, size_t max_req, size_t fail_size,
		     const char *what, struct cir_nl_batch **out, struct cir_error *err);
void cir_nl_batch_free(struct cir_nl_batch *b);

/* Queue a copy of the request req (nlmsg_type, nlmsg_flags and the body
 * set by the caller; the port and sequence number are set here), sending
 * the queue first when it is full.  Returns the number of requests sent by
 * this call (0 or a full send's count), or -errno. */
int cir_nl_batch_add(struct cir_nl_batch *b, const struct nlmsghdr *req, uint32_t tag,
		     cir_nl_batch_failed failed, void *arg, struct cir_error *err);

/* Send what is queued and read its answers to the ACK.  Returns the
 * number of requests sent, or -errno. */
int cir_nl_batch_flush(struct cir_nl_batch *b, cir_nl_batch_failed failed, void *arg,
		       struct cir_error *err);

#endif
