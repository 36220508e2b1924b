// SPDX-License-Identifier: Apache-2.0
/*
 * error.c - fill caller-owned error structs; map libnl codes to errno.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <netlink/errno.h>

#include "error.h"
#include "utf8.h"

/*
 * Store text (a formatted message that needed full bytes, possibly more
 * than text holds) as dst's message: a message that does not fit is cut at
 * a character boundary, never inside a UTF-8 sequence, and ends in "...".
 */
static void msg_set(char dst[CIR_ERROR_MSG_MAX], const char *text, int full)
{
	size_t n = strlen(text);

	if (full >= 0 && (size_t)full < CIR_ERROR_MSG_MAX && n < CIR_ERROR_MSG_MAX) {
		memmove(dst, text, n + 1);
		return;
	}
	n = cir_utf8_floor(text, n < CIR_ERROR_MSG_MAX - 4 ? n : CIR_ERROR_MSG_MAX - 4);
	memmove(dst, text, n);
	memcpy(dst + n, "...", 4);
}

static int verr(struct cir_error *e, unsigned int code, int errnum, const char *fmt, va_list ap)
{
	char buf[CIR_ERROR_MSG_MAX];
	int full;

	if (errnum < 0)
		errnum = -errnum;
	if (errnum == 0)
		errnum = EIO;
	if (e) {
		/* Arguments may point into e->msg: format aside first. */
		full = vsnprintf(buf, sizeof(buf), fmt, ap);
		e->errnum = errnum;
		e->code = code;
		msg_set(e->msg, buf, full);
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

/* Put the formatted text before (wrap: "text: msg") or after (append:
 * "msg" "text") e's message (its errno's text when it has none). */
static int vjoin(struct cir_error *e, bool before, const char *fmt, va_list ap)
{
	char text[CIR_ERROR_MSG_MAX], both[2 * CIR_ERROR_MSG_MAX + 2];
	const char *msg;
	int full;

	if (!e)
		return -EIO;
	if (e->errnum == 0)
		e->errnum = EIO;
	full = vsnprintf(text, sizeof(text), fmt, ap);
	if (full >= (int)sizeof(text))
		msg_set(text, text, full);
	msg = e->msg[0] ? e->msg : strerror(e->errnum);
	if (before)
		full = snprintf(both, sizeof(both), "%s: %s", text, msg);
	else
		full = snprintf(both, sizeof(both), "%s%s", msg, text);
	msg_set(e->msg, both, full);
	return -e->errnum;
}

int cir_err_wrap(struct cir_error *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vjoin(e, true, fmt, ap);
	va_end(ap);
	return r;
}

int cir_err_append(struct cir_error *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vjoin(e, false, fmt, ap);
	va_end(ap);
	return r;
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

/* Format characters that change how the text around them reads (bidi
 * overrides and isolates, zero-width characters, line separators) or that
 * a terminal treats as control codes (C1). */
static bool invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) ||
	       cp == 0xfeff;
}

/* How s[i..n) starts when shown: *piece (esc or s + i), *plen bytes of it;
 * returns how many input bytes that is. */
static size_t shown_piece(const char *s, size_t n, size_t i, char esc[8], const char **piece,
			  size_t *plen)
{
	uint32_t cp = 0;
	size_t k = cir_utf8_seq(s + i, n - i, &cp);

	*piece = esc;
	if (k == 0) {
		*plen = (size_t)snprintf(esc, 8, "\\x%02x", (unsigned char)s[i]);
		return 1;
	}
	if (cp == '"' || cp == '\\')
		*plen = (size_t)snprintf(esc, 8, "\\%c", (char)cp);
	else if (cp == '\n' || cp == '\t' || cp == '\r')
		*plen = (size_t)snprintf(esc, 8, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r');
	else if (cp < 0x20 || cp == 0x7f)
		*plen = (size_t)snprintf(esc, 8, "\\x%02x", (unsigned int)cp);
	else if (invisible(cp))
		*plen = (size_t)snprintf(esc, 8, "\\u%04x", (unsigned int)cp);
	else {
		*piece = s + i;
		*plen = k;
	}
	return k;
}

const char *cir_err_shown_n(const char *s, size_t n, char *buf, size_t len)
{
	const char *piece;
	size_t i, o = 0, plen, total = 0;
	char esc[8];

	if (len)
		buf[0] = '\0';
	if (len < 4 || !s)
		return buf;
	for (i = 0; i < n && total < len;) {
		i += shown_piece(s, n, i, esc, &piece, &plen);
		total += plen;
	}
	/* Whole pieces only; when it does not all fit, leave room for "...". */
	for (i = 0; i < n;) {
		size_t k = shown_piece(s, n, i, esc, &piece, &plen);

		if (total >= len && o + plen + 3 >= len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, piece, plen);
		o += plen;
		i += k;
	}
	buf[o] = '\0';
	return buf;
}

const char *cir_err_shown(const char *s, char *buf, size_t len)
{
	return cir_err_shown_n(s, s ? strlen(s) : 0, buf, len);
}

static const struct {
	const char *what;       /* "kernel has no <what>" */
	const char *fix;
} kfeatures[] = {
	[CIR_KF_NETEM] = { "netem qdisc", "load module sch_netem (CONFIG_NET_SCH_NETEM)" },
	[CIR_KF_HTB] = { "htb qdisc", "load module sch_htb (CONFIG_NET_SCH_HTB)" },
	[CIR_KF_INGRESS] = { "ingress qdisc", "load module sch_ingress (CONFIG_NET_SCH_INGRESS)" },
	[CIR_KF_REDIRECT] = { "u32 classifier or mirred action",
			      "load modules cls_u32 and act_mirred (CONFIG_NET_CLS_U32, "
			      "CONFIG_NET_ACT_MIRRED)" },
	[CIR_KF_IFB] = { "ifb devices", "load module ifb (CONFIG_IFB)" },
	[CIR_KF_BRIDGE] = { "bridge devices", "load module bridge (CONFIG_BRIDGE)" },
	[CIR_KF_VETH] = { "veth devices", "load module veth (CONFIG_VETH)" },
	[CIR_KF_IPVS] = { "IPVS support", "load module ip_vs (CONFIG_IP_VS)" },
	[CIR_KF_NFTABLES] = { "nftables support", "load module nf_tables (CONFIG_NF_TABLES)" },
	[CIR_KF_NFT_MASQ] = { "nftables masquerade",
			      "load modules nft_chain_nat and nft_masq (CONFIG_NFT_NAT, "
			      "CONFIG_NFT_MASQ)" },
};

int cir_err_kernel_lacks(struct cir_error *e, unsigned int code, int errnum,
			 enum cir_kfeature f, const char *what)
{
	if ((size_t)f >= sizeof(kfeatures) / sizeof(kfeatures[0]) || !kfeatures[f].what)
		return cir_err_code(e, code, errnum, "%s%skernel lacks a feature", what ? what : "",
				    what ? ": " : "");
	return cir_err_code(e, code, errnum, "%s%skernel has no %s: %s", what ? what : "",
			    what ? ": " : "", kfeatures[f].what, kfeatures[f].fix);
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
