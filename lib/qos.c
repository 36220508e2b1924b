// SPDX-License-Identifier: Apache-2.0
/*
 * qos.c - Circuit's shaping policy on top of tc.c: one fixed HTB(+netem)
 * tree per shaped direction, egress on the device itself, ingress on an
 * ifb fed by a mirred redirect; read-back and rollback.  The settings'
 * checks and JSON are in qos_conf.c, their text forms in qos_parse.c.
 * Both directions of a device by name and the ifb GC are in qos_link.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pkt_sched.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>

#include "cleanup.h"
#include "link.h"
#include "names.h"
#include "nl.h"
#include "qos.h"
#include "qos_int.h"
#include "tc.h"

#define ROOT_HANDLE CIR_TC_HANDLE(1, 0)
#define TOP_ID CIR_TC_HANDLE(1, 1)
#define DEFAULT_MINOR 0x10
#define CLASS_ID CIR_TC_HANDLE(1, DEFAULT_MINOR)
#define NETEM_HANDLE CIR_TC_HANDLE(0x10, 0)

/* ---- kernel side ------------------------------------------------------- */

/* MTU and name of ifindex. */
static int link_info(struct nl_sock *sk, int ifindex, uint32_t *mtu, char name[CIR_QOS_IFNAMSIZ],
		     struct cir_error *err)
{
	struct cir_link_info li;
	int r;

	r = cir_link_get_index(sk, ifindex, &li, err);
	if (r < 0)
		return r;
	*mtu = li.mtu;
	snprintf(name, CIR_QOS_IFNAMSIZ, "%s", li.name);
	return 0;
}

/* 1 when the qdisc under parent on ifindex is Circuit's (kind, handle), 0
 * when not or none, or -errno.  *out (may be NULL) gets it. */
static int qdisc_is_ours(struct nl_sock *sk, int ifindex, uint32_t parent, const char *kind,
			 uint32_t handle, struct rtnl_qdisc **out, struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	const char *k;
	int r;

	r = cir_tc_qdisc_find(sk, ifindex, parent, &q, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	k = rtnl_tc_get_kind(TC_CAST(q));
	if (!k || strcmp(k, kind) != 0 || rtnl_tc_get_handle(TC_CAST(q)) != handle)
		return 0;
	if (out)
		*out = TAKE_PTR(q);
	return 1;
}

/* 1 when ifindex's root qdisc is Circuit's HTB 1:, 0 when not, or -errno. */
static int root_is_ours(struct nl_sock *sk, int ifindex, struct cir_error *err)
{
	return qdisc_is_ours(sk, ifindex, TC_H_ROOT, "htb", ROOT_HANDLE, NULL, err);
}

/*
 * Delete a root qdisc someone else added (e.g. the reference bandwidth
 * plugin's tbf 1:, which its DEL leaves behind): the kernel cannot replace
 * a qdisc by one of another kind under the same handle (EINVAL).  The
 * kernel's default root (handle 0:) is left alone: replace handles it.
 */
static int foreign_root_del(struct nl_sock *sk, int ifindex, struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	uint32_t handle;
	int r;

	r = cir_tc_qdisc_find(sk, ifindex, TC_H_ROOT, &q, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	handle = rtnl_tc_get_handle(TC_CAST(q));
	if (handle == 0)
		return 0;
	return cir_tc_qdisc_del(sk, ifindex, TC_H_ROOT, handle, err);
}

/* 1 when the leaf under 1:10 is Circuit's netem 10:, 0 when not, or -errno. */
static int leaf_is_netem(struct nl_sock *sk, int ifindex, struct rtnl_qdisc **out,
			 struct cir_error *err)
{
	return qdisc_is_ours(sk, ifindex, CLASS_ID, "netem", NETEM_HANDLE, out, err);
}

/* The two HTB classes of q.  A root HTB class cannot borrow, so ceil only
 * works below a parent: 1:1 caps the device at ceil, leaf 1:10 guarantees
 * rate. */
static void tree_classes(const struct cir_qos *q, uint32_t mtu, struct cir_tc_htb_class *top,
			 struct cir_tc_htb_class *leaf)
{
	uint64_t rate = (q->rate_kbit ? q->rate_kbit : CIR_QOS_UNLIMITED_KBIT) * CIR_QOS_KBIT_BYTES;
	uint64_t ceil = q->ceil_kbit ? q->ceil_kbit * CIR_QOS_KBIT_BYTES : rate;
	/* The ceil bucket never holds less than the rate bucket, or it would
	 * cut a configured burst short. */
	uint32_t cburst = cir_tc_burst_default(ceil, mtu);

	if (q->burst_bytes > cburst)
		cburst = q->burst_bytes;
	*top = (struct cir_tc_htb_class){
		.parent = ROOT_HANDLE,
		.classid = TOP_ID,
		.rate = ceil,
		.ceil = ceil,
		.mtu = mtu,
		.burst = cburst,
		.cburst = cburst,
	};
	*leaf = (struct cir_tc_htb_class){
		.parent = TOP_ID,
		.classid = CLASS_ID,
		.rate = rate,
		.ceil = ceil,
		.burst = q->burst_bytes,
		.cburst = cburst,
		.mtu = mtu,
	};
}

/* Our HTB root on ifindex: kept when it is there (HTB has no in-place
 * change), else whatever root there is replaced by it. */
static int tree_root(struct nl_sock *sk, int ifindex, struct cir_error *err)
{
	int r = root_is_ours(sk, ifindex, err);

	if (r != 0)
		return r < 0 ? r : 0;
	r = foreign_root_del(sk, ifindex, err);
	if (r < 0)
		return r;
	return cir_tc_htb_root_add(sk, ifindex, ROOT_HANDLE, DEFAULT_MINOR, err);
}

/* The leaf's netem as q says: set, or deleted when q has none. */
static int tree_netem(struct nl_sock *sk, int ifindex, const struct cir_qos *q,
		      struct cir_error *err)
{
	int r;

	if (cir_qos_has_netem(q)) {
		struct cir_tc_netem n = {
			.parent = CLASS_ID,
			.handle = NETEM_HANDLE,
			.delay_us = q->delay_us,
			.jitter_us = q->jitter_us,
			.loss = cir_qos_ppm_to_prob(q->loss_ppm),
			.loss_corr = cir_qos_ppm_to_prob(q->loss_corr_ppm),
		};

		return cir_tc_netem_set(sk, ifindex, &n, err);
	}
	r = leaf_is_netem(sk, ifindex, NULL, err);
	if (r <= 0)
		return r;
	return cir_tc_qdisc_del(sk, ifindex, CLASS_ID, NETEM_HANDLE, err);
}

/* Build or update the tree on ifindex; q is validated and not empty. */
static int tree_apply(struct nl_sock *sk, int ifindex, uint32_t mtu, const struct cir_qos *q,
		      struct cir_error *err)
{
	struct cir_tc_htb_class top, leaf;
	int r;

	tree_classes(q, mtu, &top, &leaf);
	r = tree_root(sk, ifindex, err);
	if (r >= 0)
		r = cir_tc_htb_class_set(sk, ifindex, &top, err);
	if (r >= 0)
		r = cir_tc_htb_class_set(sk, ifindex, &leaf, err);
	if (r >= 0)
		r = tree_netem(sk, ifindex, q, err);
	return r;
}

int cir_qs_tree_read(struct nl_sock *sk, int ifindex, struct cir_qos *out, struct cir_error *err)
{
	_cleanup_rtnl_class_ struct rtnl_class *cl = NULL;
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *leaf = NULL;
	struct cir_qos q = { 0 };
	uint64_t rate = 0, ceil = 0;
	int r;

	r = root_is_ours(sk, ifindex, err);
	if (r < 0)
		return r;
	if (r == 0)
		return cir_err(err, ENOENT, "ifindex %d: no circuit qos", ifindex);
	r = cir_tc_class_find(sk, ifindex, CLASS_ID, &cl, err);
	if (r < 0)
		return r;
	if ((r = rtnl_htb_get_rate64(cl, &rate)) < 0 || (r = rtnl_htb_get_ceil64(cl, &ceil)) < 0)
		return cir_nl_err(err, r, "htb class 1:10");
	if (rate / CIR_QOS_KBIT_BYTES < CIR_QOS_UNLIMITED_KBIT) {
		q.rate_kbit = rate / CIR_QOS_KBIT_BYTES;
		q.ceil_kbit = ceil == rate ? 0 : ceil / CIR_QOS_KBIT_BYTES;
		q.burst_bytes = rtnl_htb_get_rbuffer(cl);
	}

	r = leaf_is_netem(sk, ifindex, &leaf, err);
	if (r < 0)
		return r;
	if (r == 1) {
		int v;

		/* Probabilities travel as u32 through libnl's int getters;
		 * only -NLE_NOATTR means "absent" (it is 99.99999928 %). */
		v = rtnl_netem_get_delay(leaf);
		q.delay_us = v > 0 ? (uint32_t)v : 0;
		v = rtnl_netem_get_jitter(leaf);
		q.jitter_us = v > 0 ? (uint32_t)v : 0;
		v = rtnl_netem_get_loss(leaf);
		q.loss_ppm = v == -NLE_NOATTR ? 0 : cir_qos_prob_to_ppm((uint32_t)v);
		v = rtnl_netem_get_loss_correlation(leaf);
		q.loss_corr_ppm = v == -NLE_NOATTR ? 0 : cir_qos_prob_to_ppm((uint32_t)v);
	}
	*out = q;
	return 0;
}

int cir_qs_tree_clear(struct nl_sock *sk, int ifindex, struct cir_error *err)
{
	int r;

	r = root_is_ours(sk, ifindex, err);
	if (r <= 0)
		return r;
	return cir_tc_qdisc_del(sk, ifindex, TC_H_ROOT, ROOT_HANDLE, err);
}

/* Apply q, and on failure put back prev (or nothing); keeps the first
 * error, and stores how putting back went in *undo (0 or -errno, the
 * reason in *undo_err). */
static int tree_apply_or_restore(struct nl_sock *sk, int ifindex, uint32_t mtu,
				 const struct cir_qos *q, const struct cir_qos *prev, int *undo,
				 struct cir_error *undo_err, struct cir_error *err)
{
	int r;

	*undo = 0;
	r = tree_apply(sk, ifindex, mtu, q, err);
	if (r < 0) {
		if (prev)
			*undo = tree_apply(sk, ifindex, mtu, prev, undo_err);
		else
			*undo = cir_qs_tree_clear(sk, ifindex, undo_err);
	}
	return r;
}

/* After a failed change of the dir ("egress"/"ingress") shaping of device
 * name: say what it was left with. */
static int say_undone(struct cir_error *err, const char *dir, const char *name, bool had,
		      int undo, const struct cir_error *undo_err)
{
	if (undo < 0)
		return cir_err_append(err, "; putting back the %s shaping of %s failed: %s", dir,
				      name, undo_err->msg);
	if (had)
		return cir_err_append(err, "; the %s shaping already on %s was kept", dir, name);
	return cir_err_append(err, "; %s was left without %s shaping", name, dir);
}

int cir_qos_apply(int ifindex, const struct cir_qos *q, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_error undo_err = CIR_ERROR_INIT;
	char name[CIR_QOS_IFNAMSIZ];
	struct cir_qos prev;
	uint32_t mtu;
	bool had;
	int r, undo;

	r = cir_qos_validate(q, err);
	if (r < 0)
		return r;
	if (cir_qos_is_empty(q))
		return cir_qos_clear(ifindex, err);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = link_info(sk, ifindex, &mtu, name, err);
	if (r < 0)
		return r;
	r = cir_qs_tree_read(sk, ifindex, &prev, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "egress shaping on %s", name);
	had = r == 0;
	r = tree_apply_or_restore(sk, ifindex, mtu, q, had ? &prev : NULL, &undo, &undo_err, err);
	if (r < 0) {
		cir_err_wrap(err, "egress shaping on %s", name);
		return say_undone(err, "egress", name, had, undo, &undo_err);
	}
	return 0;
}

int cir_qos_clear(int ifindex, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_qs_tree_clear(sk, ifindex, err);
	if (r < 0)
		return cir_err_wrap(err, "clear egress shaping");
	return 0;
}

int cir_qos_get(int ifindex, struct cir_qos *out, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	return cir_qs_tree_read(sk, ifindex, out, err);
}

int cir_qs_ingress_clear(struct nl_sock *sk, int ifindex, const char *ifb_name,
			 struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	int r;

	r = cir_tc_qdisc_find(sk, ifindex, TC_H_INGRESS, &q, err);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0) {
		r = cir_tc_qdisc_del(sk, ifindex, TC_H_INGRESS, CIR_TC_INGRESS_HANDLE, err);
		if (r < 0)
			return r;
	}
	return cir_link_ifb_delete(sk, ifb_name, err);
}

/* The ifb's tree when the whole ingress path is in place; -ENOENT if not. */
int cir_qs_ingress_read(struct nl_sock *sk, int ifindex, const char *ifb_name,
			struct cir_qos *out, struct cir_error *err)
{
	int ifb, r;

	ifb = cir_link_ifb_index(sk, ifb_name, err);
	if (ifb == -ENODEV)
		return cir_err(err, ENOENT, "ifb %s: not found", ifb_name);
	if (ifb < 0)
		return ifb;
	r = cir_tc_redirect_find(sk, ifindex, ifb, err);
	if (r < 0)
		return r;
	return cir_qs_tree_read(sk, ifb, out, err);
}

int cir_qos_apply_ingress(int ifindex, const char *ifb_name, const struct cir_qos *q,
			  struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_error undo_err = CIR_ERROR_INIT;
	char name[CIR_QOS_IFNAMSIZ];
	struct cir_qos prev;
	uint32_t mtu;
	bool had, tree_done = false;
	int ifb = -1, r, undo = 0;

	r = cir_qos_validate(q, err);
	if (r < 0)
		return r;
	if (!ifb_name || !ifb_name[0] || strlen(ifb_name) >= CIR_QOS_IFNAMSIZ)
		return cir_err(err, EINVAL, "invalid ifb name '%s'", ifb_name ? ifb_name : "");
	if (cir_qos_is_empty(q))
		return cir_qos_clear_ingress(ifindex, ifb_name, err);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = link_info(sk, ifindex, &mtu, name, err);
	if (r < 0)
		return r;
	r = cir_qs_ingress_read(sk, ifindex, ifb_name, &prev, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "ingress shaping on %s", name);
	had = r == 0;

	/* Shape the ifb before anything is redirected into it, so a failure
	 * (e.g. no netem) happens before the device is touched. */
	r = cir_link_ifb_create(sk, ifb_name, mtu, &ifb, err);
	if (r < 0)
		goto fail;
	r = tree_apply_or_restore(sk, ifb, mtu, q, had ? &prev : NULL, &undo, &undo_err, err);
	if (r < 0)
		goto fail;
	tree_done = true;
	r = cir_tc_ingress_add(sk, ifindex, err);
	if (r < 0)
		goto fail;
	r = cir_tc_redirect_set(sk, ifindex, ifb, err);
	if (r < 0)
		goto fail;
	return 0;

fail:
	if (!had)
		undo = cir_qs_ingress_clear(sk, ifindex, ifb_name, &undo_err);
	else if (tree_done)
		undo = tree_apply(sk, ifb, mtu, &prev, &undo_err);
	cir_err_wrap(err, "ingress shaping on %s via %s", name, ifb_name);
	return say_undone(err, "ingress", name, had, undo, &undo_err);
}

int cir_qos_clear_ingress(int ifindex, const char *ifb_name, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_qs_ingress_clear(sk, ifindex, ifb_name, err);
	if (r < 0)
		return cir_err_wrap(err, "clear ingress shaping");
	return 0;
}

int cir_qos_get_ingress(int ifindex, const char *ifb_name, struct cir_qos *out,
			struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	return cir_qs_ingress_read(sk, ifindex, ifb_name, out, err);
}
