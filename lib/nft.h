/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nft.h - Circuit's own nftables table, driven through libnftables.
 *
 * Everything Circuit puts into nftables lives in one table, "inet circuit";
 * no other table is ever read or written.  Layout (spec/nftables.md):
 *
 *   table inet circuit {
 *     counter masqueraded { }                            anchor, shared
 *     chain masq-<network> {                             one per network
 *       type nat hook postrouting priority srcnat;
 *       ip saddr S ip daddr != S ip daddr != 224.0.0.0/4
 *           counter name "masqueraded" masquerade
 *     }
 *     chain hairpin-<bridge> {                           one per bridge
 *       type nat hook postrouting priority srcnat;
 *       iifname "B" oifname "B" counter name "masqueraded" masquerade
 *     }
 *   }
 *
 * Each network and each bridge owns one base chain, so adding, replacing
 * and removing are single atomic transactions that never list the ruleset.
 * Every owner rule refers to the named counter, which the kernel therefore
 * refuses to delete (EBUSY) while any owner is left: the last delete removes
 * the table in the same transaction as the counter, race-free against a
 * concurrent add.
 *
 * Commands are nft text built only from validated pieces (names of
 * [A-Za-z0-9_.-], CIDRs re-printed from their parsed bytes).  All calls act
 * in the network namespace the caller is in when it calls them.
 */
#ifndef CIR_NFT_H
#define CIR_NFT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ip.h"

#define CIR_NFT_FAMILY "inet"
#define CIR_NFT_TABLE "circuit"
#define CIR_NFT_ANCHOR "masqueraded"
#define CIR_NFT_MASQ_PREFIX "masq-"
#define CIR_NFT_HAIRPIN_PREFIX "hairpin-"
#define CIR_NFT_LBSNAT_PREFIX "lbsnat-"

/* Longest network name accepted (chain names stay far below the kernel's
 * 256-byte NFT_CHAIN_MAXNAMELEN). */
#define CIR_NFT_NETWORK_MAX 64
/* Room for any chain name we derive, NUL included. */
#define CIR_NFT_CHAIN_SIZE 80
/* Room for a normalised CIDR ("ffff:...:ffff/128"), NUL included. */
#define CIR_NFT_CIDR_SIZE 50

/*
 * Derive the chain name owned by network @network ("masq-<network>") into
 * @buf.  The name must be 1..CIR_NFT_NETWORK_MAX bytes of [A-Za-z0-9_.-].
 * Returns 0, or -EINVAL (bad name) / -ENOSPC (buffer too small).
 */
int cir_nft_masq_chain(const char *network, char *buf, size_t len, struct cir_error *err);

/*
 * Derive the chain name owned by bridge @ifname ("hairpin-<ifname>").  The
 * name must be a 1..15 byte interface name of [A-Za-z0-9_.-], not "." or
 * "..".  Returns 0, -EINVAL or -ENOSPC.
 */
int cir_nft_hairpin_chain(const char *ifname, char *buf, size_t len, struct cir_error *err);

/*
 * Parse @cidr ("10.88.0.0/16", "fd00::/64"; host bits are cleared, so
 * "10.88.0.1/16" gives "10.88.0.0/16") and print its canonical form into
 * @buf.  *family is set to 4 or 6.  Returns 0, -EINVAL or -ENOSPC; @buf and
 * *family are set only on success.
 */
int cir_nft_cidr_normalize(const char *cidr, char *buf, size_t len, int *family,
			   struct cir_error *err);

/*
 * Map a libnftables error buffer to an errno (by the strerror text the
 * kernel's answer carries; parse errors give EINVAL, anything else EIO) and
 * copy its first meaningful line, without the "Error: " prefix, into @line.
 * Exposed for tests.
 */
int cir_nft_error_parse(const char *buf, char *line, size_t len);

/*
 * Masquerade traffic from @subnet_cidr to anything outside it (and outside
 * multicast), owned by network @network.  Idempotent: the network's chain is
 * (re)written to exactly this rule, so adding twice leaves one rule, and
 * adding with another subnet replaces the old one.  Creates the table on
 * first use.  One atomic transaction.
 * Errors: -EINVAL bad name or CIDR, otherwise the kernel's error.
 */
int cir_nft_masq_add(const char *network, const char *subnet_cidr, struct cir_error *err);

/*
 * Same as cir_nft_masq_add for a network with several subnets (e.g. one
 * IPv4 and one IPv6): the network's chain masquerades exactly these @n
 * subnets afterwards.  @n must be 1..16.
 */
int cir_nft_masq_set(const char *network, const char *const *subnets, size_t n,
		     struct cir_error *err);

/*
 * Remove network @network's masquerade.  Idempotent: a missing chain or
 * table is success.  When nothing else in the table is left, the table goes
 * too.  Errors: -EINVAL bad name, otherwise the kernel's error.
 */
int cir_nft_masq_del(const char *network, struct cir_error *err);

/* 1 when @network's chain exists and holds its masquerade rule, 0 when not,
 * -errno on failure. */
int cir_nft_masq_exists(const char *network, struct cir_error *err);

/*
 * Masquerade flows that enter and leave through bridge @ifname (IPVS
 * hairpin: a container calling a VIP whose chosen target sits on the same
 * bridge).  Idempotent; creates the table on first use.
 */
int cir_nft_hairpin_add(const char *ifname, struct cir_error *err);

/* Undo cir_nft_hairpin_add.  Idempotent; removes the table when it was the
 * last user. */
int cir_nft_hairpin_del(const char *ifname, struct cir_error *err);

/* 1 when bridge @ifname's hairpin chain exists with its rule, 0 when not. */
int cir_nft_hairpin_exists(const char *ifname, struct cir_error *err);

/*
 * Cluster services (spec/cluster.md "Cluster services"): connections to
 * one of vips[0..n) (their original destination) that leave through
 * bridge @ifname get source address @addr, this host's own address on the
 * cluster network, so that a target on another host answers this host
 * and not the anycast gateway.  A chain of its own ("lbsnat-<bridge>",
 * postrouting, priority srcnat - 1: before the masquerades), rewritten
 * whole; n == 0 leaves it empty.  With mac (IPv4 only), the bridge family
 * gets chains lb-<vxlan>-out and -pre: addr's IP and ARP frames leave the
 * vxlan port with source mac->host instead of the gateway MAC (which the
 * peers' overlay guards drop), and frames to mac->host that come in from
 * the vxlan port go to the bridge itself.  _del removes all of it
 * (idempotent).
 */
struct cir_nft_lbmac {
	const char *vxlan;              /* the overlay's port on the bridge */
	unsigned char gateway[6];       /* the bridge's MAC (the gateway's) */
	unsigned char host[6];          /* the MAC that addr's frames use on the overlay */
};
int cir_nft_lbsnat_set(const char *ifname, const struct cir_ip *addr, const struct cir_ip *vips,
		       size_t n, const struct cir_nft_lbmac *mac, struct cir_error *err);
int cir_nft_lbsnat_del(const char *ifname, const char *vxlan, struct cir_error *err);

/* ---- published ports (lib/portmap.h) ----
 *
 * Shared by every network: maps keyed by (protocol, host port) or (host
 * address, protocol, host port) give the DNAT target, so adding one
 * mapping is one element whatever the number present:
 *
 *   map pm4 / pm6       HOSTADDR . PROTO . HOSTPORT : ADDR . PORT
 *   map pm4any / pm6any PROTO . HOSTPORT : ADDR . PORT
 *   set pmhairpin4/6    BRIDGE . SUBNET     (ifname . address, interval)
 *   set pmbridges       BRIDGE
 *   chain portmap       the four dnat lookups (a regular chain)
 *   chain portmap-pre   nat prerouting dstnat: fib daddr type local jump portmap
 *   chain portmap-out   nat output -100:       fib daddr type local jump portmap
 *   chain portmap-post  nat postrouting srcnat: masquerade DNATed flows from
 *                       a bridge's subnet back out through that bridge
 *                       (hairpin), and loopback-sourced ones leaving
 *                       through a bridge
 */
#define CIR_NFT_PM_CHAIN "portmap"

struct cir_nft_pm {
	struct cir_ip host;          /* af 0 or all-zero: every address of addr's family */
	struct cir_ip addr;          /* the container's; its family picks the maps */
	uint16_t host_port;
	uint16_t port;
	uint8_t proto;               /* IPPROTO_TCP, _UDP, _SCTP */
};

/* A bridge ports are published through, with its subnets (af 0: none). */
struct cir_nft_pm_bridge {
	const char *name;
	struct cir_cidr net4, net6;
};

/*
 * Add mappings v[0..n) and, when br is non-NULL, br's hairpin and
 * loopback elements, in one transaction (creating the table, maps and
 * chains when missing).  Idempotent for identical elements.
 */
int cir_nft_portmap_add(const struct cir_nft_pm *v, size_t n, const struct cir_nft_pm_bridge *br,
			struct cir_error *err);

/*
 * Remove mappings v[0..n) and, when br is non-NULL, its elements; missing
 * elements are success.  With last, the maps and chains go too (and the
 * table when nothing else is left in it).
 */
int cir_nft_portmap_del(const struct cir_nft_pm *v, size_t n, const struct cir_nft_pm_bridge *br,
			bool last, struct cir_error *err);

/* 1 when every mapping of v[0..n) is in the kernel's maps, 0 when one is
 * missing (its text in err->msg), -errno on failure. */
int cir_nft_portmap_exists(const struct cir_nft_pm *v, size_t n, struct cir_error *err);

/* The element text of v ("tcp . 8080 : 10.1.0.2 . 80") and its map's name
 * into buf/map.  Exposed for tests.  -EINVAL for a bad family or protocol. */
int cir_nft_pm_element(const struct cir_nft_pm *v, char *buf, size_t len, const char **map,
		       struct cir_error *err);

/* ---- cluster networks (spec/cluster.md "The gateway across hosts") ---- */

/* Load libnftables now (a process about to narrow its seccomp filter). */
int cir_nft_load(struct cir_error *err);

/*
 * In table "bridge circuit", chains ov-NETWORK-{input,forward,output}:
 * drop frames from the vxlan port whose source is the gateway MAC, and
 * ARP (IPv4) or neighbour solicitations/advertisements (IPv6) about the
 * gateway address crossing the vxlan port either way.  One transaction,
 * idempotent (the chains are flushed and filled again).
 */
int cir_nft_overlay_guard(const char *network, const char *vxlan, const struct cir_ip *gw,
			  const unsigned char mac[6], struct cir_error *err);
/* Remove those chains; idempotent. */
int cir_nft_overlay_unguard(const char *network, struct cir_error *err);

#endif
