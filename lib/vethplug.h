/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vethplug.h - a veth main plugin's five verbs, whatever its switch:
 * circuit-bridge (a Linux bridge) and circuit-ovs (an Open vSwitch bridge)
 * run the same sequences here and differ only in a small table of switch
 * operations (struct cir_vethplug_switch_ops): make the switch, attach a
 * host veth to it, take it off, tell whether it is on, list its ports.
 * Everything else is here: the common config keys, IPAM delegation, the
 * veth pair with its container end born in the container's namespace, the
 * container's addresses and routes, the gateways on the switch's
 * interface, the result, the masquerade, rollback, and the container side
 * of CHECK and GC.  A third switch fills the table.  See spec/backends.md.
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

/* The switch's name: the config's "bridge" (an interface name; CNI code 7
 * otherwise), or the network's derived one (cir_name_bridge). */
int cir_vethplug_switch_name(const struct cir_cni_conf *conf, char out[CIR_IFNAMSIZ],
			     struct cir_error *err);

/* Parse isGateway, isDefaultGateway, ipMasq, ipMasq6, mtu, dataDir; an
 * ipam type is required.  CNI code 7 for bad values. */
int cir_vethplug_conf_parse(const struct cir_cni_conf *conf, struct cir_vethplug_conf *v,
			    struct cir_error *err);

/* An ADD in progress: what it made so far, for the switch's operations and
 * the rollback. */
struct cir_vethplug_add {
	struct cir_cni_ctx *ctx;
	const struct cir_vethplug_conf *v;
	struct nl_sock *sk;          /* NETLINK_ROUTE in the host's namespace */
	int nsfd;                    /* the container's namespace */
	const char *sw_name;         /* the switch's gateway interface */
	struct cir_link_info sw;     /* ... as ensure found it (ifindex, mac) */
	struct cir_link_info hv;     /* the host end, once made */
	struct cir_cni_result ipam;
	char host[CIR_IFNAMSIZ];
	bool sw_made;                /* ensure made the switch */
	bool veth_made, attached, ipam_done;
};

/* GC: the host veth names of the valid attachments. */
struct cir_vethplug_gc {
	char (*names)[CIR_IFNAMSIZ];
	size_t n, cap;
	bool keep_live;              /* CIR_CNI_GC_KEEP_LIVE */
	struct nl_sock *sk;          /* NETLINK_ROUTE in the host's namespace */
};
/* Is host veth name a valid attachment's? */
bool cir_vethplug_gc_valid(const struct cir_vethplug_gc *gc, const char *name);

struct cir_vethplug_switch;

/*
 * What a switch does for the verbs below.  Every operation returns -errno
 * with err set (no printing) and must be idempotent; an optional one may
 * be NULL.  The verbs call them in this order:
 *   ADD    ensure, (veth pair), attach, (IPAM, container, masquerade);
 *          on failure detach (if attach succeeded), (IPAM, veth), then
 *          remove (if ensure made the switch)
 *   DEL    port_del, (host veth, IPAM, masquerade)
 *   CHECK  (IPAM, the switch's interface and the host veth), port_check,
 *          (container, masquerade)
 *   GC     (IPAM), gc_ports, (masquerade)
 *   STATUS status, (IPAM)
 */
struct cir_vethplug_switch_ops {
	/* The switch's name in errors ("bridge", "ovs bridge"). */
	const char *what;
	/* DEL of an attachment whose container namespace is gone leaves the
	 * host veth detached, down and marked released (the kernel deletes
	 * the pair with that namespace; GC and the next ADD of its name
	 * reclaim it) instead of deleting it: for a switch netlink detaches
	 * a port from.  Without it DEL always deletes the host veth. */
	bool del_lazy;
	/* The switch and its gateway interface a->sw_name exist and are up;
	 * a->sw describes the interface, a->sw_made says this call made it. */
	int (*ensure)(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a,
		      struct cir_error *err);
	/* The host end a->host (a->hv) up and a port of the switch. */
	int (*attach)(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a,
		      struct cir_error *err);
	/* Undo attach (NULL: deleting the veth is enough). */
	void (*detach)(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a);
	/* Undo ensure: the switch goes while it has no port. */
	void (*remove)(struct cir_vethplug_switch *sw, struct cir_vethplug_add *a);
	/* DEL: host veth `host` off the switch before it is deleted (NULL:
	 * deleting it is enough).  Its failure does not stop DEL: it is
	 * returned once the rest is done. */
	int (*port_del)(struct cir_vethplug_switch *sw, struct cir_cni_ctx *ctx, const char *host,
			struct cir_error *err);
	/* CHECK: host veth `host` (hv) is a port of the switch (swl, its
	 * interface); an error says what is wrong. */
	int (*port_check)(struct cir_vethplug_switch *sw, const struct cir_link_info *swl,
			  const char *host, const struct cir_link_info *hv,
			  struct cir_error *err);
	/* GC: remove the switch's host veths no valid attachment has
	 * (cir_vethplug_gc_valid), never with gc->keep_live. */
	int (*gc_ports)(struct cir_vethplug_switch *sw, struct cir_cni_ctx *ctx,
			struct cir_vethplug_gc *gc, struct cir_error *err);
	/* STATUS: the switch answers (NULL: nothing to ask). */
	int (*status)(struct cir_vethplug_switch *sw, struct cir_error *err);
};

/* A plugin's switch for one verb: the plugin embeds it in its own state
 * (its parsed config, a connection) and finds that with container_of. */
struct cir_vethplug_switch {
	const struct cir_vethplug_switch_ops *ops;
	const struct cir_vethplug_conf *v;
	const char *name;            /* its gateway interface */
};

/*
 * The verbs, on a parsed config.  ADD: the switch, the veth pair (host end
 * named by cir_name_host_veth, a detached and down leftover of that name
 * reclaimed; CNI code 18 when either name is taken), the port, IPAM (at
 * least one address), the gateways on the switch (isGateway), the
 * container's addresses, routes and interfaces, the result, the
 * masquerade; everything undone on failure.  DEL tolerates what is gone.
 * CHECK needs prevResult.  GC releases what no valid attachment has (only
 * circuit-ipam is asked when keep-live).  STATUS: CNI code 50 when IPAM is
 * not available.
 */
typedef int (*cir_vethplug_verb_fn)(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
				   struct cir_error *err);
int cir_vethplug_add(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
		     struct cir_error *err);
int cir_vethplug_del(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
		     struct cir_error *err);
int cir_vethplug_check(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
		       struct cir_error *err);
int cir_vethplug_gc(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
		    struct cir_error *err);
int cir_vethplug_status(struct cir_cni_ctx *ctx, struct cir_vethplug_switch *sw,
			struct cir_error *err);

#endif
