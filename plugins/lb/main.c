// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-lb - CNI chained plugin: the container's address (from
 * prevResult) joins load-balanced services made with `circuit lb create`.
 * See spec/lb.md.
 */
#include "chain.h"
#include "sandbox.h"

/* circuit-lb never runs another executable. */
static int sandbox(const struct cir_cni_conf *conf, struct cir_error *err)
{
	return cir_sandbox_apply(CIR_SANDBOX_LB, 0, err);
}

int main(void)
{
	return cir_cni_main(&cir_lb_plugin, sandbox);
}
