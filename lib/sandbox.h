/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox.h - a seccomp allow-list per Circuit executable.
 *
 * Plugins and the CLI run as root with CAP_NET_ADMIN and act on input from
 * outside (spec/security.md).  Once that input is parsed, each executable
 * installs the filter of its profile: the system calls that executable
 * needs and nothing else; any other call fails with EPERM.  Sockets are
 * allowed by family and protocol (netlink route, generic, netfilter),
 * setns() only into network namespaces, clone() never with a namespace
 * flag.  The filter is inherited by everything the process executes, so a
 * profile that may run a delegate plugin (CIR_SANDBOX_EXEC) also allows
 * what such a plugin (a Go or C program from CNI_PATH) needs to run.
 *
 * CIRCUIT_SECCOMP in the environment: unset or "enforce" (the default),
 * "log" (calls outside the list are allowed and logged by the kernel's
 * audit, "type=1326"; the calls no plugin may make still fail), "off" (no
 * filter; for debugging only).  AddressSanitizer builds default to "off".
 * The enforce-mode programs are generated at build time (the Makefile runs
 * this file as sandbox-gen); loading one is a prctl().
 */
#ifndef CIR_SANDBOX_H
#define CIR_SANDBOX_H

#include <stddef.h>

#include "error.h"

enum cir_sandbox_profile {
	CIR_SANDBOX_IPAM = 0,        /* circuit-ipam: files of the store only */
	CIR_SANDBOX_BRIDGE,          /* circuit-bridge: + netlink, setns, libnftables */
	CIR_SANDBOX_QOS,             /* circuit-qos: + netlink route, setns */
	CIR_SANDBOX_LB,              /* circuit-lb: + generic netlink (IPVS), libnftables */
	CIR_SANDBOX_PORTMAP,         /* circuit-portmap: libnftables, ctnetlink, sysctl */
	CIR_SANDBOX_CIRCUIT,         /* circuit: all of the above in-process, + exec */
	CIR_SANDBOX_AGENT,           /* circuit agent (stacked on circuit's): the store,
				      * IPVS, TCP/UDP check sockets; exec only for
				      * exec checks */
	CIR_SANDBOX_CIRCUIT_SERVE,   /* circuit lb, circuit restore: circuit's, + what
				      * the haproxy data service it may start needs
				      * (it inherits the filter) */
	CIR_SANDBOX_OVS,             /* circuit-ovs: circuit-bridge's, + OVSDB's unix
				      * socket */
	CIR_SANDBOX_PROFILES
};

/* The process may run a delegate plugin's executable (fork + exec). */
#define CIR_SANDBOX_EXEC (1u << 0)
/* The process talks to etcd for a cluster network (libcurl, dlopen()ed):
 * the cluster and dlopen groups (spec/security.md). */
#define CIR_SANDBOX_CLUSTER (1u << 1)

enum cir_sandbox_mode {
	CIR_SANDBOX_ENFORCE = 0,
	CIR_SANDBOX_LOG,
	CIR_SANDBOX_OFF,
};

/* Mode from CIRCUIT_SECCOMP: -EINVAL (and a message) for an unknown value. */
int cir_sandbox_mode(enum cir_sandbox_mode *mode, struct cir_error *err);

/*
 * Install profile p's filter, widened by flags, in the mode CIRCUIT_SECCOMP
 * says, and set no_new_privs.  Filters stack: a second call can only narrow
 * what the process may do.  -EINVAL for a bad profile or CIRCUIT_SECCOMP,
 * -errno if libseccomp or the kernel refuses.
 */
int cir_sandbox_apply(enum cir_sandbox_profile p, unsigned int flags, struct cir_error *err);

/* Same with an explicit mode (tests). */
int cir_sandbox_apply_mode(enum cir_sandbox_profile p, unsigned int flags,
			   enum cir_sandbox_mode mode, struct cir_error *err);

/* The profile's name ("circuit-ipam") or NULL. */
const char *cir_sandbox_profile_name(enum cir_sandbox_profile p);

/*
 * Names of the system calls profile p with flags allows, sorted, one per
 * entry of names (up to max); returns how many there are (may exceed max).
 * Calls allowed only for some arguments count once.
 */
size_t cir_sandbox_list(enum cir_sandbox_profile p, unsigned int flags, const char **names,
			size_t max);

#endif
