// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-portmap - CNI chained plugin: publishes container ports on the
 * host (the portMappings capability, as the reference portmap plugin reads
 * it) with DNAT elements in Circuit's nftables table.  See
 * spec/circuit-portmap.md.
 */
#include "plugin.h"
#include "sandbox.h"

/* circuit-portmap never runs another executable. */
static int sandbox(const struct cir_cni_conf *conf, struct cir_error *err)
{
	return cir_sandbox_apply(CIR_SANDBOX_PORTMAP, 0, err);
}

int main(void)
{
	return cir_cni_main(&cir_portmap_plugin, sandbox);
}
