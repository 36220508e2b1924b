/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tc.h - one wrapper per traffic-control kernel object, through
 * libnl-route-3: HTB root qdisc and class, netem leaf, ingress qdisc, u32
 * match-all filter with a mirred egress redirect, and lookups: the one
 * home of qdiscs, classes and filters in lib/.  (The ifb devices a
 * redirect feeds are links: lib/link.h.)
 *
 * Every function acts in the network namespace of the socket it is given
 * (see nl.h).  Rates are in BYTES per second (the kernel's unit), sizes in
 * bytes, times in microseconds, probabilities on the kernel's scale where
 * UINT32_MAX means 100 %.  The policy on top (which objects, which handles)
 * lives in qos.h.
 */
#ifndef CIR_TC_H
#define CIR_TC_H

#include <stdint.h>

#include <netlink/socket.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/class.h>

#include "error.h"

/* "maj:min" handle, as tc prints it: CIR_TC_HANDLE(1, 1) is 1:1. */
#define CIR_TC_HANDLE(maj, min) ((((uint32_t)(maj)) << 16) | ((uint32_t)(min) & 0xffffU))

/* The handle of every ingress qdisc (ffff:) and its parent id. */
#define CIR_TC_INGRESS_HANDLE CIR_TC_HANDLE(0xffff, 0)

/* Probability scale of netem: CIR_TC_PROB_MAX is 100 %. */
#define CIR_TC_PROB_MAX UINT32_MAX

/* Largest burst an HTB class can hold, in transmit time (the kernel keeps
 * it as 32-bit scheduler ticks of 64 ns, i.e. at most ~274 s). */
#define CIR_TC_BURST_MAX_US (60U * 1000000U)

/* Largest netem delay/jitter we send (same 32-bit tick limit). */
#define CIR_TC_DELAY_MAX_US (60U * 1000000U)

struct cir_tc_htb_class {
	uint32_t parent;   /* e.g. CIR_TC_HANDLE(1, 0) */
	uint32_t classid;  /* e.g. CIR_TC_HANDLE(1, 1) */
	uint64_t rate;     /* bytes/s, > 0 */
	uint64_t ceil;     /* bytes/s, 0 = rate (no borrowing) */
	uint32_t burst;    /* bytes, 0 = cir_tc_burst_default(rate, mtu) */
	uint32_t cburst;   /* bytes, 0 = cir_tc_burst_default(ceil, mtu) */
	uint32_t mtu;      /* link MTU for rate tables, 0 = 1500 */
};

struct cir_tc_netem {
	uint32_t parent;     /* e.g. CIR_TC_HANDLE(1, 1) */
	uint32_t handle;     /* e.g. CIR_TC_HANDLE(0x10, 0) */
	uint32_t delay_us;
	uint32_t jitter_us;  /* needs delay_us */
	uint32_t delay_corr; /* CIR_TC_PROB_MAX scale, needs jitter_us */
	uint32_t loss;       /* CIR_TC_PROB_MAX scale */
	uint32_t loss_corr;  /* CIR_TC_PROB_MAX scale, needs loss */
	uint32_t limit;      /* queue length in packets, 0 = 1000 */
};

/*
 * Default burst for a token bucket running at rate bytes/s on a link of
 * the given MTU: one millisecond of traffic plus one MTU (what tc computes
 * with HZ=1000), capped so that it fits the kernel's fields.  Pure.
 */
uint32_t cir_tc_burst_default(uint64_t rate, uint32_t mtu);

/* HTB quantum for a class of the given rate: rate/10 clamped to
 * [mtu, 200000], so the kernel does not log "quantum is big".  Pure. */
uint32_t cir_tc_htb_quantum(uint64_t rate, uint32_t mtu);

/*
 * Add an HTB qdisc at the root of ifindex with the given handle whose
 * unclassified traffic goes to class handle:defcls_minor.  Replaces any
 * other root qdisc (NLM_F_REPLACE); fails with -EINVAL when an HTB qdisc
 * with the same handle is already there (the kernel cannot change HTB in
 * place: look it up first with cir_tc_qdisc_find).
 */
int cir_tc_htb_root_add(struct nl_sock *sk, int ifindex, uint32_t handle, uint16_t defcls_minor,
			struct cir_error *err);

/* Create or change (NLM_F_REPLACE) an HTB class with 64-bit rate/ceil. */
int cir_tc_htb_class_set(struct nl_sock *sk, int ifindex, const struct cir_tc_htb_class *c,
			 struct cir_error *err);

/*
 * Create or change a netem qdisc under n->parent with handle n->handle
 * (replacing the default leaf).  A kernel without netem yields
 * -EOPNOTSUPP (CNI code 103) and "kernel has no netem qdisc: load module
 * sch_netem (CONFIG_NET_SCH_NETEM)"; so do the other qdisc and filter
 * adders for their kinds (sch_htb, sch_ingress, cls_u32 and act_mirred),
 * and cir_link_ifb_create for ifb.
 */
int cir_tc_netem_set(struct nl_sock *sk, int ifindex, const struct cir_tc_netem *n,
		     struct cir_error *err);

/* Add the ingress qdisc (ffff:) to ifindex.  Idempotent (replace). */
int cir_tc_ingress_add(struct nl_sock *sk, int ifindex, struct cir_error *err);

/*
 * Create or replace the u32 match-all filter at parent ffff: of ifindex
 * (protocol all, prio 1, handle 800::800) whose mirred action redirects
 * every packet to the egress of target_ifindex.  Needs the ingress qdisc.
 * Idempotent: a second call replaces the first filter's action.
 */
int cir_tc_redirect_set(struct nl_sock *sk, int ifindex, int target_ifindex, struct cir_error *err);

/*
 * Find whether ifindex's ingress has a u32 filter redirecting to
 * target_ifindex.  Returns 0 when found, -ENOENT (with *err) when not.
 */
int cir_tc_redirect_find(struct nl_sock *sk, int ifindex, int target_ifindex,
			 struct cir_error *err);

/*
 * Delete the qdisc of ifindex identified by parent (TC_H_ROOT, TC_H_INGRESS
 * or a classid) and handle (0 = whatever is there).  Deleting a leaf under
 * an HTB class puts the default pfifo back.  A missing qdisc (ENOENT) is
 * success; other errors are not.
 */
int cir_tc_qdisc_del(struct nl_sock *sk, int ifindex, uint32_t parent, uint32_t handle,
		     struct cir_error *err);

/*
 * Look up the qdisc of ifindex attached at parent.  On success *out holds a
 * reference (rtnl_qdisc_put it); -ENOENT when there is none.
 */
int cir_tc_qdisc_find(struct nl_sock *sk, int ifindex, uint32_t parent, struct rtnl_qdisc **out,
		      struct cir_error *err);

/* Look up class classid of ifindex; *out as above, -ENOENT when absent. */
int cir_tc_class_find(struct nl_sock *sk, int ifindex, uint32_t classid, struct rtnl_class **out,
		      struct cir_error *err);

#endif
