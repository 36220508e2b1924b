/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipam_cni.h - the CNI face of Circuit's IPAM: config parsing and the verbs
 * of circuit-ipam.  The circuit-ipam executable is a thin main around these;
 * circuit-bridge calls them in-process when its ipam.type is "circuit-ipam"
 * (same stdin, same env, same result, one fork+exec less).
 */
#ifndef CIR_IPAM_CNI_H
#define CIR_IPAM_CNI_H

#include "cni.h"
#include "ipam.h"

#define CIR_IPAM_PLUGIN "circuit-ipam"
#define CIR_IPAM_MAX_ROUTES 16

struct cir_ipam_cni_conf {
	struct cir_ipam_config cfg;
	struct cir_cni_route routes[CIR_IPAM_MAX_ROUTES];
	size_t n_routes;
	const char *data_dir;        /* ipam.dataDir, may be NULL */
	struct cir_ip req[CIR_IPAM_MAX_SETS];   /* requested addresses */
	size_t n_req;
	unsigned int cluster_block;  /* ipam.cluster.blockSize: a cluster network, 0 = not */
};

/* Does this config's ipam name a cluster network (ipam.cluster), whose
 * ADD and DEL may talk to etcd?  For the plugins' seccomp profiles. */
bool cir_ipam_cni_is_cluster(const struct cir_cni_conf *conf);

/* Parse conf->ipam (+ args.cni.ips, runtimeConfig.ips, CNI_ARGS IP=) into *c.
 * -EINVAL with code 7 and a message naming the key on bad input. */
int cir_ipam_cni_parse(const struct cir_cni_conf *conf, const struct cir_cni_env *env,
		       struct cir_ipam_cni_conf *c, struct cir_error *err);

/* The verbs, with the semantics of spec/circuit-ipam.md. */
int cir_ipam_cni_add(struct cir_cni_ctx *ctx, struct cir_error *err);
int cir_ipam_cni_del(struct cir_cni_ctx *ctx, struct cir_error *err);
int cir_ipam_cni_check(struct cir_cni_ctx *ctx, struct cir_error *err);
int cir_ipam_cni_gc(struct cir_cni_ctx *ctx, struct cir_error *err);
int cir_ipam_cni_status(struct cir_cni_ctx *ctx, struct cir_error *err);

extern const struct cir_cni_plugin cir_ipam_plugin;

#endif
