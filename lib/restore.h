/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restore.h - the sweep behind `circuit restore` and `circuit gc`: what is
 * re-made, re-attached, released or rolled back, network by network, and
 * then module by module.
 *
 * restore re-creates what the kernel lost (after a reboot the store is
 * intact and the kernel is empty): every managed network's bridge, gateway
 * and masquerade; members whose process still runs and whose chain CHECK
 * fails are re-attached (DEL, then ADD with the same interface and
 * address); members whose process is gone are released, and a pending
 * member (its connect was killed) is rolled back.  Then every module that
 * keeps kernel state of its own restores it (the modules' table in
 * restore.c: QoS, load balancers).  On a healthy host nothing changes:
 * every step looks before it writes.
 *
 * gc releases members whose process is gone, DELs a managed network's
 * foreign attachments whose namespace is gone, and asks Circuit's own
 * plugins in every chain (CNI GC) to drop allocations of attachments
 * Circuit does not know; then the modules' gc callbacks run.
 *
 * A network the OCI hook made whose last container is gone is deleted by
 * either.  Nothing here prints: every outcome is one event handed to the
 * caller's report callback (the CLI turns each into one line).
 */
#ifndef CIR_RESTORE_H
#define CIR_RESTORE_H

#include <stdbool.h>

#include "error.h"
#include "netconf.h"
#include "network.h"

enum cir_sweep_what {
	/* failures (network, msg) */
	CIR_SWEEP_NET_FAILED,          /* a network's step failed */
	CIR_SWEEP_RELEASE_FAILED,      /* releasing member cid */
	CIR_SWEEP_ROLLBACK_FAILED,     /* rolling back pending member cid */
	CIR_SWEEP_REATTACH_FAILED,     /* re-attaching member cid */
	CIR_SWEEP_ORPHAN_FAILED,       /* DEL of foreign attachment cid, ifname */
	CIR_SWEEP_QOS_FAILED,          /* a network's QoS */
	CIR_SWEEP_MODULE_FAILED,       /* module (network NULL) */
	/* changes */
	CIR_SWEEP_NET_RESTORED,        /* network's bridge, gateway or masquerade re-made */
	CIR_SWEEP_RELEASED,            /* member cid, pid: its process is gone */
	CIR_SWEEP_ROLLED_BACK,         /* member cid: its connect never finished */
	CIR_SWEEP_REATTACHED,          /* member cid, pid */
	CIR_SWEEP_ORPHAN_RELEASED,     /* foreign cid, ifname, addr ("" if none) */
	CIR_SWEEP_NET_DELETED,         /* the hook's network, its last container gone */
	CIR_SWEEP_QOS_RESTORED,        /* network */
	CIR_SWEEP_LB_RESTORED,         /* count kernel changes */
	/* what was looked at (debug) */
	CIR_SWEEP_IN_PLACE,            /* member cid, ifname: its chain CHECK passes */
	CIR_SWEEP_UNCHECKABLE,         /* member cid: the chain cannot CHECK (msg) */
	CIR_SWEEP_STALE,               /* member cid: needs re-attaching (msg) */
};

/* One outcome.  Fields a kind does not name are NULL / 0. */
struct cir_sweep_event {
	enum cir_sweep_what what;
	const char *network;
	const char *module;
	const char *cid;
	const char *ifname;
	const char *addr;
	long long pid;
	int count;
	const char *msg;              /* the error, or why (debug kinds) */
};

struct cir_sweep_ctx {
	const struct cir_net_ctx *net;   /* ensure, disconnect, delete; its plugin_path runs chains */
	bool restore;                    /* restore, else gc */
	/* Every outcome, in order (required). */
	void (*report)(void *arg, const struct cir_sweep_event *ev);
	void *arg;
};

/*
 * A module that keeps state of its own the sweep must see to: name (in a
 * failure's event), and what `restore` and `gc` do with it after the
 * networks were swept (either may be NULL).  Each returns the number of
 * changes or -errno; a failure is reported and counted, and the sweep
 * goes on.  The table is in restore.c.
 */
struct cir_sweep_module {
	const char *name;
	int (*restore)(const struct cir_sweep_ctx *ctx, struct cir_netdb *db,
		       struct cir_error *err);
	int (*gc)(const struct cir_sweep_ctx *ctx, struct cir_netdb *db, struct cir_error *err);
};

/*
 * Sweep every network of db (opened, not locked: the global lock is taken
 * here) and then every module.  Returns the number of changes (0: nothing
 * to restore / collect); -EIO ("restore: N failures (see warnings above)")
 * when any step failed, each failure having been reported; -errno when the
 * database cannot be locked or listed.
 */
int cir_sweep(const struct cir_sweep_ctx *ctx, struct cir_netdb *db, struct cir_error *err);

#endif
