/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ovs.h - an Open vSwitch bridge as a Circuit network's switch: the bridge
 * with its internal port (the gateway interface), and one port per host
 * veth, through OVSDB transactions (lib/ovsdb.c); the kernel side of the
 * internal port through netlink.  Used by circuit-ovs and by the network
 * code (create, restore, delete) for networks with driver "ovs".
 * See spec/ovs.md.
 */
#ifndef CIR_OVS_H
#define CIR_OVS_H

#include <stdbool.h>

#include <netlink/netlink.h>

#include "error.h"
#include "link.h"
#include "ovsdb.h"

/* How long ovs-vswitchd may take to make the bridge's interface. */
#define CIR_OVS_LINK_WAIT_MS 10000

/*
 * Make sure OVS bridge `bridge` exists (owned by `network` when this call
 * makes it; the root row is made when the database has none), and that
 * its internal interface is in the kernel (ovs-vswitchd makes it) and up;
 * *li describes it, *made (may be NULL) tells whether this call made the
 * bridge.  The internal port of a bridge this call makes is on VLAN tag
 * (0 = untagged, a trunk).  mtu 0 keeps the default.  -EEXIST when a link of that name
 * exists that is not an OVS interface; -ETIMEDOUT when ovs-vswitchd does
 * not make the interface within CIR_OVS_LINK_WAIT_MS.
 */
int cir_ovs_bridge_ensure(struct cir_ovsdb *c, struct nl_sock *sk, const char *bridge,
			  const char *network, unsigned int tag, unsigned int mtu,
			  struct cir_link_info *li,
			  bool *made, struct cir_error *err);

/*
 * May network take OVS bridge `bridge` (network create)?  0 when no such
 * bridge exists or it carries network's mark (external_ids:circuit-network,
 * left by an earlier create of the same name); -EEXIST, the bridge
 * untouched, when it is unmarked (made by hand or by another tool) or
 * marked for another network.
 */
int cir_ovs_bridge_claim(struct cir_ovsdb *c, const char *bridge, const char *network,
			 struct cir_error *err);

/*
 * Converge an existing bridge marked for network to the record: its
 * internal Port on VLAN tag and its Interface's mtu_request mtu (0 empties
 * either: untagged, OVS's default MTU).  1 when something was changed, 0
 * when it already was so, or the bridge is absent or not network's (left
 * alone).  One read, and one transaction only when something differs.
 */
int cir_ovs_bridge_converge(struct cir_ovsdb *c, const char *bridge, const char *network,
			    unsigned int tag, unsigned int mtu, struct cir_error *err);

/*
 * Remove bridge `bridge` when it is network's (its external_ids say so)
 * and, with only_empty, has no port but its internal one.  1 removed, 0
 * absent or kept (another owner, ports, or a port attached meanwhile).
 */
int cir_ovs_bridge_remove(struct cir_ovsdb *c, const char *bridge, const char *network,
			  bool only_empty, struct cir_error *err);

/*
 * Port `port` (an existing link, the host end of a veth) on bridge
 * `bridge`, VLAN tag (0 = none), owned by network.  A port of that name
 * left over on any bridge is removed first.  -ENOENT when the bridge is
 * gone.
 */
int cir_ovs_port_add(struct cir_ovsdb *c, const char *bridge, const char *port,
		     unsigned int tag, const char *network, struct cir_error *err);

/* Remove port `port` from whichever bridge has it; absent is success. */
int cir_ovs_port_del(struct cir_ovsdb *c, const char *port, struct cir_error *err);

/* 1 when port `port` is on bridge `bridge` with VLAN tag (0 = none), 0
 * when it is not there or has another tag. */
int cir_ovs_port_attached(struct cir_ovsdb *c, const char *bridge, const char *port,
			  unsigned int tag, struct cir_error *err);

/* Call fn(name, arg) for every port owned by network (its bridge's
 * internal port included); a negative return stops the walk. */
int cir_ovs_ports_list(struct cir_ovsdb *c, const char *network,
		       int (*fn)(const char *name, void *arg), void *arg, struct cir_error *err);

#endif
