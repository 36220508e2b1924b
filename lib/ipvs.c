// SPDX-License-Identifier: Apache-2.0
/*
 * ipvs.c - IPVS services and dests over generic netlink.
 *
 * One request/reply helper (transact) sends a hand-built message and
 * collects replies; it keeps the kernel's own errno from the NLMSG_ERROR
 * (libnl's NLE_* space would fold ESRCH, ENOENT and others together).
 * Message building (cir_ipvs_msg_build) and reply parsing
 * (cir_ipvs_service_parse, cir_ipvs_dest_parse) need no socket: they, the
 * attribute policies and the text forms are lib/ipvs_msg.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "cleanup.h"
#include "ipvs.h"
#include "nl.h"

struct cir_ipvs {
	struct nl_sock *sk;
	int family;
};

/* ------------------------------------------------------------ transact */

struct reply {
	/* called for each reply message; returns 0 or -errno (err filled) */
	int (*parse)(const struct nlmsghdr *nlh, void *arg, struct cir_error *err);
	void *arg;
	int kerr;                       /* the kernel's errno, > 0 */
	int perr;                       /* first parse failure, < 0 */
	struct cir_error perr_info;
	bool done;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct reply *rp = arg;

	/* Keep reading to the end on a parse error so the socket stays in
	 * step with the kernel for the next request. */
	if (rp->parse && rp->perr == 0)
		rp->perr = rp->parse(nlmsg_hdr(msg), rp->arg, &rp->perr_info);
	return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct reply *rp = arg;

	rp->kerr = e->error < 0 ? -e->error : e->error;
	rp->done = true;
	return NL_STOP;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct reply *rp = arg;

	rp->done = true;
	return NL_STOP;
}

/*
 * Send msg and read until its ACK, error or dump end.  Returns 0, the
 * kernel's -errno with err holding "what: strerror", or a parse failure.
 * The kernel says ESRCH for "no such service" and ENOENT for "no such dest"
 * or "no such scheduler"; callers fold both into -ENOENT (fold_esrch).
 */
static int transact(struct cir_ipvs *h, struct nl_msg *msg, struct reply *rp, const char *what,
		    struct cir_error *err)
{
	struct nl_cb *cb = NULL;
	int r;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, rp);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, rp);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, rp);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, rp);

	r = nl_send_auto(h->sk, msg);
	if (r < 0) {
		nl_cb_put(cb);
		return cir_nl_err(err, r, what);
	}
	r = 0;
	while (!rp->done) {
		r = nl_recvmsgs(h->sk, cb);
		if (r < 0 && !rp->done)
			break;
	}
	nl_cb_put(cb);

	if (rp->kerr == ESRCH)
		return cir_err(err, ESRCH, "%s: no such service", what);
	if (rp->kerr)
		return cir_err(err, rp->kerr, "%s: %s", what, strerror(rp->kerr));
	if (r == -NLE_DUMP_INTR)
		return cir_err(err, EINTR, "%s: dump interrupted by a concurrent change", what);
	if (r < 0)
		return cir_nl_err(err, r, what);
	if (rp->perr < 0) {
		if (!err)
			return rp->perr;
		*err = rp->perr_info;
		return cir_err_wrap(err, "%s", what);
	}
	return 0;
}

/* The API reports every "not there" as -ENOENT. */
static int fold_esrch(int r, struct cir_error *err)
{
	if (r != -ESRCH)
		return r;
	if (err)
		err->errnum = ENOENT;
	return -ENOENT;
}

/* Build, send and wait: the common path of every one-shot command. */
static int command(struct cir_ipvs *h, uint8_t cmd, int nlflags, const struct cir_ipvs_service *svc,
		   const struct cir_ipvs_dest *dest, struct reply *rp, const char *what,
		   struct cir_error *err)
{
	_cleanup_nl_msg_ struct nl_msg *msg = NULL;
	struct reply none = { 0 };
	int r;

	r = cir_ipvs_msg_build(h->family, cmd, nlflags, svc, dest, &msg, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", what);
	return transact(h, msg, rp ? rp : &none, what, err);
}

/* -------------------------------------------------------------- handle */

int cir_ipvs_open(struct cir_ipvs **out, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_ipvs *h;
	int r, family;

	r = cir_nl_genl_open(&sk, err);
	if (r < 0)
		return cir_err_wrap(err, "ipvs");
	/* The lookup itself makes the kernel modprobe ip_vs (module alias
	 * net-pf-16-proto-16-family-IPVS). */
	family = genl_ctrl_resolve(sk, IPVS_GENL_NAME);
	if (family == -NLE_OBJ_NOTFOUND)
		return cir_err_kernel_lacks(err, CIR_CNI_NOT_AVAILABLE, EPROTONOSUPPORT, CIR_KF_IPVS,
					    NULL);
	if (family < 0)
		return cir_nl_err(err, family, "ipvs: resolve generic netlink family");
	h = calloc(1, sizeof(*h));
	if (!h)
		return cir_err(err, ENOMEM, "ipvs: %s", strerror(ENOMEM));
	h->sk = TAKE_PTR(sk);
	h->family = family;
	*out = h;
	return 0;
}

void cir_ipvs_close(struct cir_ipvs *h)
{
	if (!h)
		return;
	nl_socket_free(h->sk);
	free(h);
}

/* ------------------------------------------------------------ services */

static int svc_cmd(struct cir_ipvs *h, uint8_t cmd, const char *verb,
		   const struct cir_ipvs_service *svc, struct cir_error *err)
{
	char what[CIR_IPVS_FMT_MAX + 32], s[CIR_IPVS_FMT_MAX];

	snprintf(what, sizeof(what), "ipvs %s service %s", verb,
		 cir_ipvs_service_format(svc, s, sizeof(s)));
	return command(h, cmd, 0, svc, NULL, NULL, what, err);
}

int cir_ipvs_service_add(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
			 struct cir_error *err)
{
	int r = svc_cmd(h, IPVS_CMD_NEW_SERVICE, "add", svc, err);

	/* ENOENT here can only be the scheduler (ESRCH is the service). */
	if (r == -ENOENT) {
		char s[CIR_IPVS_FMT_MAX];

		return cir_err(err, ENOENT, "ipvs add service %s: scheduler '%s' not available",
			       cir_ipvs_service_format(svc, s, sizeof(s)),
			       svc->sched[0] ? svc->sched : "wlc");
	}
	return r;
}

int cir_ipvs_service_edit(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
			  struct cir_error *err)
{
	int r = svc_cmd(h, IPVS_CMD_SET_SERVICE, "edit", svc, err);

	if (r == -ENOENT) {
		char s[CIR_IPVS_FMT_MAX];

		return cir_err(err, ENOENT, "ipvs edit service %s: scheduler '%s' not available",
			       cir_ipvs_service_format(svc, s, sizeof(s)),
			       svc->sched[0] ? svc->sched : "wlc");
	}
	return fold_esrch(r, err);
}

int cir_ipvs_service_del(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
			 struct cir_error *err)
{
	return fold_esrch(svc_cmd(h, IPVS_CMD_DEL_SERVICE, "delete", svc, err), err);
}

struct svc_list {
	struct cir_ipvs_service *v;
	size_t n, cap;
};

/* v (n elements of size bytes used, *cap allocated) with room for one
 * more: v itself, or v grown (*cap updated), or NULL (v unchanged). */
static void *list_room(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c;
	void *nv;

	if (n < *cap)
		return v;
	c = *cap ? *cap * 2 : 8;
	nv = reallocarray(v, c, size);
	if (nv)
		*cap = c;
	return nv;
}

static int collect_service(const struct nlmsghdr *nlh, void *arg, struct cir_error *err)
{
	struct svc_list *l = arg;
	struct cir_ipvs_service *v;
	int r;

	v = list_room(l->v, l->n, &l->cap, sizeof(*v));
	if (!v)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	l->v = v;
	r = cir_ipvs_service_parse(nlh, &l->v[l->n], err);
	if (r < 0)
		return r;
	l->n++;
	return 0;
}

int cir_ipvs_service_get(struct cir_ipvs *h, const struct cir_ipvs_service *key,
			 struct cir_ipvs_service *out, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_service *v = NULL;
	struct svc_list l = { 0 };
	struct reply rp = { .parse = collect_service, .arg = &l };
	char what[CIR_IPVS_FMT_MAX + 32], s[CIR_IPVS_FMT_MAX];
	int r;

	snprintf(what, sizeof(what), "ipvs get service %s",
		 cir_ipvs_service_format(key, s, sizeof(s)));
	r = command(h, IPVS_CMD_GET_SERVICE, 0, key, NULL, &rp, what, err);
	v = l.v;
	if (r < 0)
		return fold_esrch(r, err);
	if (l.n != 1)
		return cir_err(err, EBADMSG, "%s: %zu replies", what, l.n);
	if (out)
		*out = v[0];
	return 0;
}

int cir_ipvs_service_dump(struct cir_ipvs *h, struct cir_ipvs_service **out, size_t *n,
			  struct cir_error *err)
{
	int r = -EINTR;

	/* A dump that raced with a change is retried a couple of times. */
	for (int i = 0; i < 3 && r == -EINTR; i++) {
		_cleanup_free_ struct cir_ipvs_service *v = NULL;
		struct svc_list l = { 0 };
		struct reply rp = { .parse = collect_service, .arg = &l };

		r = command(h, IPVS_CMD_GET_SERVICE, NLM_F_DUMP, NULL, NULL, &rp,
			    "ipvs dump services", err);
		v = l.v;
		if (r == 0) {
			*out = TAKE_PTR(v);
			*n = l.n;
		}
	}
	return r;
}

int cir_ipvs_flush(struct cir_ipvs *h, struct cir_error *err)
{
	return command(h, IPVS_CMD_FLUSH, 0, NULL, NULL, NULL, "ipvs flush", err);
}

/* --------------------------------------------------------------- dests */

static int dest_cmd(struct cir_ipvs *h, uint8_t cmd, const char *verb,
		    const struct cir_ipvs_service *svc, const struct cir_ipvs_dest *dest,
		    struct cir_error *err)
{
	char what[2 * CIR_IPVS_FMT_MAX + 32], s[CIR_IPVS_FMT_MAX], d[CIR_IPVS_FMT_MAX];
	int r;

	snprintf(what, sizeof(what), "ipvs %s dest %s of service %s", verb,
		 cir_ipvs_dest_format(dest, svc->af, d, sizeof(d)),
		 cir_ipvs_service_format(svc, s, sizeof(s)));
	r = command(h, cmd, 0, svc, dest, NULL, what, err);
	if (r == -ENOENT && cmd != IPVS_CMD_NEW_DEST)
		return cir_err(err, ENOENT, "%s: no such dest", what);
	return fold_esrch(r, err);
}

int cir_ipvs_dest_add(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
		      const struct cir_ipvs_dest *dest, struct cir_error *err)
{
	return dest_cmd(h, IPVS_CMD_NEW_DEST, "add", svc, dest, err);
}

int cir_ipvs_dest_edit(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
		       const struct cir_ipvs_dest *dest, struct cir_error *err)
{
	return dest_cmd(h, IPVS_CMD_SET_DEST, "edit", svc, dest, err);
}

int cir_ipvs_dest_del(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
		      const struct cir_ipvs_dest *dest, struct cir_error *err)
{
	return dest_cmd(h, IPVS_CMD_DEL_DEST, "delete", svc, dest, err);
}

struct dest_list {
	struct cir_ipvs_dest *v;
	size_t n, cap;
	uint16_t af;
};

static int collect_dest(const struct nlmsghdr *nlh, void *arg, struct cir_error *err)
{
	struct dest_list *l = arg;
	struct cir_ipvs_dest *v;
	int r;

	v = list_room(l->v, l->n, &l->cap, sizeof(*v));
	if (!v)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	l->v = v;
	r = cir_ipvs_dest_parse(nlh, l->af, &l->v[l->n], err);
	if (r < 0)
		return r;
	l->n++;
	return 0;
}

int cir_ipvs_dest_dump(struct cir_ipvs *h, const struct cir_ipvs_service *svc,
		       struct cir_ipvs_dest **out, size_t *n, struct cir_error *err)
{
	char what[CIR_IPVS_FMT_MAX + 32], s[CIR_IPVS_FMT_MAX];
	int r = -EINTR;

	snprintf(what, sizeof(what), "ipvs dump dests of service %s",
		 cir_ipvs_service_format(svc, s, sizeof(s)));
	for (int i = 0; i < 3 && r == -EINTR; i++) {
		_cleanup_free_ struct cir_ipvs_dest *v = NULL;
		struct dest_list l = { .af = svc->af };
		struct reply rp = { .parse = collect_dest, .arg = &l };

		r = command(h, IPVS_CMD_GET_DEST, NLM_F_DUMP, svc, NULL, &rp, what, err);
		v = l.v;
		if (r == 0) {
			*out = TAKE_PTR(v);
			*n = l.n;
		}
	}
	return r;
}

/* --------------------------------------------------------------- batch */

int cir_ipvs_batch_new(struct cir_ipvs *h, struct cir_nl_batch **out, struct cir_error *err)
{
	/* As many requests as a full send of the smallest (48 bytes). */
	return cir_nl_batch_new(h->sk, CIR_IPVS_BATCH_BYTES, CIR_IPVS_BATCH_BYTES / 48, 0,
				"ipvs batch", out, err);
}

int cir_ipvs_batch_add(struct cir_ipvs *h, struct cir_nl_batch *b, uint8_t cmd,
		       const struct cir_ipvs_service *svc, const struct cir_ipvs_dest *dest,
		       uint32_t tag, cir_nl_batch_failed failed, void *arg, struct cir_error *err)
{
	_cleanup_nl_msg_ struct nl_msg *msg = NULL;
	struct nlmsghdr *nlh;
	int r;

	r = cir_ipvs_msg_build(h->family, cmd, 0, svc, dest, &msg, err);
	if (r < 0)
		return cir_err_wrap(err, "ipvs batch");
	nlh = nlmsg_hdr(msg);
	nlh->nlmsg_flags = NLM_F_REQUEST;
	return cir_nl_batch_add(b, nlh, tag, failed, arg, err);
}
