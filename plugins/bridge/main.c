// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-bridge - CNI main plugin: a Linux bridge with a gateway address,
 * a veth pair per container, addresses from any CNI IPAM plugin, optional
 * outbound masquerade.  See spec/circuit-bridge.md.
 */
#include <string.h>

#include "bridge.h"
#include "ipam_cni.h"
#include "sandbox.h"

/* circuit-ipam runs in-process; any other IPAM type is a delegate to exec.
 * circuit-ipam on a cluster network may claim or free a block in etcd. */
static int sandbox(const struct cir_cni_conf *conf, struct cir_error *err)
{
	bool delegates = conf->ipam_type && strcmp(conf->ipam_type, CIR_IPAM_PLUGIN) != 0;
	unsigned int flags = delegates ? CIR_SANDBOX_EXEC : 0;

	if (!delegates && cir_ipam_cni_is_cluster(conf))
		flags |= CIR_SANDBOX_CLUSTER;
	return cir_sandbox_apply(CIR_SANDBOX_BRIDGE, flags, err);
}

int main(void)
{
	return cir_cni_main(&cir_bridge_plugin, sandbox);
}
