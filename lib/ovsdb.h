/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ovsdb.h - a client of the OVSDB management protocol (RFC 7047, JSON-RPC
 * 1.0 over the ovsdb-server unix socket) and the transactions circuit-ovs
 * makes on the Open_vSwitch schema (spec/ovs.md).
 *
 * One request at a time: cir_ovsdb_transact() sends a "transact" built by
 * an ops function, answers the server's "echo" requests while it waits, and
 * returns the reply with that id once every operation succeeded.  The op
 * builders and reply readers are exported for the unit tests; nothing here
 * prints, and the JSON goes through lib/json*.c only.
 */
#ifndef CIR_OVSDB_H
#define CIR_OVSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cleanup.h"
#include "error.h"
#include "json.h"
#include "stream.h"

#define CIR_OVSDB_SOCKET "/run/openvswitch/db.sock"
#define CIR_OVSDB_DB "Open_vSwitch"
/* external_ids key naming the Circuit network a bridge, port or interface
 * was made for: ownership, and what GC may collect. */
#define CIR_OVSDB_OWNER_KEY "circuit-network"
/* A reply larger than this is refused (-EMSGSIZE). */
#define CIR_OVSDB_MSG_MAX (4u << 20)
/* How long one request may wait for its reply. */
#define CIR_OVSDB_TIMEOUT_MS 10000
/* VLAN tags a port may carry (802.1Q: 0 is "none", 4095 reserved). */
#define CIR_OVSDB_TAG_MAX 4094

struct cir_ovsdb {
	int fd;
	unsigned long long id;       /* id of the last request */
	int timeout_ms;
	struct cir_stream_buf in;    /* bytes read past the last message */
};
#define CIR_OVSDB_INIT { .fd = -1, .timeout_ms = CIR_OVSDB_TIMEOUT_MS }

/*
 * Connect to ovsdb-server's unix socket at path (NULL: CIR_OVSDB_SOCKET).
 * -ENOENT/-ECONNREFUSED "ovsdb PATH: ..." when no server listens there.
 */
int cir_ovsdb_connect(struct cir_ovsdb *c, const char *path, struct cir_error *err);
/* Close (NULL fd fine); the struct may be connected again. */
void cir_ovsdb_close(struct cir_ovsdb *c);
#define _cleanup_ovsdb_ _cleanup_(cir_ovsdb_close)

/* What one transaction names.  Fields an ops builder does not use are
 * ignored. */
struct cir_ovsdb_names {
	const char *bridge;          /* Bridge.name (also its internal Port/Interface) */
	const char *port;            /* Port.name = Interface.name (a host veth) */
	const char *network;         /* external_ids:circuit-network */
	unsigned int tag;            /* Port.tag, 0 = untagged */
	unsigned int mtu;            /* the internal interface's mtu_request, 0 = none */
	const char *uuid;            /* a row's _uuid (port_del, bridge_del) */
	const struct cir_jnode *ports;  /* bridge_del: Bridge.ports as read */
};

/* Emits the operations of one transaction (the elements after the
 * database name of "params") into g. */
typedef void (*cir_ovsdb_ops_fn)(struct cir_jgen *g, const struct cir_ovsdb_names *n);

/* Bridge n->bridge with its internal Port and Interface of the same name
 * (the Port on VLAN n->tag when non-zero, so the gateway is on the
 * containers' VLAN), owned by n->network, added to the root row's bridges; guarded by a
 * "wait" that no such bridge exists (op 0 fails with "timed out" when it
 * does).  Results: 0 wait, 1-3 inserts, 4 the mutate (its count is 0 when
 * the Open_vSwitch table has no row). */
void cir_ovsdb_ops_bridge_add(struct cir_jgen *g, const struct cir_ovsdb_names *n);
/* The root row of an empty Open_vSwitch table ("wait" for it being empty,
 * then insert), what `ovs-vsctl init` does. */
void cir_ovsdb_ops_root_add(struct cir_jgen *g, const struct cir_ovsdb_names *n);
/* Port and Interface n->port (tag n->tag when non-zero, owned by
 * n->network) on bridge n->bridge; a "wait" first that the bridge exists. */
void cir_ovsdb_ops_port_add(struct cir_jgen *g, const struct cir_ovsdb_names *n);
/* Read: op 0 selects Port n->port's _uuid and tag, op 1 Bridge n->bridge's
 * _uuid, ports and external_ids. */
void cir_ovsdb_ops_find(struct cir_jgen *g, const struct cir_ovsdb_names *n);
/* Port row n->uuid out of whichever bridge has it (Port and Interface are
 * not root rows: the server deletes them with their last reference). */
void cir_ovsdb_ops_port_del(struct cir_jgen *g, const struct cir_ovsdb_names *n);
/* Bridge row n->uuid out of the root row, guarded by a "wait" that its
 * ports are still n->ports (nobody attached anything since the read). */
void cir_ovsdb_ops_bridge_del(struct cir_jgen *g, const struct cir_ovsdb_names *n);
/* Read: the name of every Port owned by n->network. */
void cir_ovsdb_ops_owned_ports(struct cir_jgen *g, const struct cir_ovsdb_names *n);

/* Read: op 0 selects Bridge n->bridge's _uuid and external_ids, op 1 its
 * internal Port's (the Port of the same name) _uuid and tag, op 2 its
 * internal Interface's _uuid and mtu_request. */
void cir_ovsdb_ops_bridge_read(struct cir_jgen *g, const struct cir_ovsdb_names *n);
/* The internal Port of bridge n->bridge on VLAN n->tag and its Interface's
 * mtu_request n->mtu (0: the column emptied, untagged / OVS's default),
 * guarded by a "wait" that the bridge still carries n->network's mark
 * (op 0 fails with "timed out" when it does not). */
void cir_ovsdb_ops_bridge_set(struct cir_jgen *g, const struct cir_ovsdb_names *n);

/* The whole request {"method":"transact","params":[DB, ops...],"id":id}
 * as a malloc'd document. */
int cir_ovsdb_request(unsigned long long id, cir_ovsdb_ops_fn ops, const struct cir_ovsdb_names *n,
		      char **out, struct cir_error *err);

/*
 * Length of the first complete JSON value in buf (leading white space
 * included), 0 when it is not complete yet; -EBADMSG when buf does not
 * start with an object.  The stream framing of RFC 7047: messages are
 * JSON objects sent back to back.
 */
ssize_t cir_ovsdb_frame(const char *buf, size_t len);

/*
 * Check one reply to request id with n_ops operations: "error" null,
 * "result" an array of n_ops objects, none with an "error".  An op error
 * is -ESTALE for "timed out" (a "wait" whose condition did not hold),
 * -EEXIST for "constraint violation", -EBUSY for "referential integrity
 * violation", -EPROTO otherwise, the message naming op and details.
 */
int cir_ovsdb_reply_check(const struct cir_jnode *reply, unsigned long long id, size_t n_ops,
			  struct cir_error *err);

/*
 * Send ops as one transaction and wait for its reply (answering "echo"
 * requests, skipping notifications); *reply is the checked reply.
 */
int cir_ovsdb_transact(struct cir_ovsdb *c, cir_ovsdb_ops_fn ops, const struct cir_ovsdb_names *n,
		       struct cir_json **reply, struct cir_error *err);

/* ---- reading results ---- */

/* The result object of operation i of a checked reply, or NULL. */
const struct cir_jnode *cir_ovsdb_result(const struct cir_jnode *reply, size_t i);
/* A select's rows (an array, possibly empty) or NULL. */
const struct cir_jnode *cir_ovsdb_rows(const struct cir_jnode *result);
/* A mutate's or update's "count", -1 when absent. */
long long cir_ovsdb_count(const struct cir_jnode *result);
/* The id of ["uuid", ID], or NULL. */
const char *cir_ovsdb_uuid(const struct cir_jnode *atom);
/* Elements of a set column (a bare atom is a set of one; ["set", [...]]).
 * cir_ovsdb_set_at(v, i) is NULL past the end. */
size_t cir_ovsdb_set_len(const struct cir_jnode *v);
const struct cir_jnode *cir_ovsdb_set_at(const struct cir_jnode *v, size_t i);
/* Does set v hold ["uuid", uuid]? */
bool cir_ovsdb_set_has_uuid(const struct cir_jnode *v, const char *uuid);
/* The string value of key in a map column ["map", [[k, v], ...]], or NULL. */
const char *cir_ovsdb_map_get(const struct cir_jnode *v, const char *key);

/* A bridge as cir_ovsdb_ops_bridge_read's reply describes it. */
struct cir_ovsdb_bridge {
	bool exists;                 /* the Bridge row */
	const char *owner;           /* its external_ids:circuit-network (into the
				      * reply), NULL when unmarked */
	bool port, iface;            /* its internal Port / Interface rows exist */
	unsigned int tag;            /* the Port's tag, 0 = none */
	unsigned int mtu;            /* the Interface's mtu_request, 0 = none */
};
/* Fill *b from a checked reply of cir_ovsdb_ops_bridge_read (all false
 * when the bridge does not exist); -EBADMSG when tag or mtu_request is
 * neither an integer in range nor the empty set. */
int cir_ovsdb_bridge_parse(const struct cir_jnode *reply, struct cir_ovsdb_bridge *b,
			   struct cir_error *err);

#endif
