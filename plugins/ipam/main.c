// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-ipam - CNI IPAM plugin.  The logic lives in lib/ipam_cni.c so
 * that circuit-bridge can run it in-process; see spec/circuit-ipam.md.
 */
#include "ipam_cni.h"

int main(void)
{
	return cir_cni_main(&cir_ipam_plugin);
}
