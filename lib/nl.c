// SPDX-License-Identifier: Apache-2.0
/*
 * nl.c - open libnl sockets in the current network namespace.
 */
#include <errno.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "cleanup.h"
#include "nl.h"

int cir_nl_err(struct cir_error *err, int nlerr, const char *what)
{
	int e = cir_nl_errno(nlerr);

	return cir_err(err, e, "%s: %s", what, strerror(e));
}

static int open_proto(struct nl_sock **out, int proto, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	sk = nl_socket_alloc();
	if (!sk)
		return cir_err(err, ENOMEM, "netlink socket: %s", strerror(ENOMEM));
	r = nl_connect(sk, proto);
	if (r < 0)
		return cir_nl_err(err, r, "netlink connect");
	/* Large dumps (many links, IPVS services) need room. */
	nl_socket_set_buffer_size(sk, 1 << 20, 1 << 20);
	*out = TAKE_PTR(sk);
	return 0;
}

int cir_nl_route_open(struct nl_sock **out, struct cir_error *err)
{
	return open_proto(out, NETLINK_ROUTE, err);
}

int cir_nl_genl_open(struct nl_sock **out, struct cir_error *err)
{
	return open_proto(out, NETLINK_GENERIC, err);
}

int cir_nl_request(struct nl_sock *sk, struct nl_msg *m, nl_recvmsg_msg_cb_t fn, void *arg,
		   bool ack)
{
	struct nl_cb *orig, *cb;
	int r = nl_send_auto(sk, m);

	if (r < 0)
		return r;
	orig = nl_socket_get_cb(sk);
	cb = orig ? nl_cb_clone(orig) : NULL;
	if (orig)
		nl_cb_put(orig);
	if (!cb)
		return -NLE_NOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fn, arg);
	r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (r >= 0 && ack)
		r = nl_wait_for_ack(sk);
	return r < 0 ? r : 0;
}
