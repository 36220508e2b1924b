/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipvs.h - IPVS virtual services and their real servers over generic
 * netlink (family "IPVS"), without ipvsadm.
 *
 * A struct cir_ipvs handle holds a NETLINK_GENERIC socket opened in the
 * calling thread's current network namespace (IPVS tables are per netns)
 * and the resolved family id.  Resolving the family makes the kernel load
 * ip_vs through its module alias; schedulers (ip_vs_rr, ...) load on first
 * use.  libnl has no IPVS object, so messages are built and parsed by hand;
 * the builder and parsers are exported so unit tests can run them without
 * a kernel.
 *
 * Addresses are raw in_addr/in6_addr; ports are in host byte order.
 * Idempotency as in keepalived: adding what exists fails with -EEXIST,
 * deleting or editing what does not exist with -ENOENT, each distinct from
 * other errors so callers may treat them as success.
 */
#ifndef CIR_IPVS_H
#define CIR_IPVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/ip_vs.h>
#include <netinet/in.h>

#include "error.h"
#include "nlbatch.h"

/* Older uapi headers name only the sh scheduler's bits; mh uses the same. */
#ifndef IP_VS_SVC_F_SCHED_MH_FALLBACK
#define IP_VS_SVC_F_SCHED_MH_FALLBACK IP_VS_SVC_F_SCHED1 /* mh: skip unavailable dests */
#endif
#ifndef IP_VS_SVC_F_SCHED_MH_PORT
#define IP_VS_SVC_F_SCHED_MH_PORT IP_VS_SVC_F_SCHED2     /* mh: hash the source port */
#endif

struct nl_msg;
struct nlmsghdr;

union cir_ipvs_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

/* Kernel counters (from the 64-bit stats when the kernel sends them). */
struct cir_ipvs_stats {
	uint64_t conns;
	uint64_t inpkts;
	uint64_t outpkts;
	uint64_t inbytes;
	uint64_t outbytes;
};

/*
 * A virtual service.  Its key is (af, fwmark) when fwmark != 0, else
 * (af, protocol, addr, port).  The other fields are its settings.
 */
struct cir_ipvs_service {
	uint16_t af;                    /* AF_INET or AF_INET6 */
	uint16_t protocol;              /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	union cir_ipvs_addr addr;
	uint16_t port;                  /* host byte order */
	uint32_t fwmark;                /* 0 = keyed by protocol/addr/port */
	char sched[IP_VS_SCHEDNAME_MAXLEN]; /* "" = "wlc", the kernel's usual default */
	uint32_t flags;                 /* IP_VS_SVC_F_PERSISTENT, ... */
	uint32_t timeout;               /* persistence timeout, seconds */
	uint32_t netmask;               /* persistence granularity as a prefix
					 * length; 0 = one client address (/32, /128) */
	struct cir_ipvs_stats stats;    /* filled by get and dump only */
};

/* Forwarding methods (the kernel's IP_VS_CONN_F_* values). */
enum cir_ipvs_fwd {
	CIR_IPVS_FWD_MASQ = IP_VS_CONN_F_MASQ,          /* NAT, the default */
	CIR_IPVS_FWD_TUNNEL = IP_VS_CONN_F_TUNNEL,      /* IP-in-IP */
	CIR_IPVS_FWD_ROUTE = IP_VS_CONN_F_DROUTE,       /* direct routing ("dr") */
};

/* A real server ("destination") of a service. */
struct cir_ipvs_dest {
	uint16_t af;                    /* 0 = the service's family */
	union cir_ipvs_addr addr;
	uint16_t port;                  /* host byte order */
	uint32_t weight;                /* 0 = drain: no new connections */
	enum cir_ipvs_fwd fwd;
	uint32_t u_threshold;           /* 0 = no upper connection limit */
	uint32_t l_threshold;
	/* filled by dump only */
	uint32_t active_conns;
	uint32_t inact_conns;
	uint32_t persist_conns;
	struct cir_ipvs_stats stats;
};

struct cir_ipvs;

/*
 * Open a handle in the current network namespace and resolve the IPVS
 * family.  Returns -EPROTONOSUPPORT (CNI code 50, "kernel has no IPVS
 * support: load module ip_vs (CONFIG_IP_VS)") when the kernel has none.
 * *out is set only on
 * success; release with cir_ipvs_close().
 */
int cir_ipvs_open(struct cir_ipvs **out, struct cir_error *err);

/* Close a handle.  Accepts NULL. */
void cir_ipvs_close(struct cir_ipvs *h);

/*
 * Add a service.  -EEXIST when its key exists already (settings untouched),
 * -ENOENT when the scheduler is unknown to the kernel.
 */
int cir_ipvs_service_add(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
			 struct cir_error *err);

/* Replace the settings (sched, flags, timeout, netmask) of an existing
 * service.  -ENOENT when there is no such service or scheduler. */
int cir_ipvs_service_edit(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
			  struct cir_error *err);

/* Delete a service and its dests.  Only its key is used.  -ENOENT when
 * absent. */
int cir_ipvs_service_del(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
			 struct cir_error *err);

/* Look up the service with the key in *key; fill *out (settings and stats,
 * may be NULL to test for existence) on success.  -ENOENT when absent. */
int cir_ipvs_service_get(struct cir_ipvs *h, const struct cir_ipvs_service *key,
			 struct cir_ipvs_service *out, struct cir_error *err);

/*
 * Every service of this namespace, as a malloc'ed array the caller frees.
 * *out and *n are set only on success (*out may be NULL when *n == 0).
 */
int cir_ipvs_service_dump(struct cir_ipvs *h, struct cir_ipvs_service **out, size_t *n,
			  struct cir_error *err);

/* Add a dest to the service keyed by *svc.  -EEXIST when the dest exists,
 * -ENOENT when the service does not. */
int cir_ipvs_dest_add(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
		      const struct cir_ipvs_dest *dest, struct cir_error *err);

/* Change weight, fwd and thresholds of a dest.  -ENOENT when the service
 * or the dest is absent. */
int cir_ipvs_dest_edit(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
		       const struct cir_ipvs_dest *dest, struct cir_error *err);

/* Remove a dest (keyed by addr and port).  -ENOENT when the service or the
 * dest is absent. */
int cir_ipvs_dest_del(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
		      const struct cir_ipvs_dest *dest, struct cir_error *err);

/* The dests of the service keyed by *svc, as a malloc'ed array the caller
 * frees; *out and *n set only on success.  An absent service has no dests (the
 * kernel's dump does not tell the two apart). */
int cir_ipvs_dest_dump(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
		       struct cir_ipvs_dest **out, size_t *n, struct cir_error *err);

/*
 * Pipelined changes, for programming many services at once (`circuit
 * restore`) on lib/nlbatch: sends of up to CIR_IPVS_BATCH_BYTES, one
 * system call pair per ~200 requests instead of one per request.
 * failed(tag, errnum, arg) is called for each failure (errnum is the
 * kernel's, ESRCH = no such service; tag UINT32_MAX: failures lost, see
 * nlbatch.h).  Sent with cir_nl_batch_flush(), freed with
 * cir_nl_batch_free().
 */
#define CIR_IPVS_BATCH_BYTES 32768

int cir_ipvs_batch_new(struct cir_ipvs *h, struct cir_nl_batch **out, struct cir_error *err);

/* Queue command cmd (IPVS_CMD_NEW_SERVICE, _NEW_DEST, ...) for svc and
 * dest (NULL when cmd takes none); sends the queue first when full.
 * Returns the number of requests sent so far by this call (0 or a full
 * send's count), or -errno when a send failed. */
int cir_ipvs_batch_add(struct cir_ipvs *h, struct cir_nl_batch *b, uint8_t cmd,
		       const struct cir_ipvs_service *svc, const struct cir_ipvs_dest *dest,
		       uint32_t tag, cir_nl_batch_failed failed, void *arg, struct cir_error *err);

/* Delete every service (and dest) in this namespace. */
int cir_ipvs_flush(struct cir_ipvs *h, struct cir_error *err);

/*
 * Build the request for IPVS command cmd (IPVS_CMD_*) with netlink flags
 * nlflags (e.g. NLM_F_DUMP) for the family id family.  svc (the key, plus
 * the settings for NEW/SET_SERVICE) and dest (plus its settings for
 * NEW/SET_DEST) are NULL when cmd takes none.  -EINVAL on an unusable
 * family or address.  *out is set only on success; free with nlmsg_free.
 */
int cir_ipvs_msg_build(int family, uint8_t cmd, int nlflags, const struct cir_ipvs_service *svc,
		       const struct cir_ipvs_dest *dest, struct nl_msg **out,
		       struct cir_error *err);

/* Parse one IPVS reply carrying IPVS_CMD_ATTR_SERVICE into *out.
 * -EBADMSG when malformed.  *out is set only on success. */
int cir_ipvs_service_parse(const struct nlmsghdr *nlh, struct cir_ipvs_service *out,
			   struct cir_error *err);

/* Parse one IPVS reply carrying IPVS_CMD_ATTR_DEST into *out (af is the
 * service's family, used when the kernel sends no dest family).  -EBADMSG
 * when malformed.  *out is set only on success. */
int cir_ipvs_dest_parse(const struct nlmsghdr *nlh, uint16_t af, struct cir_ipvs_dest *out,
			struct cir_error *err);

/* Whether a and b name the same service (af plus fwmark, or af, protocol,
 * address and port); settings and stats are ignored.  For reconciling a
 * wanted set against cir_ipvs_service_dump(). */
bool cir_ipvs_service_key_eq(const struct cir_ipvs_service *a, const struct cir_ipvs_service *b);

/* Whether a and b name the same dest (address and port; af 0 = af). */
bool cir_ipvs_dest_key_eq(const struct cir_ipvs_dest *a, const struct cir_ipvs_dest *b, uint16_t af);

/* "tcp 10.0.0.1:80", "udp [fd00::1]:53" or "fwmark 7" into buf; returns buf. */
const char *cir_ipvs_service_format(const struct cir_ipvs_service *svc, char *buf, size_t len);

/* "10.0.0.2:8080" or "[fd00::2]:8080" into buf (af 0 = AF_INET); returns buf. */
const char *cir_ipvs_dest_format(const struct cir_ipvs_dest *dest, uint16_t af, char *buf,
				 size_t len);

/* Buffer size that fits any cir_ipvs_*_format() result. */
#define CIR_IPVS_FMT_MAX 64

/* The name of a forwarding method: "masq", "tunnel", "route", or "?". */
const char *cir_ipvs_fwd_name(enum cir_ipvs_fwd fwd);

/* Parse "masq"/"nat", "route"/"dr", "tunnel"/"ipip".  -EINVAL otherwise. */
int cir_ipvs_fwd_parse(const char *s, enum cir_ipvs_fwd *out, struct cir_error *err);

static inline void cir_ipvs_closep(struct cir_ipvs **p)
{
	cir_ipvs_close(*p);
}
#define _cleanup_ipvs_ __attribute__((cleanup(cir_ipvs_closep)))

#endif
