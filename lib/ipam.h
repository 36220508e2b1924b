/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipam.h - address allocation for a network: the allocator and its store.
 *
 * The allocator is pure: a range set (host-local's "ranges" entry: a list of
 * {subnet, rangeStart, rangeEnd, gateway} of one family) is walked
 * round-robin from the last address handed out, skipping the network
 * address, the IPv4 broadcast and the gateway (cir_ipam_iter_*).  The store
 * side keeps, under <root>/ipam/<network>/ and one flock, one record per
 * (container id, ifname) in ids/ so that DEL and CHECK never scan, a hard
 * link of that record per reserved address in ips/ (linkat is the atomic
 * reservation, inode identity the ownership), and one cursor per range set.  ADD and DEL cost a
 * handful of file operations whatever the number of allocations; only GC,
 * STATUS on a full pool and listing walk directories.  The layout and the
 * crash-safety argument are in spec/store.md.
 *
 * The JSON config is parsed elsewhere into struct cir_ipam_config.
 */
#ifndef CIR_IPAM_H
#define CIR_IPAM_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ip.h"
#include "store.h"

#define CIR_IPAM_MAX_SETS 4     /* "ranges": at most this many range sets */
#define CIR_IPAM_MAX_RANGES 8   /* ranges per range set */
#define CIR_IPAM_IFNAME_MAX 15  /* IFNAMSIZ - 1 */

struct cir_ipam_range {
	struct cir_cidr subnet;     /* a network address (host bits zero) */
	struct cir_ip start;        /* rangeStart; af 0 = first host */
	struct cir_ip end;          /* rangeEnd; af 0 = last host */
	struct cir_ip gateway;      /* af 0 = first host */
};

struct cir_ipam_rangeset {
	size_t n;
	struct cir_ipam_range r[CIR_IPAM_MAX_RANGES];
};

struct cir_ipam_config {
	size_t n;                   /* range sets; an ADD gets one address from each */
	struct cir_ipam_rangeset sets[CIR_IPAM_MAX_SETS];
};

/* One allocated address: the address with its subnet's prefix, and gateway. */
struct cir_ipam_addr {
	struct cir_cidr addr;
	struct cir_ip gateway;
};

struct cir_ipam_result {
	size_t n;                   /* one per range set, in config order */
	struct cir_ipam_addr ips[CIR_IPAM_MAX_SETS];
};

/* A (container id, ifname) pair, as in cni.dev/valid-attachments. */
struct cir_ipam_attachment {
	const char *cid;
	const char *ifname;
};

/* Round-robin walk over one range set; see cir_ipam_iter_init(). */
struct cir_ipam_iter {
	const struct cir_ipam_rangeset *set;
	size_t ri, first_ri;
	struct cir_ip cur, first;
	bool done;
};

/* An open network: <root>/ipam/<network>/ and its sub-directories. */
struct cir_ipam {
	int fd;                     /* the network directory */
	int ips_fd;                 /* ips/: one file per reserved address */
	int ids_fd;                 /* ids/: one file per (container id, ifname) */
	char network[CIR_NAME_MAX + 1];
	/* The network namespace (CNI_NETNS) of what is allocated through
	 * this handle, recorded with each allocation so that a cautious GC
	 * can tell a live attachment from a dead one; NULL = not recorded.
	 * Set with cir_ipam_set_netns(). */
	const char *netns;
};

#define CIR_IPAM_INIT { -1, -1, -1, { 0 }, NULL }

/* Record netns (may be NULL) with the allocations made through h.  The
 * string must outlive h's use. */
void cir_ipam_set_netns(struct cir_ipam *h, const char *netns);

/*
 * Fill one range's defaults (start and gateway = first host, end = last
 * host) and check it: subnet a network address with room for hosts, start,
 * end and gateway inside the subnet, start and end not the network or
 * broadcast address, start <= end.  -EINVAL naming the subnet on error.
 */
int cir_ipam_range_canon(struct cir_ipam_range *r, struct cir_error *err);

/*
 * Canonicalise every range of cfg and check the whole: 1..CIR_IPAM_MAX_SETS
 * sets of 1..CIR_IPAM_MAX_RANGES ranges, one family per set, no two ranges
 * overlapping.  -EINVAL (code CIR_CNI_INVALID_CONFIG) on error.
 */
int cir_ipam_config_check(struct cir_ipam_config *cfg, struct cir_error *err);

/* Convenience: cfg = one set holding one range covering subnet. */
void cir_ipam_config_from_subnet(struct cir_ipam_config *cfg, const struct cir_cidr *subnet);

/*
 * Pure allocator.  Visit every candidate address of a canonical set once,
 * starting right after last (when last lies in one of its ranges, otherwise
 * at the first range's start), wrapping around, and ending with last
 * itself, so that a just-released address is the last to be reused.
 * Candidates never include a range's gateway, the network address or the
 * IPv4 broadcast.
 */
void cir_ipam_iter_init(struct cir_ipam_iter *it, const struct cir_ipam_rangeset *set,
			const struct cir_ip *last);

/* Next candidate into *out: true, or false when the walk is over. */
bool cir_ipam_iter_next(struct cir_ipam_iter *it, struct cir_ip *out);

/* Index of the range of set holding ip within [start, end], or -1. */
int cir_ipam_set_find(const struct cir_ipam_rangeset *set, const struct cir_ip *ip);

/*
 * Open (creating, 0700) <store root>/ipam/<network>/ with ips/ and ids/.
 * -EINVAL for an invalid network name; store errors otherwise.  h is set
 * only on success; close with cir_ipam_close().
 */
int cir_ipam_open(struct cir_ipam *h, const struct cir_store *st, const char *network,
		  struct cir_error *err);

/* The same, but never creating anything: -ENOENT when the network has no
 * state here (DEL and GC of a network that was never used or was deleted). */
int cir_ipam_open_existing(struct cir_ipam *h, const struct cir_store *st, const char *network,
			   struct cir_error *err);

/* Close h; safe on CIR_IPAM_INIT or an already closed handle. */
void cir_ipam_close(struct cir_ipam *h);
/* A handle closed when it goes out of scope. */
#define _cleanup_ipam_ __attribute__((cleanup(cir_ipam_close)))

/*
 * ADD: reserve one address from each range set of cfg for (cid, ifname).
 * req[0..n_req) are requested addresses (may be NULL/0): each must lie in a
 * distinct range set within [rangeStart, rangeEnd], not be a gateway, and be
 * free; sets without a requested address get the next free one
 * round-robin.  Errors: -EINVAL for a bad cid/ifname/config/request;
 * -EEXIST with CIR_CNI_ALREADY_ALLOCATED when (cid, ifname) already holds
 * addresses here or a requested address is taken; -ENOSPC with
 * CIR_CNI_POOL_EXHAUSTED and "no free address in network <name> (<subnet>)".
 * On failure nothing is reserved; *out is set only on success.
 */
int cir_ipam_alloc(struct cir_ipam *h, const struct cir_ipam_config *cfg, const char *cid,
		   const char *ifname, const struct cir_ip *req, size_t n_req,
		   struct cir_ipam_result *out, struct cir_error *err);

/*
 * DEL: release every address held by (cid, ifname).  Idempotent: returns 1
 * when something was released, 0 when there was nothing to release.
 * Addresses whose file names another owner are left alone.
 */
int cir_ipam_release(struct cir_ipam *h, const char *cid, const char *ifname,
		     struct cir_error *err);

/*
 * CHECK: the addresses held by (cid, ifname) into *out.  -ENOENT (code
 * CIR_CNI_NOT_FOUND) when it holds none or its reservation files are gone
 * or owned by someone else.
 */
int cir_ipam_get(struct cir_ipam *h, const char *cid, const char *ifname,
		 struct cir_ipam_result *out, struct cir_error *err);

/*
 * GC: release every allocation whose (cid, ifname) is not in valid[0..n),
 * every reservation file without a matching index entry (crash leftovers)
 * and stale temporary files.  Returns how many allocations/files were
 * released.  Walks the directories: not for the ADD/DEL path.
 */
int cir_ipam_gc(struct cir_ipam *h, const struct cir_ipam_attachment *valid, size_t n,
		struct cir_error *err);

/*
 * The cautious GC that `circuit gc` asks for (spec/circuit-ipam.md): an
 * allocation not in valid[0..n) is released only when it is provably dead,
 * i.e. its record names a network namespace that no longer exists at the
 * recorded path (or the path now holds another namespace).  Allocations of
 * live namespaces, and records that name none, are kept.  Crash leftovers
 * (addresses without a record, temporary files) go as with cir_ipam_gc().
 */
#define CIR_IPAM_GC_KEEP_LIVE 1u
int cir_ipam_gc_flags(struct cir_ipam *h, const struct cir_ipam_attachment *valid, size_t n,
		      unsigned int flags, struct cir_error *err);

/*
 * STATUS: 0 when the store is writable and every range set of cfg has a
 * free address; -ENOSPC (CIR_CNI_POOL_EXHAUSTED) when one is exhausted,
 * store errors otherwise.  (The CNI STATUS verb reports either as code 50.)
 */
int cir_ipam_status(struct cir_ipam *h, const struct cir_ipam_config *cfg,
		    struct cir_error *err);

/*
 * 1 when (cid, ifname)'s record names a network namespace that is gone
 * (see cir_ipam_gc_flags), 0 when it is alive, names none, or there is no
 * such record.  Reads one file; takes no lock.
 */
int cir_ipam_proven_dead(struct cir_ipam *h, const char *cid, const char *ifname);

/*
 * Listing (CLI "ls"): call fn(cid, ifname, addresses, data) for every
 * allocation.  A negative return from fn stops the walk and is returned.
 */
int cir_ipam_list(struct cir_ipam *h,
		  int (*fn)(const char *cid, const char *ifname,
			    const struct cir_ipam_result *res, void *data),
		  void *data, struct cir_error *err);

/* Network `network` is being deleted: forget its allocations
 * (<root>/ipam/<network>).  0 when there were none. */
int cir_ipam_network_forget(const struct cir_store *st, const char *network,
			    struct cir_error *err);

#endif
