/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster.h - Circuit across hosts: the configuration, this host's entry
 * in the host registry (under a lease that `circuit agent` keeps alive),
 * and the address blocks of cluster networks (cluster_ipam.c).  The key
 * layout, TTLs and protocols are in spec/cluster.md.
 *
 * Without a cluster configured nothing here talks to anyone:
 * cir_cluster_open() says so (*out = NULL) before any etcd client exists,
 * so the local path never calls libcurl.  Library code: no printing.
 */
#ifndef CIR_CLUSTER_H
#define CIR_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "etcd.h"
#include "ip.h"

#define CIR_CLUSTER_CONF_PATH "/etc/circuit/circuit.conf"
#define CIR_CLUSTER_CONF_ENV "CIRCUIT_CONF"          /* another file (tests) */
#define CIR_CLUSTER_ENV "CIRCUIT_CLUSTER"            /* --cluster */
#define CIR_CLUSTER_HOST_ENV "CIRCUIT_HOST_NAME"     /* --host-name */
#define CIR_CLUSTER_UNDERLAY_ENV "CIRCUIT_UNDERLAY"
#define CIR_CLUSTER_CONF_MAX (64u << 10)
#define CIR_CLUSTER_NAME_MAX 63
#define CIR_CLUSTER_TTL 10                          /* host lease, seconds */
#define CIR_CLUSTER_PREFIX "/circuit/v1/"

struct cir_cluster_conf {
	char endpoints[2048];        /* "" = no cluster */
	char host_name[CIR_CLUSTER_NAME_MAX + 1];
	char underlay[CIR_IP_TEXT_MAX];   /* "" = the source address towards the first endpoint */
	char cacert[1024], cert[1024], key[1024];
	char token[4097];
	unsigned int connect_ms, timeout_ms;   /* 0 = etcd.h's defaults */
	unsigned int lease_ttl;      /* seconds */
};

/*
 * Parse circuit.conf text: "key = value" lines, '#' comments, blank lines
 * (spec/cluster.md lists the keys).  Fills only the keys present.  An
 * unknown key, a line without '=', a bad number or a value too long:
 * -EINVAL "circuit.conf:LINE: ...".
 */
int cir_cluster_conf_parse(const char *text, size_t len, struct cir_cluster_conf *c,
			   struct cir_error *err);

/*
 * The configuration in effect: defaults, then the file ($CIRCUIT_CONF, else
 * /etc/circuit/circuit.conf; absent is fine), then $CIRCUIT_CLUSTER,
 * $CIRCUIT_HOST_NAME and $CIRCUIT_UNDERLAY (the CLI's --cluster and
 * --host-name set these).  The host name defaults to the hostname; it must
 * be 1..63 of [A-Za-z0-9._-], not starting with '.' or '-'.
 */
int cir_cluster_conf_load(struct cir_cluster_conf *c, struct cir_error *err);

/* Is s a valid host name (as above)? */
bool cir_cluster_name_valid(const char *s);

/*
 * The source address the kernel would use towards host (an address) in
 * the current network namespace: RTM_GETROUTE over netlink.
 * -ENETUNREACH when there is no route.
 */
int cir_cluster_route_src(const struct cir_ip *dst, struct cir_ip *src, struct cir_error *err);

/* A session with the cluster. */
struct cir_cluster {
	struct cir_cluster_conf conf;
	struct cir_etcd *etcd;
	const char *state_dir;       /* --state, NULL = default */
	struct cir_ip underlay;      /* set by cir_cluster_underlay() */
	int64_t lease;               /* this host's live lease, 0 = none known */
};

/*
 * Load the configuration and make an etcd client.  When no cluster is
 * configured: 0 with *out = NULL (nothing else done).
 */
int cir_cluster_open(struct cir_cluster **out, const char *state_dir, struct cir_error *err);
void cir_cluster_close(struct cir_cluster *c);
static inline void cir_cluster_closep(struct cir_cluster **c)
{
	if (*c)
		cir_cluster_close(*c);
}
#define _cleanup_cluster_ __attribute__((cleanup(cir_cluster_closep)))

/* "no cluster configured (...)": the error for commands that need one. */
int cir_cluster_err_none(struct cir_error *err);

/* This host's underlay address: conf's, else the source address of the
 * route to the first endpoint (which must then be an address). */
int cir_cluster_underlay(struct cir_cluster *c, struct cir_error *err);

/*
 * This host's live lease, as the agent recorded it in the state directory
 * (cluster/lease) and etcd confirms.  -ENOLINK "host NAME has no live
 * lease: is `circuit agent` running?" otherwise.  Sets c->lease.
 */
int cir_cluster_lease(struct cir_cluster *c, struct cir_error *err);

/* The lease the agent recorded in the state directory, unchecked (no
 * request): 0 when none. */
int64_t cir_cluster_lease_recorded(struct cir_cluster *c);

/* ---- the host registry (cluster_hosts.c) ---- */

struct cir_cluster_host {
	char name[CIR_CLUSTER_NAME_MAX + 1];
	char underlay[CIR_IP_STRLEN];
	int64_t lease;
	int64_t ttl;                 /* seconds left, -1 = unknown */
	unsigned int blocks;
};

/* Every registered host, sorted by name (*out malloc'ed). */
int cir_cluster_hosts(struct cir_cluster *c, struct cir_cluster_host **out, size_t *n,
		      struct cir_error *err);

/* Every registered host, name and underlay only (no TTL or block count:
 * one request), sorted; *rev the revision read at (may be NULL). */
int cir_cluster_peers(struct cir_cluster *c, struct cir_cluster_host **out, size_t *n,
		      int64_t *rev, struct cir_error *err);

/*
 * Watch the registry from now for ms (0 = until *stop): fn(arg, joined,
 * name) per change, joined true for a host registered or renewed, false
 * for one whose key went (its lease expired).  Keys that do not name a
 * valid host are skipped.  Errors as cir_etcd_watch().
 */
int cir_cluster_hosts_watch(struct cir_cluster *c, unsigned int ms,
			    volatile sig_atomic_t *stop,
			    void (*fn)(void *arg, bool joined, const char *name), void *arg,
			    struct cir_error *err);

/*
 * Register this host: grant a lease (conf.lease_ttl), take over the
 * blocks its previous incarnation (same name, the lease recorded in the
 * state directory) still holds, put /circuit/v1/hosts/NAME, record the
 * lease, revoke the old one.  -EEXIST when another live host holds the
 * name.  *reclaimed (may be NULL) gets the number of blocks taken over.
 */
int cir_cluster_register(struct cir_cluster *c, unsigned int *reclaimed,
			 struct cir_error *err);

/* ---- the agent's part (called from `circuit agent`'s loop) ---- */

struct cir_cluster_agent;

/* event: one line per state change (registered, lease lost, etcd
 * unreachable, reachable again), error true for failures. */
typedef void (*cir_cluster_event_fn)(void *arg, bool error, const char *msg);

/*
 * Start: 0 with *out = NULL when no cluster is configured; else register
 * (a failure to reach etcd is reported through event and retried by the
 * lease thread; a bad configuration or a name held by a live host is an
 * error).  Nothing runs in the background yet.
 */
int cir_cluster_agent_start(struct cir_cluster_agent **out, const char *state_dir,
			    cir_cluster_event_fn event, void *arg, struct cir_error *err);
/*
 * Start the lease thread (call after the seccomp filter is installed: the
 * thread inherits it): keep-alives every TTL/3 from the start of the last
 * one, each bounded by TTL/3, whatever the caller's thread does; one
 * second apart while etcd cannot be reached; registration again when the
 * lease was lost.  Problems are events (from that thread).
 */
int cir_cluster_agent_run(struct cir_cluster_agent *a, struct cir_error *err);
/* The loop's session (NULL without a cluster; never used by the lease
 * thread), whether the host holds a live registration now, and how many
 * registrations there were (a new one: blocks may have been lost). */
struct cir_cluster *cir_cluster_agent_cluster(struct cir_cluster_agent *a);
bool cir_cluster_agent_registered(const struct cir_cluster_agent *a);
unsigned int cir_cluster_agent_generation(const struct cir_cluster_agent *a);
/* Stop (the lease is left to expire, so that a restart takes it over). */
void cir_cluster_agent_stop(struct cir_cluster_agent *a);
static inline void cir_cluster_agent_stopp(struct cir_cluster_agent **a)
{
	cir_cluster_agent_stop(*a);
}

/* ---- address blocks of cluster networks (cluster_ipam.c) ---- */

#define CIR_CLUSTER_BLOCK4 26
#define CIR_CLUSTER_BLOCK6 122

struct cir_cluster_block {
	char network[64];
	struct cir_cidr block;
	char host[CIR_CLUSTER_NAME_MAX + 1];
	int64_t lease, mod_rev;
};

/*
 * Claim a free block of prefix length `prefix` (0 = /26 IPv4, /122 IPv6)
 * inside subnet for this host: an etcd transaction that creates
 * /circuit/v1/blocks/NETWORK/ADDR-PREFIX only if it does not exist
 * (create_revision == 0), attached to the host's lease.  Needs a live
 * lease (cir_cluster_lease).  -ENOSPC when every block is taken.  The
 * whole call stays within the etcd timeout.
 */
int cir_cluster_block_claim(struct cir_cluster *c, const char *network,
			    const struct cir_cidr *subnet, unsigned int prefix,
			    struct cir_cidr *out, struct cir_error *err);

/*
 * Free this host's block (the caller knows it is empty): deleted only if
 * it is still this host's (a transaction on its mod_revision).  1 freed,
 * 0 already free; -EPERM when another host holds it.
 */
int cir_cluster_block_free(struct cir_cluster *c, const char *network,
			   const struct cir_cidr *block, struct cir_error *err);

/*
 * Claim that very block for this host (create-if-absent on its lease):
 * 1 it is this host's now (or was already), 0 another host holds it (its
 * name in holder, "?" when its record is damaged).
 */
int cir_cluster_block_take(struct cir_cluster *c, const char *network,
			   const struct cir_cidr *block, char *holder, size_t hsize,
			   struct cir_error *err);

/* Blocks of network (NULL = of every network), sorted (*out malloc'ed). */
int cir_cluster_blocks(struct cir_cluster *c, const char *network,
		       struct cir_cluster_block **out, size_t *n, struct cir_error *err);

/*
 * Move every block recorded for host name onto lease (transactions on
 * each block's mod_revision): a restarted host keeps its blocks.  Returns
 * how many moved.
 */
int cir_cluster_blocks_reclaim(struct cir_cluster *c, const char *name, int64_t lease,
			       struct cir_error *err);

/* Parse one block record (key and value as stored): for tests and the
 * fuzz harness.  -EBADMSG for anything malformed. */
int cir_cluster_block_parse(const char *key, size_t klen, const char *value, size_t vlen,
			    struct cir_cluster_block *out, struct cir_error *err);

/* ---- cluster networks (cluster_net.c) ---- */

#define CIR_CLUSTER_VNI_MIN 4096u
#define CIR_CLUSTER_VNI_MAX 16777215u
#define CIR_CLUSTER_VXLAN_PORT 4789
/* VXLAN's overhead over an IPv4 underlay: outer IPv4 20 + UDP 8 + VXLAN 8
 * + inner Ethernet 14. */
#define CIR_CLUSTER_VXLAN_OVERHEAD 50

/* /circuit/v1/networks/NAME: what every host needs to materialise it. */
struct cir_cluster_net {
	char name[64];
	struct cir_cidr subnet;      /* a network address */
	struct cir_ip gateway;       /* the subnet's first host */
	unsigned int vni;
	unsigned int block;          /* block prefix length */
	unsigned char mac[6];        /* the gateway's MAC, the same on every host */
	long long created;
	int64_t mod_rev;
};

/* The VNI of a network name when none is given (FNV-1a into
 * CIR_CLUSTER_VNI_MIN..MAX) and the gateway MAC (02:c1 + 4 bytes of the
 * name's hash). */
unsigned int cir_cluster_net_default_vni(const char *name);
void cir_cluster_net_mac(const char *name, unsigned char mac[6]);

/*
 * Fill and check a new record: name, subnet (canonical network address;
 * blocks of at most 1024 addresses, default /26 or /122), vni (0 =
 * default), block (0 = default).  -EINVAL naming the field.
 */
int cir_cluster_net_init(struct cir_cluster_net *n, const char *name, const char *subnet,
			 unsigned int vni, unsigned int block, struct cir_error *err);

/*
 * Record n in etcd with one transaction that creates both
 * /circuit/v1/networks/NAME and /circuit/v1/vnis/VNI only if neither
 * exists.  -EEXIST "network NAME already exists in the cluster" or "VNI N
 * is taken by network M".  Not attached to any lease.
 */
int cir_cluster_net_create(struct cir_cluster *c, const struct cir_cluster_net *n,
			   struct cir_error *err);
/* Network name: -ENOENT "no cluster network NAME" when absent. */
int cir_cluster_net_get(struct cir_cluster *c, const char *name, struct cir_cluster_net *out,
			struct cir_error *err);
/* Every cluster network, sorted by name (damaged records skipped);
 * *rev the revision read at (may be NULL). */
int cir_cluster_nets(struct cir_cluster *c, struct cir_cluster_net **out, size_t *n,
		     int64_t *rev, struct cir_error *err);
/* Delete network name and its VNI key; -EBUSY while any host holds a
 * block of it (it has members), -ENOENT when absent. */
int cir_cluster_net_delete(struct cir_cluster *c, const char *name, struct cir_error *err);
/* One record as stored (tests, fuzzing): -EBADMSG when malformed. */
int cir_cluster_net_parse(const char *key, size_t klen, const char *value, size_t vlen,
			  struct cir_cluster_net *out, struct cir_error *err);

#endif
