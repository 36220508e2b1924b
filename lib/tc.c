// SPDX-License-Identifier: Apache-2.0
/*
 * tc.c - traffic-control kernel objects through libnl-route-3.
 *
 * Each wrapper allocates its libnl object with a cleanup attribute, sets
 * the kind FIRST (libnl aborts when a kind-specific setter runs on an
 * object without a kind), sets the fields, makes one kernel call and
 * translates the error.  Lookups dump through a cache in the socket's
 * namespace.
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>

#include <netlink/netlink.h>
#include <netlink/route/action.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>

#include "cleanup.h"
#include "nl.h"
#include "tc.h"

CIR_DEFINE_CLEANUP(struct rtnl_act, rtnl_act_put)
#define _cleanup_rtnl_act_ _cleanup_(rtnl_act_putp)

#define HTB_QUANTUM_MAX 200000U
#define U32_MATCHALL_HANDLE 0x80000800U /* 800::800 */
#define REDIRECT_PRIO 1

uint32_t cir_tc_burst_default(uint64_t rate, uint32_t mtu)
{
	uint64_t b;

	if (mtu == 0)
		mtu = 1500;
	b = rate / 1000 + mtu;
	/* Keep the burst's transmit time (32-bit ticks) and byte count (int
	 * in libnl) representable; rate * 60e6 fits u64 up to ~300 Pbit/s. */
	if (rate && rate <= UINT64_MAX / CIR_TC_BURST_MAX_US &&
	    b > rate * CIR_TC_BURST_MAX_US / 1000000)
		b = rate * CIR_TC_BURST_MAX_US / 1000000;
	if (b > INT32_MAX)
		b = INT32_MAX;
	if (b == 0)
		b = 1;
	return (uint32_t)b;
}

uint32_t cir_tc_htb_quantum(uint64_t rate, uint32_t mtu)
{
	uint64_t q = rate / 10;

	if (mtu == 0)
		mtu = 1500;
	if (q < mtu)
		q = mtu;
	if (q > HTB_QUANTUM_MAX)
		q = HTB_QUANTUM_MAX;
	return (uint32_t)q;
}

static const char *handle_str(uint32_t h, char *buf, size_t len)
{
	if (h == TC_H_ROOT)
		snprintf(buf, len, "root");
	else if (h == TC_H_INGRESS)
		snprintf(buf, len, "ingress");
	else if (TC_H_MIN(h) == 0)
		snprintf(buf, len, "%x:", TC_H_MAJ(h) >> 16);
	else
		snprintf(buf, len, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
	return buf;
}

/* A qdisc object with ifindex, parent, handle and kind set, in that order. */
static int qdisc_new(struct rtnl_qdisc **out, int ifindex, uint32_t parent, uint32_t handle,
		     const char *kind, struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	int r;

	q = rtnl_qdisc_alloc();
	if (!q)
		return cir_err(err, ENOMEM, "%s qdisc: %s", kind ? kind : "", strerror(ENOMEM));
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	if (handle)
		rtnl_tc_set_handle(TC_CAST(q), handle);
	if (kind) {
		r = rtnl_tc_set_kind(TC_CAST(q), kind);
		if (r < 0)
			return cir_nl_err(err, r, kind);
	}
	*out = TAKE_PTR(q);
	return 0;
}

/*
 * The error of adding a qdisc of a kind: the kernel answers ENOENT for a
 * kind it does not know once loading its module failed (parents are given
 * by callers that just made them, or are root and ingress, which always
 * exist), so say which module is missing.
 */
static int qdisc_add_err(struct cir_error *err, int nlerr, enum cir_kfeature f,
			 const char *what)
{
	if (cir_nl_errno(nlerr) == ENOENT)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, f, what);
	return cir_nl_err(err, nlerr, what);
}

int cir_tc_htb_root_add(struct nl_sock *sk, int ifindex, uint32_t handle, uint16_t defcls_minor,
			struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	char h[16], what[64];
	int r;

	snprintf(what, sizeof(what), "htb qdisc %s on ifindex %d", handle_str(handle, h, sizeof(h)),
		 ifindex);
	r = qdisc_new(&q, ifindex, TC_H_ROOT, handle, "htb", err);
	if (r < 0)
		return cir_err_wrap(err, "%s", what);
	r = rtnl_htb_set_defcls(q, defcls_minor);
	if (r < 0)
		return cir_nl_err(err, r, what);
	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (r < 0)
		return qdisc_add_err(err, r, CIR_KF_HTB, what);
	return 0;
}

int cir_tc_htb_class_set(struct nl_sock *sk, int ifindex, const struct cir_tc_htb_class *c,
			 struct cir_error *err)
{
	_cleanup_rtnl_class_ struct rtnl_class *cl = NULL;
	uint64_t ceil = c->ceil ? c->ceil : c->rate;
	uint32_t mtu = c->mtu ? c->mtu : 1500;
	char h[16], what[64];
	int r;

	snprintf(what, sizeof(what), "htb class %s on ifindex %d",
		 handle_str(c->classid, h, sizeof(h)), ifindex);
	if (c->rate == 0 || ceil < c->rate)
		return cir_err(err, EINVAL, "%s: rate must be > 0 and ceil >= rate", what);

	cl = rtnl_class_alloc();
	if (!cl)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	rtnl_tc_set_ifindex(TC_CAST(cl), ifindex);
	rtnl_tc_set_parent(TC_CAST(cl), c->parent);
	rtnl_tc_set_handle(TC_CAST(cl), c->classid);
	r = rtnl_tc_set_kind(TC_CAST(cl), "htb");
	if (r < 0)
		return cir_nl_err(err, r, what);
	rtnl_tc_set_mtu(TC_CAST(cl), mtu);

	if ((r = rtnl_htb_set_rate64(cl, c->rate)) < 0 ||
	    (r = rtnl_htb_set_ceil64(cl, ceil)) < 0 ||
	    (r = rtnl_htb_set_rbuffer(cl, c->burst ? c->burst : cir_tc_burst_default(c->rate, mtu))) < 0 ||
	    (r = rtnl_htb_set_cbuffer(cl, c->cburst ? c->cburst : cir_tc_burst_default(ceil, mtu))) < 0 ||
	    (r = rtnl_htb_set_quantum(cl, cir_tc_htb_quantum(c->rate, mtu))) < 0)
		return cir_nl_err(err, r, what);

	r = rtnl_class_add(sk, cl, NLM_F_CREATE | NLM_F_REPLACE);
	if (r < 0)
		return cir_nl_err(err, r, what);
	return 0;
}

int cir_tc_netem_set(struct nl_sock *sk, int ifindex, const struct cir_tc_netem *n,
		     struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	char h[16], what[64];
	int r;

	snprintf(what, sizeof(what), "netem qdisc %s on ifindex %d",
		 handle_str(n->handle, h, sizeof(h)), ifindex);
	if (n->delay_us > CIR_TC_DELAY_MAX_US || n->jitter_us > CIR_TC_DELAY_MAX_US)
		return cir_err(err, ERANGE, "%s: delay and jitter must be at most %us", what,
			       CIR_TC_DELAY_MAX_US / 1000000);
	if ((n->jitter_us && !n->delay_us) || (n->delay_corr && !n->jitter_us) ||
	    (n->loss_corr && !n->loss))
		return cir_err(err, EINVAL, "%s: jitter needs a delay, a correlation needs its value",
			       what);

	r = qdisc_new(&q, ifindex, n->parent, n->handle, "netem", err);
	if (r < 0)
		return cir_err_wrap(err, "%s", what);
	/* libnl's setters take int; the probabilities are u32 on the wire. */
	if (n->delay_us)
		rtnl_netem_set_delay(q, (int)n->delay_us);
	if (n->jitter_us)
		rtnl_netem_set_jitter(q, (int)n->jitter_us);
	if (n->delay_corr)
		rtnl_netem_set_delay_correlation(q, (int)n->delay_corr);
	if (n->loss)
		rtnl_netem_set_loss(q, (int)n->loss);
	if (n->loss_corr)
		rtnl_netem_set_loss_correlation(q, (int)n->loss_corr);
	rtnl_netem_set_limit(q, n->limit ? (int)n->limit : 1000);

	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (r < 0)
		return qdisc_add_err(err, r, CIR_KF_NETEM, what);
	return 0;
}

int cir_tc_ingress_add(struct nl_sock *sk, int ifindex, struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	char what[64];
	int r;

	snprintf(what, sizeof(what), "ingress qdisc on ifindex %d", ifindex);
	r = qdisc_new(&q, ifindex, TC_H_INGRESS, CIR_TC_INGRESS_HANDLE, "ingress", err);
	if (r < 0)
		return cir_err_wrap(err, "%s", what);
	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (r < 0)
		return qdisc_add_err(err, r, CIR_KF_INGRESS, what);
	return 0;
}

int cir_tc_redirect_set(struct nl_sock *sk, int ifindex, int target_ifindex, struct cir_error *err)
{
	_cleanup_rtnl_cls_ struct rtnl_cls *cls = NULL;
	_cleanup_rtnl_act_ struct rtnl_act *act = NULL;
	char what[80];
	int r;

	snprintf(what, sizeof(what), "redirect filter on ifindex %d to ifindex %d", ifindex,
		 target_ifindex);
	cls = rtnl_cls_alloc();
	act = rtnl_act_alloc();
	if (!cls || !act)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));

	rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
	rtnl_tc_set_parent(TC_CAST(cls), CIR_TC_INGRESS_HANDLE);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	rtnl_cls_set_prio(cls, REDIRECT_PRIO);
	r = rtnl_tc_set_kind(TC_CAST(cls), "u32");
	if (r < 0)
		return cir_nl_err(err, r, what);
	rtnl_tc_set_handle(TC_CAST(cls), U32_MATCHALL_HANDLE);

	r = rtnl_tc_set_kind(TC_CAST(act), "mirred");
	if (r < 0)
		return cir_nl_err(err, r, what);
	if ((r = rtnl_mirred_set_action(act, TCA_EGRESS_REDIR)) < 0 ||
	    (r = rtnl_mirred_set_policy(act, TC_ACT_STOLEN)) < 0 ||
	    (r = rtnl_mirred_set_ifindex(act, (uint32_t)target_ifindex)) < 0)
		return cir_nl_err(err, r, what);

	/* "match u32 0 0": one key that every packet matches. */
	if ((r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
	    (r = rtnl_u32_set_cls_terminal(cls)) < 0 ||
	    (r = rtnl_u32_add_action(cls, act)) < 0)
		return cir_nl_err(err, r, what);

	r = rtnl_cls_add(sk, cls, NLM_F_CREATE | NLM_F_REPLACE);
	/* ENOENT: the classifier or the action kind is unknown (a missing
	 * parent qdisc is EINVAL, a missing target device ENODEV). */
	if (r < 0 && cir_nl_errno(r) == ENOENT)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_REDIRECT, what);
	if (r < 0)
		return cir_nl_err(err, r, what);
	return 0;
}

int cir_tc_redirect_find(struct nl_sock *sk, int ifindex, int target_ifindex,
			 struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	struct nl_object *o;
	char what[80];
	int r;

	snprintf(what, sizeof(what), "redirect filter on ifindex %d to ifindex %d", ifindex,
		 target_ifindex);
	r = rtnl_cls_alloc_cache(sk, ifindex, CIR_TC_INGRESS_HANDLE, &cache);
	if (r < 0)
		return cir_nl_err(err, r, what);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_cls *cls = (struct rtnl_cls *)o;
		struct rtnl_act *act;
		const char *kind = rtnl_tc_get_kind(TC_CAST(cls));

		if (!kind || strcmp(kind, "u32") != 0)
			continue;
		for (act = rtnl_u32_get_action(cls); act; act = rtnl_act_next(act)) {
			const char *akind = rtnl_tc_get_kind(TC_CAST(act));

			if (akind && strcmp(akind, "mirred") == 0 &&
			    rtnl_mirred_get_action(act) == TCA_EGRESS_REDIR &&
			    rtnl_mirred_get_ifindex(act) == (uint32_t)target_ifindex)
				return 0;
		}
	}
	return cir_err(err, ENOENT, "%s: not found", what);
}

int cir_tc_qdisc_del(struct nl_sock *sk, int ifindex, uint32_t parent, uint32_t handle,
		     struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	char h[16], p[16], what[80];
	int r;

	snprintf(what, sizeof(what), "delete qdisc %s parent %s on ifindex %d",
		 handle_str(handle, h, sizeof(h)), handle_str(parent, p, sizeof(p)), ifindex);
	r = qdisc_new(&q, ifindex, parent, handle, NULL, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", what);
	r = rtnl_qdisc_delete(sk, q);
	if (r < 0 && cir_nl_errno(r) == ENOENT)
		return 0;
	if (r < 0)
		return cir_nl_err(err, r, what);
	return 0;
}

struct qdisc_get {
	struct rtnl_qdisc *q;
	bool acked;
};

static int qdisc_get_acked(struct nl_msg *msg, void *arg)
{
	((struct qdisc_get *)arg)->acked = true;
	return NL_STOP;
}

static void qdisc_get_parsed(struct nl_object *obj, void *arg)
{
	struct qdisc_get *g = arg;

	if (!g->q) {
		nl_object_get(obj);
		g->q = (struct rtnl_qdisc *)obj;
	}
}

static int qdisc_get_valid(struct nl_msg *msg, void *arg)
{
	nl_msg_parse(msg, qdisc_get_parsed, arg);
	return NL_OK;
}

/*
 * One RTM_GETQDISC for (ifindex, parent), not a dump: libnl's qdisc cache
 * would list every qdisc of every device in the namespace on each lookup,
 * which grows with the number of containers.  The kernel answers with the
 * qdisc at that parent (the root, the ingress, or a class's leaf).  Its
 * built-in defaults (handle 0: noqueue, pfifo_fast, an HTB class's pfifo,
 * noop) count as "not found": nobody configured them.
 */
int cir_tc_qdisc_find(struct nl_sock *sk, int ifindex, uint32_t parent, struct rtnl_qdisc **out,
		      struct cir_error *err)
{
	_cleanup_nl_msg_ struct nl_msg *msg = NULL;
	struct nl_cb *cb = NULL, *sock_cb;
	struct qdisc_get g = { NULL, false };
	int r = 0;
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent };
	char p[16], what[64];

	snprintf(what, sizeof(what), "qdisc at %s on ifindex %d", handle_str(parent, p, sizeof(p)),
		 ifindex);
	/* NLM_F_ECHO: older kernels answer a GET through the TC notification
	 * path, which unicasts to the requester only when asked to. */
	msg = nlmsg_alloc_simple(RTM_GETQDISC, NLM_F_ACK | NLM_F_ECHO);
	if (!msg)
		return cir_err(err, ENOMEM, "%s: out of memory", what);
	r = nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO);
	if (r < 0)
		return cir_nl_err(err, r, what);
	/* With an ACK: for a built-in qdisc the kernel sends no qdisc message
	 * at all, only the ACK. */
	r = nl_send_auto(sk, msg);
	if (r < 0)
		return cir_nl_err(err, r, what);
	/* nl_socket_get_cb() takes a reference: drop it once cloned. */
	sock_cb = nl_socket_get_cb(sk);
	cb = sock_cb ? nl_cb_clone(sock_cb) : NULL;
	nl_cb_put(sock_cb);
	if (!cb)
		return cir_err(err, ENOMEM, "%s: out of memory", what);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, qdisc_get_valid, &g);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, qdisc_get_acked, &g);
	while (!g.acked && (r = nl_recvmsgs(sk, cb)) >= 0)
		;
	nl_cb_put(cb);
	if (r < 0) {
		if (g.q)
			rtnl_qdisc_put(g.q);
		r = cir_nl_errno(r);
		/* No such device queue, parent or class: nothing there. */
		if (r == ENOENT || r == EINVAL || r == ENODEV)
			return cir_err(err, ENOENT, "%s: not found", what);
		return cir_err(err, r, "%s: %s", what, strerror(r));
	}
	if (!g.q || rtnl_tc_get_handle(TC_CAST(g.q)) == 0) {
		if (g.q)
			rtnl_qdisc_put(g.q);
		return cir_err(err, ENOENT, "%s: not found", what);
	}
	*out = g.q;
	return 0;
}

int cir_tc_class_find(struct nl_sock *sk, int ifindex, uint32_t classid, struct rtnl_class **out,
		      struct cir_error *err)
{
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	struct rtnl_class *cl;
	char h[16], what[64];
	int r;

	snprintf(what, sizeof(what), "class %s on ifindex %d", handle_str(classid, h, sizeof(h)),
		 ifindex);
	r = rtnl_class_alloc_cache(sk, ifindex, &cache);
	if (r < 0)
		return cir_nl_err(err, r, what);
	cl = rtnl_class_get(cache, ifindex, classid);
	if (!cl)
		return cir_err(err, ENOENT, "%s: not found", what);
	*out = cl;
	return 0;
}
