// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-qos - CNI chained plugin: shapes a container's link in both
 * directions (HTB rate/ceiling/burst with a netem leaf for delay, jitter
 * and loss), a drop-in for the reference `bandwidth` plugin.  See
 * spec/circuit-qos.md.
 */
#include "plugin.h"
#include "sandbox.h"

/* circuit-qos never runs another executable. */
static int sandbox(const struct cir_cni_conf *conf, struct cir_error *err)
{
	return cir_sandbox_apply(CIR_SANDBOX_QOS, 0, err);
}

int main(void)
{
	return cir_cni_main(&cir_qos_plugin, sandbox);
}
