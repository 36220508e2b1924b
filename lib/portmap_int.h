/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portmap_int.h - shared by lib/portmap*.c only: what the published-ports
 * modules use of each other beyond lib/portmap.h.  Every function taking
 * a struct cir_pm_store runs with portmap/'s lock held (cir_pm_open).
 *
 *   portmap_parse.c   --publish and portMappings: parse, format, emit
 *   portmap_store.c   <root>/portmap/: the lock, reservations, bridge
 *                     counts and attachment records
 *   portmap_kernel.c  the nftables DNAT elements, hairpin and
 *                     route_localnet, the UDP conntrack flush
 *   portmap.c         the verbs: attach, detach, verify, gc
 */
#ifndef CIR_PORTMAP_INT_H
#define CIR_PORTMAP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "nft.h"
#include "portmap.h"
#include "store.h"

#define PM_DIR "portmap"          /* <root>/portmap/{att,ports,bridges}/ */
#define PM_ATT "att"
/* Room for an owner's text "network cid ifname" (cir_pm_owner_text). */
#define PM_OWNER_STRLEN (CIR_NAME_MAX * 2 + 40)
/* Room for an attachment's record name "cid:ifname" (cir_pm_att_name). */
#define PM_ATT_STRLEN (CIR_NAME_MAX + 32)

struct cir_pm_store {
	struct cir_store st;
	int top, att, ports, bridges, lock;
};

struct cir_pm_record {
	char bridge[16];
	char netns[256];
	struct cir_ip addr4, addr6;
	struct cir_cidr net4, net6;
	struct cir_portmap *m;       /* CIR_PORTMAP_MAX */
	size_t n;
};

/* ---- portmap_parse.c */

/* Is ip "every address": none given (af 0), 0.0.0.0 or ::? */
bool cir_pm_ip_any(const struct cir_ip *ip);
/* "portMappings": [...] of m[0..n) into the open map of g. */
void cir_pm_emit_mappings(struct cir_jgen *g, const struct cir_portmap *m, size_t n);

/* ---- portmap_store.c */

/* Open (with create, making) portmap/ and take its lock.  Without create,
 * -ENOENT without a message when nothing was ever published here. */
int cir_pm_open(const char *data_dir, bool create, struct cir_pm_store *s, struct cir_error *err);
void cir_pm_close(struct cir_pm_store *s);
/* The record name "<cid>:<ifname>" of o, its names checked. */
int cir_pm_att_name(const struct cir_portmap_owner *o, char *buf, size_t len,
		    struct cir_error *err);
/* "network cid ifname": what a reservation holds. */
void cir_pm_owner_text(const struct cir_portmap_owner *o, char *buf, size_t len);
/* att/<network>: an fd. */
int cir_pm_net_dir(struct cir_pm_store *s, const char *network, bool create, struct cir_error *err);
/* Is m's host port free of holders other than mine?  0 yes, -EADDRINUSE
 * (code CIR_CNI_EXISTS) with the holder named. */
int cir_pm_port_free(struct cir_pm_store *s, const struct cir_portmap *m, const char *mine,
		     struct cir_error *err);
/* Reserve m's host port for mine (taking over mine's own leftover). */
int cir_pm_reserve(struct cir_pm_store *s, const struct cir_portmap *m, const char *mine,
		   struct cir_error *err);
/* Drop mine's reservation of m's host port (another holder's stays). */
void cir_pm_unreserve(struct cir_pm_store *s, const struct cir_portmap *m, const char *mine);
/* Bridge user count: add delta, return the new count (>= 0). */
int cir_pm_bridge_count(struct cir_pm_store *s, const char *bridge, int delta,
			struct cir_error *err);
/* An attachment's record: its JSON text (malloc'd in *out), read back
 * (rec->m malloc'd: cir_pm_record_free), -ENOENT when there is none. */
int cir_pm_record_format(const struct cir_portmap_owner *o, const struct cir_portmap *m, size_t n,
			 const struct cir_portmap_target *t, char **out, struct cir_error *err);
int cir_pm_record_read(int dirfd, const char *name, struct cir_pm_record *rec,
		       struct cir_error *err);
void cir_pm_record_free(struct cir_pm_record *r);

/* ---- portmap_kernel.c */

/*
 * The kernel elements of m[0..n) towards a4/a6: an any-address mapping
 * goes to every family the container has; an address of one family needs
 * a container address of that family.  *out is malloc'd.
 */
int cir_pm_elements(const struct cir_portmap *m, size_t n, const struct cir_ip *a4,
		    const struct cir_ip *a6, struct cir_nft_pm **out, size_t *nout,
		    struct cir_error *err);
/* Flush UDP conntrack entries of the elements' host ports (with
 * to_target, only those DNATed to the element's address and port). */
int cir_pm_ct_flush_udp(const struct cir_nft_pm *v, size_t n, bool to_target,
			struct cir_error *err);
/* The kernel side of an attach: the nft elements (*added once made), the
 * hairpin port, route_localnet on the bridge where a mapping needs it,
 * stale UDP flows. */
int cir_pm_kernel_add(const struct cir_nft_pm *v, size_t nv, const struct cir_portmap_target *t,
		      const struct cir_nft_pm_bridge *br, bool *added, struct cir_error *err);

#endif
