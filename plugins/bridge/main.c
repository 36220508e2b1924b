// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-bridge - CNI main plugin: a Linux bridge with a gateway address,
 * a veth pair per container, addresses from any CNI IPAM plugin, optional
 * outbound masquerade.  See spec/circuit-bridge.md.
 */
#include "bridge.h"

int main(void)
{
	return cir_cni_main(&cir_bridge_plugin);
}
