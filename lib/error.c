// SPDX-License-Identifier: Apache-2.0
/*
 * error.c - fill caller-owned error structs; map libnl codes to errno.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <netlink/errno.h>

#include "error.h"

static int verr(struct cir_error *e, unsigned int code, int errnum, const char *fmt, va_list ap)
{
	char buf[CIR_ERROR_MSG_MAX];

	if (errnum < 0)
		errnum = -errnum;
	if (errnum == 0)
		errnum = EIO;
	if (e) {
		vsnprintf(buf, sizeof(buf), fmt, ap);
		e->errnum = errnum;
		e->code = code;
		snprintf(e->msg, sizeof(e->msg), "%s", buf);
	}
	return -errnum;
}

int cir_err(struct cir_error *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verr(e, 0, errnum, fmt, ap);
	va_end(ap);
	return r;
}

int cir_err_code(struct cir_error *e, unsigned int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verr(e, code, errnum, fmt, ap);
	va_end(ap);
	return r;
}

int cir_err_wrap(struct cir_error *e, const char *fmt, ...)
{
	char ctx[CIR_ERROR_MSG_MAX], old[CIR_ERROR_MSG_MAX];
	va_list ap;

	if (!e)
		return -EIO;
	if (e->errnum == 0)
		e->errnum = EIO;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (old[0])
		snprintf(e->msg, sizeof(e->msg), "%s: %s", ctx, old);
	else
		snprintf(e->msg, sizeof(e->msg), "%s: %s", ctx, strerror(e->errnum));
	return -e->errnum;
}

void cir_err_clear(struct cir_error *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

unsigned int cir_err_cni_code(const struct cir_error *e)
{
	if (!e || e->errnum == 0)
		return CIR_CNI_OK;
	if (e->code)
		return e->code;
	switch (e->errnum) {
	case EINVAL:
		return CIR_CNI_INVALID_CONFIG;
	case EBADMSG:
		return CIR_CNI_DECODE;
	case EAGAIN:
	case EBUSY:
		return CIR_CNI_TRY_AGAIN;
	case EIO:
	case EACCES:
	case EPERM:
	case ENOSPC:
	case EROFS:
		return CIR_CNI_IO;
	case ENOENT:
		return CIR_CNI_NOT_FOUND;
	case EEXIST:
		return CIR_CNI_EXISTS;
	default:
		return CIR_CNI_INTERNAL;
	}
}

const char *cir_err_shown(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	if (len < 4) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	for (; s[i] && i + 4 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* The one place where libnl's private error space meets errno. */
int cir_nl_errno(int nlerr)
{
	if (nlerr < 0)
		nlerr = -nlerr;
	switch (nlerr) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return EINTR;
	case NLE_BAD_SOCK:
		return EBADF;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_INVAL:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_NOATTR:
		return ENOENT;
	case NLE_MISSING_ATTR:
		return EINVAL;
	case NLE_AF_MISMATCH:
		return EAFNOSUPPORT;
	case NLE_SEQ_MISMATCH:
		return EPROTO;
	case NLE_MSG_OVERFLOW:
		return EOVERFLOW;
	case NLE_MSG_TRUNC:
		return EMSGSIZE;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_SRCRT_NOSUPPORT:
		return EOPNOTSUPP;
	case NLE_MSG_TOOSHORT:
		return EBADMSG;
	case NLE_MSGTYPE_NOSUPPORT:
		return EOPNOTSUPP;
	case NLE_OBJ_MISMATCH:
		return EINVAL;
	case NLE_NOCACHE:
		return ENOENT;
	case NLE_BUSY:
		return EBUSY;
	case NLE_PROTO_MISMATCH:
		return EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_PERM:
		return EPERM;
	case NLE_PKTLOC_FILE:
		return ENOENT;
	case NLE_PARSE_ERR:
		return EINVAL;
	case NLE_NODEV:
		return ENODEV;
	case NLE_IMMUTABLE:
		return EPERM;
	case NLE_DUMP_INTR:
		return EINTR;
	case NLE_ATTRSIZE:
		return EINVAL;
	default:
		return EIO;
	}
}
