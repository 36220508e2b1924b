/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox.h - a seccomp filter for Circuit's executables.
 *
 * Plugins and the CLI run as root with CAP_NET_ADMIN and handle input from
 * outside.  Once started they need netlink, files under the state dir,
 * setns() and, for delegation, fork+exec; they never need to mount, load
 * kernel modules or code, trace other processes, reboot, or touch keys.
 * cir_sandbox_apply() makes those system calls fail with EPERM for the
 * process and everything it executes (filters are inherited).
 */
#ifndef CIR_SANDBOX_H
#define CIR_SANDBOX_H

#include "error.h"

/* Install the deny-list filter (and no_new_privs).  Idempotent in effect:
 * stacking it twice denies the same calls.  -errno if the kernel refuses. */
int cir_sandbox_apply(struct cir_error *err);

/* Number of system calls the filter denies (for tests and docs). */
unsigned int cir_sandbox_denied_count(void);

#endif
