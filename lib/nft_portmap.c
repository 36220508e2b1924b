// SPDX-License-Identifier: Apache-2.0
/*
 * nft_portmap.c - circuit-portmap's part of the "inet circuit" table: the
 * DNAT maps of published ports (pm4, pm4any, pm6, pm6any), the hairpin and
 * localhost sets, and the chains that use them (cir_nft_portmap_*,
 * cir_nft_pm_element).  Elements are printed from parsed bytes only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <netinet/in.h>

#include "cleanup.h"
#include "nft.h"
#include "nft_int.h"

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
	char *cmd = cir_nft_cmd_table();

	cmd = cir_nft_cmd_append(cmd, "add map " TBL " pm4 { type ipv4_addr . inet_proto . inet_service : "
				 "ipv4_addr . inet_service; }\n");
	cmd = cir_nft_cmd_append(cmd, "add map " TBL " pm4any { type inet_proto . inet_service : "
				 "ipv4_addr . inet_service; }\n");
	cmd = cir_nft_cmd_append(cmd, "add map " TBL " pm6 { type ipv6_addr . inet_proto . inet_service : "
				 "ipv6_addr . inet_service; }\n");
	cmd = cir_nft_cmd_append(cmd, "add map " TBL " pm6any { type inet_proto . inet_service : "
				 "ipv6_addr . inet_service; }\n");
	cmd = cir_nft_cmd_append(cmd, "add set " TBL " pmhairpin4 { type ifname . ipv4_addr; "
				 "flags interval; }\n");
	cmd = cir_nft_cmd_append(cmd, "add set " TBL " pmhairpin6 { type ifname . ipv6_addr; "
				 "flags interval; }\n");
	cmd = cir_nft_cmd_append(cmd, "add set " TBL " pmbridges { type ifname; }\n");
	cmd = cir_nft_cmd_append(cmd, "add chain " TBL " portmap\nflush chain " TBL " portmap\n");
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap meta nfproto ipv4 dnat ip to "
				 "ip daddr . meta l4proto . th dport map @pm4\n");
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap meta nfproto ipv4 dnat ip to "
				 "meta l4proto . th dport map @pm4any\n");
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap meta nfproto ipv6 dnat ip6 to "
				 "ip6 daddr . meta l4proto . th dport map @pm6\n");
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap meta nfproto ipv6 dnat ip6 to "
				 "meta l4proto . th dport map @pm6any\n");
	cmd = cir_nft_cmd_append(cmd, "add chain " TBL " portmap-pre { type nat hook prerouting priority "
				 "dstnat; policy accept; }\nflush chain " TBL " portmap-pre\n");
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap-pre fib daddr type local jump portmap\n");
	cmd = cir_nft_cmd_append(cmd, "add chain " TBL " portmap-out { type nat hook output priority "
				 "-100; policy accept; }\nflush chain " TBL " portmap-out\n");
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap-out fib daddr type local jump portmap\n");
	cmd = cir_nft_cmd_append(cmd, "add chain " TBL " portmap-post { type nat hook postrouting "
				 "priority srcnat; policy accept; }\nflush chain " TBL " portmap-post\n");
	/* Hairpin: a container calling a published port of its own bridge
	 * (its own included).  Without the masquerade the answer would go
	 * straight across the bridge, past the DNAT's reverse translation.
	 * Matched by out bridge and source subnet, not by input interface:
	 * with br_netfilter the hook has no input device. */
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap-post ct status dnat "
				 "oifname . ip saddr @pmhairpin4 " MASQ_STMT " comment \"circuit portmap "
				 "hairpin\"\n");
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap-post ct status dnat "
				 "oifname . ip6 saddr @pmhairpin6 " MASQ_STMT " comment \"circuit portmap "
				 "hairpin\"\n");
	/* 127.0.0.1:HOSTPORT from the host (route_localnet on the bridge). */
	cmd = cir_nft_cmd_append(cmd, "add rule " TBL " portmap-post ct status dnat oifname @pmbridges "
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
		cmd = cir_nft_cmd_append(cmd, "%s element " TBL " %s { %s }\n", verb, map, el);
	}
	if (br) {
		const struct cir_cidr *nets[2] = { &br->net4, &br->net6 };

		for (int f = 0; f < 2; f++) {
			char net[CIR_CIDR_STRLEN];
			struct cir_cidr c = *nets[f];

			if (!c.ip.af)
				continue;
			cir_cidr_network(nets[f], &c.ip);   /* printed from its bytes */
			cmd = cir_nft_cmd_append(cmd, "%s element " TBL " pmhairpin%c { \"%s\" . %s }\n",
						 verb, f ? '6' : '4', br->name,
						 cir_cidr_format(&c, net, sizeof(net)));
		}
		cmd = cir_nft_cmd_append(cmd, "%s element " TBL " pmbridges { \"%s\" }\n", verb, br->name);
	}
	return cmd;
}

static int pm_bridge_check(const struct cir_nft_pm_bridge *br, struct cir_error *err)
{
	if (br && (!br->name || !cir_nft_name_ok(br->name, IFNAME_MAX) || !strcmp(br->name, ".") ||
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
	r = cir_nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	/* The common case: the maps exist, one transaction of elements. */
	r = cir_nft_exec(ctx, elems, NULL, what, err);
	if (r != -ENOENT)
		return r;
	cir_err_clear(err);
	full = pm_setup_cmd();
	full = cir_nft_cmd_append(full, "%s", elems);
	if (!full)
		return cir_err(err, ENOMEM, "%s: %s", what, strerror(ENOMEM));
	return cir_nft_exec_create(ctx, full, what, err);
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
	int r = cir_nft_exec(ctx, cmds, NULL, what, err);

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
		r = cir_nft_exec(ctx, one, NULL, what, err);
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
	r = cir_nft_open(&ctx, what, err);
	if (r < 0)
		return r;
	if (last) {
		/* The table goes when nothing else is left in it. */
		r = nft_delete_each(ctx, PM_TEARDOWN, what, err);
		return r < 0 ? r : cir_nft_table_gc(ctx, err);
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

	r = cir_nft_open(&ctx, what, err);
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

			r = cir_nft_exec(ctx, cmd, &out, what, err);
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
