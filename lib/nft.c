// SPDX-License-Identifier: Apache-2.0
/*
 * nft.c - Circuit's "inet circuit" nftables table through libnftables:
 * the library, loaded on first use; names and CIDRs checked and printed
 * back; one transaction per call (cir_nft_exec) and the table's removal
 * once empty.  What goes in the table: lib/nft_masq.c (masquerade and
 * hairpin owner chains), lib/nft_portmap.c (published ports); the bridge
 * family's overlay guard: lib/nft_overlay.c.  They share lib/nft_int.h.
 *
 * Every change is one libnftables buffer (one kernel transaction) built
 * from validated pieces: names are checked against [A-Za-z0-9_.-] before
 * they are printed, CIDRs are parsed with inet_pton and printed back from
 * their bytes, so nothing a caller passes can close a quote, start a new
 * statement or name another table.  Output and errors are always buffered:
 * libnftables never prints from here.  A context is made per call, so the
 * netlink socket lives in the namespace the caller is in at that moment;
 * a call's transactions share it (see owner_current on deletion costs).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>
#include <stdbool.h>

#include <nftables/libnftables.h>

#include "cleanup.h"
#include "nft.h"
#include "nft_int.h"

/*
 * libnftables is loaded on first use: it pulls five more shared libraries
 * (~0.6 ms of dynamic linking per exec) that most plugin calls never need.
 * Calls go through this table; the names below keep the code readable.
 */
static struct {
	struct nft_ctx *(*ctx_new)(uint32_t flags);
	void (*ctx_free)(struct nft_ctx *ctx);
	int (*buffer_output)(struct nft_ctx *ctx);
	int (*buffer_error)(struct nft_ctx *ctx);
	int (*run_cmd)(struct nft_ctx *ctx, const char *buf);
	const char *(*get_output)(struct nft_ctx *ctx);
	const char *(*get_error)(struct nft_ctx *ctx);
	bool loaded;
} lib;

#define nft_ctx_new lib.ctx_new
#define nft_ctx_free lib.ctx_free
#define nft_ctx_buffer_output lib.buffer_output
#define nft_ctx_buffer_error lib.buffer_error
#define nft_run_cmd_from_buffer lib.run_cmd
#define nft_ctx_get_output_buffer lib.get_output
#define nft_ctx_get_error_buffer lib.get_error

static int nft_lib_load(struct cir_error *err)
{
	void *h;

	if (lib.loaded)
		return 0;
	h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return cir_err(err, ELIBACC, "nftables: cannot load libnftables.so.1 (install the "
			       "libnftables1 package): %s", dlerror());
	lib.ctx_new = (struct nft_ctx * (*)(uint32_t))dlsym(h, "nft_ctx_new");
	lib.ctx_free = (void (*)(struct nft_ctx *))dlsym(h, "nft_ctx_free");
	lib.buffer_output = (int (*)(struct nft_ctx *))dlsym(h, "nft_ctx_buffer_output");
	lib.buffer_error = (int (*)(struct nft_ctx *))dlsym(h, "nft_ctx_buffer_error");
	lib.run_cmd = (int (*)(struct nft_ctx *, const char *))dlsym(h, "nft_run_cmd_from_buffer");
	lib.get_output = (const char *(*)(struct nft_ctx *))dlsym(h, "nft_ctx_get_output_buffer");
	lib.get_error = (const char *(*)(struct nft_ctx *))dlsym(h, "nft_ctx_get_error_buffer");
	if (!lib.ctx_new || !lib.ctx_free || !lib.buffer_output || !lib.buffer_error ||
	    !lib.run_cmd || !lib.get_output || !lib.get_error) {
		dlclose(h);
		return cir_err(err, ELIBBAD, "nftables: libnftables.so.1 lacks a needed symbol");
	}
	lib.loaded = true;      /* the handle stays open for the process */
	return 0;
}

void cir_nft_ctx_free(struct nft_ctx *ctx)
{
	nft_ctx_free(ctx);
}

bool cir_nft_name_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (n >= max)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n > 0;
}

int cir_nft_masq_chain(const char *network, char *buf, size_t len, struct cir_error *err)
{
	if (!network || !cir_nft_name_ok(network, CIR_NFT_NETWORK_MAX))
		return cir_err(err, EINVAL, "network name %s: want 1-%d characters of [A-Za-z0-9_.-]",
			       network ? "is invalid" : "missing", CIR_NFT_NETWORK_MAX);
	if ((size_t)snprintf(buf, len, CIR_NFT_MASQ_PREFIX "%s", network) >= len)
		return cir_err(err, ENOSPC, "chain name for network %s: buffer too small", network);
	return 0;
}

int cir_nft_bridge_chain(const char *prefix, const char *ifname, char *buf, size_t len,
			 struct cir_error *err)
{
	if (!ifname || !cir_nft_name_ok(ifname, IFNAME_MAX) || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return cir_err(err, EINVAL, "bridge name %s: want 1-%d characters of [A-Za-z0-9_.-]",
			       ifname ? "is invalid" : "missing", IFNAME_MAX);
	if ((size_t)snprintf(buf, len, "%s%s", prefix, ifname) >= len)
		return cir_err(err, ENOSPC, "chain name for bridge %s: buffer too small", ifname);
	return 0;
}

int cir_nft_hairpin_chain(const char *ifname, char *buf, size_t len, struct cir_error *err)
{
	return cir_nft_bridge_chain(CIR_NFT_HAIRPIN_PREFIX, ifname, buf, len, err);
}

int cir_nft_cidr_normalize(const char *cidr, char *buf, size_t len, int *family,
			   struct cir_error *err)
{
	char addr[INET6_ADDRSTRLEN + 1], text[INET6_ADDRSTRLEN];
	unsigned char bytes[16];
	const char *slash, *p;
	unsigned int prefix = 0, maxlen;
	size_t alen;
	int af;

	if (!cidr)
		return cir_err(err, EINVAL, "subnet missing");
	slash = strchr(cidr, '/');
	alen = slash ? (size_t)(slash - cidr) : 0;
	if (!slash || alen == 0 || alen >= sizeof(addr) || !slash[1] || strlen(slash + 1) > 3)
		return cir_err(err, EINVAL, "subnet is not an address/prefix CIDR");
	memcpy(addr, cidr, alen);
	addr[alen] = '\0';
	af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	maxlen = af == AF_INET6 ? 128 : 32;
	if (inet_pton(af, addr, bytes) != 1)
		return cir_err(err, EINVAL, "subnet address is not a valid IPv%d address",
			       af == AF_INET6 ? 6 : 4);
	for (p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return cir_err(err, EINVAL, "subnet prefix length is not a number");
		prefix = prefix * 10 + (unsigned int)(*p - '0');
	}
	if (prefix > maxlen || (slash[1] == '0' && slash[2]))
		return cir_err(err, EINVAL, "subnet prefix length out of range 0-%u", maxlen);
	for (unsigned int bit = prefix; bit < maxlen; bit++)
		bytes[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	if (!inet_ntop(af, bytes, text, sizeof(text)))
		return cir_err(err, EINVAL, "subnet address cannot be printed");
	if ((size_t)snprintf(buf, len, "%s/%u", text, prefix) >= len)
		return cir_err(err, ENOSPC, "subnet: buffer too small");
	*family = af == AF_INET6 ? 6 : 4;
	return 0;
}

int cir_nft_error_parse(const char *buf, char *line, size_t len)
{
	/* libnftables prints strerror() of the kernel's answer, in this
	 * process's locale: compare with the same function. */
	static const int known[] = {
		ENOENT, EEXIST, EBUSY, EPERM, EACCES, EOPNOTSUPP, ENOMEM, ENOBUFS,
		EINVAL, ENOSPC, ERANGE, EMSGSIZE, EAFNOSUPPORT, EPROTONOSUPPORT, EMLINK,
		ELOOP, E2BIG, ENFILE,
	};
	const char *start, *end, *tag;
	int e = EIO;

	if (!buf)
		buf = "";
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strstr(buf, strerror(known[i]))) {
			e = known[i];
			break;
		}
	}
	if (e == EIO && strstr(buf, "syntax error"))
		e = EINVAL;

	/* The first line that says "Error: ..." is the summary. */
	start = strstr(buf, "Error: ");
	if (start) {
		while (start > buf && start[-1] != '\n')
			start--;
		tag = strstr(start, "Error: ");
		start = tag + strlen("Error: ");
	} else {
		start = buf;
		while (*start == '\n')
			start++;
	}
	end = strchr(start, '\n');
	if (!end)
		end = start + strlen(start);
	if (line && len) {
		size_t n = (size_t)(end - start);

		if (n == 0) {
			snprintf(line, len, "%s", strerror(e));
		} else {
			if (n >= len)
				n = len - 1;
			memcpy(line, start, n);
			line[n] = '\0';
		}
	}
	return e;
}

int cir_nft_open(struct nft_ctx **out, const char *what, struct cir_error *err)
{
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	int r;

	r = nft_lib_load(err);
	if (r < 0)
		return r;
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return cir_err(err, ENOMEM, "%s: nftables context: %s", what, strerror(ENOMEM));
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		return cir_err(err, ENOMEM, "%s: nftables buffers: %s", what, strerror(ENOMEM));
	*out = TAKE_PTR(ctx);
	return 0;
}

/*
 * Run @cmd as one transaction on @ctx.  On success and when @out is
 * non-NULL, *out gets a copy of the output.  On failure, fill @err with
 * "<what>: <first line of libnftables' error>".  Both buffers are read (and
 * so rewound) after every command.
 */
int cir_nft_exec(struct nft_ctx *ctx, const char *cmd, char **out, const char *what,
		 struct cir_error *err)
{
	char line[CIR_ERROR_MSG_MAX / 2];
	const char *o, *e;
	int r;

	r = nft_run_cmd_from_buffer(ctx, cmd);
	o = nft_ctx_get_output_buffer(ctx);
	e = nft_ctx_get_error_buffer(ctx);
	if (r != 0) {
		int en = cir_nft_error_parse(e, line, sizeof(line));

		return cir_err(err, en, "%s: %s", what, line);
	}
	if (out) {
		*out = strdup(o ? o : "");
		if (!*out)
			return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	}
	return 0;
}

/*
 * cir_nft_exec() for a transaction that creates the table, a nat chain and
 * masquerade rules: the kernel answers EOPNOTSUPP when it has no nf_tables
 * at all and ENOENT when it lacks the nat chain type or the masquerade
 * expression (nothing else in the transaction can be missing), so say which
 * module to load.
 */
int cir_nft_exec_create(struct nft_ctx *ctx, const char *cmd, const char *what,
			struct cir_error *err)
{
	int r = cir_nft_exec(ctx, cmd, NULL, what, err);

	if (r == -EOPNOTSUPP)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_NFTABLES, what);
	if (r == -ENOENT)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_NFT_MASQ, what);
	return r;
}

/* Append a formatted line to @cmd (a memstream-less builder: the pieces
 * are short and bounded, and a NULL result reports ENOMEM once). */
char *cir_nft_cmd_append(char *cmd, const char *fmt, ...)
{
	_cleanup_free_ char *piece = NULL;
	char *joined = NULL;
	va_list ap;
	int r;

	if (!cmd)
		return NULL;
	va_start(ap, fmt);
	r = vasprintf(&piece, fmt, ap);
	va_end(ap);
	if (r < 0) {
		piece = NULL;
		free(cmd);
		return NULL;
	}
	if (asprintf(&joined, "%s%s", cmd, piece) < 0)
		joined = NULL;
	free(cmd);
	return joined;
}

size_t cir_nft_count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The table and its anchor counter, created if missing: the start of every
 * transaction that adds to the table. */
char *cir_nft_cmd_table(void)
{
	char *cmd = strdup("");

	cmd = cir_nft_cmd_append(cmd, "add table " TBL " { comment \"owned by circuit: do not "
				 "edit\"; }\n");
	return cir_nft_cmd_append(cmd, "add counter " TBL " " CIR_NFT_ANCHOR "\n");
}

/*
 * Remove the table when no chain is left in it.  The listing (well under a
 * millisecond) only spares the common case a failing transaction: the
 * kernel aborts those after an RCU grace period.  Safety does not depend on
 * it: every owner rule refers to the anchor counter, so the kernel answers
 * EBUSY to deleting the counter while any owner exists (one added since the
 * listing included) and the whole transaction, table delete with it, is
 * void.  ENOENT means someone else removed the table.  Both are success.
 * Callers list after their own delete, so of concurrent deleters the last
 * to commit sees the table empty.
 */
int cir_nft_table_gc(struct nft_ctx *ctx, struct cir_error *err)
{
	_cleanup_free_ char *out = NULL;
	int r;

	r = cir_nft_exec(ctx, "list table " TBL "\n", &out, "list table " TBL, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	if (strstr(out, "\n\tchain "))
		return 0;
	r = cir_nft_exec(ctx, "delete counter " TBL " " CIR_NFT_ANCHOR "\n"
			 "delete table " TBL "\n",
			 NULL, "remove table " TBL, err);
	if (r == -EBUSY || r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return r;
}

int cir_nft_load(struct cir_error *err)
{
	return nft_lib_load(err);
}
