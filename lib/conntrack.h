/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conntrack.h - deleting connection-tracking entries over ctnetlink.
 *
 * A filtered flush: one dump of the family's table (IPCTNL_MSG_CT_GET with
 * NLM_F_DUMP), entries matched here against a filter, and one
 * IPCTNL_MSG_CT_DELETE per match naming its original tuple (and zone).
 * Messages are built by hand on a NETLINK_NETFILTER socket of the caller's
 * network namespace; building and parsing need no socket (tested alone).
 * Uses: stale UDP entries of a published port that comes or goes
 * (lib/portmap_kernel.c), UDP entries of a removed IPVS target.
 */
#ifndef CIR_CONNTRACK_H
#define CIR_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ip.h"

/* What to delete: every field left 0 matches anything. */
struct cir_ct_filter {
	int family;                  /* AF_INET or AF_INET6 (required) */
	uint8_t l4proto;             /* IPPROTO_UDP, ...; 0 = any */
	struct cir_ip orig_dst;      /* original direction's destination; af 0 = any */
	uint16_t orig_dst_port;      /* host byte order; 0 = any */
	struct cir_ip reply_src;     /* reply direction's source (after DNAT: the
				      * real server); af 0 = any */
	uint16_t reply_src_port;     /* 0 = any */
};

/* One entry as parsed from a dump. */
struct cir_ct_entry {
	int family;
	uint8_t l4proto;
	struct cir_ip orig_src, orig_dst, reply_src, reply_dst;
	uint16_t orig_sport, orig_dport, reply_sport, reply_dport;
	bool has_zone;
	uint16_t zone;
	/* The CTA_TUPLE_ORIG attribute as the kernel sent it (header and
	 * payload), echoed in the delete request. */
	unsigned char tuple[160];
	size_t tuple_len;
};

/*
 * Delete every entry of f->family matching f, in the calling thread's
 * network namespace.  Returns how many were deleted (entries that expired
 * meanwhile are not counted and are not an error).  -EINVAL for a bad
 * filter; a kernel without conntrack has no entries (0).
 */
int cir_ct_flush(const struct cir_ct_filter *f, struct cir_error *err);

/*
 * The same for several filters of one family at once: one dump, an entry
 * goes when it matches any of f[0..n).  -EINVAL when n is 0 or the
 * families differ.
 */
int cir_ct_flush_any(const struct cir_ct_filter *f, size_t n, struct cir_error *err);

/* ---- exposed for tests ---- */

/* The dump request for family into buf: its length, -ENOSPC. */
int cir_ct_dump_build(int family, uint32_t seq, void *buf, size_t len);

/* Parse one IPCTNL_MSG_CT_NEW message (header included, msg_len bytes).
 * -EBADMSG when it is malformed or lacks the original tuple. */
int cir_ct_entry_parse(const void *msg, size_t msg_len, struct cir_ct_entry *e);

/* Does e match f? */
bool cir_ct_entry_matches(const struct cir_ct_filter *f, const struct cir_ct_entry *e);

/* The delete request for e into buf: its length, -ENOSPC. */
int cir_ct_delete_build(const struct cir_ct_entry *e, uint32_t seq, void *buf, size_t len);

#endif
