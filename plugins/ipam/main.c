// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-ipam - CNI IPAM plugin.  The logic lives in lib/ipam_cni.c so
 * that circuit-bridge can run it in-process; see spec/circuit-ipam.md.
 */
#include "ipam_cni.h"
#include "sandbox.h"

/* circuit-ipam never runs another executable; only on a cluster network
 * may it talk to etcd (a new block, an empty block given back). */
static int sandbox(const struct cir_cni_conf *conf, struct cir_error *err)
{
	return cir_sandbox_apply(CIR_SANDBOX_IPAM,
				 cir_ipam_cni_is_cluster(conf) ? CIR_SANDBOX_CLUSTER : 0, err);
}

int main(void)
{
	return cir_cni_main(&cir_ipam_plugin, sandbox);
}
