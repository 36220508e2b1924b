/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lb.h - load-balanced services: records in the state store, reconciled
 * with the kernel's IPVS table (lib/ipvs) in the caller's network
 * namespace.
 *
 * The store is the truth.  Every change is made on a copy of the record,
 * then the kernel is made to match the copy exactly (service settings and
 * the set of targets: missing ones added, changed ones edited, extra ones
 * removed), and only then is the record rewritten; when either step fails
 * the kernel is put back to the old record (best effort) and the record is
 * left as it was.  `circuit restore` re-runs the same reconciliation for
 * every record (cir_lb_restore).
 *
 * Layout under the store root (spec/lb.md):
 *
 *   lb/lock              one lock for every lb read-modify-write
 *   lb/<name>.json       one service and its targets
 *
 * Traffic needs more than the IPVS table, and the library sets it up too:
 * the VIP as a /32 (/128) on the dummy device CIR_LB_DEVICE (IPVS only
 * takes packets addressed to a local address), net.ipv4.vs.conntrack=1,
 * and for every bridge a target sits behind, the hairpin masquerade of
 * lib/nft (a container calling a VIP whose chosen target is on its own
 * bridge).
 *
 * The implementation is split by concern over lib/lb*.c; lib/lb_int.h
 * lists the files and what they share of each other.
 */
#ifndef CIR_LB_H
#define CIR_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cni.h"
#include "error.h"
#include "ip.h"
#include "ipvs.h"
#include "json.h"
#include "store.h"

#define CIR_LB_DIR "lb"
#define CIR_LB_DEVICE "circuit-lb0"
#define CIR_LB_DEFAULT_SCHED "rr"
/* Most targets one service keeps. */
#define CIR_LB_TARGETS_MAX 4096
/* Room for "[ffff:...:ffff]:65535", NUL included. */
#define CIR_LB_ADDR_STRLEN (CIR_IP_STRLEN + 8)

/* An address and a port ("10.96.0.10:80", "[fd00::10]:80"). */
struct cir_lb_addr {
	struct cir_ip ip;
	uint16_t port;
};

/* Who attached a target: a CNI attachment (circuit-lb), or nobody (cid ""
 * = added with `circuit lb add`). */
struct cir_lb_owner {
	char network[CIR_CNI_NAME_MAX + 1];
	char cid[CIR_CNI_ID_MAX + 1];
	char ifname[CIR_IFNAMSIZ];
};

/* Health checks (spec/lb.md): run by `circuit agent`, per service, against
 * every target's address and port. */
enum cir_lb_check_type {
	CIR_LB_CHECK_NONE = 0,
	CIR_LB_CHECK_TCP,               /* the connect succeeds */
	CIR_LB_CHECK_HTTP,              /* GET path answers status expect */
	CIR_LB_CHECK_UDP,               /* a datagram (payload) gets a reply */
	CIR_LB_CHECK_EXEC,              /* the admin's program exits 0 */
};
#define CIR_LB_CHECK_PATH_MAX 255
/* Longest UDP check payload (printable ASCII, as given on the command line). */
#define CIR_LB_CHECK_PAYLOAD_MAX 128

struct cir_lb_check {
	enum cir_lb_check_type type;
	char path[CIR_LB_CHECK_PATH_MAX + 1];   /* http: "/..."; exec: the absolute
						 * path of the program; udp: the
						 * payload ("" = an empty datagram) */
	uint16_t expect;                /* http: status wanted (default 200) */
	uint32_t interval_ms;           /* between checks of one target (2000) */
	uint32_t timeout_ms;            /* one check's limit (1000) */
	uint32_t rise;                  /* passes in a row that bring a target up (2) */
	uint32_t fall;                  /* failures in a row that take it down (3) */
};

struct cir_lb_target {
	struct cir_lb_addr addr;
	uint32_t weight;                /* configured; 0 = drain */
	bool down;                      /* failed its checks: weight 0 in the kernel */
	char error[128];                /* the last failure that changed its state */
	long long since;                /* unix seconds of the last state change */
	struct cir_lb_check check;      /* its own check (type NONE = the service's) */
	enum cir_ipvs_fwd method;
	char bridge[CIR_IFNAMSIZ];      /* bridge it sits behind ("" = none
					 * found): filled by the library */
	struct cir_lb_owner owner;
};

/* Which data plane carries a service (spec/backends.md): the kernel's IPVS
 * (the default) or an HAProxy process Circuit supervises (lib/haproxy). */
enum cir_lb_backend {
	CIR_LB_BACKEND_IPVS = 0,
	CIR_LB_BACKEND_HAPROXY,
	CIR_LB_BACKENDS
};

/* HAProxy's proxy mode: tcp (a byte stream, the default) or http. */
enum cir_lb_mode {
	CIR_LB_MODE_TCP = 0,
	CIR_LB_MODE_HTTP,
};

struct cir_lb_service {
	char name[CIR_NAME_MAX + 1];
	enum cir_lb_backend backend;    /* record key "backend" (absent = ipvs) */
	enum cir_lb_mode mode;          /* haproxy only: record key "mode" */
	struct cir_lb_addr vip;
	uint16_t protocol;              /* IPPROTO_TCP or IPPROTO_UDP */
	char sched[IP_VS_SCHEDNAME_MAXLEN];
	uint32_t persistent;            /* persistence timeout in s, 0 = none */
	bool mh_fallback;               /* mh: skip a weight-0/overloaded target
					 * (IP_VS_SVC_F_SCHED_MH_FALLBACK) */
	bool mh_port;                   /* mh: hash the source port too
					 * (IP_VS_SVC_F_SCHED_MH_PORT) */
	bool cluster;                   /* record key "scope": "cluster": the
					 * agent's copy of a cluster service
					 * (spec/cluster.md); absent = local */
	long long created;              /* unix seconds */
	struct cir_lb_check check;      /* type NONE = no checks */
	struct cir_lb_target *targets;  /* malloc'd, n_targets long */
	size_t n_targets;
};

/* Free a service's targets (the struct itself is the caller's).  Safe on a
 * zeroed struct; leaves it zeroed-out of targets. */
void cir_lb_service_clear(struct cir_lb_service *s);

/* ---- values ---- */

/*
 * Parse "A.B.C.D:PORT" or "[IPV6]:PORT" (port 1..65535, strict address
 * syntax of cir_ip_parse).  -EINVAL naming what (e.g. "target") and the
 * input.  *out is set only on success.
 */
int cir_lb_addr_parse(const char *what, const char *s, struct cir_lb_addr *out,
		      struct cir_error *err);

/* Format as cir_lb_addr_parse reads it; buf of CIR_LB_ADDR_STRLEN bytes.
 * Returns buf. */
const char *cir_lb_addr_format(const struct cir_lb_addr *a, char *buf, size_t len);

/* Is name a scheduler Circuit knows (rr wrr lc wlc lblc lblcr dh sh sed nq
 * mh fo ovf twos)?  -EINVAL listing them when not.  Whether the running
 * kernel has it is known only when the service is added (-ENOENT). */
int cir_lb_sched_check(const char *name, struct cir_error *err);

/* "tcp"/"udp" <-> IPPROTO_*.  -EINVAL for anything else. */
int cir_lb_proto_parse(const char *s, uint16_t *out, struct cir_error *err);
const char *cir_lb_proto_name(uint16_t proto);

/* "nat", "dr", "tunnel": the CLI's names of the forwarding methods. */
const char *cir_lb_method_name(enum cir_ipvs_fwd m);

/* "ipvs"/"haproxy" <-> enum cir_lb_backend; "tcp"/"http" <-> cir_lb_mode.
 * -EINVAL naming the choices. */
int cir_lb_backend_parse(const char *s, enum cir_lb_backend *out, struct cir_error *err);
const char *cir_lb_backend_name(enum cir_lb_backend b);
int cir_lb_mode_parse(const char *s, enum cir_lb_mode *out, struct cir_error *err);
const char *cir_lb_mode_name(enum cir_lb_mode m);

/* Check a service's own fields (name, vip, protocol, scheduler): -EINVAL
 * with the reason. */
int cir_lb_service_check(const struct cir_lb_service *s, struct cir_error *err);

/* The IPVS views of a record (for lib/ipvs calls and comparing dumps). */
void cir_lb_service_to_ipvs(const struct cir_lb_service *s, struct cir_ipvs_service *out);
void cir_lb_target_to_ipvs(const struct cir_lb_target *t, struct cir_ipvs_dest *out);

/*
 * Parse a check spec: "tcp", "http" (path "/"), "http:/PATH", "udp",
 * "udp:PAYLOAD" (printable ASCII) or "exec:/ABSOLUTE/PATH"; fills type and
 * path of *out and sets the other fields to their defaults.  -EINVAL
 * naming the problem.
 */
int cir_lb_check_parse(const char *spec, struct cir_lb_check *out, struct cir_error *err);

/* "tcp", "http:/path", "udp[:payload]" or "exec:/path" (as parsed) into buf;
 * returns buf. */
const char *cir_lb_check_format(const struct cir_lb_check *c, char *buf, size_t len);

/* Emit c as the key "check" of the open JSON object in g (records, lb ls). */
void cir_lb_check_emit(struct cir_jgen *g, const struct cir_lb_check *c);

/* Check the numbers of a check: interval 100 ms..1 h, timeout 10 ms..interval,
 * rise and fall 1..100, expect 100..599.  -EINVAL with the reason. */
int cir_lb_check_valid(const struct cir_lb_check *c, struct cir_error *err);

/* Parse a duration: "2s", "500ms", "1m", or plain seconds.  -EINVAL. */
int cir_lb_duration_parse(const char *s, uint32_t *ms, struct cir_error *err);

/* The check that applies to target t of s: its own, else the service's
 * (type NONE: not checked). */
const struct cir_lb_check *cir_lb_target_check(const struct cir_lb_service *s,
					       const struct cir_lb_target *t);

/* Index of the target with address a in s, or -1. */
int cir_lb_target_find(const struct cir_lb_service *s, const struct cir_lb_addr *a);

/* ---- records <-> JSON ---- */

/* Parse a record.  *out (cleared first) owns its targets on success; on
 * failure nothing is kept.  -EINVAL "service record: ..." when malformed. */
int cir_lb_service_parse(const struct cir_jnode *root, struct cir_lb_service *out,
			 struct cir_error *err);

/* Emit the record as one JSON object into g. */
void cir_lb_service_emit(struct cir_jgen *g, const struct cir_lb_service *s);

/* The record as a malloc'd JSON document in *out. */
int cir_lb_service_format(const struct cir_lb_service *s, bool pretty, char **out,
			  struct cir_error *err);

/* ---- the database ---- */

struct cir_ipvs;
struct nl_sock;

struct cir_lb_db {
	struct cir_store st;
	int fd;                         /* <root>/lb */
	struct cir_ipvs *ipvs;          /* opened on first need */
	struct nl_sock *rt;             /* NETLINK_ROUTE, opened on first need */
	int dev_ifindex;                /* CIR_LB_DEVICE once ensured, else 0 */
	bool sysctls_done;              /* conntrack/forwarding ensured */
	unsigned long records_read;     /* records parsed through this handle
					 * (tests prove the index with it) */
	bool may_spawn;                 /* a backend may start its data service
					 * (haproxy): the CLI verbs and restore,
					 * not the CNI plugin (spec/lb.md) */
	bool locked;                    /* the caller holds lb/lock (restore):
					 * cir_lb_list may rewrite lb/cache */
};
#define CIR_LB_DB_INIT { CIR_STORE_INIT, -1, NULL, NULL, 0, false, 0, false, false }

/* Open (creating) <root>/lb, root as chosen by cir_store_root(dir).  db is
 * set only on success; close with cir_lb_db_close().  Acts on the kernel of
 * the network namespace the caller is in at the first kernel call. */
int cir_lb_db_open(struct cir_lb_db *db, const char *dir, struct cir_error *err);
/* The same without creating anything: -ENOENT when there is no lb state
 * (a DEL then has nothing to detach and leaves no trace). */
int cir_lb_db_open_existing(struct cir_lb_db *db, const char *dir, struct cir_error *err);
/* The same for looking only (lb ls): creates nothing; see
 * cir_store_open_sub_ro() for an absent root or lb directory (an empty
 * store: no services). */
int cir_lb_db_open_ro(struct cir_lb_db *db, const char *dir, struct cir_error *err);
void cir_lb_db_close(struct cir_lb_db *db);

/* The IPVS handle of db, opened now if needed (-EPROTONOSUPPORT with a
 * clear message when the kernel has no IPVS). */
int cir_lb_db_ipvs(struct cir_lb_db *db, struct cir_ipvs **out, struct cir_error *err);

/* Take the lb lock.  Returns the fd; close it to unlock.  The verbs below
 * take it themselves. */
int cir_lb_lock(struct cir_lb_db *db, struct cir_error *err);

/* Read service name into *out (free with cir_lb_service_clear).
 * -ENOENT "service NAME not found".  No lock taken. */
int cir_lb_get(struct cir_lb_db *db, const char *name, struct cir_lb_service *out,
	       struct cir_error *err);

/* Call fn(s, arg) for every service, sorted by name (no lock taken: each
 * record is read whole).  A negative return from fn stops the walk and is
 * returned; else the count. */
int cir_lb_list(struct cir_lb_db *db, int (*fn)(const struct cir_lb_service *s, void *arg),
		void *arg, struct cir_error *err);

/*
 * Create service s (its targets, if any, too) in the store and the kernel,
 * with its VIP on CIR_LB_DEVICE.  -EEXIST when the name is taken, when
 * another service has the same protocol/VIP/port, or when IPVS already has
 * that VIP/port (a service Circuit does not own); -ENOENT when the kernel
 * lacks the scheduler; -EPROTONOSUPPORT without IPVS.  Nothing is left
 * behind on failure.
 */
int cir_lb_create(struct cir_lb_db *db, const struct cir_lb_service *s, struct cir_error *err);

/*
 * Delete service name from the kernel and the store; its VIP leaves the
 * device when no other service uses it, the device goes with the last
 * service.  -ENOENT when unknown.  A kernel without IPVS (nothing can be
 * programmed there) only loses the record.
 */
int cir_lb_delete(struct cir_lb_db *db, const char *name, struct cir_error *err);

/*
 * This host's copy of cluster service want (want->cluster set; its
 * targets' health, bridges and owners are ignored): created when absent,
 * changed to want's settings and targets when they differ (each kept
 * target keeps its health state here), made anew when its VIP, port,
 * protocol or backend changed.  Returns 2 when it was made (anew), 1 when
 * it changed, 0 when it already matched.  -EEXIST when a local service has the name (or the
 * VIP), and the errors of cir_lb_create (-EPROTONOSUPPORT without IPVS).
 * For `circuit agent` (lib/lb_cluster.c).
 */
int cir_lb_adopt(struct cir_lb_db *db, const struct cir_lb_service *want, struct cir_error *err);

/* Delete this host's copy of cluster service name: 1 deleted, 0 when
 * there is none (or name is a local service, which is left alone). */
int cir_lb_drop_cluster(struct cir_lb_db *db, const char *name, struct cir_error *err);

/*
 * Add target t to service name, or update its weight, method and owner
 * when a target with its address exists.  The target's bridge is found
 * from the host's addresses and its hairpin masquerade made.  Returns 1
 * when added, 0 when updated; -ENOENT for an unknown service, -EINVAL when
 * the address family differs from the VIP's, -ENOSPC past
 * CIR_LB_TARGETS_MAX.
 */
int cir_lb_target_add(struct cir_lb_db *db, const char *name, const struct cir_lb_target *t,
		      struct cir_error *err);

/*
 * Remove the target with address a from service name.  1 removed; 0 when
 * it was not there and missing_ok, else -ENOENT (unknown service or
 * target).
 */
int cir_lb_target_remove(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			 bool missing_ok, struct cir_error *err);

/*
 * Remove every target of service name owned by attachment o (CNI DEL).
 * Idempotent: an unknown service or no such target is 0; else the count
 * removed.  Without IPVS only the store changes.
 */
int cir_lb_detach(struct cir_lb_db *db, const char *name, const struct cir_lb_owner *o,
		  struct cir_error *err);

/*
 * CNI CHECK: service name has a target owned by o at address a, and the
 * kernel has that dest with the recorded weight and method.  -ENOENT with
 * what is missing.
 */
int cir_lb_verify(struct cir_lb_db *db, const char *name, const struct cir_lb_owner *o,
		  const struct cir_lb_addr *a, struct cir_error *err);

/*
 * CNI GC: remove, from every service, the targets owned by network whose
 * (cid, ifname) valid() rejects.  valid returns 1 keep, 0 drop.  Returns
 * the count removed.
 */
int cir_lb_gc(struct cir_lb_db *db, const char *network,
	      int (*valid)(const char *cid, const char *ifname, void *arg), void *arg,
	      struct cir_error *err);

/*
 * Set the health of the target with address a of service name (the agent):
 * down gives it weight 0 in the kernel (no new connections, existing ones
 * finish), up restores its weight; error is kept with the change.  Returns
 * 1 when the state changed, 0 when it already was so; -ENOENT for an
 * unknown service or target.  Without IPVS only the record changes.
 */
int cir_lb_target_health(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			 bool down, const char *error, struct cir_error *err);

/*
 * Drain, then remove, the target a of service name: weight 0 in the record
 * and the kernel, then wait until IPVS counts no active connection to it or
 * timeout_ms passes (polling every 200 ms), then remove it.  *active_left
 * (may be NULL) gets the active connections left at removal.  Returns 1.
 */
int cir_lb_target_drain(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			uint32_t timeout_ms, uint32_t *active_left, struct cir_error *err);

/*
 * Make the kernel match every record of the store st (`circuit restore`,
 * after a reboot or `ipvsadm -C`): device, VIPs, conntrack, IPVS services
 * and targets, hairpin masquerades.  A store without services needs no
 * IPVS and returns 0; else the number of kernel changes made (0 = all was
 * in place).  Keeps going past a failing service and returns the first
 * error.
 */
int cir_lb_restore(struct cir_store *st, struct cir_error *err);

/* Same on an open db. */
int cir_lb_db_restore(struct cir_lb_db *db, struct cir_error *err);

/*
 * Make the kernel match record s alone (service and targets), with
 * have_service saying whether the kernel has the service (-1 = ask).  For
 * restore and tests; the verbs above call it.  Returns the number of
 * changes made.
 */
int cir_lb_sync(struct cir_lb_db *db, const struct cir_lb_service *s, int have_service,
		struct cir_error *err);

/* Put the VIP of s on this host (the device CIR_LB_DEVICE, or lo on a
 * kernel without the dummy driver); with_sysctls also sets what IPVS NAT
 * needs (conntrack, forwarding).  Returns the number of changes.  For
 * backends (lib/lbbackend.h). */
int cir_lb_vip_setup(struct cir_lb_db *db, const struct cir_ip *ip, bool with_sysctls,
		     struct cir_error *err);

/* Absolute path of file name in the lb directory of db's store into buf;
 * -ENAMETOOLONG when it does not fit. */
int cir_lb_path(const struct cir_lb_db *db, const char *name, char *buf, size_t len,
		struct cir_error *err);

#endif
