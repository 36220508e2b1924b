/* SPDX-License-Identifier: Apache-2.0 */
/*
 * link.h - links, every kind Circuit looks up or makes: bridges, veth
 * pairs, ifb devices, and their attributes.  The one home of
 * RTM_*LINK requests in lib/ (lib/lb_kernel.c's dummy device aside).
 * Each function acts through the given NETLINK_ROUTE socket, i.e. in the
 * namespace that socket was opened in.
 */
#ifndef CIR_LINK_H
#define CIR_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/netlink.h>

#include "error.h"

struct cir_link_info {
	char name[16];
	int ifindex;
	int link;                    /* IFLA_LINK: a veth's peer ifindex; 0 = none */
	int master;                  /* 0 = none */
	unsigned int mtu;
	bool up;
	char kind[16];               /* "bridge", "veth", "" ... */
	char mac[24];                /* "aa:bb:cc:dd:ee:ff" */
	char alias[144];             /* IFLA_IFALIAS ("circuit:NETWORK" on Circuit's bridges) */
};

/* Look a link up by name.  -ENODEV when absent. */
int cir_link_get(struct nl_sock *sk, const char *name, struct cir_link_info *out,
		 struct cir_error *err);

/*
 * The MAC address of the peer of veth `name` (a link of the socket's
 * namespace), wherever that peer lives: asked by ifindex in the peer's
 * namespace through its netnsid (IFLA_LINK_NETNSID, IFLA_TARGET_NETNSID),
 * without entering it.  -ENODEV when the link or its peer is absent,
 * -EINVAL when name is not a veth.
 */
int cir_link_peer_mac(struct nl_sock *sk, const char *name, unsigned char mac[6],
		      struct cir_error *err);

/* Look a link up by index.  -ENODEV when absent. */
int cir_link_get_index(struct nl_sock *sk, int ifindex, struct cir_link_info *out,
		       struct cir_error *err);

/* Call fn for every link of the socket's namespace (a dump); a negative
 * return of fn stops the walk and is returned. */
int cir_link_list(struct nl_sock *sk, int (*fn)(const struct cir_link_info *l, void *arg),
		  void *arg, struct cir_error *err);

/*
 * Make sure bridge `name` exists, is a bridge and is up.  Idempotent and
 * race-safe: a concurrent creator's EEXIST counts as success.  mtu 0 keeps
 * the default.  *created (may be NULL) tells whether this call made it;
 * a bridge this call makes gets alias (may be NULL) as its IFLA_IFALIAS,
 * the mark by which its owner knows it later (cir_name_bridge_alias).
 */
int cir_link_bridge_ensure(struct nl_sock *sk, const char *name, unsigned int mtu,
			   bool promisc, const char *alias, struct cir_link_info *out,
			   bool *created, struct cir_error *err);

/* Set a link's IFLA_IFALIAS ("" clears it). */
int cir_link_set_alias(struct nl_sock *sk, int ifindex, const char *alias,
		       struct cir_error *err);

/*
 * Create a veth pair: `host` in the socket's namespace, `peer` born directly
 * in the namespace peer_nsfd (never moved).  mtu 0 keeps the default.
 * -EEXIST if either name exists.
 */
int cir_link_veth_create(struct nl_sock *sk, const char *host, const char *peer, int peer_nsfd,
			 unsigned int mtu, struct cir_error *err);

/* Enslave ifindex to master (0 = release) and bring it up in one request. */
int cir_link_set_master_up(struct nl_sock *sk, int ifindex, int master, struct cir_error *err);

/* Bring a link up (or down). */
int cir_link_set_up(struct nl_sock *sk, int ifindex, bool up, struct cir_error *err);

/* Bridge port hairpin mode on/off. */
int cir_link_set_hairpin(struct nl_sock *sk, int ifindex, bool on, struct cir_error *err);

/*
 * Whether the kernel gives the link an IPv6 link-local address when it goes
 * up (IFLA_INET6_ADDR_GEN_MODE eui64 or none).  Only effective on a link
 * that is down: the kernel generates the address at NETDEV_UP.
 */
int cir_link_set_ipv6_link_local(struct nl_sock *sk, int ifindex, bool on,
				 struct cir_error *err);

/* Release a link from its bridge and take it down, in one request; alias
 * (may be NULL) becomes its IFLA_IFALIAS in the same request, so that
 * whoever finds it later knows it is a leftover and whose.  -ENODEV when
 * absent. */
int cir_link_detach_down(struct nl_sock *sk, const char *name, const char *alias,
			 struct cir_error *err);

/* How many links have master as their master (a bridge's ports). */
int cir_link_count_ports(struct nl_sock *sk, int master, struct cir_error *err);

/* Delete every link that is detached, down and has IFLA_IFALIAS alias
 * (leftovers a DEL marked).  Returns how many went. */
int cir_link_delete_detached(struct nl_sock *sk, const char *alias, struct cir_error *err);

/* Delete by name.  -ENODEV when absent (callers wanting idempotency treat it
 * as success). */
int cir_link_delete(struct nl_sock *sk, const char *name, struct cir_error *err);

/*
 * Create an ifb link called name (<= 15 bytes) with the given MTU (0 =
 * kernel default) and bring it up; *ifindex_out gets its index.  An
 * existing ifb of that name is reused (and brought up); an existing link
 * of another kind is -EEXIST.
 */
int cir_link_ifb_create(struct nl_sock *sk, const char *name, uint32_t mtu, int *ifindex_out,
			struct cir_error *err);

/* Delete the ifb link called name.  Missing is success; a link of another
 * kind is left alone and yields -EINVAL. */
int cir_link_ifb_delete(struct nl_sock *sk, const char *name, struct cir_error *err);

/* The ifindex of the ifb called name: >0, or -ENODEV when missing and
 * -EINVAL when the link is not an ifb. */
int cir_link_ifb_index(struct nl_sock *sk, const char *name, struct cir_error *err);

#endif
