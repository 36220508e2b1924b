/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qosnet.h - the QoS of a Circuit network (spec/qos.md, "The CLI"): what
 * `circuit network qos`, `circuit restore`, `network inspect`, disconnect
 * and the circuit-qos plugin decide, in one place.
 *
 * Three targets, two records:
 *  - the network: the bridge's egress (what the host sends into the
 *    network), recorded in networks/<name>/qos.json;
 *  - the members' default and one member's own settings: the circuit-qos
 *    entry of the network's chain (top-level settings and its "containers"
 *    map), which the plugin applies to every ADD and `restore` re-applies.
 * cir_qos_entry_parse/cir_qos_entry_emit are the one parser and emitter of
 * that chain entry, for the CLI and the plugin alike.
 */
#ifndef CIR_QOSNET_H
#define CIR_QOSNET_H

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"
#include "cni.h"
#include "netconf.h"
#include "qos.h"

/* The plugin's "type" in a chain. */
#define CIR_QOS_PLUGIN "circuit-qos"

/* ---- the circuit-qos chain entry ---- */

/* One member's own settings (the entry's "containers" map). */
struct cir_qos_member {
	char cid[CIR_CNI_ID_MAX + 1];
	struct cir_qos_dirs q;
};

struct cir_qos_entry {
	struct cir_qos_dirs def;        /* top level: every member's default */
	struct cir_qos_member *ov;      /* "containers": per member */
	size_t n_ov;
};

/* Parse a whole circuit-qos entry (its settings, cir_qos_dirs_parse, and
 * every "containers" entry) into *e (zeroed first; free with
 * cir_qos_entry_free even on failure).  Does not validate the settings. */
int cir_qos_entry_parse(const struct cir_jnode *entry, struct cir_qos_entry *e,
			struct cir_error *err);

/* Emit e as a chain entry (an object with "type": "circuit-qos"). */
void cir_qos_entry_emit(struct cir_jgen *g, const struct cir_qos_entry *e);

/*
 * The settings in force for container cid (NULL: the top level) in the
 * plugin config conf: its "containers" entry when there is one, else the
 * top level, then runtimeConfig.bandwidth over it; validated.  Errors
 * carry CNI code 7 (invalid config).
 */
int cir_qos_entry_for_container(const struct cir_cni_conf *conf, const char *cid,
				struct cir_qos_dirs *d, struct cir_error *err);

/* Give cid settings of its own (-ENOMEM), or forget them. */
int cir_qos_entry_set(struct cir_qos_entry *e, const char *cid, const struct cir_qos_dirs *d);
void cir_qos_entry_drop(struct cir_qos_entry *e, const char *cid);

/* The settings in force for member cid: its own, else the default. */
const struct cir_qos_dirs *cir_qos_entry_get(const struct cir_qos_entry *e, const char *cid);
/* True when cid has settings of its own. */
bool cir_qos_entry_has(const struct cir_qos_entry *e, const char *cid);
void cir_qos_entry_free(struct cir_qos_entry *e);

/* ---- a network's state ---- */

struct cir_qosnet {
	struct cir_qos net;             /* bridge egress (qos.json) */
	struct cir_qos_entry chain;     /* members (the chain entry) */
	bool bandwidth;                 /* the chain has the reference bandwidth plugin */
};

/* Load n's records into *st (free with cir_qosnet_free, or declare it
 * _cleanup_qosnet_). */
int cir_qosnet_load(struct cir_network *n, struct cir_qosnet *st, struct cir_error *err);
void cir_qosnet_free(struct cir_qosnet *st);
#define _cleanup_qosnet_ _cleanup_(cir_qosnet_free)

/* Some of the settings fields, as given on a command line. */
struct cir_qos_patch {
	struct cir_qos v;
	bool rate, ceil, burst, delay, jitter, loss, corr;
};

bool cir_qos_patch_any(const struct cir_qos_patch *p);

enum cir_qos_target_kind { CIR_QOS_NETWORK, CIR_QOS_DEFAULT, CIR_QOS_MEMBER };

/* What a set or reset acts on. */
struct cir_qos_target {
	enum cir_qos_target_kind kind;
	const char *container;          /* CIR_QOS_MEMBER: an id, a pid or a runc ID, */
	const char *iface;              /* ... or the member's host-side veth */
	char cid[CIR_CNI_ID_MAX + 1];   /* out: the member found */
};

/*
 * Merge p into the target's settings field by field, validate, apply them
 * to the kernel (the bridge, or the running members' links) and record
 * them.  Members' settings need a chain without the bandwidth plugin.  A
 * kernel or store failure puts the previous state back.  n is locked.
 */
int cir_qosnet_set(struct cir_network *n, struct cir_qosnet *st, struct cir_qos_target *t,
		   const struct cir_qos_patch *p, struct cir_error *err);

/* Remove the target's settings (a member falls back to the default; a
 * member that left has its settings forgotten), then delete ifbs left
 * without a device.  Idempotent. */
int cir_qosnet_reset(struct cir_network *n, struct cir_qosnet *st, struct cir_qos_target *t,
		     struct cir_error *err);

/*
 * Re-apply n's recorded bridge shaping and every running member's link
 * shaping where the kernel differs.  Looks before it writes.  Returns the
 * number of changes.
 */
int cir_qosnet_restore(struct cir_network *n, struct cir_error *err);

/* Member cid left n (locked): forget its own settings.  Idempotent. */
int cir_qosnet_member_gone(struct cir_network *n, const char *cid, struct cir_error *err);

/* Emit "qos": {"network", "default", "containers"} into the open map. */
void cir_qosnet_emit(struct cir_jgen *g, const struct cir_qosnet *st);

/* Emit key: settings (an object, or null when empty) into the open map. */
void cir_qosnet_emit_settings(struct cir_jgen *g, const char *key, const struct cir_qos_dirs *d);

/* The two writers (qosnet.c), for qosnet_apply.c: qos.json (removed when
 * net is empty), and the conflist with entry e (dropped when empty),
 * checked and swapped into n. */
int cir_qosnet_record_write(struct cir_network *n, const struct cir_qos *net,
			    struct cir_error *err);
int cir_qosnet_chain_write(struct cir_network *n, const struct cir_qos_entry *e,
			   struct cir_error *err);

/* ---- what the kernel has ---- */

/* The bridge: its name ("-" when the network has none or it is gone) and
 * its egress shaping (zero when none; burst only when one was set). */
void cir_qosnet_bridge_state(struct cir_network *n, const struct cir_qosnet *st,
			     char iface[CIR_IFNAMSIZ], struct cir_qos *have);

/* One member as `qos show` lists it. */
struct cir_qos_member_state {
	const char *cid;
	const struct cir_qos_dirs *want;   /* in force */
	bool own;                          /* its own settings, not the default */
	bool has_link;                     /* host veth found and read */
	char iface[CIR_IFNAMSIZ];          /* "-" without a link */
	struct cir_qos in, out;            /* kernel: into / out of the container */
};

/* Call fn for every member of n, in the store's order. */
int cir_qosnet_members_state(struct cir_network *n, const struct cir_qosnet *st,
			     int (*fn)(const struct cir_qos_member_state *m, void *arg),
			     void *arg, struct cir_error *err);

/*
 * The host-side veth of member m, from its cached chain result: an
 * interface without a sandbox that exists and is a veth (Circuit's own
 * name for it first).  -ENODEV when there is none.
 */
int cir_member_host_link(struct cir_network *n, const struct cir_member *m,
			 char host[CIR_IFNAMSIZ], struct cir_error *err);

/* <root>/CIR_QOS_STATE_DIR/<network>/<cid>@<ifname>: what circuit-qos
 * shaped per attachment (plugins/qos/plugin.c).  Network `network` is
 * being deleted (its members gone): forget them.  0 when there were none. */
#define CIR_QOS_STATE_DIR "qos"
int cir_qosnet_network_forget(const struct cir_store *st, const char *network,
			      struct cir_error *err);

#endif
