/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.h - caller-owned error reports.
 *
 * A function that can fail returns an int: >= 0 on success, -errno on
 * failure, and fills the struct cir_error its caller passed as the last
 * parameter.  Messages are lowercase fragments without a final period so
 * that callers can prefix context ("bridge c-x: " + "address ...: File exists").
 * A message longer than CIR_ERROR_MSG_MAX - 1 bytes is cut at a UTF-8
 * character boundary and ends in "...".  Nothing here allocates.
 */
#ifndef CIR_ERROR_H
#define CIR_ERROR_H

#include <stddef.h>

/* CNI error codes (SPEC.md "Error"), plus Circuit's own >= 100. */
enum cir_cni_code {
	CIR_CNI_OK = 0,
	CIR_CNI_INCOMPATIBLE_VERSION = 1,
	CIR_CNI_UNSUPPORTED_FIELD = 2,
	CIR_CNI_UNKNOWN_CONTAINER = 3,
	CIR_CNI_INVALID_ENV = 4,
	CIR_CNI_IO = 5,
	CIR_CNI_DECODE = 6,
	CIR_CNI_INVALID_CONFIG = 7,
	CIR_CNI_TRY_AGAIN = 11,
	CIR_CNI_NOT_AVAILABLE = 50,
	CIR_CNI_LIMITED = 51,
	/* Circuit-specific */
	CIR_CNI_INTERNAL = 100,
	CIR_CNI_POOL_EXHAUSTED = 101,
	CIR_CNI_ALREADY_ALLOCATED = 102,
	CIR_CNI_KERNEL = 103,
	CIR_CNI_NOT_FOUND = 104,
	CIR_CNI_EXISTS = 105,
	/* libcni's ErrInternal (pkg/types): a result that cannot be built. */
	CIR_CNI_ERR_INTERNAL = 999,
};

#define CIR_ERROR_MSG_MAX 512

struct cir_error {
	int errnum;                 /* positive errno */
	unsigned int code;          /* CNI error code, 0 = derive from errnum */
	char msg[CIR_ERROR_MSG_MAX];
};

#define CIR_ERROR_INIT { 0, 0, { 0 } }

/* Set *e to errnum/msg (code derived from errnum).  Returns -errnum. */
int cir_err(struct cir_error *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same with an explicit CNI code. Returns -errnum. */
int cir_err_code(struct cir_error *e, unsigned int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Prefix the message already in *e with context: "ctx: old".  Returns
 * -e->errnum so that "return cir_err_wrap(err, ...)" composes.
 */
int cir_err_wrap(struct cir_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clear *e (success). */
void cir_err_clear(struct cir_error *e);

/* The CNI code for *e: its explicit code, or one derived from errnum. */
unsigned int cir_err_cni_code(const struct cir_error *e);

/*
 * Append text to the message already in *e (no separator is added: start
 * fmt with "; " to say what happened after the failure).  Returns
 * -e->errnum.
 */
int cir_err_append(struct cir_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A printable, bounded copy of untrusted input for messages, meant to be
 * shown between double quotes.  Printable ASCII and valid UTF-8 characters
 * are kept, '"' and '\' get a backslash, and control characters, format
 * characters that change how text reads (bidi overrides, zero-width
 * characters, C1 controls) and bytes that are not UTF-8 become \n, \t, \r,
 * \xNN or \uNNNN.  Nothing is cut inside a character or an escape; input
 * that does not fit ends in "...".  Returns buf (empty when len < 4).
 */
const char *cir_err_shown(const char *s, char *buf, size_t len);
/* The same for n bytes that may include NUL (shown as \x00). */
const char *cir_err_shown_n(const char *s, size_t n, char *buf, size_t len);

/* Room for a shown copy of a name in a message. */
#define CIR_ERR_SHOWN_MAX 96

/* Kernel features Circuit relies on, for cir_err_kernel_lacks(). */
enum cir_kfeature {
	CIR_KF_NETEM, CIR_KF_HTB, CIR_KF_INGRESS, CIR_KF_REDIRECT, CIR_KF_IFB, CIR_KF_BRIDGE,
	CIR_KF_VETH, CIR_KF_IPVS, CIR_KF_NFTABLES, CIR_KF_NFT_MASQ,
};

/*
 * The kernel lacks feature f: set *e to "<what>: kernel has no netem qdisc:
 * load module sch_netem (CONFIG_NET_SCH_NETEM)" (without "<what>: " when
 * what is NULL), so that the message says what to do.  Returns -errnum.
 */
int cir_err_kernel_lacks(struct cir_error *e, unsigned int code, int errnum,
			 enum cir_kfeature f, const char *what);

/* Translate a libnl NLE_* code (positive or negative) to a positive errno. */
int cir_nl_errno(int nlerr);

#endif
