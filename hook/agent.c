// SPDX-License-Identifier: Apache-2.0
/*
 * agent.c - "circuit agent": the one long-running daemon.  Runs the
 * health checks of load-balanced services (lib/lbagent) until SIGTERM or
 * SIGINT; conf/circuit-agent.service runs it under systemd.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "cluster.h"
#include "cluster_sync.h"
#include "lbagent.h"
#include "sandbox.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void agent_event(void *arg, bool error, const char *msg)
{
	if (error)
		cli_warn("%s", msg);
	else
		cli_info("%s", msg);
}

struct cluster_part {
	struct cir_cluster_agent *lease;
	struct cir_cluster_sync *sync;
	size_t probes;               /* health checks the loop runs */
};

/* The cluster part (lib/cluster.c's lease, lib/cluster_sync.c): the data
 * plane of the cluster networks, in the loop (the lease has a thread of
 * its own); nothing when no cluster is configured. */
static void cluster_tick(void *arg)
{
	struct cluster_part *p = arg;

	cir_cluster_sync_tick(p->sync);
}

static size_t cluster_fds(void *arg, struct pollfd *pfd, size_t max, long long *wake)
{
	struct cluster_part *p = arg;

	return cir_cluster_sync_fds(p->sync, pfd, max, wake);
}

static void cluster_ready(void *arg, const struct pollfd *pfd, size_t n)
{
	struct cluster_part *p = arg;

	cir_cluster_sync_ready(p->sync, pfd, n);
}

int cli_agent_run(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_cluster_agent_stopp) struct cir_cluster_agent *cluster = NULL;
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lbagent_opts o = { .stop = &stop, .scan_ms = 1000, .event = agent_event };
	struct sigaction sa = { .sa_handler = on_signal };
	struct cluster_part part = { NULL, NULL, 0 };
	struct cir_ipvs *h;
	int r;

	/* No SA_RESTART: poll() returns EINTR and the loop sees stop. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	r = cir_lb_db_open(&db, c->state_dir, &err);
	if (r < 0) {
		cir_err_wrap(&err, "state %s", cir_store_root(c->state_dir));
		return cli_fail(c, &err);
	}
	if (cir_lb_db_ipvs(&db, &h, &err) < 0)
		cli_warn("checks change the store only: %s", err.msg);
	cir_err_clear(&err);
	if (cli_cluster_agent_start(c, &cluster, &err) < 0)
		return cli_fail(c, &err);
	if (cluster) {
		part.lease = cluster;
		if (cir_cluster_sync_new(cli_net_ctx(c), c->state_dir, cluster, &part.sync,
					 &err) < 0)
			return cli_fail(c, &err);
	}
	o.tick = cluster_tick;
	o.tick_arg = &part;
	o.probes = &part.probes;
	if (cluster) {
		o.fds = cluster_fds;
		o.ready = cluster_ready;
	}
	/* Narrow circuit's filter to the agent's (spec/security.md): execve
	 * only when an exec check is configured now; one configured later
	 * stops the agent with a message, and its service manager restarts it
	 * with exec. */
	r = cir_lbagent_needs_exec(&db, &err);
	if (r < 0)
		return cli_fail(c, &err);
	o.exec_allowed = r > 0;
	if (cir_sandbox_apply(CIR_SANDBOX_AGENT, (o.exec_allowed ? CIR_SANDBOX_EXEC : 0) |
			      (cluster ? CIR_SANDBOX_CLUSTER : 0), &err) < 0) {
		cir_cluster_sync_free(part.sync);
		return cli_fail(c, &err);
	}
	/* The lease thread starts under the filter it inherits. */
	if (cir_cluster_agent_run(cluster, &err) < 0) {
		cir_cluster_sync_free(part.sync);
		return cli_fail(c, &err);
	}
	cli_info("agent running (health checks of load-balanced services)");
	r = cir_lbagent_run(&db, &o, &err);
	cir_cluster_sync_free(part.sync);
	if (r < 0)
		return cli_fail(c, &err);
	cli_info("agent stopped");
	return CLI_OK;
}
