/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lbbackend.h - the seam between Circuit's load-balancer records (lib/lb)
 * and the data plane that carries them.
 *
 * lib/lb owns everything a backend does not: the CLI's parsing, the
 * records, the lock, the index, the VIP on the host, rollback.  A backend
 * only makes its data plane match a record.  Two kinds of backend fit:
 *
 *   - one that reconciles a whole service at a time (IPVS: dump the
 *     kernel's table, edit the difference) gives `apply`;
 *   - one that speaks per-object commands (HAProxy's runtime API: add
 *     server, set weight, del server) gives target_add, target_remove and
 *     target_weight, and lib/lb works out which targets changed.
 *
 * Every function returns >= 0 on success (the number of changes made to
 * the data plane where that is known) and -errno with err filled on
 * failure; none writes a record.  lib/lb calls them with lb/lock held, on
 * a copy of the record that is written only after the call succeeded; a
 * failure is undone by calling the same backend with the old record.
 * spec/backends.md describes how to add one.
 */
#ifndef CIR_LBBACKEND_H
#define CIR_LBBACKEND_H

#include "lb.h"

/* What a data plane says about one target (lb ls --details). */
struct cir_lb_target_status {
	bool programmed;                /* the data plane has it */
	uint32_t active;                /* connections open now */
	uint32_t inactive;              /* IPVS: closing; HAProxy: 0 */
	char state[16];                 /* the data plane's own health ("" = none):
					 * up, down, maint, drain, no-check */
};

struct cir_lb_backend_ops {
	const char *name;               /* as in records and --backend */
	/* Refuse settings this backend cannot carry (scheduler, protocol,
	 * method, checks, weights): -EINVAL with the reason.  No I/O. */
	int (*validate)(const struct cir_lb_service *s, struct cir_error *err);
	/* s is new (its targets included): make it.  -EEXIST when its
	 * address is taken outside Circuit.  Nothing is left on failure. */
	int (*create)(struct cir_lb_db *db, const struct cir_lb_service *s, struct cir_error *err);
	/* s goes: remove it from the data plane (absent = success). */
	int (*remove)(struct cir_lb_db *db, const struct cir_lb_service *s, struct cir_error *err);
	/* Whole-service reconciliation (optional): make the data plane
	 * match s exactly; old is what the record said before (may be NULL). */
	int (*apply)(struct cir_lb_db *db, const struct cir_lb_service *old,
		     const struct cir_lb_service *s, struct cir_error *err);
	/* Per-target commands (used when apply is NULL).  s is the new
	 * record, t one of its targets (for remove: the departed target,
	 * no longer in s). */
	int (*target_add)(struct cir_lb_db *db, const struct cir_lb_service *s,
			  const struct cir_lb_target *t, struct cir_error *err);
	int (*target_remove)(struct cir_lb_db *db, const struct cir_lb_service *s,
			     const struct cir_lb_target *t, struct cir_error *err);
	int (*target_weight)(struct cir_lb_db *db, const struct cir_lb_service *s,
			     const struct cir_lb_target *t, struct cir_error *err);
	/* `circuit restore`: bring every record of this backend back (start
	 * the data service, program each service).  Returns the changes. */
	int (*restore)(struct cir_lb_db *db, struct cir_error *err);
	/* Live state of s and its targets: *present says whether the data
	 * plane has the service; st[i] is s->targets[i].  -EPROTONOSUPPORT
	 * (or another error) when the data plane cannot be asked. */
	int (*status)(struct cir_lb_db *db, const struct cir_lb_service *s, bool *present,
		      struct cir_lb_target_status *st, struct cir_error *err);
	/* Active connections to target a of s (drain), 0 when absent. */
	int (*active)(struct cir_lb_db *db, const struct cir_lb_service *s,
		      const struct cir_lb_addr *a, uint32_t *out, struct cir_error *err);
};

extern const struct cir_lb_backend_ops cir_lb_ipvs_ops;
extern const struct cir_lb_backend_ops cir_lb_haproxy_ops;

/* The ops of backend b (never NULL for a valid b). */
const struct cir_lb_backend_ops *cir_lb_backend_ops(enum cir_lb_backend b);

/* Target t's state as `lb ls` shows it (its health): where Circuit's agent checks it
 * (IPVS, a check applies) the agent's verdict, "up" or "down"; else the
 * data plane's own (d->state; d NULL: not asked or not programmed); NULL
 * when neither says. */
const char *cir_lb_target_shown_state(const struct cir_lb_service *s,
				      const struct cir_lb_target *t,
				      const struct cir_lb_target_status *d);

#endif
