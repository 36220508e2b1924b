// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_agent.c - the agent's lease thread: registration, keep-alives
 * on a session of its own, re-registration after a lost lease, and what
 * the agent's loop reads of it.  spec/cluster.md is the contract.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cluster.h"

/*
 * The lease lives in a thread of its own, with its own session (its own
 * etcd client and libcurl handle): nothing the agent's loop does (health
 * checks, the watch, a reconcile waiting on netlink, libnftables or an
 * unreachable etcd member) can delay a keep-alive.  The thread touches
 * only a->kc, the lease record in the state directory, and the atomics
 * below; the loop's session a->c is never used by it.
 */
struct cir_cluster_agent {
	struct cir_cluster *c;       /* the loop's session */
	struct cir_cluster *kc;      /* the lease thread's session */
	cir_cluster_event_fn event;
	void *arg;
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	volatile sig_atomic_t stop;
	atomic_bool registered;
	atomic_uint gen;             /* registrations so far */
	/* the lease thread's own */
	long long next;              /* ms: next keep-alive or registration */
	long long last_ok;           /* ms: start of the last keep-alive etcd answered */
	int64_t ttl;
	bool failing;                /* the last attempt failed (reported once) */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void agent_event(struct cir_cluster_agent *a, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void agent_event(struct cir_cluster_agent *a, bool error, const char *fmt, ...)
{
	char msg[CIR_ERROR_MSG_MAX + 200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->event)
		a->event(a->arg, error, msg);
}

static int agent_register(struct cir_cluster_agent *a, struct cir_error *err)
{
	unsigned int moved = 0;
	char under[CIR_IP_STRLEN];
	long long t0 = mono_ms();
	int r;

	r = cir_cluster_register(a->kc, &moved, err);
	if (r < 0)
		return r;
	a->failing = false;
	a->ttl = a->kc->conf.lease_ttl;
	/* The lease was granted at about t0: the first keep-alive a third
	 * of the TTL from then. */
	a->next = t0 + a->ttl * 1000 / 3;
	a->last_ok = t0;
	atomic_fetch_add(&a->gen, 1);
	atomic_store(&a->registered, true);
	cir_ip_format(&a->kc->underlay, under, sizeof(under));
	agent_event(a, false, "cluster: host %s registered (underlay %s, lease %" PRIx64 ", TTL "
		    "%" PRId64 " s, etcd %s, %u blocks taken over)", a->kc->conf.host_name, under,
		    a->kc->lease, a->ttl, cir_etcd_endpoint(a->kc->etcd), moved);
	return 0;
}

int cir_cluster_agent_start(struct cir_cluster_agent **out, const char *state_dir,
			    cir_cluster_event_fn event, void *arg, struct cir_error *err)
{
	_cleanup_free_ struct cir_cluster_agent *a = calloc(1, sizeof(*a));
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	if (!a)
		return cir_err(err, ENOMEM, "out of memory");
	a->event = event;
	a->arg = arg;
	atomic_init(&a->registered, false);
	atomic_init(&a->gen, 0);
	r = cir_cluster_open(&a->c, state_dir, err);
	if (r < 0)
		return r;
	if (!a->c) {
		*out = NULL;
		return 0;
	}
	r = cir_cluster_open(&a->kc, state_dir, err);
	if (r < 0) {
		cir_cluster_close(a->c);
		return r;
	}
	cir_etcd_set_stop(a->kc->etcd, &a->stop);
	r = agent_register(a, &e2);
	if (r == -EEXIST || r == -EINVAL) {
		*err = e2;
		cir_cluster_close(a->kc);
		cir_cluster_close(a->c);
		return r;
	}
	if (r < 0) {
		agent_event(a, true, "cluster: cannot register host %s (retrying): %s",
			    a->kc->conf.host_name, e2.msg);
		a->failing = true;
		a->next = mono_ms() + 1000;
	}
	*out = TAKE_PTR(a);
	return 0;
}

/* One turn of the lease thread: keep-alive or registration when due.
 * Returns with a->next set. */
static void lease_step(struct cir_cluster_agent *a)
{
	struct cir_error err = CIR_ERROR_INIT;
	long long start = mono_ms();
	int64_t ttl;
	int r;

	if (!atomic_load(&a->registered)) {
		r = agent_register(a, &err);
		if (r < 0 && !a->stop) {
			if (!a->failing)
				agent_event(a, true, "cluster: cannot register host %s (retrying): %s",
					    a->kc->conf.host_name, err.msg);
			a->failing = true;
			a->next = mono_ms() + 1000;
		}
		return;
	}
	/* A keep-alive never waits longer than a third of the TTL, so that
	 * the next one still comes in time; they start TTL/3 apart. */
	cir_etcd_set_deadline(a->kc->etcd, (unsigned int)(a->ttl * 1000 / 3));
	r = cir_etcd_lease_keepalive(a->kc->etcd, a->kc->lease, &ttl, &err);
	cir_etcd_set_deadline(a->kc->etcd, 0);
	if (a->stop)
		return;
	if (r == 0) {
		if (a->failing)
			agent_event(a, false, "cluster: etcd %s reachable again, lease %" PRIx64
				    " kept", cir_etcd_endpoint(a->kc->etcd), a->kc->lease);
		a->failing = false;
		a->ttl = ttl;
		a->last_ok = start;
		a->next = start + ttl * 1000 / 3;
		return;
	}
	if (r == -ENOENT) {
		agent_event(a, true, "cluster: lease %" PRIx64 " of host %s expired: registering "
			    "again", a->kc->lease, a->kc->conf.host_name);
		atomic_store(&a->registered, false);
		a->failing = false;
		a->next = 0;
		return;
	}
	if (!a->failing)
		agent_event(a, true, "cluster: keep-alive failed (retrying): %s", err.msg);
	a->failing = true;
	/* While the lease may still live, again at once (the client starts
	 * at the next endpoint after a failure); once it must have expired,
	 * every second. */
	a->next = mono_ms() + (mono_ms() - a->last_ok < a->ttl * 1000 ? 100 : 1000);
}

static void *lease_main(void *arg)
{
	struct cir_cluster_agent *a = arg;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		long long now = mono_ms();

		if (now < a->next) {
			struct timespec ts = { .tv_sec = a->next / 1000,
					       .tv_nsec = (a->next % 1000) * 1000000 };

			pthread_cond_timedwait(&a->cv, &a->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&a->mu);
		lease_step(a);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int cir_cluster_agent_run(struct cir_cluster_agent *a, struct cir_error *err)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	if (!a || a->started)
		return 0;
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals (SIGTERM) go to the loop's thread, never to this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&a->th, NULL, lease_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		return cir_err(err, r, "cluster: cannot start the lease thread: %s", strerror(r));
	}
	a->started = true;
	return 0;
}

struct cir_cluster *cir_cluster_agent_cluster(struct cir_cluster_agent *a)
{
	return a ? a->c : NULL;
}

bool cir_cluster_agent_registered(const struct cir_cluster_agent *a)
{
	return a && atomic_load(&((struct cir_cluster_agent *)a)->registered);
}

unsigned int cir_cluster_agent_generation(const struct cir_cluster_agent *a)
{
	return a ? atomic_load(&((struct cir_cluster_agent *)a)->gen) : 0;
}

void cir_cluster_agent_stop(struct cir_cluster_agent *a)
{
	if (!a)
		return;
	if (a->started) {
		pthread_mutex_lock(&a->mu);
		a->stop = 1;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->th, NULL);
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
	}
	cir_cluster_close(a->kc);
	cir_cluster_close(a->c);
	free(a);
}
