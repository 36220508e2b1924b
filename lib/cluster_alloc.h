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

#endif
