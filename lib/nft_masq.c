// SPDX-License-Identifier: Apache-2.0
/*
 * nft_masq.c - the owner chains of the "inet circuit" table: a network's
 * masquerade (cir_nft_masq_*) and a bridge's hairpin masquerade
 * (cir_nft_hairpin_*).  A chain is rewritten only when its rules differ
 * (owner_current) and deleted with the table when it is the last
 * (chain_del); the libnftables context and the table are lib/nft.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "nft.h"
#include "nft_int.h"

#define MASQ_SUBNETS_MAX 16

/*
 * Commands that make sure the table and its anchor counter exist, then
 * (re)create base chain @chain empty.  The flush deletes nothing when the
 * chain is new, which keeps a first add free of the RCU grace period that
 * any deletion costs (see owner_current).
 */
static char *cmd_prologue(const char *chain)
{
	char *cmd = cir_nft_cmd_table();

	cmd = cir_nft_cmd_append(cmd, "add chain " TBL " %s { type nat hook postrouting priority srcnat; "
				 "policy accept; }\n", chain);
	cmd = cir_nft_cmd_append(cmd, "flush chain " TBL " %s\n", chain);
	return cmd;
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
	if (cir_nft_exec(ctx, cmd, &out, "list", &ignored) < 0)
		return 0;
	if (cir_nft_count_str(out, MASQ_STMT) != n || cir_nft_count_str(out, "\n\t\t") != n + 1)
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

	r = cir_nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	if (owner_current(ctx, chain, want, n))
		return 0;
	cmd = cmd_prologue(chain);
	for (size_t i = 0; i < n; i++)
		cmd = cir_nft_cmd_append(cmd, "add rule " TBL " %s %s comment \"circuit network %s\"\n",
					 chain, rules[i], network);
	if (!cmd)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	return cir_nft_exec_create(ctx, cmd, what, err);
}

int cir_nft_masq_add(const char *network, const char *subnet_cidr, struct cir_error *err)
{
	const char *one[1] = { subnet_cidr };

	return cir_nft_masq_set(network, one, 1, err);
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

	r = cir_nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	r = cir_nft_exec(ctx, "list table " TBL "\n", &out, what, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	snprintf(mine, sizeof(mine), "\n\tchain %s {\n", chain);
	if (!strstr(out, mine))
		return strstr(out, "\n\tchain ") ? 0 : cir_nft_table_gc(ctx, err);
	if (cir_nft_count_str(out, "\n\tchain ") == 1) {
		snprintf(cmd, sizeof(cmd), "delete chain " TBL " %s\n"
			 "delete counter " TBL " " CIR_NFT_ANCHOR "\n"
			 "delete table " TBL "\n", chain);
		r = cir_nft_exec(ctx, cmd, NULL, what, err);
		if (r != -EBUSY && r != -ENOENT)
			return r;
		cir_err_clear(err);
	}
	snprintf(cmd, sizeof(cmd), "delete chain " TBL " %s\n", chain);
	r = cir_nft_exec(ctx, cmd, NULL, what, err);
	if (r == -ENOENT)
		cir_err_clear(err);
	else if (r < 0)
		return r;
	return cir_nft_table_gc(ctx, err);
}

/* 1 when @chain exists and holds an owner rule. */
static int chain_exists(const char *chain, const char *what, struct cir_error *err)
{
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	char cmd[CIR_NFT_CHAIN_SIZE + 64];
	_cleanup_free_ char *out = NULL;
	int r;

	r = cir_nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	snprintf(cmd, sizeof(cmd), "list chain " TBL " %s\n", chain);
	r = cir_nft_exec(ctx, cmd, &out, what, err);
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
	r = cir_nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	if (owner_current(ctx, chain, want, 1))
		return 0;
	cmd = cmd_prologue(chain);
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " %s %s comment \"circuit bridge %s\"\n",
				 chain, rule, ifname);
	if (!cmd)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	return cir_nft_exec_create(ctx, cmd, what, err);
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
