/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runc.h - what runc knows about a container, read from its state file
 * <root>/<id>/state.json (root: $CIRCUIT_RUNC_ROOT, else /run/runc, runc's
 * own default for root) as a plain file: runc is never executed.  Circuit
 * needs one thing from it, the pid of the container's init process, so that
 * the CLI can take a runc container ID where it takes a PID.
 */
#ifndef CIR_RUNC_H
#define CIR_RUNC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define CIR_RUNC_ROOT_ENV "CIRCUIT_RUNC_ROOT"
#define CIR_RUNC_ROOT_DEFAULT "/run/runc"
#define CIR_RUNC_STATE "state.json"

struct cir_runc_state {
	long long pid;                  /* init_process_pid */
	unsigned long long start;       /* init_process_start (/proc/PID/stat field 22),
					 * 0 when runc did not record it */
};

/* $CIRCUIT_RUNC_ROOT when set and non-empty, else CIR_RUNC_ROOT_DEFAULT. */
const char *cir_runc_root(void);

/*
 * Parse a state.json document: init_process_pid (a pid, required) and
 * init_process_start (a number, or a decimal string as older runc wrote
 * it; optional).  -EBADMSG for malformed JSON, -EINVAL "no init process
 * pid" when the pid is missing or out of range.  *out is set only on
 * success.
 */
int cir_runc_state_parse(const char *text, size_t len, struct cir_runc_state *out,
			 struct cir_error *err);

/*
 * Read container id's state under root (NULL = cir_runc_root()).  The id
 * is checked first as a CNI container id (no '/', no "..": it becomes a path
 * component): -EINVAL.  -ENOENT "container ID not found (no runc state in
 * ROOT)" when runc has no such container.
 */
int cir_runc_state_read(const char *root, const char *id, struct cir_runc_state *out,
			struct cir_error *err);

/*
 * The pid of runc container id, which must be running: its state is read
 * (cir_runc_state_read), its init process must exist, not be a zombie and,
 * when runc recorded it, have the recorded start time (a reused pid is not
 * the container).  -ESRCH "container ID is not running (process PID not
 * found)" otherwise.  *pid is set only on success.
 */
int cir_runc_pid(const char *root, const char *id, long long *pid, struct cir_error *err);

/*
 * Is member m (connected by PID, by the hook, by ID) the process runc
 * recorded in s: the same pid and, when both recorded it, the same start
 * time?  Liveness is the caller's business (cir_member_alive).
 */
struct cir_member;
bool cir_runc_is_member(const struct cir_runc_state *s, const struct cir_member *m);

/* Is a container argument a pid (non-empty, digits only), not an ID? */
bool cir_arg_is_pid(const char *s);

#endif
