/* SPDX-License-Identifier: Apache-2.0 */
/*
 * addr.h - interface addresses and routes (RTM_NEWADDR / RTM_NEWROUTE).
 */
#ifndef CIR_ADDR_H
#define CIR_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/netlink.h>

#include "error.h"
#include "nlbatch.h"

/*
 * Add "10.0.0.1/24" (or an IPv6 CIDR) to ifindex.  With exist_ok an
 * identical address already present counts as success (concurrent ADDs
 * racing to put the gateway on a bridge).  IPv6 addresses are added with
 * IFA_F_NODAD so they are usable at once.
 */
int cir_addr_add(struct nl_sock *sk, int ifindex, const char *cidr, bool exist_ok,
		 struct cir_error *err);

/* Delete; -EADDRNOTAVAIL when absent. */
int cir_addr_del(struct nl_sock *sk, int ifindex, const char *cidr, struct cir_error *err);

/* 1 if ifindex carries exactly this address/prefix, 0 if not. */
int cir_addr_has(struct nl_sock *sk, int ifindex, const char *cidr, struct cir_error *err);

/*
 * Add a route to dst ("0.0.0.0/0", "default", "10.1.0.0/16", "::/0") via gw
 * (may be NULL/empty: on-link) out of ifindex.  exist_ok as above.
 */
int cir_route_add(struct nl_sock *sk, const char *dst, const char *gw, int ifindex,
		  bool exist_ok, struct cir_error *err);

/* 1 if a route to dst (via gw when given) out of ifindex (0: any
 * interface) exists in the main table. */
int cir_route_has(struct nl_sock *sk, const char *dst, const char *gw, int ifindex,
		  struct cir_error *err);

/*
 * Pipelined address additions (`circuit restore`'s VIPs) on lib/nlbatch:
 * RTM_NEWADDR requests (NLM_F_CREATE | NLM_F_EXCL) in sends of up to
 * CIR_ADDR_BATCH_BYTES.  failed(tag, errnum, arg) is called for each
 * failure (EEXIST: the address was there; tag UINT32_MAX: failures lost,
 * see nlbatch.h).  af is AF_INET or AF_INET6, addr 4 or 16 bytes in
 * network order; an IPv6 address gets IFA_F_NODAD.
 */
#define CIR_ADDR_BATCH_BYTES 32768

/* A batch for cir_addr_batch_add(); sent with cir_nl_batch_flush(), freed
 * with cir_nl_batch_free(). */
int cir_addr_batch_new(struct nl_sock *sk, struct cir_nl_batch **out, struct cir_error *err);
/* Queue one address; sends the queue first when full.  Returns the number
 * of requests sent by this call (0 or a full send's count), or -errno. */
int cir_addr_batch_add(struct cir_nl_batch *b, int ifindex, int af, const void *addr,
		       unsigned int prefixlen, uint32_t tag, cir_nl_batch_failed failed,
		       void *arg, struct cir_error *err);

#endif
