/* SPDX-License-Identifier: Apache-2.0 */
/*
 * overlay.h - the VXLAN data plane of a cluster network on this host
 * (spec/cluster.md "Data plane").  Each call acts through the given
 * NETLINK_ROUTE socket, in the namespace it was opened in.
 */
#ifndef CIR_OVERLAY_H
#define CIR_OVERLAY_H

#include <stddef.h>

#include <netlink/netlink.h>

#include "error.h"
#include "ip.h"

#define CIR_OVERLAY_PORT 4789
#define CIR_OVERLAY_PEERS_MAX 1024

struct cir_overlay {
	const char *network;
	const char *bridge;          /* the network's bridge: must exist */
	const char *vxlan;           /* cir_overlay_name() */
	unsigned int vni;
	struct cir_ip local;         /* this host's underlay address */
	struct cir_ip gateway;
	unsigned char mac[6];        /* the gateway MAC, set on the bridge */
	unsigned int mtu;            /* bridge and vxlan MTU, 0 = leave */
};

/* The vxlan link of network: "v" + its bridge's name, or "v-..." (never a
 * bridge's name, which starts with "c-"). */
void cir_overlay_name(const char *network, char out[16]);

/*
 * Make the overlay of o: the bridge's MAC (and MTU), a vxlan link of the
 * VNI (replacing a link of that name that is something else), enslaved to
 * the bridge and up, and the gateway guard (cir_nft_overlay_guard).
 * Idempotent.
 */
int cir_overlay_ensure(struct nl_sock *sk, const struct cir_overlay *o, struct cir_error *err);

/* The peers (all-zero FDB entries' destinations) of vxlan into out (at
 * most max); returns how many there are. */
int cir_overlay_peers(struct nl_sock *sk, const char *vxlan, struct cir_ip *out, size_t max,
		      struct cir_error *err);

/* Make vxlan's all-zero FDB entries exactly peers[0..n): adds and deletes
 * only the difference (counted in *added, *removed). */
int cir_overlay_sync(struct nl_sock *sk, const char *vxlan, const struct cir_ip *peers,
		     size_t n, unsigned int *added, unsigned int *removed, struct cir_error *err);

/* One container's entry on a vxlan: frames to mac go to dst only. */
struct cir_overlay_fdb {
	unsigned char mac[6];
	struct cir_ip dst;
};

/* vxlan's own non-zero FDB entries with a destination (the containers'
 * entries: learning is off, so only what the agent wrote), *out
 * malloc'ed. */
int cir_overlay_macs(struct nl_sock *sk, const char *vxlan, struct cir_overlay_fdb **out,
		     size_t *n, struct cir_error *err);

/* Make vxlan's container entries exactly want[0..n) (MACs unique): an
 * entry not wanted or towards another destination is deleted, a missing
 * one added (NLM_F_REPLACE); only the difference is changed.  -ENODEV
 * when the vxlan does not exist. */
int cir_overlay_fdb_sync(struct nl_sock *sk, const char *vxlan, const struct cir_overlay_fdb *want,
			 size_t n, unsigned int *added, unsigned int *removed,
			 struct cir_error *err);

/* The MTU of the link holding this host's underlay address local. */
int cir_overlay_underlay_mtu(struct nl_sock *sk, const struct cir_ip *local, unsigned int *mtu,
			     struct cir_error *err);

/* Delete the vxlan link and the guard; idempotent. */
int cir_overlay_remove(struct nl_sock *sk, const char *network, const char *vxlan,
		       struct cir_error *err);

#endif
