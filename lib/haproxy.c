// SPDX-License-Identifier: Apache-2.0
/*
 * haproxy.c - the HAProxy backend of `circuit lb` (lib/lbbackend.h).
 *
 * One haproxy process per host serves every service whose record says
 * "backend": "haproxy".  Its configuration is generated from the store,
 * one file per service under lb/haproxy.d/ (plus 00-global.cfg), so that a
 * restart always comes back with what the records say.  Targets change
 * live through HAProxy's runtime API on lb/haproxy.sock (add server,
 * enable server/health, set weight, set server state maint, del server),
 * spoken here over a unix socket.  A new or deleted service (a listener)
 * needs a new process: it is started with -sf (the old one stops
 * listening and finishes its connections) and -x (the listening sockets
 * are handed over), so no connection is dropped.  spec/lb.md, "HAProxy".
 *
 * haproxy is the data service, not a configuration tool: it is executed
 * (posix_spawn, its own session, a fixed environment) by the CLI verbs and
 * `circuit restore`, never by the CNI plugin (db->may_spawn).
 *
 * This file holds the backend's operations; the configuration is written
 * by haproxy_conf.c, the runtime API spoken by haproxy_api.c, the process
 * run by haproxy_proc.c (lib/haproxy_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "haproxy_int.h"

/* HAProxy's largest server weight. */
#define HAP_WEIGHT_MAX 256

/* ------------------------------------------------------------ validate */

static int hap_validate(const struct cir_lb_service *s, struct cir_error *err)
{
	if (s->protocol != IPPROTO_TCP)
		return cir_err(err, EINVAL, "the haproxy backend carries tcp only");
	if (!cir_hap_balance(s->sched))
		return cir_err(err, EINVAL, "scheduler %s: the haproxy backend has rr, wrr, lc, "
			       "wlc, sh and mh", s->sched);
	if (s->persistent)
		return cir_err(err, EINVAL, "--persistent is for the ipvs backend (use "
			       "--sched sh with haproxy)");
	if (s->mh_fallback || s->mh_port)
		return cir_err(err, EINVAL, "--mh-fallback and --mh-port are for the ipvs backend");
	if (s->check.type != CIR_LB_CHECK_NONE && s->check.type != CIR_LB_CHECK_TCP &&
	    s->check.type != CIR_LB_CHECK_HTTP)
		return cir_err(err, EINVAL, "the haproxy backend checks tcp and http only");
	for (size_t i = 0; i < s->n_targets; i++) {
		const struct cir_lb_target *t = &s->targets[i];

		if (t->method != CIR_IPVS_FWD_MASQ)
			return cir_err(err, EINVAL, "method %s: the haproxy backend is a proxy "
				       "(method nat only)", cir_lb_method_name(t->method));
		if (t->weight > HAP_WEIGHT_MAX)
			return cir_err(err, EINVAL, "weight %u: the haproxy backend takes 0..%d",
				       t->weight, HAP_WEIGHT_MAX);
		if (t->check.type != CIR_LB_CHECK_NONE)
			return cir_err(err, EINVAL, "per-target checks are for the ipvs backend "
				       "(haproxy checks every target with the service's check)");
	}
	return 0;
}

/* A new configuration with listeners changed: a new process (seamless),
 * or the first one.  Without spawning (the CNI plugin) the files wait
 * for the next start. */
static int hap_reload(struct cir_lb_db *db, struct cir_error *err)
{
	return cir_hap_start(db, err);
}

/* s's files written; targets change live, so when haproxy is not
 * running, start it (it reads the files just written) or, if this caller
 * may not, leave it to the next start.  Returns 1 when the running
 * process must be told, 0 when nothing more is to be done. */
static int live_or_start(struct cir_lb_db *db, const struct cir_lb_service *s,
			 struct cir_error *err)
{
	int r = cir_hap_cfg_write(db, s, err);

	if (r < 0)
		return r;
	if (cir_hap_running(db))
		return 1;
	r = cir_hap_start(db, err);
	return r < 0 ? r : 0;
}

/* What "del server" answers when it deleted. */
static const char *const deleted_ok[] = { "Server deleted", NULL };

/* "VERB SERVICE/SERVER[ TAIL]" through the runtime API (cir_hap_api_do). */
static int srv_do(struct cir_lb_db *db, const char *verb, const char *svc, const char *srv,
		  const char *tail, const char *const *oks, struct cir_error *err)
{
	char cmd[CIR_NAME_MAX + 128];

	snprintf(cmd, sizeof(cmd), "%s %s/%s%s%s", verb, svc, srv, tail ? " " : "",
		 tail ? tail : "");
	return cir_hap_api_do(db, cmd, oks, err);
}

/* "set weight SERVICE/SERVER W" of target t. */
static int srv_weight(struct cir_lb_db *db, const struct cir_lb_service *s, const char *srv,
		      const struct cir_lb_target *t, struct cir_error *err)
{
	char w[16];

	snprintf(w, sizeof(w), "%u", t->weight);
	return srv_do(db, "set weight", s->name, srv, w, NULL, err);
}

/* ------------------------------------------------------------ ops */

static int hap_create(struct cir_lb_db *db, const struct cir_lb_service *s,
		      struct cir_error *err)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int r, n;

	n = cir_lb_vip_setup(db, &s->vip.ip, false, err);
	if (n < 0)
		return n;
	r = cir_hap_cfg_write(db, s, err);
	if (r >= 0)
		r = hap_reload(db, err);
	if (r < 0) {
		cir_hap_cfg_remove(db, s->name, &e2);
		return r;
	}
	return n + 1;
}

static int hap_remove(struct cir_lb_db *db, const struct cir_lb_service *s,
		      struct cir_error *err)
{
	struct cir_hap_names cn;
	int r;

	r = cir_hap_cfg_remove(db, s->name, err);
	if (r < 0)
		return r;
	r = cir_hap_cfg_list(db, &cn, err);
	if (r < 0)
		return r;
	r = (int)cn.n;
	cir_hap_names_free(&cn);
	if (r == 0)
		return cir_hap_stop(db, err);
	/* Its listener closes in the new process; connections it carries
	 * finish in the old one. */
	return cir_hap_running(db) ? hap_reload(db, err) : 0;
}

/* Servers HAProxy has in backend s that s's record lacks (left in
 * maintenance by a removal while they carried connections): delete the
 * ones that are idle now. */
static void sweep(struct cir_lb_db *db, const struct cir_lb_service *s)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	_cleanup_free_ char *ans = NULL;
	char cmd[CIR_NAME_MAX + 64];
	char *save = NULL;

	snprintf(cmd, sizeof(cmd), "show servers state %s", s->name);
	if (cir_hap_api_cmd(db, cmd, &ans, &e2) < 0)
		return;
	for (char *l = strtok_r(ans, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char be[CIR_NAME_MAX + 1], srv[80];
		bool known = false;

		/* be_id be_name srv_id srv_name ... */
		if (l[0] == '#' || sscanf(l, "%*d %128s %*d %79s", be, srv) != 2 ||
		    strcmp(be, s->name) != 0)
			continue;
		for (size_t i = 0; !known && i < s->n_targets; i++) {
			char n[80];

			cir_hap_srv_name(&s->targets[i].addr, n, sizeof(n));
			known = strcmp(n, srv) == 0;
		}
		if (known)
			continue;
		srv_do(db, "set server", s->name, srv, "state maint", NULL, &e2);
		srv_do(db, "del server", s->name, srv, NULL, deleted_ok, &e2);
		cir_err_clear(&e2);
	}
}

static int hap_target_add(struct cir_lb_db *db, const struct cir_lb_service *s,
			  const struct cir_lb_target *t, struct cir_error *err)
{
	static const char *const ok[] = { "New server registered", NULL };
	_cleanup_(cir_hap_buf_free) struct cir_hap_buf b = { 0 };
	char n[80], a[CIR_LB_ADDR_STRLEN + 8];
	int r;

	r = live_or_start(db, s, err);
	if (r <= 0)
		return r < 0 ? r : 1;
	sweep(db, s);
	cir_hap_srv_name(&t->addr, n, sizeof(n));
	cir_hap_addr(&t->addr, a, sizeof(a));
	cir_hap_printf(&b, "add server %s/%s %s", s->name, n, a);
	cir_hap_server_opts(&b, s, t);
	if (b.oom)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_hap_api_do(db, b.p, ok, err);
	if (r < 0 && strstr(err->msg, "already exists")) {
		/* A target removed while it carried connections, back again. */
		cir_err_clear(err);
		r = srv_weight(db, s, n, t, err);
	}
	if (r < 0)
		return r;
	/* Dynamic servers start in maintenance with checks off. */
	if (s->check.type != CIR_LB_CHECK_NONE) {
		r = srv_do(db, "enable health", s->name, n, NULL, NULL, err);
		if (r < 0)
			return r;
	}
	r = srv_do(db, "set server", s->name, n, "state ready", NULL, err);
	return r < 0 ? r : 1;
}

static int hap_target_remove(struct cir_lb_db *db, const struct cir_lb_service *s,
			     const struct cir_lb_target *t, struct cir_error *err)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	char n[80];
	int r;

	r = cir_hap_cfg_write(db, s, err);
	if (r < 0)
		return r;
	if (!cir_hap_running(db))
		return 1;       /* the next start reads the files */
	cir_hap_srv_name(&t->addr, n, sizeof(n));
	/* Maintenance: no new connection goes to it, open ones go on. */
	r = srv_do(db, "set server", s->name, n, "state maint", NULL, err);
	if (r < 0 && strstr(err->msg, "No such server")) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	/* HAProxy refuses to delete a server with connections: it stays in
	 * maintenance and the next change to the service deletes it. */
	srv_do(db, "del server", s->name, n, NULL, deleted_ok, &e2);
	return 1;
}

static int hap_target_weight(struct cir_lb_db *db, const struct cir_lb_service *s,
			     const struct cir_lb_target *t, struct cir_error *err)
{
	char n[80];
	int r;

	r = live_or_start(db, s, err);
	if (r <= 0)
		return r < 0 ? r : 1;
	cir_hap_srv_name(&t->addr, n, sizeof(n));
	r = srv_weight(db, s, n, t, err);
	return r < 0 ? r : 1;
}

struct restore_ctx {
	struct cir_lb_db *db;
	struct cir_hap_names have;
	int changes, first;
	size_t services;
	struct cir_error *err;
};

static int restore_fn(const struct cir_lb_service *s, void *arg)
{
	struct restore_ctx *rc = arg;
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	if (s->backend != CIR_LB_BACKEND_HAPROXY)
		return 0;
	rc->services++;
	for (size_t i = 0; i < rc->have.n; i++)
		if (strcmp(rc->have.v[i], s->name) == 0)
			rc->have.v[i][0] = '\0';        /* has a record */
	r = cir_lb_vip_setup(rc->db, &s->vip.ip, false, &e2);
	if (r >= 0) {
		rc->changes += r;
		r = cir_hap_cfg_write(rc->db, s, &e2);
	}
	if (r > 0)
		rc->changes++;
	if (r < 0 && !rc->first) {
		rc->first = r;
		*rc->err = e2;
		cir_err_wrap(rc->err, "restore service %s", s->name);
	}
	return 0;
}

static int hap_restore(struct cir_lb_db *db, struct cir_error *err)
{
	struct restore_ctx rc = { .db = db, .err = err };
	int r;

	r = cir_hap_cfg_list(db, &rc.have, err);
	if (r < 0)
		return r;
	r = cir_lb_list(db, restore_fn, &rc, err);
	/* Files of services that have no record any more. */
	for (size_t i = 0; r >= 0 && i < rc.have.n; i++)
		if (rc.have.v[i][0] && cir_hap_cfg_remove(db, rc.have.v[i], err) >= 0)
			rc.changes++;
	cir_hap_names_free(&rc.have);
	if (r < 0)
		return r;
	if (rc.services == 0) {
		if (rc.changes || cir_hap_running(db))
			rc.changes += cir_hap_stop(db, err) > 0;
		return rc.first ? rc.first : rc.changes;
	}
	if (!cir_hap_running(db) || rc.changes) {
		r = cir_hap_start(db, err);
		if (r < 0)
			return r;
		rc.changes += r;
	}
	return rc.first ? rc.first : rc.changes;
}

/* One CSV field of line (0-based) into out. */
static void csv_field(const char *line, int idx, char *out, size_t len)
{
	const char *p = line;

	for (int i = 0; i < idx && p; i++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p) {
		out[0] = '\0';
		return;
	}
	snprintf(out, len, "%.*s", (int)strcspn(p, ",\n"), p);
}

static int csv_col(const char *header, const char *name)
{
	const char *p = header;
	size_t nl = strlen(name);

	if (*p == '#')
		p += 2;
	for (int i = 0; p; i++) {
		if (strncmp(p, name, nl) == 0 && (p[nl] == ',' || p[nl] == '\n'))
			return i + (header[0] == '#' ? 0 : 0);
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return -1;
}

static void state_of(const char *status, char *out, size_t len)
{
	if (strncmp(status, "UP", 2) == 0)
		snprintf(out, len, "up");
	else if (strncmp(status, "DOWN", 4) == 0)
		snprintf(out, len, "down");
	else if (strncmp(status, "MAINT", 5) == 0)
		snprintf(out, len, "maint");
	else if (strncmp(status, "DRAIN", 5) == 0)
		snprintf(out, len, "drain");
	else if (strncmp(status, "NOLB", 4) == 0)
		snprintf(out, len, "nolb");
	else
		snprintf(out, len, "%s", "");
}

static int hap_status(struct cir_lb_db *db, const struct cir_lb_service *s, bool *present,
		      struct cir_lb_target_status *st, struct cir_error *err)
{
	_cleanup_free_ char *ans = NULL;
	char *save = NULL, *hdr;
	int cpx, csv, cscur, cstatus, r;

	*present = false;
	memset(st, 0, s->n_targets * sizeof(*st));
	if (!cir_hap_running(db))
		return cir_err(err, ESRCH, "haproxy is not running (run circuit restore)");
	r = cir_hap_api_cmd(db, "show stat", &ans, err);
	if (r < 0)
		return r;
	hdr = strtok_r(ans, "\n", &save);
	if (!hdr || hdr[0] != '#')
		return cir_err(err, EBADMSG, "haproxy: show stat: no header");
	cpx = csv_col(hdr, "pxname");
	csv = csv_col(hdr, "svname");
	cscur = csv_col(hdr, "scur");
	cstatus = csv_col(hdr, "status");
	if (cpx < 0 || csv < 0 || cscur < 0 || cstatus < 0)
		return cir_err(err, EBADMSG, "haproxy: show stat: unknown columns");
	for (char *l = strtok_r(NULL, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char px[CIR_NAME_MAX + 1], sv[80], cur[16], status[32];

		csv_field(l, cpx, px, sizeof(px));
		if (strcmp(px, s->name) != 0)
			continue;
		csv_field(l, csv, sv, sizeof(sv));
		if (strcmp(sv, "BACKEND") == 0) {
			*present = true;
			continue;
		}
		for (size_t i = 0; i < s->n_targets; i++) {
			char n[80];

			cir_hap_srv_name(&s->targets[i].addr, n, sizeof(n));
			if (strcmp(n, sv) != 0)
				continue;
			csv_field(l, cscur, cur, sizeof(cur));
			csv_field(l, cstatus, status, sizeof(status));
			st[i].programmed = true;
			st[i].active = (uint32_t)strtoul(cur, NULL, 10);
			state_of(status, st[i].state, sizeof(st[i].state));
		}
	}
	return 0;
}

static int hap_active(struct cir_lb_db *db, const struct cir_lb_service *s,
		      const struct cir_lb_addr *a, uint32_t *out, struct cir_error *err)
{
	_cleanup_free_ struct cir_lb_target_status *st = NULL;
	struct cir_lb_service one = *s;
	struct cir_lb_target t = { .addr = *a };
	bool present;
	int r;

	*out = 0;
	one.targets = &t;
	one.n_targets = 1;
	st = calloc(1, sizeof(*st));
	if (!st)
		return cir_err(err, ENOMEM, "out of memory");
	r = hap_status(db, &one, &present, st, err);
	if (r < 0)
		return r;
	*out = st[0].active;
	return 0;
}

const struct cir_lb_backend_ops cir_lb_haproxy_ops = {
	.name = "haproxy",
	.validate = hap_validate,
	.create = hap_create,
	.remove = hap_remove,
	.target_add = hap_target_add,
	.target_remove = hap_target_remove,
	.target_weight = hap_target_weight,
	.restore = hap_restore,
	.status = hap_status,
	.active = hap_active,
};
