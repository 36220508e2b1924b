// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-ovs - CNI main plugin: an Open vSwitch bridge (spoken to over
 * OVSDB, RFC 7047) with a gateway on its internal port, a veth pair per
 * container on an OVS port (optional VLAN tag), addresses from any CNI
 * IPAM plugin, optional outbound masquerade.  See spec/ovs.md.
 */
#include "ipam_cni.h"
#include "plugin.h"
#include "sandbox.h"

/* As circuit-bridge: circuit-ipam in-process, any other IPAM executed. */
static int sandbox(const struct cir_cni_conf *conf, struct cir_error *err)
{
	bool delegates = conf->ipam_type && !cir_cni_builtin_runs(conf->ipam_type);
	unsigned int flags = delegates ? CIR_SANDBOX_EXEC : 0;

	if (!delegates && cir_ipam_cni_is_cluster(conf))
		flags |= CIR_SANDBOX_CLUSTER;
	return cir_sandbox_apply(CIR_SANDBOX_OVS, flags, err);
}

int main(void)
{
	cir_cni_builtin_register(&cir_ipam_plugin);
	return cir_cni_main(&cir_ovs_plugin, sandbox);
}
