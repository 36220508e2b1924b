// SPDX-License-Identifier: Apache-2.0
/*
 * sandbox.c - the seccomp allow-lists of Circuit's executables (libseccomp).
 *
 * A profile is a set of groups; a group is the calls one kind of work needs,
 * each with the reason it is there.  Calls whose danger lies in an argument
 * are allowed for some arguments only: socket() for netlink protocols the
 * profile speaks, setns() into network namespaces, ioctl() for TCGETS
 * (isatty), mmap()/mprotect() without PROT_EXEC unless the profile loads
 * libnftables, clone() without namespace flags.  Everything else fails with
 * EPERM.  The lists were measured (strace -f over the integration tier,
 * with the reference plugins as delegates) and reasoned (error paths, ld.so,
 * the Go runtime); the integration and VM tiers pass with them enforced.
 * spec/security.md has the why of each group.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "cleanup.h"
#include "sandbox.h"

/*
 * The enforce-mode programs, generated at build time by this same file
 * (CIR_SANDBOX_GEN, see the Makefile): loading one costs microseconds,
 * generating it with libseccomp at every exec about a millisecond.  Log
 * mode is generated at run time.  Without the header (a build outside the
 * Makefile) both are generated at run time.
 */
#ifdef CIR_SANDBOX_PRECOMPILED
#include "sandbox_bpf.h"
#endif

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

/* Plain calls: allowed whatever their arguments. */
static const struct {
	const char *name;
	unsigned int groups;
} calls[] = {
	/* -- G_BASE: memory, stdio, errors, exit -- */
	{ "brk", G_BASE },              /* malloc */
	{ "munmap", G_BASE },           /* free of large blocks */
	{ "mremap", G_BASE },           /* realloc of large blocks */
	{ "madvise", G_BASE },          /* malloc trimming */
	{ "read", G_BASE },             /* stdin, files, /proc */
	{ "write", G_BASE },            /* stdout (result, error JSON), stderr, files */
	{ "writev", G_BASE },           /* glibc's fatal-error messages */
	{ "close", G_BASE },
	{ "lseek", G_BASE },            /* stdio on files */
	{ "fstat", G_BASE },            /* stdio buffer sizing */
	{ "newfstatat", G_BASE },       /* fstat/stat/fstatat in glibc >= 2.33 */
	{ "statx", G_BASE },            /* the same on other libcs */
	{ "fcntl", G_BASE },            /* F_GETFL/F_SETFL/F_SETFD on sockets and files */
	{ "getpid", G_BASE },           /* temp file names, netlink port ids */
	{ "gettid", G_BASE },
	{ "getuid", G_BASE },           /* libnftables and libnl check who they are */
	{ "geteuid", G_BASE },
	{ "getgid", G_BASE },
	{ "getegid", G_BASE },
	{ "getrandom", G_BASE },        /* veth MAC addresses, libnl port ids */
	{ "clock_gettime", G_BASE },    /* log timestamps (vDSO fallback) */
	{ "gettimeofday", G_BASE },
	{ "time", G_BASE },
	{ "clock_nanosleep", G_BASE },
	{ "nanosleep", G_BASE },
	{ "restart_syscall", G_BASE },  /* the kernel resumes interrupted sleeps */
	{ "futex", G_BASE },            /* glibc locks */
	{ "rt_sigaction", G_BASE },     /* SIGPIPE ignored around a delegate */
	{ "rt_sigprocmask", G_BASE },   /* abort(), posix_spawn() */
	{ "rt_sigreturn", G_BASE },
	{ "sigaltstack", G_BASE },      /* ASan before noreturn calls; Go's threads */
	{ "exit", G_BASE },
	{ "exit_group", G_BASE },
	{ "uname", G_BASE },            /* libnl and libnftables feature checks */
	{ "getcwd", G_BASE },
	/* -- G_STORE: spec/store.md; /proc/PID/{stat,ns/net}, /proc/sys -- */
	{ "openat", G_STORE },          /* every open (O_NOFOLLOW below the root) */
	{ "mkdir", G_STORE },           /* mkdir -p of the store root */
	{ "mkdirat", G_STORE },         /* network and module directories */
	{ "unlinkat", G_STORE },        /* releases, removal of a network's tree */
	{ "linkat", G_STORE },          /* IPAM reservations: ips/<addr> */
	{ "renameat", G_STORE },        /* atomic replace: temp + fsync + rename */
	{ "renameat2", G_STORE },
	{ "rename", G_STORE },
	{ "flock", G_STORE },           /* the lock file of every directory */
	{ "fsync", G_STORE },
	{ "fdatasync", G_STORE },
	{ "ftruncate", G_STORE },       /* in-place records (IPAM cursor) */
	{ "pread64", G_STORE | G_DLOPEN }, /* ELF headers when loading a library */
	{ "pwrite64", G_STORE },
	{ "getdents64", G_STORE },      /* listings and GC walks */
	{ "fstatfs", G_STORE },         /* is a netns path nsfs or proc? */
	{ "statfs", G_STORE },
	{ "readlink", G_CLI | G_DELEGATE }, /* /proc/self/exe: circuit's plugin path */
	{ "readlinkat", G_CLI | G_DELEGATE },
	{ "access", G_SPAWN | G_DLOPEN }, /* a plugin on CNI_PATH; libnftables' files */
	{ "faccessat", G_SPAWN | G_DLOPEN },
	{ "faccessat2", G_SPAWN | G_DLOPEN },
	{ "dup", G_STORE },             /* fdopendir on a duplicate */
	{ "poll", G_SPAWN | G_CHECK | G_CLUSTER }, /* feed a delegate's stdin while reading
						    * its stdout; the agent's loop; libcurl's */
	{ "ppoll", G_SPAWN | G_CHECK | G_CLUSTER },
	/* -- G_CHECK: the agent's probes; G_CLUSTER: etcd through libcurl
	 * (socket() itself is filtered below) -- */
	{ "connect", G_CHECK | G_CLUSTER | G_DELEGATE }, /* a check's TCP connect, UDP peer;
							   * an etcd endpoint */
	{ "getpeername", G_CLUSTER },   /* libcurl: the connected peer's address */
	{ "fchmod", G_CLUSTER },        /* the agent's poke socket: 0600 before bind (cluster_poke.c) */
	/* -- G_NETLINK: libnl, libmnl (socket() itself is filtered below) -- */
	{ "bind", G_NETLINK },          /* netlink port id */
	{ "getsockname", G_NETLINK | G_CLUSTER }, /* and libcurl's TCP socket */
	{ "setsockopt", G_NETLINK | G_CLUSTER }, /* buffer sizes, NETLINK_EXT_ACK; TCP_NODELAY */
	{ "getsockopt", G_NETLINK | G_CHECK | G_CLUSTER }, /* SO_ERROR of a connect */
	{ "sendmsg", G_NETLINK },
	{ "sendto", G_NETLINK | G_CHECK | G_CLUSTER },
	{ "recvmsg", G_NETLINK },
	{ "recvfrom", G_NETLINK | G_CHECK | G_CLUSTER },
	{ "select", G_NETLINK },        /* libmnl's receive loop in libnftables */
	{ "pselect6", G_NETLINK },
	/* -- G_SPAWN: posix_spawn + pump + waitpid (lib/cni.c) -- */
	{ "vfork", G_SPAWN },
	{ "execve", G_SPAWN },          /* the delegate, from CNI_PATH */
	{ "pipe2", G_SPAWN },           /* its stdin and stdout */
	{ "dup2", G_SPAWN },
	{ "dup3", G_SPAWN },            /* the same in Go's os/exec */
	{ "wait4", G_SPAWN },           /* its exit status */
	{ "waitid", G_SPAWN },
	/* -- G_DELEGATE: a delegate runs under this filter too (measured with
	 * the reference plugins, Go programs, and Circuit's own executed
	 * plugins; reasoned for ld.so and the Go runtime). -- */
	{ "seccomp", G_DELEGATE },      /* Circuit's own plugins stack their filter */
	{ "arch_prctl", G_DELEGATE },   /* ld.so and the Go runtime: TLS */
	{ "set_tid_address", G_DELEGATE },
	{ "set_robust_list", G_DELEGATE },
	{ "rseq", G_DELEGATE },
	{ "getrlimit", G_DELEGATE },
	{ "getppid", G_DELEGATE },
	{ "sched_getaffinity", G_DELEGATE }, /* Go: how many threads */
	{ "sched_yield", G_DELEGATE },
	{ "tgkill", G_DELEGATE },       /* Go: preemption signals to its threads */
	{ "kill", G_DELEGATE },         /* Go: os/exec kills a child on error */
	{ "epoll_create1", G_DELEGATE }, /* Go's poller */
	{ "epoll_ctl", G_DELEGATE },
	{ "epoll_wait", G_DELEGATE },
	{ "epoll_pwait", G_DELEGATE },
	{ "eventfd2", G_DELEGATE },
	{ "pidfd_open", G_DELEGATE },   /* newer Go's os/exec */
	{ "pidfd_send_signal", G_DELEGATE },
	/* connect (above): a plugin's daemon (dhcp) on a unix socket */
	/* A shell-script or Python delegate (measured: t-gc-recovery's
	 * slowpoke, sh + python3 through pyenv's shims) and the tools it runs:
	 * bookkeeping of the process itself, never of the system. */
	{ "getpgrp", G_DELEGATE },      /* sh: job control state */
	{ "getpgid", G_DELEGATE },
	{ "getsid", G_DELEGATE },
	{ "setpgid", G_DELEGATE },
	{ "getresuid", G_DELEGATE },
	{ "getresgid", G_DELEGATE },
	{ "getgroups", G_DELEGATE },
	{ "getrusage", G_DELEGATE },
	{ "times", G_DELEGATE },
	{ "umask", G_DELEGATE },
	{ "sysinfo", G_DELEGATE },      /* python: memory size */
	{ "chdir", G_DELEGATE },
	{ "fchdir", G_DELEGATE },
	{ "fadvise64", G_DELEGATE },    /* coreutils reading a file */
	/* -- G_LBAPI: lib/haproxy_api.c's client of the runtime API (socket():
	 * AF_UNIX stream, below) -- */
	{ "connect", G_LBAPI },
	{ "sendto", G_LBAPI },
	{ "recvfrom", G_LBAPI },
	{ "poll", G_LBAPI },
	/* -- G_OVSDB: lib/ovsdb.c's client of ovsdb-server (socket(): AF_UNIX
	 * stream, below); send/recv are sendto/recvfrom -- */
	{ "connect", G_OVSDB },
	{ "sendto", G_OVSDB },
	{ "recvfrom", G_OVSDB },
	{ "poll", G_OVSDB },            /* the reply's deadline */
	/* -- G_SERVE: haproxy, the data service of the haproxy backend,
	 * executed by circuit lb / circuit restore: it inherits the filter
	 * (measured: strace -f of haproxy -D with listeners, health checks,
	 * the runtime API, a -sf/-x reload, SIGTERM; spec/security.md). -- */
	{ "listen", G_SERVE },          /* its frontends, the stats socket */
	{ "accept", G_SERVE },
	{ "accept4", G_SERVE },
	{ "shutdown", G_SERVE },        /* half-closes of proxied streams */
	{ "getpeername", G_SERVE },
	{ "epoll_create", G_SERVE },    /* its poller */
	{ "epoll_create1", G_SERVE },
	{ "epoll_ctl", G_SERVE },
	{ "epoll_wait", G_SERVE },
	{ "epoll_pwait", G_SERVE },
	{ "timer_create", G_SERVE },    /* its watchdog */
	{ "timer_settime", G_SERVE },
	{ "timer_delete", G_SERVE },
	{ "setsid", G_SERVE },          /* -D: detach */
	{ "chmod", G_SERVE },           /* the stats socket's mode 600 */
	{ "fchmod", G_SERVE },
	{ "link", G_SERVE },            /* the socket's atomic replacement */
	{ "unlink", G_SERVE },
	{ "splice", G_SERVE },          /* kernel splicing of tcp streams */
	{ "sysinfo", G_SERVE },
	{ "sched_getaffinity", G_SERVE }, /* how many threads */
	{ "sched_setaffinity", G_SERVE },
	{ "sched_yield", G_SERVE },
	{ "setrlimit", G_SERVE },       /* its file descriptor limit (own) */
	{ "getrlimit", G_SERVE },
	{ "set_robust_list", G_SERVE }, /* its threads */
	{ "set_tid_address", G_SERVE },
	{ "rseq", G_SERVE },
	{ "arch_prctl", G_SERVE },
	{ "getppid", G_SERVE },
	{ "chdir", G_SERVE },
	{ "kill", G_SERVE },            /* -sf: the old process finishes and exits */
	{ "tgkill", G_SERVE },          /* signals to its own threads */
	{ "madvise", G_SERVE },
	{ "membarrier", G_SERVE },
	{ "sendmsg", G_SERVE },         /* -x: listening fds over the stats socket */
	{ "recvmsg", G_SERVE },
	/* -- G_THREAD: pthread_create() of the agent's lease thread (clone
	 * itself: below, threads only) -- */
	{ "set_robust_list", G_THREAD }, /* glibc, at the thread's start */
	{ "rseq", G_THREAD },
};

/* Refused in every mode, log included: what no network plugin has a reason
 * to do (the deny-list this file held before the allow-lists). */
static const char *const hard_denied[] = {
	"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fsconfig",
	"move_mount", "open_tree", "mount_setattr", "swapon", "swapoff",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"reboot", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"iopl", "ioperm", "syslog", "quotactl", "nfsservctl", "lookup_dcookie",
	"open_by_handle_at", "name_to_handle_at",
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"add_key", "request_key", "keyctl", "bpf", "perf_event_open", "userfaultfd",
	"unshare",
};

struct profile {
	const char *name;
	unsigned int groups;
	unsigned int netlink;   /* 1 << NETLINK_* protocols for socket() */
};

#define NL(proto) (1u << (proto))
/* Every netlink protocol any Circuit executable or delegate speaks. */
#define NL_ALL (NL(NETLINK_ROUTE) | NL(NETLINK_GENERIC) | NL(NETLINK_NETFILTER))

static const struct profile profiles[CIR_SANDBOX_PROFILES] = {
	/* The store (spec/store.md), nothing else: no socket, no netns.  A
	 * cluster network's adds netlink route (G_NETLINK in groups_of): the
	 * MAC of the interface it publishes, from the host veth's peer. */
	[CIR_SANDBOX_IPAM] = { "circuit-ipam", G_BASE | G_STORE, NL(NETLINK_ROUTE) },
	/* Links, addresses, routes (route); masquerade and hairpin rules
	 * through libnftables (netfilter). */
	[CIR_SANDBOX_BRIDGE] = { "circuit-bridge",
				 G_BASE | G_STORE | G_NETNS | G_NETLINK | G_DLOPEN,
				 NL(NETLINK_ROUTE) | NL(NETLINK_NETFILTER) },
	/* qdiscs, classes, filters, the ifb (route). */
	[CIR_SANDBOX_QOS] = { "circuit-qos", G_BASE | G_STORE | G_NETNS | G_NETLINK,
			      NL(NETLINK_ROUTE) },
	/* IPVS (generic), VIP addresses (route), the VIP's NAT rules. */
	[CIR_SANDBOX_LB] = { "circuit-lb", G_BASE | G_STORE | G_NETNS | G_NETLINK | G_DLOPEN |
			     G_LBAPI, NL_ALL },
	/* DNAT map elements through libnftables, conntrack deletes over
	 * ctnetlink (both netfilter), route_localnet (procfs, the store's
	 * calls); route like every netlink profile (libnl's link lookups). */
	[CIR_SANDBOX_PORTMAP] = { "circuit-portmap",
				  G_BASE | G_STORE | G_NETNS | G_NETLINK | G_DLOPEN,
				  NL(NETLINK_ROUTE) | NL(NETLINK_NETFILTER) },
	/* Runs the six plugins in-process (circuit-ovs: ovsdb-server for the
	 * network code too); names interfaces in messages. */
	[CIR_SANDBOX_CIRCUIT] = { "circuit",
				  G_BASE | G_STORE | G_NETNS | G_NETLINK | G_DLOPEN | G_CLI |
				  G_CLUSTER | G_OVSDB,
				  NL_ALL },
	[CIR_SANDBOX_CIRCUIT_SERVE] = { "circuit-serve",
					G_BASE | G_STORE | G_NETNS | G_NETLINK | G_DLOPEN | G_CLI |
					G_CLUSTER | G_LBAPI | G_SERVE | G_OVSDB,
					NL_ALL },
	/* circuit-bridge's, + ovsdb-server's unix socket (lib/ovsdb.c). */
	[CIR_SANDBOX_OVS] = { "circuit-ovs",
			      G_BASE | G_STORE | G_NETNS | G_NETLINK | G_DLOPEN | G_OVSDB,
			      NL(NETLINK_ROUTE) | NL(NETLINK_NETFILTER) },
	/* circuit agent, stacked on circuit's once the store is open: records,
	 * IPVS weights (generic), conntrack flushes (netfilter), the checks'
	 * TCP/UDP sockets; no setns, no libnftables, no plugin.  With
	 * CIR_SANDBOX_EXEC (only when an exec check is configured) it runs
	 * the admin's check programs, which inherit the delegate group. */
	[CIR_SANDBOX_AGENT] = { "circuit-agent", G_BASE | G_STORE | G_NETLINK | G_CHECK |
				G_CLUSTER,
				NL(NETLINK_ROUTE) | NL(NETLINK_GENERIC) | NL(NETLINK_NETFILTER) },
};

/* Check sockets of the agent: TCP and UDP over IPv4 and IPv6. */
static const int check_families[] = { AF_INET, AF_INET6 };

/* Socket families a delegate may open besides netlink: AF_UNIX (glibc's
 * interface-name calls, the dhcp plugin's daemon), AF_INET and AF_INET6
 * (interface ioctls, iptables-legacy's getsockopt interface). */
static const int delegate_families[] = { AF_UNIX, AF_INET, AF_INET6 };

/* ioctls on any descriptor a delegate may make. */
static const unsigned long fd_ioctls[] = { TIOCGWINSZ, TIOCGPGRP, FIONBIO, FIONREAD, FIOCLEX,
					   FIONCLEX };
/* prctl() for a delegate: Circuit's own executables set no_new_privs and
 * stack their filter (both only narrow what they may do); thread names. */
static const int prctls[] = { PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_SET_SECCOMP,
			      PR_GET_SECCOMP, PR_SET_NAME, PR_GET_NAME };

#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | 0x00000080 /* NEWTIME */)

static unsigned int groups_of(enum cir_sandbox_profile p, unsigned int flags)
{
	unsigned int g = profiles[p].groups;

	if (flags & CIR_SANDBOX_EXEC)
		g |= G_SPAWN | G_DELEGATE;
	/* A cluster network: etcd through the dlopen()ed libcurl; the agent
	 * also materialises networks (libnftables). */
	if (flags & CIR_SANDBOX_CLUSTER)
		g |= G_CLUSTER | G_DLOPEN;
	if (p == CIR_SANDBOX_IPAM && (flags & CIR_SANDBOX_CLUSTER))
		g |= G_NETLINK;
	/* The agent keeps its lease alive from a thread of its own. */
	if (p == CIR_SANDBOX_AGENT && (flags & CIR_SANDBOX_CLUSTER))
		g |= G_THREAD;
	return g;
}

const char *cir_sandbox_profile_name(enum cir_sandbox_profile p)
{
	return (unsigned int)p < CIR_SANDBOX_PROFILES ? profiles[p].name : NULL;
}

int cir_sandbox_mode(enum cir_sandbox_mode *mode, struct cir_error *err)
{
	const char *v = getenv("CIRCUIT_SECCOMP");
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's check at exit needs ptrace: sanitizer builds run
	 * unfiltered unless told otherwise. */
	enum cir_sandbox_mode m = CIR_SANDBOX_OFF;
#else
	enum cir_sandbox_mode m = CIR_SANDBOX_ENFORCE;
#endif

	if (v && strcmp(v, "enforce") == 0)
		m = CIR_SANDBOX_ENFORCE;
	else if (v && strcmp(v, "log") == 0)
		m = CIR_SANDBOX_LOG;
	else if (v && strcmp(v, "off") == 0)
		m = CIR_SANDBOX_OFF;
	else if (v && *v)
		return cir_err_code(err, CIR_CNI_INVALID_ENV, EINVAL,
				    "CIRCUIT_SECCOMP=%.32s: want enforce, log or off", v);
	*mode = m;
	return 0;
}

static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned int n,
		const struct scmp_arg_cmp *args, struct cir_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR)
		return 0;       /* not on this architecture */
	r = seccomp_rule_add_array(ctx, action, nr, n, args);
	if (r < 0)
		return cir_err(err, -r, "seccomp: rule for %s: %s", name, strerror(-r));
	return 0;
}

#define ALLOW(name, ...)                                                              \
	rule(ctx, SCMP_ACT_ALLOW, name,                                               \
	     sizeof((struct scmp_arg_cmp[]){ __VA_ARGS__ }) / sizeof(struct scmp_arg_cmp), \
	     (struct scmp_arg_cmp[]){ __VA_ARGS__ }, err)

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The plain calls of groups g; in log mode, the hard-denied ones refused. */
static int allow_plain(scmp_filter_ctx ctx, unsigned int g, enum cir_sandbox_mode mode,
		       struct cir_error *err)
{
	int r = 0;

	for (size_t i = 0; i < N_OF(calls) && r >= 0; i++)
		if (calls[i].groups & g)
			r = rule(ctx, SCMP_ACT_ALLOW, calls[i].name, 0, NULL, err);
	for (size_t i = 0; mode == CIR_SANDBOX_LOG && i < N_OF(hard_denied) && r >= 0; i++)
		r = rule(ctx, SCMP_ACT_ERRNO(EPERM), hard_denied[i], 0, NULL, err);
	return r;
}

/* isatty() (stdio, VERSION on a terminal); interface names by index; a
 * delegate: file descriptor flags and the socket ioctls (SIOC*, 0x89xx:
 * interfaces, ethtool), never a terminal's input queue (TIOCSTI) or any
 * other device's. */
static int allow_ioctls(scmp_filter_ctx ctx, unsigned int g, struct cir_error *err)
{
	int r;

	r = ALLOW("ioctl", SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (r >= 0 && (g & (G_CLI | G_DELEGATE))) {
		r = ALLOW("ioctl", SCMP_A1(SCMP_CMP_EQ, SIOCGIFNAME));
		if (r >= 0)
			r = ALLOW("ioctl", SCMP_A1(SCMP_CMP_EQ, SIOCGIFINDEX));
	}
	if (r >= 0 && (g & G_DELEGATE)) {
		r = ALLOW("ioctl", SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffff00, 0x8900));
		for (size_t i = 0; r >= 0 && i < N_OF(fd_ioctls); i++)
			r = ALLOW("ioctl", SCMP_A1(SCMP_CMP_EQ, fd_ioctls[i]));
	}
	return r;
}

/* Executable mappings only where a library is loaded at run time; setns()
 * into network namespaces only. */
static int allow_memory_netns(scmp_filter_ctx ctx, unsigned int g, struct cir_error *err)
{
	int r;

	if (g & (G_DLOPEN | G_DELEGATE)) {
		r = rule(ctx, SCMP_ACT_ALLOW, "mmap", 0, NULL, err);
		if (r >= 0)
			r = rule(ctx, SCMP_ACT_ALLOW, "mprotect", 0, NULL, err);
	} else {
		r = ALLOW("mmap", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		if (r >= 0)
			r = ALLOW("mprotect", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	}
	if (r >= 0 && (g & G_NETNS))
		r = ALLOW("setns", SCMP_A1(SCMP_CMP_EQ, CLONE_NEWNET));
	return r;
}

/* socket(family, type) for a stream (and, with dgram, a datagram) socket. */
static int allow_socket_types(scmp_filter_ctx ctx, int family, bool dgram,
			      struct cir_error *err)
{
	int r;

	r = ALLOW("socket", SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family),
		  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM));
	if (r >= 0 && dgram)
		r = ALLOW("socket", SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family),
			  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
	return r;
}

/* Netlink by protocol; the runtime API's and if_indextoname()'s unix
 * sockets; the agent's checks; etcd.  A delegate's are allow_delegate's. */
static int allow_sockets(scmp_filter_ctx ctx, enum cir_sandbox_profile p, unsigned int g,
			 struct cir_error *err)
{
	bool own = !(g & G_DELEGATE);
	int r = 0;

	for (int proto = 0; proto < 32 && r >= 0; proto++) {
		unsigned int nl = (g & G_NETLINK) ? profiles[p].netlink : 0;

		if (g & G_DELEGATE)
			nl |= NL_ALL;
		if (nl & NL(proto))
			r = ALLOW("socket", SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
				  SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)proto));
	}
	if (r >= 0 && (g & (G_LBAPI | G_OVSDB)) && own)
		r = allow_socket_types(ctx, AF_UNIX, false, err);
	if (r >= 0 && (g & G_CLI) && own)
		r = ALLOW("socket", SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
			  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
	for (size_t i = 0; r >= 0 && (g & G_CHECK) && own && i < N_OF(check_families); i++)
		r = allow_socket_types(ctx, check_families[i], true, err);
	/* etcd: TCP over IPv4 or IPv6 (no raw, no UDP, no packet); with
	 * G_CHECK the rules above already allow it. */
	if (r >= 0 && (g & G_CLUSTER) && own && !(g & G_CHECK))
		r = allow_socket_types(ctx, AF_INET, false, err);
	if (r >= 0 && (g & G_CLUSTER) && own && !(g & G_CHECK))
		r = allow_socket_types(ctx, AF_INET6, false, err);
	/* The member poke to this host's agent (lib/cluster_poke.c): an
	 * AF_UNIX datagram, sendto (above); the agent binds it before its
	 * filter and reads it with recvfrom. */
	if (r >= 0 && (g & G_CLUSTER) && own)
		r = ALLOW("socket", SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
			  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
	return r;
}

/* haproxy: no_new_privs (it sets it itself), which capabilities it has,
 * and whether it may dump core; nothing else.  (What a delegate's prctls
 * already allow is not added twice.) */
static int allow_serve(scmp_filter_ctx ctx, unsigned int g, struct cir_error *err)
{
	static const int serve_prctls[] = { PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS,
					    PR_CAPBSET_READ, PR_SET_DUMPABLE,
					    PR_GET_DUMPABLE, PR_SET_NAME, PR_GET_NAME };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < N_OF(serve_prctls); i++) {
		bool dup = false;

		for (size_t k = 0; (g & G_DELEGATE) && k < N_OF(prctls); k++)
			dup |= prctls[k] == serve_prctls[i];
		if (!dup)
			r = ALLOW("prctl", SCMP_A0(SCMP_CMP_EQ, serve_prctls[i]));
	}
	return r;
}

/* A delegate's other socket families, its processes and threads (never
 * new namespaces), its prctls. */
static int allow_delegate(scmp_filter_ctx ctx, unsigned int g, struct cir_error *err)
{
	int r = 0;

	for (size_t i = 0; (g & G_DELEGATE) && r >= 0 && i < N_OF(delegate_families); i++)
		r = ALLOW("socket", SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)delegate_families[i]));
	if (r >= 0 && (g & (G_SPAWN | G_DELEGATE))) {
		/* clone3 hides its flags in memory a filter cannot read:
		 * ENOSYS makes glibc fall back to clone(). */
		r = ALLOW("clone", SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0));
		if (r >= 0)
			r = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err);
		/* posix_spawn checks fds against RLIMIT_NOFILE; Go raises its
		 * own soft limit.  Another process's limits: never. */
		if (r >= 0)
			r = ALLOW("prlimit64", SCMP_A0(SCMP_CMP_EQ, 0));
	}
	if (r >= 0 && (g & G_THREAD)) {
		/* A thread of this process: CLONE_THREAD and CLONE_VM set, no
		 * namespace flag (a process is spawn's, above). */
		r = ALLOW("clone", SCMP_A0(SCMP_CMP_MASKED_EQ,
					   CLONE_NS_FLAGS | CLONE_THREAD | CLONE_VM,
					   CLONE_THREAD | CLONE_VM));
		if (r >= 0 && !(g & (G_SPAWN | G_DELEGATE)))
			r = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err);
	}
	for (size_t i = 0; (g & G_DELEGATE) && r >= 0 && i < N_OF(prctls); i++)
		r = ALLOW("prctl", SCMP_A0(SCMP_CMP_EQ, prctls[i]));
	return r;
}

static int build(scmp_filter_ctx ctx, enum cir_sandbox_profile p, unsigned int g,
		 enum cir_sandbox_mode mode, struct cir_error *err)
{
	int r;

	r = allow_plain(ctx, g, mode, err);
	if (r >= 0)
		r = allow_ioctls(ctx, g, err);
	if (r >= 0)
		r = allow_memory_netns(ctx, g, err);
	if (r >= 0)
		r = allow_sockets(ctx, p, g, err);
	if (r >= 0 && (g & G_SERVE))
		r = allow_serve(ctx, g, err);
	/* libcurl's wake-up pair of its transfer loop. */
	if (r >= 0 && (g & G_CLUSTER))
		r = ALLOW("socketpair", SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (r >= 0)
		r = allow_delegate(ctx, g, err);
	/* abort() on a failed assertion. */
	if (r >= 0)
		r = ALLOW("tgkill", SCMP_A2(SCMP_CMP_EQ, SIGABRT));
	return r;
}

static int generate(scmp_filter_ctx *out, enum cir_sandbox_profile p, unsigned int flags,
		    enum cir_sandbox_mode mode, struct cir_error *err)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	int r;

	ctx = seccomp_init(mode == CIR_SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return cir_err(err, ENOMEM, "seccomp: out of memory");
	r = build(ctx, p, groups_of(p, flags), mode, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", profiles[p].name);
	*out = TAKE_PTR(ctx);
	return 0;
}

#ifdef CIR_SANDBOX_PRECOMPILED
static int load_precompiled(enum cir_sandbox_profile p, unsigned int flags,
			    struct cir_error *err)
{
	const struct cir_sandbox_bpf *b = &cir_sandbox_bpf[p][(flags & CIR_SANDBOX_EXEC) ? 1 : 0];
	struct sock_fprog prog = { .len = b->len, .filter = (struct sock_filter *)b->insns };

	/* What seccomp_load() does: no_new_privs, then the filter (by prctl,
	 * which valgrind knows, unlike seccomp()). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return cir_err(err, errno, "seccomp: load %s filter: %s", profiles[p].name,
			       strerror(errno));
	return 0;
}
#endif

int cir_sandbox_apply_mode(enum cir_sandbox_profile p, unsigned int flags,
			   enum cir_sandbox_mode mode, struct cir_error *err)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	int r;

	if ((unsigned int)p >= CIR_SANDBOX_PROFILES)
		return cir_err(err, EINVAL, "seccomp: unknown profile %d", (int)p);
	if (mode == CIR_SANDBOX_OFF)
		return 0;
#ifdef CIR_SANDBOX_PRECOMPILED
	/* Only the common programs are precompiled; a cluster network's
	 * plugin generates its own (about a millisecond). */
	if (mode == CIR_SANDBOX_ENFORCE && !(flags & CIR_SANDBOX_CLUSTER))
		return load_precompiled(p, flags, err);
#endif
	r = generate(&ctx, p, flags, mode, err);
	if (r < 0)
		return r;
	/* libseccomp sets no_new_privs itself (SCMP_FLTATR_CTL_NNP). */
	r = seccomp_load(ctx);
	if (r < 0)
		return cir_err(err, -r, "seccomp: load %s filter: %s", profiles[p].name,
			       strerror(-r));
	return 0;
}

int cir_sandbox_apply(enum cir_sandbox_profile p, unsigned int flags, struct cir_error *err)
{
	enum cir_sandbox_mode mode;
	int r = cir_sandbox_mode(&mode, err);

	return r < 0 ? r : cir_sandbox_apply_mode(p, flags, mode, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t cir_sandbox_list(enum cir_sandbox_profile p, unsigned int flags, const char **names,
			size_t max)
{
	static const char *const filtered[] = { "ioctl", "mmap", "mprotect", "tgkill" };
	const char *all[N_OF(calls) + 16];
	unsigned int g;
	size_t n = 0, out = 0;

	if ((unsigned int)p >= CIR_SANDBOX_PROFILES)
		return 0;
	g = groups_of(p, flags);
	for (size_t i = 0; i < N_OF(calls); i++)
		if (calls[i].groups & g)
			all[n++] = calls[i].name;
	for (size_t i = 0; i < N_OF(filtered); i++)
		all[n++] = filtered[i];
	if (g & G_NETNS)
		all[n++] = "setns";
	if (g & (G_NETLINK | G_DELEGATE | G_CLI | G_CHECK | G_CLUSTER | G_LBAPI | G_OVSDB))
		all[n++] = "socket";
	if (g & G_CLUSTER)
		all[n++] = "socketpair";
	if (g & (G_SPAWN | G_DELEGATE)) {
		all[n++] = "clone";
		all[n++] = "prlimit64";
	}
	if (g & G_THREAD)
		all[n++] = "clone";
	if (g & (G_DELEGATE | G_SERVE))
		all[n++] = "prctl";
	qsort(all, n, sizeof(all[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(all[i], all[i - 1]) == 0)
			continue;
		if (out < max)
			names[out] = all[i];
		out++;
	}
	return out;
}

#ifdef CIR_SANDBOX_GEN
/* sandbox-gen: print the enforce-mode programs as a C header. */
int main(void)
{
	printf("/* Generated by sandbox-gen from lib/sandbox.c (libseccomp %u.%u.%u): do not edit. */\n"
	       "struct cir_sandbox_bpf {\n\tconst struct sock_filter *insns;\n"
	       "\tunsigned short len;\n};\n",
	       seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
	for (int p = 0; p < CIR_SANDBOX_PROFILES; p++) {
		for (int f = 0; f < 2; f++) {
			_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
			struct cir_error err = CIR_ERROR_INIT;
			struct sock_filter ins;
			FILE *tmp = tmpfile();

			if (!tmp || generate(&ctx, (enum cir_sandbox_profile)p,
					     f ? CIR_SANDBOX_EXEC : 0, CIR_SANDBOX_ENFORCE, &err) < 0 ||
			    seccomp_export_bpf(ctx, fileno(tmp)) < 0) {
				fprintf(stderr, "sandbox-gen: %s: %s\n", profiles[p].name,
					err.msg[0] ? err.msg : "export failed");
				return 1;
			}
			rewind(tmp);
			printf("static const struct sock_filter bpf_%d_%d[] = {\n", p, f);
			while (fread(&ins, sizeof(ins), 1, tmp) == 1)
				printf("\t{ 0x%02x, %u, %u, 0x%08x },\n", ins.code, ins.jt, ins.jf,
				       ins.k);
			printf("};\n");
			fclose(tmp);
		}
	}
	printf("static const struct cir_sandbox_bpf cir_sandbox_bpf[%d][2] = {\n",
	       CIR_SANDBOX_PROFILES);
	for (int p = 0; p < CIR_SANDBOX_PROFILES; p++)
		printf("\t{ { bpf_%d_0, sizeof(bpf_%d_0) / sizeof(bpf_%d_0[0]) },\n"
		       "\t  { bpf_%d_1, sizeof(bpf_%d_1) / sizeof(bpf_%d_1[0]) } },\n",
		       p, p, p, p, p, p);
	printf("};\n");
	return 0;
}
#endif
