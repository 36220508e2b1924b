/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portmap.h - published ports: host port -> container port (DNAT).
 *
 * Three layers (spec/circuit-portmap.md):
 *   - parsing: the CLI's --publish "[HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO]"
 *     (ranges "8080-8081:80-81", IPv6 host addresses in brackets) and the
 *     CNI portMappings capability (runtimeConfig.portMappings entries
 *     {"hostPort","containerPort","protocol","hostIP"}, as the reference
 *     portmap plugin reads them);
 *   - the store: <root>/portmap/, one global flock (host ports are a host-
 *     wide resource), one record per attachment, one reservation per
 *     (protocol, host port, host address) so that a conflict is found in
 *     O(1) of the number of published ports;
 *   - the kernel: elements of the DNAT maps in "inet circuit" (lib/nft.h),
 *     route_localnet on the bridge for 127.0.0.1, and a UDP conntrack flush
 *     (lib/conntrack.h) when a mapping comes or goes.
 */
#ifndef CIR_PORTMAP_H
#define CIR_PORTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ip.h"
#include "json.h"

/* Mappings of one attachment (ranges expanded), at most. */
#define CIR_PORTMAP_MAX 1024
/* Room for a canonical --publish text ("[ffff:...]:65535-65535:65535-65535/sctp"). */
#define CIR_PUBLISH_STRLEN 96

/* One published port.  host_ip.af == 0: every address of the host, both
 * families (the container's families decide which are mapped); an
 * all-zero address (0.0.0.0, ::) means every address of that family. */
struct cir_portmap {
	struct cir_ip host_ip;
	uint16_t host_port;
	uint16_t container_port;
	uint8_t proto;               /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
};

/* One --publish argument: count consecutive ports from host_port and
 * container_port. */
struct cir_publish {
	struct cir_ip host_ip;
	uint16_t host_port;
	uint16_t container_port;
	uint16_t count;
	uint8_t proto;
};

/* "tcp", "udp", "sctp" (any case) -> IPPROTO_*.  -EINVAL otherwise. */
int cir_portmap_proto_parse(const char *s, uint8_t *proto, struct cir_error *err);
/* IPPROTO_* -> "tcp", "udp", "sctp" ("?" for anything else). */
const char *cir_portmap_proto_name(uint8_t proto);

/*
 * Parse one --publish argument.  Ports 1-65535; a range "A-B" needs A <= B
 * and the same length on both sides; PROTO defaults to tcp; HOSTIP is an
 * IPv4 address, or an IPv6 one in brackets.  -EINVAL with one line naming
 * the problem ("publish \"70000:80\": host port 70000 out of range 1-65535").
 */
int cir_publish_parse(const char *s, struct cir_publish *p, struct cir_error *err);

/* The canonical text of p ("127.0.0.1:8080-8081:80-81/tcp"), which
 * cir_publish_parse() reads back to the same value. */
const char *cir_publish_format(const struct cir_publish *p, char *buf, size_t len);

/*
 * Expand publish specs into mappings (appended to out[*n..max)), refusing
 * two that claim the same protocol, host port and overlapping host
 * addresses.  -E2BIG beyond max, -EINVAL on a clash.
 */
int cir_publish_expand(const struct cir_publish *p, size_t np, struct cir_portmap *out,
		       size_t *n, size_t max, struct cir_error *err);

/*
 * Parse runtimeConfig.portMappings (a JSON array) into out[0..*n).  Each
 * entry: hostPort and containerPort 1-65535 (required), protocol (default
 * "tcp"), hostIP (default "": every address).  Overlapping entries and
 * more than max are refused.  -EINVAL.
 */
int cir_portmap_parse_json(const struct cir_jnode *arr, struct cir_portmap *out, size_t *n,
			   size_t max, struct cir_error *err);

/* Emit m as a portMappings entry (an object) into g. */
void cir_portmap_emit(struct cir_jgen *g, const struct cir_portmap *m);

/*
 * The capability arguments a runtime passes for these specs, as a JSON
 * object text {"portMappings":[...]} (malloc'd in *out), the form
 * cir_chain_rt.capabilities takes.
 */
int cir_publish_caps_json(const struct cir_publish *p, size_t np, char **out,
			  struct cir_error *err);

/* Do two mappings' host addresses overlap (same protocol and port aside)? */
bool cir_portmap_host_overlap(const struct cir_ip *a, const struct cir_ip *b);

/* ---- attachments (the plugin's verbs work through these) ---- */

/* Who holds a set of mappings: a CNI attachment. */
struct cir_portmap_owner {
	const char *network;
	const char *cid;
	const char *ifname;
	const char *netns;           /* recorded for GC's keep-live rule, may be NULL */
};

/* The addresses the mappings lead to: the container's, one per family at
 * most (af 0 = none), with their subnets (the hairpin masquerade matches
 * them), the host-side bridge for hairpin and 127.0.0.1 and the
 * container's port on it ("" when the result names none). */
struct cir_portmap_target {
	struct cir_ip addr4, addr6;
	struct cir_cidr net4, net6;
	char bridge[16];
	char port[16];
};

/*
 * Publish m[0..n) for owner, leading to target: refuse (-EADDRINUSE, code
 * CIR_CNI_EXISTS, "host port tcp/8080 is already published by container C
 * on network N") when any host port is held by another attachment with an
 * overlapping host address; otherwise record, reserve, add the DNAT
 * elements (one nftables transaction) and flush UDP conntrack entries of
 * those ports.  A repeated ADD of the same attachment replaces its
 * mappings.  On failure nothing is left.  data_dir as for cir_store_open().
 */
int cir_portmap_attach(const char *data_dir, const struct cir_portmap_owner *o,
		       const struct cir_portmap *m, size_t n,
		       const struct cir_portmap_target *t, struct cir_error *err);

/* Unpublish everything owner holds.  Idempotent (nothing held: 0). */
int cir_portmap_detach(const char *data_dir, const struct cir_portmap_owner *o,
		       struct cir_error *err);

/* CHECK: 0 when owner's record, reservations and kernel elements are in
 * place and match m[0..n); -ENOENT/-EINVAL with a message otherwise. */
int cir_portmap_verify(const char *data_dir, const struct cir_portmap_owner *o,
		       const struct cir_portmap *m, size_t n, struct cir_error *err);

/*
 * GC of network: detach every attachment of it for which valid(cid,
 * ifname, netns, arg) is false.  Returns how many were released.
 */
int cir_portmap_gc(const char *data_dir, const char *network,
		   bool (*valid)(const char *cid, const char *ifname, const char *netns, void *arg),
		   void *arg, struct cir_error *err);

/* Network `network` is being deleted (its members gone, so are their
 * records): its empty record folder <root>/portmap/att/<network> goes.
 * 0 when there is none. */
struct cir_store;
int cir_portmap_network_forget(const struct cir_store *st, const char *network,
			       struct cir_error *err);

#endif
