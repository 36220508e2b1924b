// SPDX-License-Identifier: Apache-2.0
/*
 * agent.c - "circuit agent": the one long-running daemon.  Runs the
 * health checks of load-balanced services (lib/lbagent) until SIGTERM or
 * SIGINT; conf/circuit-agent.service runs it under systemd.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cli.h"
#include "cluster.h"
#include "cluster_sync.h"
#include "lb_cluster.h"
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
	struct cir_lb_cluster_sync *services;   /* this host's copies of cluster services */
	long long services_next;     /* ms: the next full pass (0 = at once) */
	size_t probes;               /* health checks the loop runs */
};

/* A full pass over the cluster's services this often at least (ms): the
 * safety net under the watch, as the networks' sync has. */
#define SERVICES_LIST_MS 10000

/* The sync first (it runs in this thread), then the lease. */
static void cluster_part_end(struct cluster_part *p)
{
	cir_lb_cluster_sync_free(p->services);
	cir_cluster_sync_free(p->sync);
	cir_cluster_agent_stop(p->lease);
}

/* The cluster part (lib/cluster.c's lease, lib/cluster_sync.c): the data
 * plane of the cluster networks, in the loop (the lease has a thread of
 * its own); nothing when no cluster is configured. */
static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The cluster's services onto this host (lib/lb_cluster.c): when the
 * watch saw them change, every 10 s, and every tick while etcd fails. */
static void services_sync(struct cluster_part *p, bool tick)
{
	bool changed = cir_cluster_sync_services_changed(p->sync);

	if (!p->services || (!changed && (!tick || mono_ms() < p->services_next)))
		return;
	if (cir_lb_cluster_sync_run(p->services, cir_cluster_agent_cluster(p->lease)) < 0)
		p->services_next = 0;
	else
		p->services_next = mono_ms() + SERVICES_LIST_MS;
}

static void cluster_tick(void *arg)
{
	struct cluster_part *p = arg;

	cir_cluster_sync_tick(p->sync);
	services_sync(p, true);
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
	services_sync(p, false);
}

/* The load-balancing store the checks change, and IPVS (without it the
 * checks change the store only). */
static int agent_open_store(struct cli *c, struct cir_lb_db *db, struct cir_error *err)
{
	struct cir_ipvs *h;
	int r = cir_lb_db_open(db, c->state_dir, err);

	if (r < 0)
		return cir_err_wrap(err, "state %s", cir_store_root(c->state_dir));
	if (cir_lb_db_ipvs(db, &h, err) < 0)
		cli_warn("checks change the store only: %s", err->msg);
	cir_err_clear(err);
	return 0;
}

/* The cluster part, when a cluster is configured: the registration
 * (lib/cluster.c) and the data plane's sync in the loop's callbacks. */
static int agent_cluster_start(struct cli *c, struct cir_lb_db *db, struct cluster_part *part,
			       struct cir_lbagent_opts *o, struct cir_error *err)
{
	int r = cir_cluster_agent_start(&part->lease, c->state_dir, agent_event, NULL, err);

	if (r >= 0 && part->lease)
		r = cir_cluster_sync_new(cli_net_ctx(c), c->state_dir, part->lease, &part->sync,
					 err);
	if (r >= 0 && part->lease) {
		part->services = cir_lb_cluster_sync_new(db, agent_event, NULL);
		if (!part->services)
			r = cir_err(err, ENOMEM, "out of memory");
	}
	if (r < 0)
		return r;
	o->tick = cluster_tick;
	o->tick_arg = part;
	o->probes = &part->probes;
	if (part->lease) {
		o->fds = cluster_fds;
		o->ready = cluster_ready;
	}
	return 0;
}

/* Narrow circuit's filter to the agent's (spec/security.md): execve only
 * when an exec check is configured now; one configured later stops the
 * agent with a message, and its service manager restarts it with exec. */
static int agent_sandbox(struct cir_lb_db *db, struct cir_lbagent_opts *o, bool cluster,
			 struct cir_error *err)
{
	int r = cir_lbagent_needs_exec(db, err);

	if (r < 0)
		return r;
	o->exec_allowed = r > 0;
	return cir_sandbox_apply(CIR_SANDBOX_AGENT, (o->exec_allowed ? CIR_SANDBOX_EXEC : 0) |
				 (cluster ? CIR_SANDBOX_CLUSTER : 0), err);
}

int cli_agent_run(struct cli *c, const struct cli_args *a)
{
	_cleanup_(cir_lb_db_close) struct cir_lb_db db = CIR_LB_DB_INIT;
	_cleanup_(cluster_part_end) struct cluster_part part = { NULL, NULL, NULL, 0, 0 };
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lbagent_opts o = { .stop = &stop, .scan_ms = 1000, .event = agent_event };
	struct sigaction sa = { .sa_handler = on_signal };
	int r;

	/* No SA_RESTART: poll() returns EINTR and the loop sees stop. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (agent_open_store(c, &db, &err) < 0 || agent_cluster_start(c, &db, &part, &o, &err) < 0 ||
	    agent_sandbox(&db, &o, part.lease != NULL, &err) < 0)
		return cli_fail(c, &err);
	/* The lease thread starts under the filter it inherits. */
	if (cir_cluster_agent_run(part.lease, &err) < 0)
		return cli_fail(c, &err);
	cli_info("agent running (health checks of load-balanced services)");
	r = cir_lbagent_run(&db, &o, &err);
	if (r < 0)
		return cli_fail(c, &err);
	cli_info("agent stopped");
	return CLI_OK;
}
