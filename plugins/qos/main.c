// SPDX-License-Identifier: Apache-2.0
/*
 * circuit-qos - CNI chained plugin: shapes a container's link in both
 * directions (HTB rate/ceiling/burst with a netem leaf for delay, jitter
 * and loss), a drop-in for the reference `bandwidth` plugin.  See
 * spec/circuit-qos.md.
 */
#include "plugin.h"

int main(void)
{
	return cir_cni_main(&cir_qos_plugin);
}
