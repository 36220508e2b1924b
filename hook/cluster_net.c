// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_net.c - cluster networks in the CLI (spec/cluster.md "Cluster
 * networks"): `circuit network create NAME SUBNET --scope cluster`, the
 * SCOPE of `network ls`, a cluster network made here on first use, and the
 * cluster's part of `network delete`.  Arguments and printing only: the
 * decisions are lib/cluster_local.c's (materialising a network here) and
 * lib/cluster_sync.c's (the agent's sync, run by hook/agent.c).
 */
#include <errno.h>
#include <stdbool.h>

#include "cleanup.h"
#include "cli.h"
#include "cluster.h"
#include "cluster_local.h"
#include "output.h"

int cli_cluster_net_create(struct cli *c, const char *name, const char *subnet,
			   const char *vni, const char *block, struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *cl = NULL;
	struct cir_cluster_net n;
	unsigned long long v = 0, b = 0;
	int r;

	if (vni && cli_parse_uint(vni, CIR_CLUSTER_VNI_MIN, CIR_CLUSTER_VNI_MAX, &v) < 0)
		return cir_err(err, EINVAL, "invalid --vni \"%.32s\" (%u..%u)", vni,
			       CIR_CLUSTER_VNI_MIN, CIR_CLUSTER_VNI_MAX);
	if (block && cli_parse_uint(block, 1, 128, &b) < 0)
		return cir_err(err, EINVAL, "invalid --block-size \"%.32s\" (a prefix length)",
			       block);
	r = cir_cluster_net_init(&n, name, subnet, (unsigned int)v, (unsigned int)b, err);
	if (r < 0)
		return r;
	r = cir_cluster_open(&cl, c->state_dir, err);
	if (r < 0)
		return r;
	if (!cl)
		return cir_cluster_err_none(err);
	return cir_cluster_net_create(cl, &n, err);
}

/* ---- network ls ---- */

static int ls_row(struct cli_out *o, const struct cir_cluster_net *cn)
{
	char sn[CIR_CIDR_STRLEN], gw[CIR_IP_STRLEN];

	cir_cidr_format(&cn->subnet, sn, sizeof(sn));
	cli_out_row(o);
	cli_print_str(o, CLI_PRINT_ANY, "name", cn->name);
	cli_print_str(o, CLI_PRINT_ANY, "subnet", sn);
	cli_print_str(o, CLI_PRINT_JSON, "gateway", cir_ip_format(&cn->gateway, gw, sizeof(gw)));
	cli_print_str(o, CLI_PRINT_ANY, "scope", "cluster");
	cli_print_int(o, CLI_PRINT_JSON, "vni", cn->vni, NULL);
	cli_print_int(o, CLI_PRINT_JSON, "blockSize", cn->block, NULL);
	cli_print_bool(o, CLI_PRINT_JSON, "local", false);
	cli_print_int(o, CLI_PRINT_JSON, "members", 0, NULL);
	return cli_out_row_end(o);
}

int cli_cluster_net_ls(struct cli *c, struct cli_out *o,
		       bool (*listed)(void *arg, const char *name), void *arg)
{
	_cleanup_free_ struct cir_cluster_net *v = NULL;
	struct cir_error e = CIR_ERROR_INIT;
	size_t n = 0;
	int r = cir_cluster_net_catalog(c->state_dir, &v, &n, &e);

	if (r < 0) {
		cli_warn("cluster networks not listed: %s", e.msg);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!listed(arg, v[i].name) && ls_row(o, &v[i]) < 0)
			return -ENOMEM;
	return r;
}
