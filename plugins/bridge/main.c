// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-bridge - CNI main plugin: a Linux bridge with a gateway address,
 * a veth pair per container, addresses from any CNI IPAM plugin, optional
 * outbound masquerade.  See spec/circuit-bridge.md.
 */
#include "bridge.h"
#include "ipam_cni.h"
#include "sandbox.h"

/* circuit-ipam runs in-process (a registered built-in); any other IPAM
 * type, or circuit-ipam with CIRCUIT_EXEC_PLUGINS=1, is a delegate to exec. */
static int sandbox(const struct cir_cni_conf *conf, struct cir_error *err)
{
	bool delegates = conf->ipam_type && !cir_cni_builtin_runs(conf->ipam_type);
	unsigned int flags = delegates ? CIR_SANDBOX_EXEC : 0;

	/* circuit-ipam in-process on a cluster network may claim or free a
	 * block in etcd. */
	if (!delegates && cir_ipam_cni_is_cluster(conf))
		flags |= CIR_SANDBOX_CLUSTER;
	return cir_sandbox_apply(CIR_SANDBOX_BRIDGE, flags, err);
}

int main(void)
{
	cir_cni_builtin_register(&cir_ipam_plugin);
	return cir_cni_main(&cir_bridge_plugin, sandbox);
}
