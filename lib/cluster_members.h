/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_members.h - the member keys of cluster networks (spec/cluster.md
 * "Members across hosts"): /circuit/v1/members/NETWORK/HOST/CID:IFNAME,
 * {"container","interface","addresses","host","mac"}, attached to the
 * host's lease.  Written by circuit-ipam's ADD on a cluster network (best
 * effort), deleted by its DEL, kept in step by the agent's sync, read by
 * `network inspect`.  Library code: no printing.
 */
#ifndef CIR_CLUSTER_MEMBERS_H
#define CIR_CLUSTER_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/netlink.h>

#include "cluster.h"
#include "cni.h"
#include "error.h"
#include "ipam.h"

#define CIR_CLUSTER_MEMBER_ADDRS 4

struct cir_cluster_member {
	char network[64];
	char host[CIR_CLUSTER_NAME_MAX + 1];
	char cid[CIR_CNI_ID_MAX + 1];
	char ifname[CIR_IFNAMSIZ];
	char addrs[CIR_CLUSTER_MEMBER_ADDRS][CIR_CIDR_STRLEN];
	size_t naddrs;
	char mac[18];                /* the interface's MAC, "" = unknown */
	int64_t lease;
};

/* "aa:bb:cc:dd:ee:ff" (hex digits, either case) into out: false unless a
 * unicast, non-zero MAC address. */
bool cir_cluster_mac_parse(const char *s, unsigned char out[6]);

/*
 * The MAC of this host's member (cid, ifname): the container end of the
 * host veth circuit-bridge made for it (cir_name_host_veth), read through
 * sk (NULL: a socket of its own) without entering the container's
 * namespace.  Into out as "aa:bb:cc:dd:ee:ff"; -ENODEV when no such veth.
 */
int cir_cluster_member_mac(struct nl_sock *sk, const char *cid, const char *ifname,
			   char out[18], struct cir_error *err);

/*
 * Put this host's member (cid, ifname) of network with the addresses of
 * a and its MAC (NULL or "": unknown, left out), attached to the lease
 * the agent recorded (-ENOLINK when none).  The whole call stays within
 * ms milliseconds (0 = the etcd timeout).
 */
int cir_cluster_member_put(struct cir_cluster *c, const char *network, const char *cid,
			   const char *ifname, const struct cir_ipam_result *a, const char *mac,
			   unsigned int ms, struct cir_error *err);

/* Delete this host's member (cid, ifname) of network (absent: 0). */
int cir_cluster_member_del(struct cir_cluster *c, const char *network, const char *cid,
			   const char *ifname, unsigned int ms, struct cir_error *err);

/* Members of network on every host (host NULL) or on host, sorted by host,
 * container, interface (*out malloc'ed).  Damaged keys are skipped. */
int cir_cluster_members(struct cir_cluster *c, const char *network, const char *host,
			struct cir_cluster_member **out, size_t *n, struct cir_error *err);

/* Parse one member key and value (tests, fuzzing): -EBADMSG if malformed. */
int cir_cluster_member_parse(const char *key, size_t klen, const char *value, size_t vlen,
			     struct cir_cluster_member *out, struct cir_error *err);

/*
 * The agent's reconcile of network: this host's members in etcd against
 * its IPAM reservations (state_dir): a reservation without a key (or with
 * one on another lease, other addresses, or without the MAC its interface
 * has, cir_cluster_member_mac) is put, a key without a reservation
 * deleted.  Needs c->lease (the live lease).  *put and *del
 * count the changes.  0 when the network has no IPAM state here.
 */
int cir_cluster_members_sync(struct cir_cluster *c, const char *state_dir, const char *network,
			     unsigned int *put, unsigned int *del, struct cir_error *err);

#endif
