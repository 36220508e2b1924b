// SPDX-License-Identifier: Apache-2.0
/*
 * nft.c - Circuit's "inet circuit" nftables table through libnftables.
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

CIR_DEFINE_CLEANUP(struct nft_ctx, nft_ctx_free)
#define _cleanup_nft_ctx_ _cleanup_(nft_ctx_freep)

#define TBL CIR_NFT_FAMILY " " CIR_NFT_TABLE
#define MASQ_SUBNETS_MAX 16
/* Every owner rule ends so: it counts masqueraded connections (nat chains
 * see the first packet of each) and pins the anchor counter. */
#define MASQ_STMT "counter name \"" CIR_NFT_ANCHOR "\" masquerade"
#define IFNAME_MAX 15

static bool name_chars_ok(const char *s, size_t max)
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
	if (!network || !name_chars_ok(network, CIR_NFT_NETWORK_MAX))
		return cir_err(err, EINVAL, "network name %s: want 1-%d characters of [A-Za-z0-9_.-]",
			       network ? "is invalid" : "missing", CIR_NFT_NETWORK_MAX);
	if ((size_t)snprintf(buf, len, CIR_NFT_MASQ_PREFIX "%s", network) >= len)
		return cir_err(err, ENOSPC, "chain name for network %s: buffer too small", network);
	return 0;
}

int cir_nft_hairpin_chain(const char *ifname, char *buf, size_t len, struct cir_error *err)
{
	if (!ifname || !name_chars_ok(ifname, IFNAME_MAX) || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return cir_err(err, EINVAL, "bridge name %s: want 1-%d characters of [A-Za-z0-9_.-]",
			       ifname ? "is invalid" : "missing", IFNAME_MAX);
	if ((size_t)snprintf(buf, len, CIR_NFT_HAIRPIN_PREFIX "%s", ifname) >= len)
		return cir_err(err, ENOSPC, "chain name for bridge %s: buffer too small", ifname);
	return 0;
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

static int nft_open(struct nft_ctx **out, const char *what, struct cir_error *err)
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
static int nft_exec(struct nft_ctx *ctx, const char *cmd, char **out, const char *what,
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
 * nft_exec() for a transaction that creates the table, a nat chain and
 * masquerade rules: the kernel answers EOPNOTSUPP when it has no nf_tables
 * at all and ENOENT when it lacks the nat chain type or the masquerade
 * expression (nothing else in the transaction can be missing), so say which
 * module to load.
 */
static int nft_exec_create(struct nft_ctx *ctx, const char *cmd, const char *what,
			   struct cir_error *err)
{
	int r = nft_exec(ctx, cmd, NULL, what, err);

	if (r == -EOPNOTSUPP)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_NFTABLES, what);
	if (r == -ENOENT)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_NFT_MASQ, what);
	return r;
}

/* Append a formatted line to @cmd (a memstream-less builder: the pieces
 * are short and bounded, and a NULL result reports ENOMEM once). */
static char *cmd_append(char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *cmd_append(char *cmd, const char *fmt, ...)
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

/*
 * Commands that make sure the table and its anchor counter exist, then
 * (re)create base chain @chain empty.  The flush deletes nothing when the
 * chain is new, which keeps a first add free of the RCU grace period that
 * any deletion costs (see owner_current).
 */
static char *cmd_prologue(const char *chain)
{
	char *cmd = strdup("");

	cmd = cmd_append(cmd, "add table " TBL " { comment \"owned by circuit: do not edit\"; }\n");
	cmd = cmd_append(cmd, "add counter " TBL " " CIR_NFT_ANCHOR "\n");
	cmd = cmd_append(cmd, "add chain " TBL " %s { type nat hook postrouting priority srcnat; "
			 "policy accept; }\n", chain);
	cmd = cmd_append(cmd, "flush chain " TBL " %s\n", chain);
	return cmd;
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * 1 when @chain already holds exactly the @n rules whose distinctive texts
 * are @want (each followed by the owner statement), 0 otherwise (missing,
 * different, or the listing failed: the caller then rewrites).  Any
 * deletion, a flush included, makes the kernel wait for an RCU grace period
 * (~15 ms here) when the netlink socket closes, so an unchanged re-add
 * skips its transaction altogether.
 */
static int owner_current(struct nft_ctx *ctx, const char *chain, char *const *want, size_t n)
{
	char cmd[CIR_NFT_CHAIN_SIZE + 64];
	_cleanup_free_ char *out = NULL;
	struct cir_error ignored = CIR_ERROR_INIT;

	snprintf(cmd, sizeof(cmd), "list chain " TBL " %s\n", chain);
	if (nft_exec(ctx, cmd, &out, "list", &ignored) < 0)
		return 0;
	if (count_str(out, MASQ_STMT) != n || count_str(out, "\n\t\t") != n + 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!strstr(out, want[i]))
			return 0;
	}
	return 1;
}

int cir_nft_masq_set(const char *network, const char *const *subnets, size_t n,
		     struct cir_error *err)
{
	char chain[CIR_NFT_CHAIN_SIZE], what[CIR_NFT_CHAIN_SIZE + 32];
	char norm[MASQ_SUBNETS_MAX][CIR_NFT_CIDR_SIZE];
	char rules[MASQ_SUBNETS_MAX][3 * CIR_NFT_CIDR_SIZE + 128];
	char *want[MASQ_SUBNETS_MAX];
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *cmd = NULL;
	int fam, r;

	r = cir_nft_masq_chain(network, chain, sizeof(chain), err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "masquerade for network %s", network);
	if (n == 0 || n > MASQ_SUBNETS_MAX || !subnets)
		return cir_err(err, EINVAL, "%s: want 1-%d subnets", what, MASQ_SUBNETS_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *ip, *mcast;

		r = cir_nft_cidr_normalize(subnets[i], norm[i], sizeof(norm[i]), &fam, err);
		if (r < 0)
			return cir_err_wrap(err, "%s", what);
		ip = fam == 6 ? "ip6" : "ip";
		mcast = fam == 6 ? "ff00::/8" : "224.0.0.0/4";
		/* Exactly as nft lists it back, for owner_current(). */
		snprintf(rules[i], sizeof(rules[i]), "%s saddr %s %s daddr != %s %s daddr != %s "
			 MASQ_STMT, ip, norm[i], ip, norm[i], ip, mcast);
		want[i] = rules[i];
	}

	r = nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	if (owner_current(ctx, chain, want, n))
		return 0;
	cmd = cmd_prologue(chain);
	for (size_t i = 0; i < n; i++)
		cmd = cmd_append(cmd, "add rule " TBL " %s %s comment \"circuit network %s\"\n",
				 chain, rules[i], network);
	if (!cmd)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	return nft_exec_create(ctx, cmd, what, err);
}

int cir_nft_masq_add(const char *network, const char *subnet_cidr, struct cir_error *err)
{
	const char *one[1] = { subnet_cidr };

	return cir_nft_masq_set(network, one, 1, err);
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
static int table_gc(struct nft_ctx *ctx, struct cir_error *err)
{
	_cleanup_free_ char *out = NULL;
	int r;

	r = nft_exec(ctx, "list table " TBL "\n", &out, "list table " TBL, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	if (strstr(out, "\n\tchain "))
		return 0;
	r = nft_exec(ctx, "delete counter " TBL " " CIR_NFT_ANCHOR "\n"
		     "delete table " TBL "\n",
		     NULL, "remove table " TBL, err);
	if (r == -EBUSY || r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return r;
}

/*
 * Delete owner chain @chain, and the table with it when it was the last
 * chain.  Every transaction that deletes something costs an RCU grace
 * period when the next one starts or the socket closes, so the last owner
 * goes in a single transaction (chain, anchor, table); should another owner
 * appear meanwhile, the kernel refuses the anchor (EBUSY) and we fall back
 * to deleting the chain alone.
 */
static int chain_del(const char *chain, const char *what, struct cir_error *err)
{
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *out = NULL;
	char cmd[CIR_NFT_CHAIN_SIZE + 128], mine[CIR_NFT_CHAIN_SIZE + 16];
	int r;

	r = nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	r = nft_exec(ctx, "list table " TBL "\n", &out, what, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	snprintf(mine, sizeof(mine), "\n\tchain %s {\n", chain);
	if (!strstr(out, mine))
		return strstr(out, "\n\tchain ") ? 0 : table_gc(ctx, err);
	if (count_str(out, "\n\tchain ") == 1) {
		snprintf(cmd, sizeof(cmd), "delete chain " TBL " %s\n"
			 "delete counter " TBL " " CIR_NFT_ANCHOR "\n"
			 "delete table " TBL "\n", chain);
		r = nft_exec(ctx, cmd, NULL, what, err);
		if (r != -EBUSY && r != -ENOENT)
			return r;
		cir_err_clear(err);
	}
	snprintf(cmd, sizeof(cmd), "delete chain " TBL " %s\n", chain);
	r = nft_exec(ctx, cmd, NULL, what, err);
	if (r == -ENOENT)
		cir_err_clear(err);
	else if (r < 0)
		return r;
	return table_gc(ctx, err);
}

/* 1 when @chain exists and holds an owner rule. */
static int chain_exists(const char *chain, const char *what, struct cir_error *err)
{
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	char cmd[CIR_NFT_CHAIN_SIZE + 64];
	_cleanup_free_ char *out = NULL;
	int r;

	r = nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	snprintf(cmd, sizeof(cmd), "list chain " TBL " %s\n", chain);
	r = nft_exec(ctx, cmd, &out, what, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	return strstr(out, MASQ_STMT) ? 1 : 0;
}

/* The owner chain naming(name) names: removed (del) or looked for. */
static int owner_chain_do(int (*naming)(const char *, char *, size_t, struct cir_error *),
			  const char *name, bool del, const char *what, struct cir_error *err)
{
	char chain[CIR_NFT_CHAIN_SIZE];
	int r = naming(name, chain, sizeof(chain), err);

	if (r < 0)
		return r;
	return del ? chain_del(chain, what, err) : chain_exists(chain, what, err);
}

int cir_nft_masq_del(const char *network, struct cir_error *err)
{
	char what[CIR_NFT_CHAIN_SIZE + 32];

	snprintf(what, sizeof(what), "remove masquerade for network %s", network);
	return owner_chain_do(cir_nft_masq_chain, network, true, what, err);
}

int cir_nft_masq_exists(const char *network, struct cir_error *err)
{
	char what[CIR_NFT_CHAIN_SIZE + 32];

	snprintf(what, sizeof(what), "masquerade for network %s", network);
	return owner_chain_do(cir_nft_masq_chain, network, false, what, err);
}

int cir_nft_hairpin_add(const char *ifname, struct cir_error *err)
{
	char chain[CIR_NFT_CHAIN_SIZE], what[CIR_NFT_CHAIN_SIZE + 32], rule[128];
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *cmd = NULL;
	char *want[1] = { rule };
	int r;

	r = cir_nft_hairpin_chain(ifname, chain, sizeof(chain), err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "hairpin masquerade for bridge %s", ifname);
	snprintf(rule, sizeof(rule), "iifname \"%s\" oifname \"%s\" " MASQ_STMT, ifname, ifname);
	r = nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	if (owner_current(ctx, chain, want, 1))
		return 0;
	cmd = cmd_prologue(chain);
	cmd = cmd_append(cmd, "add rule " TBL " %s %s comment \"circuit bridge %s\"\n", chain, rule,
			 ifname);
	if (!cmd)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	return nft_exec_create(ctx, cmd, what, err);
}

int cir_nft_hairpin_del(const char *ifname, struct cir_error *err)
{
	char what[CIR_NFT_CHAIN_SIZE + 32];

	snprintf(what, sizeof(what), "remove hairpin masquerade for bridge %s", ifname);
	return owner_chain_do(cir_nft_hairpin_chain, ifname, true, what, err);
}

int cir_nft_hairpin_exists(const char *ifname, struct cir_error *err)
{
	char what[CIR_NFT_CHAIN_SIZE + 32];

	snprintf(what, sizeof(what), "hairpin masquerade for bridge %s", ifname);
	return owner_chain_do(cir_nft_hairpin_chain, ifname, false, what, err);
}

/* ---- the source address of cluster services on a bridge ---- */

static void mac_text(const unsigned char m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int lbsnat_chain(const char *ifname, char *buf, size_t len, struct cir_error *err)
{
	if (!ifname || !name_chars_ok(ifname, IFNAME_MAX) || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return cir_err(err, EINVAL, "bridge name %s: want 1-%d characters of [A-Za-z0-9_.-]",
			       ifname ? "is invalid" : "missing", IFNAME_MAX);
	if ((size_t)snprintf(buf, len, CIR_NFT_LBSNAT_PREFIX "%s", ifname) >= len)
		return cir_err(err, ENOSPC, "chain name for bridge %s: buffer too small", ifname);
	return 0;
}

int cir_nft_lbsnat_set(const char *ifname, const struct cir_ip *addr, const struct cir_ip *vips,
		       size_t n, const struct cir_nft_lbmac *mac, struct cir_error *err)
{
	char chain[CIR_NFT_CHAIN_SIZE], what[CIR_NFT_CHAIN_SIZE + 48], a[CIR_IP_STRLEN];
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *cmd = NULL, *set = strdup("");
	const char *fam = addr->af == AF_INET6 ? "ip6" : "ip";
	int r;

	r = lbsnat_chain(ifname, chain, sizeof(chain), err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "source address of cluster services on bridge %s", ifname);
	for (size_t i = 0; i < n && set; i++) {
		char v[CIR_IP_STRLEN];

		if (vips[i].af != addr->af)
			return cir_err(err, EINVAL, "%s: VIP family differs from the address's", what);
		set = cmd_append(set, "%s%s", i ? ", " : "", cir_ip_format(&vips[i], v, sizeof(v)));
	}
	if (!set)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	cir_ip_format(addr, a, sizeof(a));
	r = nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	/* Before the masquerades (srcnat): the first NAT of a connection is
	 * the one it keeps. */
	cmd = cmd_append(strdup(""), "add table " TBL " { comment \"owned by circuit: do not edit\"; }\n");
	cmd = cmd_append(cmd, "add counter " TBL " " CIR_NFT_ANCHOR "\n");
	cmd = cmd_append(cmd, "add chain " TBL " %s { type nat hook postrouting priority srcnat - 1; "
			 "policy accept; }\n", chain);
	cmd = cmd_append(cmd, "flush chain " TBL " %s\n", chain);
	if (n)
		cmd = cmd_append(cmd, "add rule " TBL " %s oifname \"%s\" ct original %s daddr { %s } "
				 "counter name \"" CIR_NFT_ANCHOR "\" snat %s to %s comment "
				 "\"circuit cluster services %s\"\n", chain, ifname, fam, set, fam,
				 cir_ip_format(addr, a, sizeof(a)), ifname);
	if (mac) {
		char gm[18], hm[18];

		if (!name_chars_ok(mac->vxlan, IFNAME_MAX) || addr->af != AF_INET)
			return cir_err(err, EINVAL, "%s: bad vxlan name or address family", what);
		mac_text(mac->gateway, gm);
		mac_text(mac->host, hm);
		/* The bridge speaks with the gateway MAC, which the peers'
		 * guards drop from the overlay: this address's frames leave
		 * the vxlan port with a MAC of their own, and frames to that
		 * MAC come back to the bridge (spec/cluster.md). */
		cmd = cmd_append(cmd, "add table bridge " CIR_NFT_TABLE "\n"
				 "add chain bridge " CIR_NFT_TABLE " lb-%s-out { type filter hook "
				 "output priority -1; }\nflush chain bridge " CIR_NFT_TABLE " lb-%s-out\n"
				 "add chain bridge " CIR_NFT_TABLE " lb-%s-pre { type filter hook "
				 "prerouting priority -1; }\nflush chain bridge " CIR_NFT_TABLE
				 " lb-%s-pre\n", mac->vxlan, mac->vxlan, mac->vxlan, mac->vxlan);
		cmd = cmd_append(cmd, "add rule bridge " CIR_NFT_TABLE " lb-%s-out oifname \"%s\" "
				 "ether saddr %s ip saddr %s ether saddr set %s\n", mac->vxlan,
				 mac->vxlan, gm, a, hm);
		cmd = cmd_append(cmd, "add rule bridge " CIR_NFT_TABLE " lb-%s-out oifname \"%s\" "
				 "ether saddr %s arp saddr ip %s ether saddr set %s arp saddr ether "
				 "set %s\n", mac->vxlan, mac->vxlan, gm, a, hm, hm);
		cmd = cmd_append(cmd, "add rule bridge " CIR_NFT_TABLE " lb-%s-pre iifname \"%s\" "
				 "ether daddr %s ether daddr set %s meta pkttype set host\n",
				 mac->vxlan, mac->vxlan, hm, gm);
	}
	if (!cmd)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	return nft_exec_create(ctx, cmd, what, err);
}

int cir_nft_lbsnat_del(const char *ifname, const char *vxlan, struct cir_error *err)
{
	char what[CIR_NFT_CHAIN_SIZE + 48];
	int r;

	snprintf(what, sizeof(what), "remove source address of cluster services on bridge %s",
		 ifname);
	r = owner_chain_do(lbsnat_chain, ifname, true, what, err);
	if (r >= 0 && vxlan && name_chars_ok(vxlan, IFNAME_MAX)) {
		_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
		char cmd[256];

		r = nft_open(&ctx, what, err);
		if (r < 0)
			return r;
		for (int i = 0; i < 2 && r >= 0; i++) {
			snprintf(cmd, sizeof(cmd), "delete chain bridge " CIR_NFT_TABLE " lb-%s-%s\n",
				 vxlan, i ? "pre" : "out");
			r = nft_exec(ctx, cmd, NULL, what, err);
			if (r == -ENOENT) {
				cir_err_clear(err);
				r = 0;
			}
		}
	}
	return r;
}

/* ---- published ports ---- */

static const char *pm_proto(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: return NULL;
	}
}

static bool ip_all_zero(const struct cir_ip *ip)
{
	size_t len = ip->af == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < len; i++)
		if (ip->addr[i])
			return false;
	return true;
}

int cir_nft_pm_element(const struct cir_nft_pm *v, char *buf, size_t len, const char **map,
		       struct cir_error *err)
{
	char host[CIR_IP_STRLEN], addr[CIR_IP_STRLEN];
	const char *proto = pm_proto(v->proto);
	bool any = v->host.af == 0 || ip_all_zero(&v->host);
	bool six = v->addr.af == AF_INET6;
	int k;

	if (!proto)
		return cir_err(err, EINVAL, "published port: protocol %u is not tcp, udp or sctp",
			       v->proto);
	if (v->addr.af != AF_INET && v->addr.af != AF_INET6)
		return cir_err(err, EINVAL, "published port: no container address");
	if (!any && v->host.af != v->addr.af)
		return cir_err(err, EINVAL, "published port: host and container addresses "
			       "of different families");
	if (!v->host_port || !v->port)
		return cir_err(err, EINVAL, "published port: port 0");
	/* Printed back from the parsed bytes: nothing else reaches nft. */
	cir_ip_format(&v->addr, addr, sizeof(addr));
	if (any) {
		*map = six ? "pm6any" : "pm4any";
		k = snprintf(buf, len, "%s . %u : %s . %u", proto, v->host_port, addr, v->port);
	} else {
		cir_ip_format(&v->host, host, sizeof(host));
		*map = six ? "pm6" : "pm4";
		k = snprintf(buf, len, "%s . %s . %u : %s . %u", host, proto, v->host_port, addr,
			     v->port);
	}
	if (k < 0 || (size_t)k >= len)
		return cir_err(err, ENOSPC, "published port: buffer too small");
	return 0;
}

/* Everything the published ports need, created if missing.  The rules are
 * written only into chains this transaction makes or empties (flush), so a
 * repair never duplicates them. */
static char *pm_setup_cmd(void)
{
	char *cmd = strdup("");

	cmd = cmd_append(cmd, "add table " TBL " { comment \"owned by circuit: do not edit\"; }\n");
	cmd = cmd_append(cmd, "add counter " TBL " " CIR_NFT_ANCHOR "\n");
	cmd = cmd_append(cmd, "add map " TBL " pm4 { type ipv4_addr . inet_proto . inet_service : "
			 "ipv4_addr . inet_service; }\n");
	cmd = cmd_append(cmd, "add map " TBL " pm4any { type inet_proto . inet_service : "
			 "ipv4_addr . inet_service; }\n");
	cmd = cmd_append(cmd, "add map " TBL " pm6 { type ipv6_addr . inet_proto . inet_service : "
			 "ipv6_addr . inet_service; }\n");
	cmd = cmd_append(cmd, "add map " TBL " pm6any { type inet_proto . inet_service : "
			 "ipv6_addr . inet_service; }\n");
	cmd = cmd_append(cmd, "add set " TBL " pmhairpin4 { type ifname . ipv4_addr; "
			 "flags interval; }\n");
	cmd = cmd_append(cmd, "add set " TBL " pmhairpin6 { type ifname . ipv6_addr; "
			 "flags interval; }\n");
	cmd = cmd_append(cmd, "add set " TBL " pmbridges { type ifname; }\n");
	cmd = cmd_append(cmd, "add chain " TBL " portmap\nflush chain " TBL " portmap\n");
	cmd = cmd_append(cmd, "add rule " TBL " portmap meta nfproto ipv4 dnat ip to "
			 "ip daddr . meta l4proto . th dport map @pm4\n");
	cmd = cmd_append(cmd, "add rule " TBL " portmap meta nfproto ipv4 dnat ip to "
			 "meta l4proto . th dport map @pm4any\n");
	cmd = cmd_append(cmd, "add rule " TBL " portmap meta nfproto ipv6 dnat ip6 to "
			 "ip6 daddr . meta l4proto . th dport map @pm6\n");
	cmd = cmd_append(cmd, "add rule " TBL " portmap meta nfproto ipv6 dnat ip6 to "
			 "meta l4proto . th dport map @pm6any\n");
	cmd = cmd_append(cmd, "add chain " TBL " portmap-pre { type nat hook prerouting priority "
			 "dstnat; policy accept; }\nflush chain " TBL " portmap-pre\n");
	cmd = cmd_append(cmd, "add rule " TBL " portmap-pre fib daddr type local jump portmap\n");
	cmd = cmd_append(cmd, "add chain " TBL " portmap-out { type nat hook output priority "
			 "-100; policy accept; }\nflush chain " TBL " portmap-out\n");
	cmd = cmd_append(cmd, "add rule " TBL " portmap-out fib daddr type local jump portmap\n");
	cmd = cmd_append(cmd, "add chain " TBL " portmap-post { type nat hook postrouting "
			 "priority srcnat; policy accept; }\nflush chain " TBL " portmap-post\n");
	/* Hairpin: a container calling a published port of its own bridge
	 * (its own included).  Without the masquerade the answer would go
	 * straight across the bridge, past the DNAT's reverse translation.
	 * Matched by out bridge and source subnet, not by input interface:
	 * with br_netfilter the hook has no input device. */
	cmd = cmd_append(cmd, "add rule " TBL " portmap-post ct status dnat "
			 "oifname . ip saddr @pmhairpin4 " MASQ_STMT " comment \"circuit portmap "
			 "hairpin\"\n");
	cmd = cmd_append(cmd, "add rule " TBL " portmap-post ct status dnat "
			 "oifname . ip6 saddr @pmhairpin6 " MASQ_STMT " comment \"circuit portmap "
			 "hairpin\"\n");
	/* 127.0.0.1:HOSTPORT from the host (route_localnet on the bridge). */
	cmd = cmd_append(cmd, "add rule " TBL " portmap-post ct status dnat oifname @pmbridges "
			 "ip saddr 127.0.0.0/8 " MASQ_STMT " comment \"circuit portmap localhost\"\n");
	return cmd;
}

static char *pm_elements_cmd(char *cmd, const char *verb, const struct cir_nft_pm *v, size_t n,
			     const struct cir_nft_pm_bridge *br, struct cir_error *err, int *r)
{
	for (size_t i = 0; cmd && i < n; i++) {
		char el[3 * CIR_IP_STRLEN + 64];
		const char *map;

		*r = cir_nft_pm_element(&v[i], el, sizeof(el), &map, err);
		if (*r < 0) {
			free(cmd);
			return NULL;
		}
		cmd = cmd_append(cmd, "%s element " TBL " %s { %s }\n", verb, map, el);
	}
	if (br) {
		const struct cir_cidr *nets[2] = { &br->net4, &br->net6 };

		for (int f = 0; f < 2; f++) {
			char net[CIR_CIDR_STRLEN];
			struct cir_cidr c = *nets[f];

			if (!c.ip.af)
				continue;
			cir_cidr_network(nets[f], &c.ip);   /* printed from its bytes */
			cmd = cmd_append(cmd, "%s element " TBL " pmhairpin%c { \"%s\" . %s }\n",
					 verb, f ? '6' : '4', br->name,
					 cir_cidr_format(&c, net, sizeof(net)));
		}
		cmd = cmd_append(cmd, "%s element " TBL " pmbridges { \"%s\" }\n", verb, br->name);
	}
	return cmd;
}

static int pm_bridge_check(const struct cir_nft_pm_bridge *br, struct cir_error *err)
{
	if (br && (!br->name || !name_chars_ok(br->name, IFNAME_MAX) || !strcmp(br->name, ".") ||
		   !strcmp(br->name, "..") || (br->net4.ip.af && br->net4.ip.af != AF_INET) ||
		   (br->net6.ip.af && br->net6.ip.af != AF_INET6)))
		return cir_err(err, EINVAL, "published ports: bridge name or subnet is invalid");
	return 0;
}

int cir_nft_portmap_add(const struct cir_nft_pm *v, size_t n, const struct cir_nft_pm_bridge *br,
			struct cir_error *err)
{
	const char *what = "publish ports";
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *elems = NULL, *full = NULL;
	int r = 0;

	r = pm_bridge_check(br, err);
	if (r < 0)
		return r;
	elems = pm_elements_cmd(strdup(""), "add", v, n, br, err, &r);
	if (r < 0)
		return r;
	if (!elems)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	if (!*elems)
		return 0;
	r = nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	/* The common case: the maps exist, one transaction of elements. */
	r = nft_exec(ctx, elems, NULL, what, err);
	if (r != -ENOENT)
		return r;
	cir_err_clear(err);
	full = pm_setup_cmd();
	full = cmd_append(full, "%s", elems);
	if (!full)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	return nft_exec_create(ctx, full, what, err);
}

/* Everything circuit-portmap made, chains first (their rules refer to the
 * maps), then the maps and sets. */
#define PM_TEARDOWN                                                            \
	"delete chain " TBL " portmap-pre\n"                                   \
	"delete chain " TBL " portmap-out\n"                                   \
	"delete chain " TBL " portmap-post\n"                                  \
	"delete chain " TBL " portmap\n"                                       \
	"delete map " TBL " pm4\ndelete map " TBL " pm4any\n"                  \
	"delete map " TBL " pm6\ndelete map " TBL " pm6any\n"                  \
	"delete set " TBL " pmhairpin4\ndelete set " TBL " pmhairpin6\n"       \
	"delete set " TBL " pmbridges\n"

/*
 * Run cmds, delete commands one a line, in one transaction.  Should any of
 * their objects be gone already (a flushed ruleset: ENOENT voids the whole
 * transaction), run them one by one, skipping what is missing.
 */
static int nft_delete_each(struct nft_ctx *ctx, const char *cmds, const char *what,
			   struct cir_error *err)
{
	int r = nft_exec(ctx, cmds, NULL, what, err);

	if (r != -ENOENT)
		return r;
	cir_err_clear(err);
	for (const char *line = cmds, *end; *line; line = *end ? end + 1 : end) {
		_cleanup_free_ char *one = NULL;

		end = line + strcspn(line, "\n");
		one = strndup(line, (size_t)(end - line));
		if (!one)
			return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
		if (!*one)
			continue;
		r = nft_exec(ctx, one, NULL, what, err);
		if (r == -ENOENT)
			cir_err_clear(err);
		else if (r < 0)
			return r;
	}
	return 0;
}

int cir_nft_portmap_del(const struct cir_nft_pm *v, size_t n, const struct cir_nft_pm_bridge *br,
			bool last, struct cir_error *err)
{
	const char *what = "unpublish ports";
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *elems = NULL;
	int r = 0;

	r = pm_bridge_check(br, err);
	if (r < 0)
		return r;
	r = nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	if (last) {
		/* The table goes when nothing else is left in it. */
		r = nft_delete_each(ctx, PM_TEARDOWN, what, err);
		return r < 0 ? r : table_gc(ctx, err);
	}
	elems = pm_elements_cmd(strdup(""), "delete", v, n, br, err, &r);
	if (r < 0)
		return r;
	if (!elems)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	if (!*elems)
		return 0;
	return nft_delete_each(ctx, elems, what, err);
}

int cir_nft_portmap_exists(const struct cir_nft_pm *v, size_t n, struct cir_error *err)
{
	const char *what = "published ports";
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	int r;

	r = nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char el[3 * CIR_IP_STRLEN + 64], cmd[3 * CIR_IP_STRLEN + 128];
		const char *map;
		char *colon;

		r = cir_nft_pm_element(&v[i], el, sizeof(el), &map, err);
		if (r < 0)
			return r;
		/* get element takes the key; compare the data it answers. */
		colon = strstr(el, " : ");
		*colon = '\0';
		snprintf(cmd, sizeof(cmd), "get element " TBL " %s { %s }\n", map, el);
		{
			_cleanup_free_ char *out = NULL;

			r = nft_exec(ctx, cmd, &out, what, err);
			if (r == -ENOENT) {
				cir_err(err, ENOENT, "published port %s missing from map %s", el, map);
				return 0;
			}
			if (r < 0)
				return r;
			*colon = ' ';
			if (!strstr(out, el)) {
				cir_err(err, ENOENT, "published port %s differs in map %s", el, map);
				return 0;
			}
		}
	}
	return 1;
}

/* ---- cluster networks: the gateway kept off the overlay ---- */

#define OV_TABLE "bridge circuit"

int cir_nft_load(struct cir_error *err)
{
	return nft_lib_load(err);
}

int cir_nft_overlay_guard(const char *network, const char *vxlan, const struct cir_ip *gw,
			  const unsigned char mac[6], struct cir_error *err)
{
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *cmd = NULL;
	char g[INET6_ADDRSTRLEN], m[18], t[33];
	int r;

	if (!network || !name_chars_ok(network, CIR_NFT_NETWORK_MAX) || !vxlan ||
	    !name_chars_ok(vxlan, IFNAME_MAX))
		return cir_err(err, EINVAL, "overlay guard: bad network or link name");
	if (gw->af != AF_INET && gw->af != AF_INET6)
		return cir_err(err, EINVAL, "overlay guard: bad gateway");
	inet_ntop(gw->af, gw->addr, g, sizeof(g));
	/* The target address of a neighbour solicitation or advertisement
	 * is the 16 bytes after the ICMPv6 header's 8: matched as raw
	 * transport payload, since nftables before 1.0.8 has no "icmpv6
	 * taddr" (Debian 12's 1.0.6 answers "syntax error"). */
	for (size_t i = 0; i < 16; i++)
		snprintf(t + 2 * i, 3, "%02x", gw->addr[i]);
	snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	r = nft_open(&ctx, "overlay guard", err);
	if (r < 0)
		return r;
	/* Per network, in the bridge family: frames from the overlay whose
	 * source is the gateway MAC, and ARP (IPv4) or neighbour discovery
	 * (IPv6) about the gateway address, crossing the vxlan port in
	 * either direction.  Every host answers for the gateway itself. */
	cmd = cmd_append(strdup(""), "add table " OV_TABLE "\n");
	static const char *const hooks[] = { "input", "forward", "output" };
	for (size_t i = 0; i < 3; i++) {
		cmd = cmd_append(cmd, "add chain " OV_TABLE " ov-%s-%s { type filter hook %s "
				 "priority 0; }\nflush chain " OV_TABLE " ov-%s-%s\n", network,
				 hooks[i], hooks[i], network, hooks[i]);
		if (i < 2)
			cmd = cmd_append(cmd, "add rule " OV_TABLE " ov-%s-%s iifname \"%s\" ether "
					 "saddr %s drop\n", network, hooks[i], vxlan, m);
		for (int dir = 0; dir < 2; dir++) {
			const char *port = dir ? "oifname" : "iifname";

			if ((i == 0 && dir) || (i == 2 && !dir))
				continue;
			if (gw->af == AF_INET)
				cmd = cmd_append(cmd, "add rule " OV_TABLE " ov-%s-%s %s \"%s\" arp "
						 "saddr ip %s drop\nadd rule " OV_TABLE " ov-%s-%s %s "
						 "\"%s\" arp daddr ip %s drop\n", network, hooks[i],
						 port, vxlan, g, network, hooks[i], port, vxlan, g);
			else
				cmd = cmd_append(cmd, "add rule " OV_TABLE " ov-%s-%s %s \"%s\" "
						 "icmpv6 type { nd-neighbor-solicit, "
						 "nd-neighbor-advert } ip6 saddr %s drop\n"
						 "add rule " OV_TABLE " ov-%s-%s %s \"%s\" icmpv6 type "
						 "{ nd-neighbor-solicit, nd-neighbor-advert } "
						 "@th,64,128 0x%s drop\n", network, hooks[i], port,
						 vxlan, g, network, hooks[i], port, vxlan, t);
		}
	}
	if (!cmd)
		return cir_err(err, ENOMEM, "overlay guard: %s", strerror(ENOMEM));
	r = nft_exec(ctx, cmd, NULL, "overlay guard", err);
	if (r == -EOPNOTSUPP || r == -ENOENT)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_NFTABLES,
					    "overlay guard");
	return r;
}

int cir_nft_overlay_unguard(const char *network, struct cir_error *err)
{
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *cmd = NULL;
	static const char *const hooks[] = { "input", "forward", "output" };
	int r;

	if (!network || !name_chars_ok(network, CIR_NFT_NETWORK_MAX))
		return cir_err(err, EINVAL, "overlay guard: bad network name");
	r = nft_open(&ctx, "overlay guard", err);
	if (r < 0)
		return r;
	/* add then delete: one transaction, idempotent. */
	cmd = cmd_append(strdup(""), "add table " OV_TABLE "\n");
	for (size_t i = 0; i < 3; i++)
		cmd = cmd_append(cmd, "add chain " OV_TABLE " ov-%s-%s { type filter hook %s "
				 "priority 0; }\ndelete chain " OV_TABLE " ov-%s-%s\n", network,
				 hooks[i], hooks[i], network, hooks[i]);
	if (!cmd)
		return cir_err(err, ENOMEM, "overlay guard: %s", strerror(ENOMEM));
	return nft_exec(ctx, cmd, NULL, "overlay guard", err);
}
