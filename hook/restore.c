// SPDX-License-Identifier: Apache-2.0
/*
 * restore.c - "circuit restore", "circuit gc", "circuit version" and the
 * top-level command table.
 *
 * What restore and gc re-make, re-attach, release or roll back is decided
 * by the sweep of lib/restore.h; this file runs it and prints one line per
 * outcome it reports.
 */
#include "cli.h"
#include "restore.h"

/* A failure's warning line; false when ev is not a failure. */
static bool report_failure(const struct cir_sweep_event *ev)
{
	const char *net = ev->network;

	switch (ev->what) {
	case CIR_SWEEP_NET_FAILED:
		cli_warn("network %s: %s", net, ev->msg);
		return true;
	case CIR_SWEEP_RELEASE_FAILED:
		cli_warn("network %s: release %s: %s", net, ev->cid, ev->msg);
		return true;
	case CIR_SWEEP_ROLLBACK_FAILED:
		cli_warn("network %s: roll back %s: %s", net, ev->cid, ev->msg);
		return true;
	case CIR_SWEEP_REATTACH_FAILED:
		cli_warn("network %s: re-attach %s: %s", net, ev->cid, ev->msg);
		return true;
	case CIR_SWEEP_ORPHAN_FAILED:
		cli_warn("network %s: release %s %s: %s", net, ev->cid, ev->ifname, ev->msg);
		return true;
	case CIR_SWEEP_QOS_FAILED:
		cli_warn("network %s: qos: %s", net, ev->msg);
		return true;
	case CIR_SWEEP_MODULE_FAILED:
		cli_warn("%s: %s", ev->module, ev->msg);
		return true;
	default:
		return false;
	}
}

/* A change's line; false when ev is not a change. */
static bool report_change(const struct cir_sweep_event *ev)
{
	const char *net = ev->network;

	switch (ev->what) {
	case CIR_SWEEP_NET_RESTORED:
		cli_info("restored network %s", net);
		return true;
	case CIR_SWEEP_RELEASED:
		cli_info("released container %s from network %s (process %lld is gone)", ev->cid,
			 net, ev->pid);
		return true;
	case CIR_SWEEP_ROLLED_BACK:
		cli_info("rolled back the unfinished connect of container %s to network %s",
			 ev->cid, net);
		return true;
	case CIR_SWEEP_REATTACHED:
		cli_info("reattached container %s (pid %lld) to network %s", ev->cid, ev->pid, net);
		return true;
	case CIR_SWEEP_ORPHAN_RELEASED:
		cli_info("released %s of container %s from network %s (its network namespace "
			 "is gone)", ev->addr[0] ? ev->addr : ev->ifname, ev->cid, net);
		return true;
	case CIR_SWEEP_NET_DELETED:
		cli_info("%s deleted", net);
		return true;
	case CIR_SWEEP_QOS_RESTORED:
		cli_info("restored qos for %s", net);
		return true;
	case CIR_SWEEP_LB_RESTORED:
		cli_info("restored load balancers (%d kernel changes)", ev->count);
		return true;
	default:
		return false;
	}
}

/* One line per outcome of the sweep (lib/restore.h): a failure, a change,
 * or (debug) what was looked at. */
static void sweep_report(void *arg, const struct cir_sweep_event *ev)
{
	if (report_failure(ev) || report_change(ev))
		return;
	if (ev->what == CIR_SWEEP_IN_PLACE)
		cli_debug("network %s: %s %s is in place", ev->network, ev->cid, ev->ifname);
	else if (ev->what == CIR_SWEEP_UNCHECKABLE)
		cli_debug("network %s: %s: cannot check (%s)", ev->network, ev->cid, ev->msg);
	else if (ev->what == CIR_SWEEP_STALE)
		cli_debug("network %s: %s needs re-attaching: %s", ev->network, ev->cid, ev->msg);
}

static int sweep_run(struct cli *c, bool restore)
{
	struct cir_error err = CIR_ERROR_INIT;
	_cleanup_netdb_ struct cir_netdb db = CIR_NETDB_INIT;
	struct cir_sweep_ctx ctx = { .net = cli_net_ctx(c), .restore = restore,
				     .report = sweep_report, .arg = c };
	int r;

	r = cli_db_open(c, &db, &err);
	if (r >= 0)
		r = cir_sweep(&ctx, &db, &err);
	if (r < 0)
		return cli_fail(c, &err);
	if (r == 0)
		cli_info("%s", restore ? "nothing to restore" : "nothing to collect");
	return CLI_OK;
}

int cli_restore_run(struct cli *c, const struct cli_args *a)
{
	return sweep_run(c, true);
}

int cli_gc_run(struct cli *c, const struct cli_args *a)
{
	return sweep_run(c, false);
}

int cli_version_run(struct cli *c, const struct cli_args *a)
{
	printf("circuit version %s\n", CIR_VERSION);
	printf("CNI spec %s (", CIR_CNI_SPEC_VERSION);
	for (size_t i = 0; cir_cni_versions[i]; i++)
		printf("%s%s", i ? ", " : "", cir_cni_versions[i]);
	printf(")\n");
	return CLI_OK;
}

const struct cli_cmd cli_top_cmds[] = {
	{ "hook", "", "run as an OCI hook: read the container state from stdin",
	  "runc calls 'circuit' with no arguments; 'circuit hook' is the same.\n"
	  "Status \"creating\" connects the container, \"stopped\" disconnects it.\n"
	  "Network: $NETWORK, annotation circuit.network, else the container id.\n"
	  "Subnet: $SUBNET, annotation circuit.subnet, else the first free /24 of\n"
	  "$CIRCUIT_POOL or annotation circuit.pool (default 10.254.0.0/16).\n"
	  "config.json:\n"
	  "  \"hooks\": {\n"
	  "    \"prestart\": [ { \"path\": \"/usr/local/bin/circuit\" } ],\n"
	  "    \"poststop\": [ { \"path\": \"/usr/local/bin/circuit\" } ]\n"
	  "  }\n",
	  { { NULL } }, 0, 0, cli_hook_run },
	{ "restore", "", "re-create networks, members and services after a reboot",
	  "Idempotent: on a healthy host it changes nothing.  conf/circuit-restore.service\n"
	  "runs it at boot.\nExample:\n  circuit restore\n", { { NULL } }, 0, 0,
	  cli_restore_run },
	{ "gc", "", "release attachments of containers that no longer exist",
	  "Example:\n  circuit gc\n", { { NULL } }, 0, 0, cli_gc_run },
	{ "agent", "", "the daemon: health checks of services, the cluster lease",
	  "Runs until SIGTERM.  A target failing its service's checks (--check of\n"
	  "'circuit lb create') gets weight 0 until it passes again; its state is kept\n"
	  "in the store.  With a cluster configured it also registers this host and\n"
	  "keeps its lease alive (spec/cluster.md).  conf/circuit-agent.service runs it.\n"
	  "Example:\n  circuit agent\n",
	  { { NULL } }, 0, 0, cli_agent_run },
	{ "version", "", "print the version", NULL, { { NULL } }, 0, 0, cli_version_run },
	{ NULL },
};
