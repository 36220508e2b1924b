// SPDX-License-Identifier: Apache-2.0
/*
 * lb_cluster_sync.c - the agent's part of cluster services
 * (lib/lb_cluster.h): this host's copies kept in step with etcd.  The
 * kernel work is lib/lb's: a copy is an ordinary record ("scope":
 * "cluster") made and changed with cir_lb_adopt, so that health checks,
 * restore, lb ls and the hairpins treat it like any other.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "cleanup.h"
#include "cluster_alloc.h"
#include "etcd.h"
#include "ipam.h"
#include "lb_cluster_int.h"
#include "lb_int.h"
#include "lbbackend.h"
#include "link.h"
#include "netconf.h"
#include "nft.h"
#include "overlay.h"

struct cir_lb_cluster_sync *cir_lb_cluster_sync_new(struct cir_lb_db *db,
						    void (*log)(void *arg, bool error,
								const char *msg),
						    void *arg)
{
	struct cir_lb_cluster_sync *s = calloc(1, sizeof(*s));

	if (s) {
		s->db = db;
		s->log = log;
		s->arg = arg;
	}
	return s;
}

void cir_lb_cluster_sync_free(struct cir_lb_cluster_sync *s)
{
	for (size_t i = 0; s && i < SNAT_BRIDGES_MAX; i++)
		free(s->snat[i].rule);
	free(s);
}

void cir_lbc_say(struct cir_lb_cluster_sync *s, bool error, const char *fmt, ...)
{
	char line[CIR_ERROR_MSG_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->log)
		s->log(s->arg, error, line);
}

/* The slot of service name (or a free one: *fresh), SYNC_WARNED_MAX when full. */
static size_t slot_of(struct cir_lb_cluster_sync *s, const char *name, bool *fresh)
{
	size_t free_slot = SYNC_WARNED_MAX;

	*fresh = false;
	for (size_t i = 0; i < SYNC_WARNED_MAX; i++) {
		if (strcmp(s->warned[i].name, name) == 0)
			return i;
		if (!s->warned[i].name[0] && free_slot == SYNC_WARNED_MAX)
			free_slot = i;
	}
	*fresh = true;
	return free_slot;
}

/* Problem msg of key (a service's name, or "~net:NAME"): recorded; true
 * when it differs from the last one recorded (to be said). */
bool cir_lbc_warn_new(struct cir_lb_cluster_sync *s, const char *key, const char *msg)
{
	bool fresh;
	size_t i = slot_of(s, key, &fresh);

	if (i < SYNC_WARNED_MAX && !fresh && strcmp(s->warned[i].msg, msg) == 0)
		return false;
	if (i < SYNC_WARNED_MAX) {
		snprintf(s->warned[i].name, sizeof(s->warned[i].name), "%s", key);
		snprintf(s->warned[i].msg, sizeof(s->warned[i].msg), "%s", msg);
	}
	return true;
}

/* A problem of service name, said once per change; bad: its record in
 * etcd is damaged. */
static void service_warn(struct cir_lb_cluster_sync *s, const char *name, const char *msg,
			 bool bad)
{
	if (!cir_lbc_warn_new(s, name, msg))
		return;
	if (bad)
		cir_lbc_say(s, true, "cluster: service %s: its record in etcd is damaged, this "
			    "host's copy (if any) is kept: %s", name, msg);
	else
		cir_lbc_say(s, true, "cluster: service %s: not programmed on this host: %s "
			    "(retrying)", name, msg);
}

/* Service name is fine now: forget its problem; whether it had one. */
bool cir_lbc_service_ok(struct cir_lb_cluster_sync *s, const char *name)
{
	bool fresh;
	size_t i = slot_of(s, name, &fresh);

	if (i >= SYNC_WARNED_MAX || fresh)
		return false;
	memset(&s->warned[i], 0, sizeof(s->warned[i]));
	return true;
}

struct copies {
	char (*names)[CIR_NAME_MAX + 1];
	size_t n, cap;
};

static int collect_copy(const struct cir_lb_service *svc, void *arg)
{
	struct copies *c = arg;

	if (!svc->cluster)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *p = realloc(c->names, cap * sizeof(*c->names));

		if (!p)
			return -ENOMEM;
		c->names = p;
		c->cap = cap;
	}
	snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", svc->name);
	return 0;
}

static bool listed(const struct cir_lb_service *v, size_t n, const struct cir_lb_cluster_bad *b,
		   size_t nb, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < nb; i++)
		if (strcmp(b[i].name, name) == 0)
			return true;
	return false;
}

/* Drop this host's copies of services that left the cluster. */
static void drop_gone(struct cir_lb_cluster_sync *s, const struct cir_lb_service *v, size_t n,
		      const struct cir_lb_cluster_bad *b, size_t nb)
{
	struct copies c = { 0 };
	struct cir_error err = CIR_ERROR_INIT;
	int r = cir_lb_list(s->db, collect_copy, &c, &err);

	if (r < 0) {
		cir_lbc_say(s, true, "cluster: services: this host's copies not listed: %s", err.msg);
		free(c.names);
		return;
	}
	for (size_t i = 0; i < c.n; i++) {
		if (listed(v, n, b, nb, c.names[i]))
			continue;
		cir_err_clear(&err);
		r = cir_lb_drop_cluster(s->db, c.names[i], &err);
		if (r < 0)
			service_warn(s, c.names[i], err.msg, false);
		else if (r > 0)
			cir_lbc_say(s, false, "cluster: service %s removed from this host (deleted in the "
				    "cluster)", c.names[i]);
		if (r >= 0)
			cir_lbc_service_ok(s, c.names[i]);
	}
	free(c.names);
}

int cir_lb_cluster_sync_run(struct cir_lb_cluster_sync *s, struct cir_cluster *cl)
{
	struct cir_lb_service *v = NULL;
	struct cir_lb_cluster_bad *b = NULL;
	struct cir_error err = CIR_ERROR_INIT;
	size_t n = 0, nb = 0;
	int r;

	if (!s || !cl)
		return 0;
	r = cir_lb_cluster_list(cl, &v, &n, &b, &nb, &err);
	if (r < 0) {
		if (strcmp(s->failing, err.msg) != 0)
			cir_lbc_say(s, true, "cluster: services: %s (this host's copies kept; retrying)",
				    err.msg);
		snprintf(s->failing, sizeof(s->failing), "%s", err.msg);
		return r;
	}
	if (s->failing[0])
		cir_lbc_say(s, false, "cluster: services: etcd reachable again");
	s->failing[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		cir_err_clear(&err);
		r = cir_lb_adopt(s->db, &v[i], &err);
		if (r < 0) {
			service_warn(s, v[i].name, err.msg, false);
			continue;
		}
		if (r == 2)
			cir_lbc_say(s, false, "cluster: service %s programmed on this host (%zu targets)",
				    v[i].name, v[i].n_targets);
		else if (r == 1)
			cir_lbc_say(s, false, "cluster: service %s changed on this host (%zu targets)",
				    v[i].name, v[i].n_targets);
		else if (cir_lbc_service_ok(s, v[i].name))
			cir_lbc_say(s, false, "cluster: service %s in step on this host", v[i].name);
		if (r > 0)
			cir_lbc_service_ok(s, v[i].name);
	}
	for (size_t i = 0; i < nb; i++)
		service_warn(s, b[i].name, b[i].msg, true);
	drop_gone(s, v, n, b, nb);
	cir_lb_cluster_list_free(v, n);
	free(b);
	cir_lbc_snat_sync(s);
	return 0;
}
