/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network.h - a network's life: create (subnet checks, bridge ownership,
 * record, conflist), ensure (bridge, gateway, masquerade), connect and
 * disconnect of a container (write-ahead pending member, duplicate and
 * takeover rules, the container namespace lock, the first free ethN,
 * published ports), delete (members, other modules' state, teardown).
 *
 * The `circuit` CLI, the OCI hook, `circuit restore` and the cluster sync
 * call these; none of them prints.  What the caller wants to hear about
 * (debug lines, a kept bridge) reaches it through ctx->log, and what other
 * modules keep per member or per network is dropped through the ctx's
 * member_gone / network_delete callbacks.
 *
 * A network Circuit generates ("managed") owns its bridge "c-<name>", the
 * gateway address on it and its masquerade from create to delete; members
 * are attached by running the network's conflist chain (circuit-bridge +
 * circuit-ipam, or an imported chain) with CNI ADD against /proc/PID/ns/net.
 */
#ifndef CIR_NETWORK_H
#define CIR_NETWORK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ip.h"
#include "json.h"
#include "log.h"
#include "netconf.h"
#include "runc.h"

/* What the caller of a network operation provides. */
struct cir_net_ctx {
	const char *plugin_path;     /* CNI_PATH handed to the chain's plugins */
	/* Optional: one message line at level (CIR_LOG_WARN, CIR_LOG_DEBUG);
	 * debug lines are formatted only when debug is set. */
	void (*log)(void *arg, enum cir_log_level level, const char *msg);
	bool debug;
	/* Optional: member cid left n (locked), after its chain DEL. */
	int (*member_gone)(void *arg, struct cir_network *n, const char *cid,
			   struct cir_error *err);
	/* Optional: n (locked) is being deleted, its members gone, its
	 * bridge not yet. */
	int (*network_delete)(void *arg, struct cir_network *n, struct cir_error *err);
	void *arg;
};

/* A network to create, as `network create` or the hook asks for it. */
struct cir_net_spec {
	const char *name;
	const char *subnet;          /* NULL with conflist */
	const char *const *more_subnets;   /* --subnet: at most one per family in all */
	int n_more;
	const char *gateway;         /* NULL = first host (of its subnet's family) */
	unsigned int mtu;            /* 0 = default */
	bool no_masquerade;
	bool no_masquerade6;         /* masquerade IPv4 only */
	bool allow_reserved;         /* may take a loopback, link-local, multicast... range */
	bool private_only;           /* subnet must be a private-use range (from a container's config) */
	const char *conflist;        /* imported chain file, or NULL for ours */
	const char *cni_version;     /* conflist cniVersion; NULL: CIR_NETCONF_CNI_VERSION for
					ours, an imported chain's own */
	bool hook;                   /* made by the OCI hook */
	enum cir_net_driver driver;  /* the main plugin: bridge (default) or ovs */
	unsigned int vlan;           /* ovs: the ports' VLAN tag, 0 = none */
	const char *ovsdb;           /* ovs: ovsdb-server's socket, NULL = default */
};

/* Create a network (record, conflist, bridge, gateway, masquerade).  The
 * caller holds the global lock.  Refuses an existing name and a subnet that
 * overlaps another network or an address on this host. */
int cir_net_create(const struct cir_net_ctx *ctx, struct cir_netdb *db,
		   const struct cir_net_spec *spec, struct cir_error *err);

/* Make sure a managed network's bridge, gateway and masquerade exist.
 * Returns how many objects were (re)made (0 = all were in place). */
int cir_net_ensure(const struct cir_net_ctx *ctx, const struct cir_netconf *nc,
		   struct cir_error *err);

/* A process to connect. */
struct cir_net_attach {
	long long pid;               /* container process */
	const char *cid;             /* CNI container id, NULL = "pid-<pid>" */
	const char *name;            /* the container in messages, NULL = its pid */
	const char *ifname;          /* NULL = eth0 or the next free ethN */
	const char *ip;              /* requested address, may be NULL */
	const char *const *publish;  /* --publish values, n_publish of them */
	int n_publish;
	bool hook;
};

/*
 * The capability arguments for m's published ports ({"portMappings":
 * [...]}) as a tree for cir_chain_rt.caps: *caps is NULL when m publishes
 * nothing.  -EINVAL when a recorded value no longer parses.
 */
int cir_net_member_caps(const struct cir_member *m, struct cir_json **caps,
			struct cir_error *err);

/* Connect a process to network n (locked).  -EEXIST when its namespace is
 * already on n.  *out (may be NULL) gets the new member. */
int cir_net_connect(const struct cir_net_ctx *ctx, struct cir_network *n,
		    const struct cir_net_attach *att, struct cir_member *out,
		    struct cir_error *err);

/* Disconnect member m of n (locked): chain DEL with the cached result, then
 * forget the member (and ctx->member_gone).  A member already gone is 0. */
int cir_net_disconnect(const struct cir_net_ctx *ctx, struct cir_network *n,
		       const struct cir_member *m, struct cir_error *err);

/*
 * The member `network disconnect` names (*out): by PID as recorded (a live
 * process first), or by runc container ID (id not NULL): the member with
 * that container id, else the member holding the process runc recorded for
 * it.  -ENOENT (CIR_CNI_NOT_FOUND) when none; -ESRCH when pid names no
 * process and no member.
 */
int cir_net_find_member(struct cir_network *n, const char *id, long long pid,
			struct cir_member *out, struct cir_error *err);

/* Delete network name: disconnect members, ctx->network_delete, remove
 * bridge, masquerade, state.  The caller holds the global lock. */
int cir_net_delete(const struct cir_net_ctx *ctx, struct cir_netdb *db, const char *name,
		   struct cir_error *err);

/* The MTU a network shows: the record's, else what its bridge has (the
 * kernel's default, or the smallest of its ports), else 1500.  *sk is
 * opened on first use and left to the caller to free. */
struct nl_sock;
unsigned int cir_net_shown_mtu(struct nl_sock **sk, const struct cir_netconf *nc);

/* Does network nc have subnet (any of its subnets: a dual-stack one asked
 * for by its IPv6 subnet is the same network)?  A subnet that does not
 * parse matches (it is refused where a network is made). */
bool cir_net_has_subnet(const struct cir_netconf *nc, const char *subnet);

/*
 * The first free /size (or the pool's own prefix when longer) of an IPv4
 * private-use pool: overlapping no network, host address or route, as
 * text into out.  The caller holds the global lock.  -EPERM for a pool
 * outside the private-use ranges, -ENOSPC (CIR_CNI_POOL_EXHAUSTED) when
 * none is free.
 */
int cir_net_pool_pick(struct cir_netdb *db, const char *pool, unsigned int size,
		      char *out, size_t len, struct cir_error *err);

/* Does subnet overlap another network (other than `self`), an address on
 * this host or a route of its main table (default routes aside)?  1 yes
 * (with a message in *err), 0 no, -errno. */
int cir_net_overlaps(struct cir_netdb *db, const char *subnet, const char *self,
		     struct cir_error *err);

/* What a new subnet must not overlap, read once (the hook's pool search
 * tests every candidate against one snapshot instead of re-reading the
 * store and the kernel per candidate). */
struct cir_net_taken {
	struct cir_cidr c;
	char what[160];              /* "network NAME (SUBNET)", "address A on IF", "route R on IF" */
};
struct cir_net_taken_set {
	struct cir_net_taken *v;
	size_t n, cap;
};
int cir_net_taken(struct cir_netdb *db, const char *self, struct cir_net_taken_set *t,
		  struct cir_error *err);
const struct cir_net_taken *cir_net_taken_find(const struct cir_net_taken_set *t,
					       const struct cir_cidr *sn);
void cir_net_taken_free(struct cir_net_taken_set *t);

#endif
