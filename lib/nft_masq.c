// SPDX-License-Identifier: Apache-2.0
/*
 * nft_masq.c - the owner chains of the "inet circuit" table: a network's
 * masquerade (cir_nft_masq_*), a bridge's hairpin masquerade
 * (cir_nft_hairpin_*) and the source address of cluster services on a
 * bridge (cir_nft_lbsnat_*, with its chains in the bridge family).  A
 * chain is rewritten only when its rules differ (owner_current) and
 * deleted with the table when it is the last (chain_del); the libnftables
 * context and the table are lib/nft.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

/* ---- the source address of cluster services on a bridge ---- */

static void mac_text(const unsigned char m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int lbsnat_chain(const char *ifname, char *buf, size_t len, struct cir_error *err)
{
	return cir_nft_bridge_chain(CIR_NFT_LBSNAT_PREFIX, ifname, buf, len, err);
}

/* "v1, v2, ..." of vips into *out, each of addr's family. */
static int lbsnat_vips(const struct cir_ip *addr, const struct cir_ip *vips, size_t n,
		       const char *what, char **out, struct cir_error *err)
{
	char *set = strdup("");

	for (size_t i = 0; i < n && set; i++) {
		char v[CIR_IP_STRLEN];

		if (vips[i].af != addr->af) {
			free(set);
			return cir_err(err, EINVAL, "%s: VIP family differs from the address's", what);
		}
		set = cir_nft_cmd_append(set, "%s%s", i ? ", " : "",
					 cir_ip_format(&vips[i], v, sizeof(v)));
	}
	if (!set)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	*out = set;
	return 0;
}

/* The bridge speaks with the gateway MAC, which the peers' guards drop
 * from the overlay: the frames of address a leave the vxlan port with a
 * MAC of their own, and frames to that MAC come back to the bridge
 * (spec/cluster.md). */
static char *lbsnat_mac_cmd(char *cmd, const struct cir_nft_lbmac *mac, const char *a)
{
	char gm[18], hm[18];

	mac_text(mac->gateway, gm);
	mac_text(mac->host, hm);
	cmd = cir_nft_cmd_append(cmd, "add table bridge " CIR_NFT_TABLE "\n"
				 "add chain bridge " CIR_NFT_TABLE " lb-%s-out { type filter hook "
				 "output priority -1; }\nflush chain bridge " CIR_NFT_TABLE " lb-%s-out\n"
				 "add chain bridge " CIR_NFT_TABLE " lb-%s-pre { type filter hook "
				 "prerouting priority -1; }\nflush chain bridge " CIR_NFT_TABLE
				 " lb-%s-pre\n", mac->vxlan, mac->vxlan, mac->vxlan, mac->vxlan);
	cmd = cir_nft_cmd_append(cmd, "add rule bridge " CIR_NFT_TABLE " lb-%s-out oifname \"%s\" "
				 "ether saddr %s ip saddr %s ether saddr set %s\n", mac->vxlan,
				 mac->vxlan, gm, a, hm);
	cmd = cir_nft_cmd_append(cmd, "add rule bridge " CIR_NFT_TABLE " lb-%s-out oifname \"%s\" "
				 "ether saddr %s arp saddr ip %s ether saddr set %s arp saddr ether "
				 "set %s\n", mac->vxlan, mac->vxlan, gm, a, hm, hm);
	return cir_nft_cmd_append(cmd, "add rule bridge " CIR_NFT_TABLE " lb-%s-pre iifname \"%s\" "
				  "ether daddr %s ether daddr set %s meta pkttype set host\n",
				  mac->vxlan, mac->vxlan, hm, gm);
}

int cir_nft_lbsnat_set(const char *ifname, const struct cir_ip *addr, const struct cir_ip *vips,
		       size_t n, const struct cir_nft_lbmac *mac, struct cir_error *err)
{
	char chain[CIR_NFT_CHAIN_SIZE], what[CIR_NFT_CHAIN_SIZE + 48], a[CIR_IP_STRLEN];
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *cmd = NULL, *set = NULL;
	const char *fam = addr->af == AF_INET6 ? "ip6" : "ip";
	int r;

	r = lbsnat_chain(ifname, chain, sizeof(chain), err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "source address of cluster services on bridge %s", ifname);
	r = lbsnat_vips(addr, vips, n, what, &set, err);
	if (r < 0)
		return r;
	cir_ip_format(addr, a, sizeof(a));
	r = cir_nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	/* Before the masquerades (srcnat): the first NAT of a connection is
	 * the one it keeps. */
	cmd = cir_nft_cmd_table();
	cmd = cir_nft_cmd_append(cmd, "add chain " TBL " %s { type nat hook postrouting priority "
				 "srcnat - 1; policy accept; }\n", chain);
	cmd = cir_nft_cmd_append(cmd, "flush chain " TBL " %s\n", chain);
	if (n)
		cmd = cir_nft_cmd_append(cmd, "add rule " TBL " %s oifname \"%s\" ct original %s "
					 "daddr { %s } counter name \"" CIR_NFT_ANCHOR "\" snat %s to "
					 "%s comment \"circuit cluster services %s\"\n", chain, ifname,
					 fam, set, fam, a, ifname);
	if (mac) {
		if (!cir_nft_name_ok(mac->vxlan, IFNAME_MAX) || addr->af != AF_INET)
			return cir_err(err, EINVAL, "%s: bad vxlan name or address family", what);
		cmd = lbsnat_mac_cmd(cmd, mac, a);
	}
	if (!cmd)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	return cir_nft_exec_create(ctx, cmd, what, err);
}

int cir_nft_lbsnat_del(const char *ifname, const char *vxlan, struct cir_error *err)
{
	char what[CIR_NFT_CHAIN_SIZE + 48];
	int r;

	snprintf(what, sizeof(what), "remove source address of cluster services on bridge %s",
		 ifname);
	r = owner_chain_do(lbsnat_chain, ifname, true, what, err);
	if (r >= 0 && vxlan && cir_nft_name_ok(vxlan, IFNAME_MAX)) {
		_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
		char cmd[256];

		r = cir_nft_open(&ctx, what, err);
		if (r < 0)
			return r;
		for (int i = 0; i < 2 && r >= 0; i++) {
			snprintf(cmd, sizeof(cmd), "delete chain bridge " CIR_NFT_TABLE " lb-%s-%s\n",
				 vxlan, i ? "pre" : "out");
			r = cir_nft_exec(ctx, cmd, NULL, what, err);
			if (r == -ENOENT) {
				cir_err_clear(err);
				r = 0;
			}
		}
	}
	return r;
}
