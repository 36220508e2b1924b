/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_alloc.h - circuit-ipam for a cluster network: allocate inside
 * this host's address blocks, claiming a block from etcd only when every
 * held block is full, freeing a block its last DEL empties
 * (spec/cluster.md "IPAM on blocks").
 */
#ifndef CIR_CLUSTER_ALLOC_H
#define CIR_CLUSTER_ALLOC_H

#include "error.h"
#include "ipam.h"

/*
 * ADD: one address for (cid, ifname) from the blocks of prefix `block`
 * this host holds inside rg->subnet (rg: the network's one canonical
 * range, for its subnet and gateway); req (n_req <= 1) must lie in a held
 * block.  Errors as cir_ipam_alloc(), plus the etcd errors of a claim
 * (naming the endpoint, within the etcd timeout) and -ENOTCONN when no
 * cluster is configured.  Nothing is reserved on failure.
 */
int cir_cluster_alloc(struct cir_ipam *h, const struct cir_ipam_range *rg, unsigned int block,
		      const char *cid, const char *ifname, const struct cir_ip *req,
		      size_t n_req, struct cir_ipam_result *out, struct cir_error *err);

/* DEL: cir_ipam_release(), then free the blocks it emptied (best effort:
 * never an error).  Returns as cir_ipam_release(). */
int cir_cluster_release(struct cir_ipam *h, const char *cid, const char *ifname,
			struct cir_error *err);

/*
 * The restart check of one cluster network (spec/cluster.md): the blocks
 * this host lists for it (<state>/ipam/NETWORK/cluster/blocks, under the
 * lock of that directory) against etcd.  A block etcd no longer has (the
 * host came back after its TTL) is claimed again; one another host holds
 * now is dropped from the list.  report is called for each change (holder
 * NULL: reclaimed; else dropped, with the number of addresses of the block
 * still reserved here).  Returns how many blocks were dropped or
 * reclaimed, 0 when the network has no IPAM state here, -errno when etcd
 * cannot say (the list is left as it was).
 */
struct cir_cluster;
int cir_cluster_blocks_check(struct cir_cluster *c, const char *state_dir, const char *network,
			     void (*report)(void *arg, const char *network,
					    const struct cir_cidr *block, const char *holder,
					    unsigned int used),
			     void *arg, struct cir_error *err);

#endif
