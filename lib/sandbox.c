// SPDX-License-Identifier: Apache-2.0
/*
 * sandbox.c - deny-list seccomp filter through libseccomp.
 *
 * A deny-list, not an allow-list: delegated CNI plugins (any binary on
 * CNI_PATH, possibly Go) inherit the filter, and their needs are not ours to
 * enumerate.  What is denied is what no network plugin has a reason to do.
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include <seccomp.h>

#include "cleanup.h"
#include "sandbox.h"

static const char *const denied[] = {
	/* filesystems and roots */
	"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fsconfig",
	"move_mount", "open_tree", "mount_setattr", "swapon", "swapoff",
	/* kernel code and state */
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"reboot", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"iopl", "ioperm", "syslog", "quotactl", "nfsservctl", "lookup_dcookie",
	"open_by_handle_at", "name_to_handle_at",
	/* other processes */
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	/* keys, bpf, perf, userfaultfd */
	"add_key", "request_key", "keyctl", "bpf", "perf_event_open", "userfaultfd",
};

unsigned int cir_sandbox_denied_count(void)
{
	return sizeof(denied) / sizeof(denied[0]);
}

int cir_sandbox_apply(struct cir_error *err)
{
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	int r;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return cir_err(err, ENOMEM, "seccomp: out of memory");
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;       /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0)
			return cir_err(err, -r, "seccomp: rule for %s: %s", denied[i], strerror(-r));
	}
	/* libseccomp sets no_new_privs itself (SCMP_FLTATR_CTL_NNP). */
	r = seccomp_load(ctx);
	if (r < 0)
		return cir_err(err, -r, "seccomp: load: %s", strerror(-r));
	return 0;
}
