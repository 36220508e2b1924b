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
 * spec/security.md has the why of each group.  The tables (plain calls,
 * hard-denied calls, profiles) are lib/sandbox_tables.c's; the rules for
 * arguments, the filters and their loading are here.
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
#include "sandbox_int.h"

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
	unsigned int g = cir_sandbox_profiles[p].groups;

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
	return (unsigned int)p < CIR_SANDBOX_PROFILES ? cir_sandbox_profiles[p].name : NULL;
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

	for (size_t i = 0; i < cir_sandbox_n_calls && r >= 0; i++)
		if (cir_sandbox_calls[i].groups & g)
			r = rule(ctx, SCMP_ACT_ALLOW, cir_sandbox_calls[i].name, 0, NULL, err);
	for (size_t i = 0; mode == CIR_SANDBOX_LOG && i < cir_sandbox_n_hard_denied && r >= 0; i++)
		r = rule(ctx, SCMP_ACT_ERRNO(EPERM), cir_sandbox_hard_denied[i], 0, NULL, err);
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
		unsigned int nl = (g & G_NETLINK) ? cir_sandbox_profiles[p].netlink : 0;

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
		return cir_err_wrap(err, "%s", cir_sandbox_profiles[p].name);
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
		return cir_err(err, errno, "seccomp: load %s filter: %s", cir_sandbox_profiles[p].name,
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
		return cir_err(err, -r, "seccomp: load %s filter: %s", cir_sandbox_profiles[p].name,
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
	const char *all[CIR_SANDBOX_CALLS_MAX + 16];
	unsigned int g;
	size_t n = 0, out = 0;

	if ((unsigned int)p >= CIR_SANDBOX_PROFILES)
		return 0;
	g = groups_of(p, flags);
	for (size_t i = 0; i < cir_sandbox_n_calls; i++)
		if (cir_sandbox_calls[i].groups & g)
			all[n++] = cir_sandbox_calls[i].name;
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
				fprintf(stderr, "sandbox-gen: %s: %s\n", cir_sandbox_profiles[p].name,
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
