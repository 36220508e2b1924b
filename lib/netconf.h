/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netconf.h - Circuit networks in the store: records, members, conflists
 * and running a network's CNI plugin chain.
 *
 * Layout under the store root (see spec/cli.md):
 *
 *   networks/lock                       global lock: create, delete, name/subnet choice
 *   networks/<name>/lock                per-network lock: membership changes
 *   networks/<name>/network.json        the record (struct cir_netconf)
 *   networks/<name>/conflist.json       the CNI conflist other runtimes can load
 *   networks/<name>/members/<cid>       one member: who, where, and the cached
 *                                       final ADD result DEL needs
 *
 * Lock order: networks/lock before networks/<name>/lock.  A network removed
 * while someone waited for its lock is detected by cir_network_open() after
 * the lock is taken (its record is gone): -ENOENT, never a half state.
 *
 * The chain runner does what libcni does for a conflist: ADD runs the
 * plugins in order, each result becoming the next plugin's prevResult; DEL
 * and CHECK get the cached final result.  Unlike libcni, a failed ADD is
 * rolled back (DEL over the whole chain) so that nothing is left behind, and
 * DEL keeps going after a plugin fails and reports the first error.
 */
#ifndef CIR_NETCONF_H
#define CIR_NETCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"
#include "cni.h"
#include "error.h"
#include "ip.h"
#include "json.h"
#include "store.h"

#define CIR_NETCONF_DIR "networks"
#define CIR_NETCONF_RECORD "network.json"
#define CIR_NETCONF_CONFLIST "conflist.json"
#define CIR_NETCONF_MEMBERS "members"

/* Plugin types of the chain `circuit network create` writes. */
#define CIR_NETCONF_BRIDGE_PLUGIN "circuit-bridge"
#define CIR_NETCONF_OVS_PLUGIN "circuit-ovs"
#define CIR_NETCONF_IPAM_PLUGIN "circuit-ipam"
#define CIR_NETCONF_PORTMAP_PLUGIN "circuit-portmap"
/* cniVersion of a generated conflist unless asked otherwise: the newest
 * that every runtime Circuit is tested with reads (Debian 12's podman 4.3
 * and containerd 1.6 reject 1.1.0 results).  The plugins speak 0.3.0 to
 * CIR_CNI_SPEC_VERSION whatever a conflist says. */
#define CIR_NETCONF_CNI_VERSION "1.0.0"

/* Subnets of one network: at most one per address family. */
#define CIR_NETCONF_SUBNETS_MAX 2

/* The main plugin of a network's chain (its switch), the record's
 * "driver": "bridge" (circuit-bridge, a Linux bridge; the default, and
 * what a record without the key means) or "ovs" (circuit-ovs, an Open
 * vSwitch bridge; spec/ovs.md). */
enum cir_net_driver {
	CIR_NET_DRIVER_BRIDGE = 0,
	CIR_NET_DRIVER_OVS,
};
/* "bridge", "ovs" */
const char *cir_net_driver_name(enum cir_net_driver d);
/* -EINVAL (one line) for another name. */
int cir_net_driver_parse(const char *s, enum cir_net_driver *d, struct cir_error *err);
/* Room for ovsdb-server's socket path (sun_path). */
#define CIR_NETCONF_OVSDB_MAX 108

/* A network record.  subnet and gateway are the first of subnets[] and
 * gateways[] (the keys records have always had); a dual-stack network has
 * a second subnet of the other family.  A record without "subnets" (made
 * before dual stack) reads as its one subnet. */
struct cir_netconf {
	char name[CIR_CNI_NAME_MAX + 1];
	char subnet[CIR_CIDR_STRLEN];   /* "" when the chain names none */
	char gateway[CIR_IP_STRLEN];    /* "" when none */
	char subnets[CIR_NETCONF_SUBNETS_MAX][CIR_CIDR_STRLEN];
	char gateways[CIR_NETCONF_SUBNETS_MAX][CIR_IP_STRLEN];  /* "" when none */
	unsigned int n_subnets;
	char bridge[CIR_IFNAMSIZ];      /* "" when the chain names none */
	unsigned int mtu;               /* 0 = kernel default */
	bool masquerade;                /* Circuit keeps a masquerade for its subnets */
	bool masquerade6;               /* ... IPv6 ones included (with masquerade) */
	bool managed;                   /* Circuit owns bridge, gateway, masquerade
					 * (generated chain); false for imported chains */
	bool hook;                      /* made by the OCI hook: removed with its last member */
	long long created;              /* unix seconds */
	/* A cluster network (spec/cluster.md): this host's materialisation
	 * of /circuit/v1/networks/NAME; its IPAM allocates inside the host's
	 * address blocks of block_size, its bridge has a VXLAN port. */
	bool cluster;
	unsigned int vni;
	unsigned int block_size;
	/* The switch (generated chains): driver, and for "ovs" the ports'
	 * VLAN tag (0 = none) and ovsdb-server's socket ("" = the default
	 * CIR_OVSDB_SOCKET).  Kept in the record only for "ovs". */
	enum cir_net_driver driver;
	unsigned int vlan;
	char ovsdb[CIR_NETCONF_OVSDB_MAX];
};

/* --publish values one member keeps, and their canonical text's size. */
#define CIR_MEMBER_PUBLISH_MAX 32
#define CIR_MEMBER_PUBLISH_STRLEN 96

/* One container attached to a network. */
struct cir_member {
	char cid[CIR_CNI_ID_MAX + 1];   /* CNI container id */
	char ifname[CIR_IFNAMSIZ];
	long long pid;                  /* 0 = unknown */
	unsigned long long starttime;   /* /proc/PID/stat field 22, with pid: identity */
	char boot_id[40];               /* kernel boot the pid belongs to */
	char netns[64];                 /* CNI_NETNS used for ADD */
	char address[CIR_CIDR_STRLEN];  /* first address of the result, "" if none */
	/* Every address of the result (one per family on a dual-stack
	 * network), the first being address. */
	char addresses[CIR_NETCONF_SUBNETS_MAX][CIR_CIDR_STRLEN];
	unsigned int n_addresses;
	bool hook;                      /* attached by the OCI hook */
	/* Published ports (--publish), canonical text ("8080:80/tcp"),
	 * passed to the chain as the portMappings capability. */
	char publish[CIR_MEMBER_PUBLISH_MAX][CIR_MEMBER_PUBLISH_STRLEN];
	unsigned int n_publish;
	bool pending;                   /* written before the chain's ADD, cleared after
					 * it: a pending member seen under the network's
					 * lock is a connect that never finished */
};

/* The open "networks" directory.  A read-only db (cir_netdb_open_ro) may
 * have fd -1: an empty store. */
struct cir_netdb {
	struct cir_store st;
	int fd;
	bool ro;
};
#define CIR_NETDB_INIT { CIR_STORE_INIT, -1, false }

/* An open network: its directory, members directory, lock (or -1), record
 * and conflist (parsed and raw). */
struct cir_network {
	int fd;
	int members_fd;
	int lock;
	struct cir_netconf conf;
	struct cir_json *conflist;
	char *conflist_raw;
};
#define CIR_NETWORK_INIT { .fd = -1, .members_fd = -1, .lock = -1 }

/*
 * Open (creating) <root>/networks, root as chosen by cir_store_root(dir).
 * db is set only on success; close with cir_netdb_close().
 */
int cir_netdb_open(struct cir_netdb *db, const char *dir, struct cir_error *err);
/*
 * Open <root>/networks for looking only (ls, inspect, export, show):
 * creates nothing, not even a member directory or a lock file; see
 * cir_store_open_sub_ro() for what an absent root or directory means.
 * Such a db lists no networks and opens none when the store is empty;
 * cir_network_open() on it refuses lock = true (-EROFS).
 */
int cir_netdb_open_ro(struct cir_netdb *db, const char *dir, struct cir_error *err);
void cir_netdb_close(struct cir_netdb *db);
/* A db closed when it goes out of scope (CIR_NETDB_INIT or opened). */
#define _cleanup_netdb_ _cleanup_(cir_netdb_close)

/* Take the global lock (networks/lock).  Returns the fd; close it to unlock. */
int cir_netdb_lock(struct cir_netdb *db, struct cir_error *err);

/* Call fn(name, arg) for every network, sorted by name.  A negative return
 * from fn stops the walk and is returned. */
int cir_netdb_list(struct cir_netdb *db, int (*fn)(const char *name, void *arg), void *arg,
		   struct cir_error *err);

/*
 * Store a new network: record nc and conflist text (validated with
 * cir_conflist_parse, its name must be nc->name).  Hold the global lock.
 * -EEXIST "network NAME already exists"; -EINVAL for a bad name or
 * conflist.  On failure nothing is left.
 */
int cir_network_create(struct cir_netdb *db, const struct cir_netconf *nc,
		       const char *conflist, struct cir_error *err);

/*
 * Open network name; with lock, take its lock first and then check that it
 * still exists.  -ENOENT "network NAME not found"; -EINVAL/-EBADMSG when its
 * record is damaged or names another network.  n is set only on success;
 * close with cir_network_close() (which unlocks).
 */
int cir_network_open(struct cir_netdb *db, const char *name, bool lock, struct cir_network *n,
		     struct cir_error *err);
void cir_network_close(struct cir_network *n);
/* A network closed when it goes out of scope (CIR_NETWORK_INIT or opened). */
#define _cleanup_network_ _cleanup_(cir_network_close)

/*
 * Remove network name's state: record, conflist, members, lock, directory.
 * Hold the global lock and the network's.  Idempotent (0 when absent).
 */
int cir_network_remove(struct cir_netdb *db, const char *name, struct cir_error *err);

/*
 * Append subnet (canonical CIDR text) with its gateway (may be "" or NULL)
 * to nc; the first also becomes nc->subnet and nc->gateway.  -EINVAL when
 * nc has a subnet of that family already ("at most one subnet per address
 * family"), -ENOSPC beyond CIR_NETCONF_SUBNETS_MAX.
 */
int cir_netconf_add_subnet(struct cir_netconf *nc, const char *subnet, const char *gateway,
			   struct cir_error *err);

/*
 * The subnets nc masquerades as one comma-separated list ("10.254.1.0/24,
 * fd00:1::/64"; IPv6 ones only with masquerade6) into buf, the form
 * cir_masq_acquire() takes.  Returns how many (0: none, buf "").
 */
int cir_netconf_masq_subnets(const struct cir_netconf *nc, char *buf, size_t len);

/* Record <-> JSON.  Parse fills *nc (checked); format returns a malloc'd
 * document in *out. */
int cir_netconf_parse(const struct cir_jnode *root, struct cir_netconf *nc,
		      struct cir_error *err);
int cir_netconf_format(const struct cir_netconf *nc, bool pretty, char **out,
		       struct cir_error *err);
/* Emit the record's keys, as stored, into the map the caller opened in g. */
void cir_netconf_emit(struct cir_jgen *g, const struct cir_netconf *nc);
/* The record as the CLI shows it (ls, inspect): the same keys, but created
 * in RFC 3339 (cir_jgen_ktime) and mtu as given (the effective MTU). */
void cir_netconf_emit_shown(struct cir_jgen *g, const struct cir_netconf *nc,
			    unsigned int mtu);

/* ---- members ---- */

/* Read member cid into *m and, when result_json is non-NULL, its cached
 * result document (malloc'd, NULL when none).  -ENOENT when absent,
 * -EINVAL/-EBADMSG when its record is damaged or names another container. */
int cir_member_get(struct cir_network *n, const char *cid, struct cir_member *m,
		   char **result_json, struct cir_error *err);

/* Write member m with its cached result (may be NULL), atomically. */
int cir_member_put(struct cir_network *n, const struct cir_member *m, const char *result_json,
		   struct cir_error *err);

/* Remove member cid.  1 removed, 0 already absent. */
int cir_member_del(struct cir_network *n, const char *cid, struct cir_error *err);

/*
 * Call fn(m, arg) for every member, sorted by container id (the list is read
 * first, so fn may add or remove members).  Returns the count, or a
 * negative return from fn.
 */
int cir_member_list(struct cir_network *n, int (*fn)(const struct cir_member *m, void *arg),
		    void *arg, struct cir_error *err);

/* Set m's address and addresses from a chain's result (the first
 * CIR_NETCONF_SUBNETS_MAX of its ips). */
void cir_member_set_addresses(struct cir_member *m, const struct cir_cni_result *res);

/* The CNI_ARGS that ask for m's addresses again ("IgnoreUnknown=1;IP=a,b",
 * without prefix lengths) into buf; "" when m has none. */
void cir_member_ip_args(const struct cir_member *m, char *buf, size_t len);

/* Emit a member's keys (container, pid, interface, address, addresses, netns, hook)
 * into the JSON object the caller has open, so it can add its own. */
void cir_member_emit(struct cir_jgen *g, const struct cir_member *m);

/*
 * Fill m's pid, starttime, boot id and netns path for process pid.
 * -ESRCH "process PID not found" when it does not exist.
 */
int cir_member_set_process(struct cir_member *m, long long pid, struct cir_error *err);

/* 1 when m's process (same boot, pid and start time) still runs, else 0. */
int cir_member_alive(const struct cir_member *m);

/* ---- conflists ---- */

/*
 * Check a conflist document: cniVersion supported, name a valid network
 * name, plugins a non-empty array of objects each with a string type.  A
 * single-plugin config (a .conf with "type" and no "plugins") is refused
 * here; see cir_conflist_normalize().
 */
int cir_conflist_check(const struct cir_jnode *root, struct cir_error *err);

/*
 * Normalise text (a .conflist, or a single-plugin .conf turned into a
 * one-plugin list) with its name set to name and its cniVersion to version
 * (each when non-NULL), checked by cir_conflist_check().  *out is a
 * malloc'd document.  An unsupported version is code 1.
 */
int cir_conflist_normalize(const char *text, size_t len, const char *name, const char *version,
			   char **out, struct cir_error *err);

/*
 * What a record needs from an imported conflist: subnets and gateways of
 * the first plugin with an ipam "subnet" or "ranges" (the first range of
 * each range set, one per family), bridge of the first
 * "bridge"/"circuit-bridge"/"circuit-ovs" plugin (driver "ovs", its vlan
 * and ovsdbSocket for the last), mtu.  Fields not found stay "".
 */
void cir_conflist_describe(const struct cir_jnode *root, struct cir_netconf *nc);

/* The chain `circuit network create` writes for nc: circuit-bridge (or
 * circuit-ovs with its "vlan" and "ovsdbSocket" for driver "ovs")
 * (gateways, default routes, ipMasq as the record says, "ipMasq6": false
 * without masquerade6) delegating to circuit-ipam: "subnet" for one subnet,
 * "ranges" with one range set per family for several, at cniVersion version
 * (NULL: CIR_NETCONF_CNI_VERSION; an unsupported one is code 1); then
 * circuit-portmap with "capabilities": {"portMappings": true}, so that
 * podman's -p and `connect --publish` work on the chain alone.  *out is a
 * malloc'd pretty document. */
int cir_conflist_generate(const struct cir_netconf *nc, const char *version, char **out,
			  struct cir_error *err);

/* Does a plugin of the conflist declare capability cap ("portMappings")? */
bool cir_conflist_has_capability(const struct cir_json *conflist, const char *cap);

/* ---- running a chain ---- */

struct cir_chain_rt {
	const char *cid;
	const char *netns;       /* may be NULL for DEL */
	const char *ifname;
	const char *args;        /* CNI_ARGS, may be NULL */
	const char *path;        /* CNI_PATH: where plugins are looked up */
	/* Capability arguments, an object {"portMappings": [...]} (may be
	 * NULL): a plugin whose "capabilities" names one of its keys true gets
	 * runtimeConfig.<key>, as libcni passes them. */
	const struct cir_jnode *caps;
};

/*
 * ADD: run the chain in order.  On success *result_json is the final result
 * (malloc'd) and *res (may be NULL) its parsed form.  On failure the chain
 * is deleted again (best effort) and *err names the failing plugin.
 */
int cir_chain_add(const struct cir_json *conflist, const struct cir_chain_rt *rt,
		  char **result_json, struct cir_cni_result *res, struct cir_error *err);

/*
 * DEL: run the chain in reverse with the cached result (may be NULL) as
 * prevResult (cniVersion >= 0.4.0).  Every plugin runs; returns the first
 * error.
 */
int cir_chain_del(const struct cir_json *conflist, const struct cir_chain_rt *rt,
		  const char *result_json, struct cir_error *err);

/* CHECK: run the chain in order with the cached result.  A conflist older
 * than 0.4.0 (no CHECK) or a missing result counts as -ENOTSUP. */
int cir_chain_check(const struct cir_json *conflist, const struct cir_chain_rt *rt,
		    const char *result_json, struct cir_error *err);

/*
 * GC: every plugin gets cni.dev/valid-attachments = valid[0..n) and
 * releases the rest.  Every plugin runs; returns the first error.  Without
 * keep_live the conflist's cniVersion must be >= 1.1.0 (else a no-op
 * returning 0).  With keep_live the configs carry CIR_CNI_GC_KEEP_LIVE
 * (lib/cni.h) and only Circuit's own plugins run, others cannot be told to
 * spare what other runtimes attached; they are asked at cniVersion
 * CIR_CNI_SPEC_VERSION whatever the conflist says (they all have GC), so a
 * network exported at 1.0.0 for older runtimes is collected the same way.
 */
struct cir_chain_attachment {
	const char *cid;
	const char *ifname;
};
int cir_chain_gc(const struct cir_json *conflist, const char *path,
		 const struct cir_chain_attachment *valid, size_t n, bool keep_live,
		 struct cir_error *err);

#endif
