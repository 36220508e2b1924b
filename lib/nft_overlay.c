// SPDX-License-Identifier: Apache-2.0
/*
 * nft_overlay.c - a cluster network's guard in the "bridge circuit" table:
 * the gateway's MAC and address kept off the VXLAN port, since every host
 * answers for the gateway itself (cir_nft_overlay_guard, _unguard).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "nft.h"
#include "nft_int.h"

#define OV_TABLE "bridge circuit"

static const char *const hooks[] = { "input", "forward", "output" };

/* The rules of chain ov-<network>-<hooks[i]>: frames whose source is the
 * gateway MAC m coming in from the overlay, and ARP (IPv4) or neighbour
 * discovery (IPv6) about the gateway (g its text, t its hex bytes) across
 * the vxlan port in the direction the hook sees. */
static char *guard_rules(char *cmd, const char *network, size_t i, const char *vxlan,
			 int af, const char *g, const char *t, const char *m)
{
	if (i < 2)
		cmd = cir_nft_cmd_append(cmd, "add rule " OV_TABLE " ov-%s-%s iifname \"%s\" ether "
					 "saddr %s drop\n", network, hooks[i], vxlan, m);
	for (int dir = 0; dir < 2; dir++) {
		const char *port = dir ? "oifname" : "iifname";

		if ((i == 0 && dir) || (i == 2 && !dir))
			continue;
		if (af == AF_INET)
			cmd = cir_nft_cmd_append(cmd, "add rule " OV_TABLE " ov-%s-%s %s \"%s\" arp "
						 "saddr ip %s drop\nadd rule " OV_TABLE " ov-%s-%s %s "
						 "\"%s\" arp daddr ip %s drop\n", network, hooks[i],
						 port, vxlan, g, network, hooks[i], port, vxlan, g);
		else
			cmd = cir_nft_cmd_append(cmd, "add rule " OV_TABLE " ov-%s-%s %s \"%s\" "
						 "icmpv6 type { nd-neighbor-solicit, "
						 "nd-neighbor-advert } ip6 saddr %s drop\n"
						 "add rule " OV_TABLE " ov-%s-%s %s \"%s\" icmpv6 type "
						 "{ nd-neighbor-solicit, nd-neighbor-advert } "
						 "@th,64,128 0x%s drop\n", network, hooks[i], port,
						 vxlan, g, network, hooks[i], port, vxlan, t);
	}
	return cmd;
}

/* The whole guard of a network, its three chains made anew. */
static char *guard_cmd(const char *network, const char *vxlan, const struct cir_ip *gw,
		       const unsigned char mac[6])
{
	char g[INET6_ADDRSTRLEN], m[18], t[33];
	char *cmd;

	inet_ntop(gw->af, gw->addr, g, sizeof(g));
	/* The target address of a neighbour solicitation or advertisement
	 * is the 16 bytes after the ICMPv6 header's 8: matched as raw
	 * transport payload, since nftables before 1.0.8 has no "icmpv6
	 * taddr" (Debian 12's 1.0.6 answers "syntax error"). */
	for (size_t i = 0; i < 16; i++)
		snprintf(t + 2 * i, 3, "%02x", gw->addr[i]);
	snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	cmd = cir_nft_cmd_append(strdup(""), "add table " OV_TABLE "\n");
	for (size_t i = 0; i < 3; i++) {
		cmd = cir_nft_cmd_append(cmd, "add chain " OV_TABLE " ov-%s-%s { type filter hook "
					 "%s priority 0; }\nflush chain " OV_TABLE " ov-%s-%s\n",
					 network, hooks[i], hooks[i], network, hooks[i]);
		cmd = guard_rules(cmd, network, i, vxlan, gw->af, g, t, m);
	}
	return cmd;
}

int cir_nft_overlay_guard(const char *network, const char *vxlan, const struct cir_ip *gw,
			  const unsigned char mac[6], struct cir_error *err)
{
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *cmd = NULL;
	int r;

	if (!network || !cir_nft_name_ok(network, CIR_NFT_NETWORK_MAX) || !vxlan ||
	    !cir_nft_name_ok(vxlan, IFNAME_MAX))
		return cir_err(err, EINVAL, "overlay guard: bad network or link name");
	if (gw->af != AF_INET && gw->af != AF_INET6)
		return cir_err(err, EINVAL, "overlay guard: bad gateway");
	r = cir_nft_open(&ctx, "overlay guard", err);
	if (r < 0)
		return r;
	/* Per network, in the bridge family: every host answers for the
	 * gateway itself. */
	cmd = guard_cmd(network, vxlan, gw, mac);
	if (!cmd)
		return cir_err(err, ENOMEM, "overlay guard: %s", strerror(ENOMEM));
	r = cir_nft_exec(ctx, cmd, NULL, "overlay guard", err);
	if (r == -EOPNOTSUPP || r == -ENOENT)
		return cir_err_kernel_lacks(err, CIR_CNI_KERNEL, EOPNOTSUPP, CIR_KF_NFTABLES,
					    "overlay guard");
	return r;
}

int cir_nft_overlay_unguard(const char *network, struct cir_error *err)
{
	_cleanup_nft_ctx_ struct nft_ctx *ctx = NULL;
	_cleanup_free_ char *cmd = NULL;
	int r;

	if (!network || !cir_nft_name_ok(network, CIR_NFT_NETWORK_MAX))
		return cir_err(err, EINVAL, "overlay guard: bad network name");
	r = cir_nft_open(&ctx, "overlay guard", err);
	if (r < 0)
		return r;
	/* add then delete: one transaction, idempotent. */
	cmd = cir_nft_cmd_append(strdup(""), "add table " OV_TABLE "\n");
	for (size_t i = 0; i < 3; i++)
		cmd = cir_nft_cmd_append(cmd, "add chain " OV_TABLE " ov-%s-%s { type filter hook %s "
					 "priority 0; }\ndelete chain " OV_TABLE " ov-%s-%s\n", network,
					 hooks[i], hooks[i], network, hooks[i]);
	if (!cmd)
		return cir_err(err, ENOMEM, "overlay guard: %s", strerror(ENOMEM));
	return cir_nft_exec(ctx, cmd, NULL, "overlay guard", err);
}
