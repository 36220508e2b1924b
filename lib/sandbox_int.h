/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox_int.h - shared by lib/sandbox*.c only: the groups of calls, the
 * profiles made of them, and the allow-list tables (lib/sandbox_tables.c)
 * that lib/sandbox.c turns into filters.
 */
#ifndef CIR_SANDBOX_INT_H
#define CIR_SANDBOX_INT_H

#include <stddef.h>

#include <linux/netlink.h>

#include "sandbox.h"

enum {
	G_BASE = 1u << 0,       /* any C program of ours after main() started */
	G_STORE = 1u << 1,      /* the store, /proc and /proc/sys files */
	G_NETNS = 1u << 2,      /* setns() into a network namespace */
	G_NETLINK = 1u << 3,    /* netlink sockets (socket() itself: by protocol) */
	G_DLOPEN = 1u << 4,     /* dlopen("libnftables.so.1"): PROT_EXEC mappings */
	G_SPAWN = 1u << 5,      /* posix_spawn() a delegate, feed it, wait */
	G_DELEGATE = 1u << 6,   /* what the delegate (a Go or C plugin) runs with */
	G_CLI = 1u << 7,        /* circuit: if_indextoname() (AF_UNIX datagram +
				 * ioctl), /proc/self/exe */
	G_CHECK = 1u << 8,      /* circuit agent: TCP/UDP health-check sockets */
	G_CLUSTER = 1u << 9,    /* circuit, circuit agent: etcd over HTTP (lib/etcd.c, libcurl) */
	G_LBAPI = 1u << 10,     /* HAProxy's runtime API: a unix stream socket */
	G_SERVE = 1u << 11,     /* haproxy, started by circuit, under its filter */
	G_OVSDB = 1u << 12,     /* ovsdb-server's JSON-RPC: a unix stream socket */
	G_THREAD = 1u << 13,    /* circuit agent with a cluster: its lease thread */
};

/* A plain call: allowed to the groups named, whatever its arguments. */
struct cir_sandbox_call {
	const char *name;
	unsigned int groups;
};

/* What a profile is: its name, its groups, the netlink protocols it may
 * open a socket for. */
struct cir_sandbox_profile_def {
	const char *name;
	unsigned int groups;
	unsigned int netlink;   /* 1 << NETLINK_* protocols for socket() */
};

#define NL(proto) (1u << (proto))
/* Every netlink protocol any Circuit executable or delegate speaks. */
#define NL_ALL (NL(NETLINK_ROUTE) | NL(NETLINK_GENERIC) | NL(NETLINK_NETFILTER))

/* At least as many as cir_sandbox_calls has (checked where it is). */
#define CIR_SANDBOX_CALLS_MAX 256

extern const struct cir_sandbox_call cir_sandbox_calls[];
extern const size_t cir_sandbox_n_calls;
/* Refused in every mode, log included. */
extern const char *const cir_sandbox_hard_denied[];
extern const size_t cir_sandbox_n_hard_denied;
extern const struct cir_sandbox_profile_def cir_sandbox_profiles[CIR_SANDBOX_PROFILES];

#endif
