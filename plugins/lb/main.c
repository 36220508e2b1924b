// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-lb - CNI chained plugin: the container's address (from
 * prevResult) joins load-balanced services made with `circuit lb create`.
 * See spec/lb.md.
 */
#include "chain.h"

int main(void)
{
	return cir_cni_main(&cir_lb_plugin);
}
