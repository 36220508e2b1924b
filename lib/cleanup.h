/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleanup.h - scope-bound destructors (GCC/Clang cleanup attribute).
 *
 * Initialise every cleanup variable where it is declared (pointers to NULL,
 * fds to -1).  Hand ownership out with TAKE_PTR()/TAKE_FD().  Every
 * destructor accepts NULL / -1.
 */
#ifndef CIR_CLEANUP_H
#define CIR_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define TAKE_PTR(p)                             \
	({                                      \
		__typeof__(p) _tp_ = (p);       \
		(p) = NULL;                     \
		_tp_;                           \
	})

#define TAKE_FD(fd)                             \
	({                                      \
		int _tf_ = (fd);                \
		(fd) = -1;                      \
		_tf_;                           \
	})

static inline void cir_freep(void *p)
{
	free(*(void **)p);
}

static inline void cir_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cir_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(cir_freep)
#define _cleanup_close_ _cleanup_(cir_closep)
#define _cleanup_fclose_ _cleanup_(cir_fclosep)

/* Define "static inline void name(type **p)" calling fn(*p) when non-NULL. */
#define CIR_DEFINE_CLEANUP(type, fn)                    \
	static inline void fn##p(type **p)              \
	{                                               \
		if (*p)                                 \
			fn(*p);                         \
	}

/* Typed helpers for the libraries we use, enabled by their headers. */
#ifdef NETLINK_SOCKET_H_
CIR_DEFINE_CLEANUP(struct nl_sock, nl_socket_free)
#define _cleanup_nl_sock_ _cleanup_(nl_socket_freep)
#endif
#ifdef NETLINK_MSG_H_
CIR_DEFINE_CLEANUP(struct nl_msg, nlmsg_free)
#define _cleanup_nl_msg_ _cleanup_(nlmsg_freep)
#endif
#ifdef NETLINK_CACHE_H_
CIR_DEFINE_CLEANUP(struct nl_cache, nl_cache_free)
#define _cleanup_nl_cache_ _cleanup_(nl_cache_freep)
#endif
#ifdef NETLINK_LINK_H_
CIR_DEFINE_CLEANUP(struct rtnl_link, rtnl_link_put)
#define _cleanup_rtnl_link_ _cleanup_(rtnl_link_putp)
#endif
#ifdef NETADDR_ADDR_H_
CIR_DEFINE_CLEANUP(struct rtnl_addr, rtnl_addr_put)
#define _cleanup_rtnl_addr_ _cleanup_(rtnl_addr_putp)
#endif
#ifdef NETLINK_ROUTE_H_
CIR_DEFINE_CLEANUP(struct rtnl_route, rtnl_route_put)
#define _cleanup_rtnl_route_ _cleanup_(rtnl_route_putp)
#endif
#ifdef NETLINK_QDISC_H_
CIR_DEFINE_CLEANUP(struct rtnl_qdisc, rtnl_qdisc_put)
#define _cleanup_rtnl_qdisc_ _cleanup_(rtnl_qdisc_putp)
#endif
#ifdef NETLINK_CLASS_H_
CIR_DEFINE_CLEANUP(struct rtnl_class, rtnl_class_put)
#define _cleanup_rtnl_class_ _cleanup_(rtnl_class_putp)
#endif
#ifdef NETLINK_CLASSIFIER_H_
CIR_DEFINE_CLEANUP(struct rtnl_cls, rtnl_cls_put)
#define _cleanup_rtnl_cls_ _cleanup_(rtnl_cls_putp)
#endif
#ifdef NETLINK_ADDR_H_
CIR_DEFINE_CLEANUP(struct nl_addr, nl_addr_put)
#define _cleanup_nl_addr_ _cleanup_(nl_addr_putp)
#endif
#ifdef YAJL_TREE_H
CIR_DEFINE_CLEANUP(struct yajl_val_s, yajl_tree_free)
#define _cleanup_yajl_val_ _cleanup_(yajl_tree_freep)
#endif
#ifdef __YAJL_PARSE_H__
CIR_DEFINE_CLEANUP(struct yajl_handle_t, yajl_free)
#define _cleanup_yajl_handle_ _cleanup_(yajl_freep)
#endif
#ifdef __YAJL_GEN_H__
CIR_DEFINE_CLEANUP(struct yajl_gen_t, yajl_gen_free)
#define _cleanup_yajl_gen_ _cleanup_(yajl_gen_freep)
#endif
#ifdef _SECCOMP_H
static inline void cir_seccomp_releasep(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}
#define _cleanup_seccomp_ _cleanup_(cir_seccomp_releasep)
#endif

#endif
