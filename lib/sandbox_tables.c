// SPDX-License-Identifier: Apache-2.0
/*
 * sandbox_tables.c - the allow-list tables of lib/sandbox.c: every plain
 * call with the groups that need it and why, the calls refused in every
 * mode, and each executable's profile.  The calls allowed only for some
 * arguments are in lib/sandbox.c, next to their rules; spec/security.md
 * has the why of each group.
 */
#include <sys/socket.h>

#include "sandbox_int.h"

/* Plain calls: allowed whatever their arguments. */
const struct cir_sandbox_call cir_sandbox_calls[] = {
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
const char *const cir_sandbox_hard_denied[] = {
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

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const size_t cir_sandbox_n_calls = N_OF(cir_sandbox_calls);
_Static_assert(N_OF(cir_sandbox_calls) <= CIR_SANDBOX_CALLS_MAX,
	       "lib/sandbox_int.h: raise CIR_SANDBOX_CALLS_MAX");
const size_t cir_sandbox_n_hard_denied = N_OF(cir_sandbox_hard_denied);

const struct cir_sandbox_profile_def cir_sandbox_profiles[CIR_SANDBOX_PROFILES] = {
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
