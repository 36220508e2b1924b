/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vethplug.h - what a veth main plugin does on either side of its switch,
 * shared by circuit-bridge (a Linux bridge) and circuit-ovs (an Open
 * vSwitch bridge): the common config keys, IPAM delegation, the veth pair
 * with its container end born in the container's namespace, the
 * container's addresses and routes, the gateways on the switch's
 * interface, the result, the masquerade, and the container side of CHECK
 * and GC.  The plugin keeps only what its switch needs: making it,
 * attaching the host end, telling whether it is attached.  See
 * spec/backends.md.
 */
#ifndef CIR_VETHPLUG_H
#define CIR_VETHPLUG_H

#include <stdbool.h>

#include <netlink/netlink.h>

#include "cni.h"
#include "link.h"

/* The keys every veth main plugin reads (spec/circuit-bridge.md). */
struct cir_vethplug_conf {
	bool is_gateway;             /* gateway address on the switch (default true) */
	bool is_default_gateway;     /* default route in the container via it */
	bool ip_masq;                /* outbound masquerade for the subnets */
	bool ip_masq6;               /* ... IPv6 ones included (default with ip_masq) */
	unsigned int mtu;            /* 0 = kernel default */
	const char *data_dir;        /* state root override, may be NULL */
};

/* Parse isGateway, isDefaultGateway, ipMasq, ipMasq6, mtu, dataDir; an
 * ipam type is required.  CNI code 7 for bad values. */
int cir_vethplug_conf_parse(const struct cir_cni_conf *conf, struct cir_vethplug_conf *v,
			    struct cir_error *err);

/* Run the IPAM plugin for cmd (in-process when it is a registered
 * built-in, else executed from CNI_PATH); res may be NULL. */
int cir_vethplug_ipam(struct cir_cni_ctx *ctx, enum cir_cni_cmd cmd, struct cir_cni_result *res,
		      struct cir_error *err);

/* An ADD in progress: what it made so far, for its steps and rollback. */
struct cir_vethplug_add {
	struct cir_cni_ctx *ctx;
	const struct cir_vethplug_conf *v;
	struct nl_sock *sk;          /* NETLINK_ROUTE in the host's namespace */
	int nsfd;                    /* the container's namespace */
	const char *sw_name;         /* the switch's gateway interface */
	struct cir_link_info sw;     /* ... as found (ifindex, mac) */
	struct cir_link_info hv;     /* the host end, once made */
	struct cir_cni_result ipam;
	char host[CIR_IFNAMSIZ];
	bool veth_made, ipam_done;
};

/* The veth pair: host end a->host (a detached, down leftover of that name
 * is reclaimed), container end CNI_IFNAME born in a->nsfd.  CNI code 18
 * when either name is taken. */
int cir_vethplug_add_veth(struct cir_vethplug_add *a, struct cir_error *err);
/* IPAM ADD; at least one address. */
int cir_vethplug_add_ipam(struct cir_vethplug_add *a, struct cir_error *err);
/* Gateways on a->sw (isGateway), the container's addresses, routes and
 * interfaces up, the result, the masquerade. */
int cir_vethplug_add_addresses(struct cir_vethplug_add *a, struct cir_error *err);
/* Undo what the steps above made (IPAM release, the veth pair). */
void cir_vethplug_add_undo(struct cir_vethplug_add *a);

/* True when the container's namespace at path (may be NULL) is gone. */
bool cir_vethplug_netns_gone(const char *path);

/* DEL after the link is handled: IPAM release and the masquerade user. */
int cir_vethplug_del_release(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
			     struct cir_error *err);

/* CHECK: prevResult required, IPAM CHECK. */
int cir_vethplug_check_start(struct cir_cni_ctx *ctx, struct cir_error *err);
/* CHECK of the container's side (interface up, addresses, routes, the
 * promised default route) and of the masquerade. */
int cir_vethplug_check_container(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
				 struct cir_error *err);

/* GC: the host veth names of the valid attachments. */
struct cir_vethplug_gc {
	char (*names)[CIR_IFNAMSIZ];
	size_t n, cap;
	bool keep_live;              /* CIR_CNI_GC_KEEP_LIVE */
	struct nl_sock *sk;          /* for keep-live masquerade users */
};
/* Collect the valid attachments and run IPAM GC (only circuit-ipam when
 * keep-live). */
int cir_vethplug_gc_start(struct cir_cni_ctx *ctx, struct cir_vethplug_gc *gc,
			  struct cir_error *err);
/* Is host veth name a valid attachment's? */
bool cir_vethplug_gc_valid(const struct cir_vethplug_gc *gc, const char *name);
/* Masquerade users that are no valid attachment's (keep-live: whose host
 * veth is gone) released. */
int cir_vethplug_gc_masq(struct cir_cni_ctx *ctx, const struct cir_vethplug_conf *v,
			 struct cir_vethplug_gc *gc, struct cir_error *err);
void cir_vethplug_gc_free(struct cir_vethplug_gc *gc);

/* STATUS: the IPAM plugin's (CNI code 50 when it is not available). */
int cir_vethplug_status(struct cir_cni_ctx *ctx, struct cir_error *err);

#endif
