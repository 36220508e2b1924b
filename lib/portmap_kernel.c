// SPDX-License-Identifier: Apache-2.0
/*
 * portmap_kernel.c - the kernel steps of published ports: the DNAT
 * elements of "inet circuit" (lib/nft.c does the transaction), hairpin
 * mode and route_localnet on the bridge, and the UDP conntrack flush
 * (lib/conntrack.c) when a mapping comes or goes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/socket.h>

#include "cleanup.h"
#include "conntrack.h"
#include "link.h"
#include "nl.h"
#include "portmap_int.h"
#include "sysctl.h"

/*
 * The kernel elements of m[0..n) towards t: an any-address mapping goes to
 * every family the container has; an address of one family needs a
 * container address of that family.  *out is malloc'd.
 */
int cir_pm_elements(const struct cir_portmap *m, size_t n, const struct cir_ip *a4,
		    const struct cir_ip *a6, struct cir_nft_pm **out, size_t *nout,
		    struct cir_error *err)
{
	struct cir_nft_pm *v = calloc(2 * n + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	for (size_t i = 0; i < n; i++) {
		const struct cir_ip *fam[2] = { a4, a6 };
		int made = 0;

		for (int f = 0; f < 2; f++) {
			if (!fam[f]->af)
				continue;
			if (m[i].host_ip.af && m[i].host_ip.af != fam[f]->af)
				continue;
			v[k++] = (struct cir_nft_pm){ .host = m[i].host_ip, .addr = *fam[f],
						      .host_port = m[i].host_port,
						      .port = m[i].container_port,
						      .proto = m[i].proto };
			made++;
		}
		if (!made) {
			char h[CIR_IP_STRLEN] = "";

			free(v);
			if (m[i].host_ip.af)
				cir_ip_format(&m[i].host_ip, h, sizeof(h));
			return cir_err_code(err, CIR_CNI_INVALID_CONFIG, EINVAL,
					    "host port %s/%u%s%s: the container has no IPv%d address",
					    cir_portmap_proto_name(m[i].proto), m[i].host_port,
					    h[0] ? " on " : "", h,
					    m[i].host_ip.af == AF_INET6 ? 6 : 4);
		}
	}
	*out = v;
	*nout = k;
	return 0;
}

/* Does some mapping reach 127.0.0.1 (an IPv4 element on any address or a
 * 127/8 host address)? */
static bool needs_localnet(const struct cir_nft_pm *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].addr.af == AF_INET &&
		    (v[i].host.af == 0 || cir_pm_ip_any(&v[i].host) || v[i].host.addr[0] == 127))
			return true;
	return false;
}

/* Flush UDP conntrack entries of the elements' host ports (with
 * to_target, only those DNATed to the element's address and port): one
 * dump per family, whatever the number of ports. */
int cir_pm_ct_flush_udp(const struct cir_nft_pm *v, size_t n, bool to_target, struct cir_error *err)
{
	_cleanup_free_ struct cir_ct_filter *f = calloc(n + 1, sizeof(*f));
	int fams[2] = { AF_INET, AF_INET6 };

	if (!f)
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	for (int k = 0; k < 2; k++) {
		size_t nf = 0;
		int r;

		for (size_t i = 0; i < n; i++) {
			if (v[i].proto != IPPROTO_UDP || v[i].addr.af != fams[k])
				continue;
			f[nf] = (struct cir_ct_filter){ .family = fams[k], .l4proto = IPPROTO_UDP,
							.orig_dst_port = v[i].host_port };
			if (v[i].host.af && !cir_pm_ip_any(&v[i].host))
				f[nf].orig_dst = v[i].host;
			if (to_target) {
				f[nf].reply_src = v[i].addr;
				f[nf].reply_src_port = v[i].port;
			}
			nf++;
		}
		if (!nf)
			continue;
		r = cir_ct_flush_any(f, nf, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * With br_netfilter passing bridged IPv4/IPv6 to the IP hooks, the kernel
 * bridges a DNATed frame whose new destination sits on the bridge it came
 * from instead of routing it; a container calling its own published port
 * then needs its bridge port to send the frame back where it came from
 * (hairpin mode).  Without br_netfilter the flow is routed and no port
 * setting matters, so nothing is changed.
 */
static int hairpin_port(const struct cir_portmap_target *t, struct cir_error *err)
{
	static const char *const keys[] = { "net/bridge/bridge-nf-call-iptables",
					     "net/bridge/bridge-nf-call-ip6tables" };
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	bool brnf = false;
	int r;

	if (!t->port[0])
		return 0;
	for (size_t i = 0; i < 2; i++) {
		char v[8];
		struct cir_error e = CIR_ERROR_INIT;

		if (cir_sysctl_read(keys[i], v, sizeof(v), &e) >= 0 && v[0] == '1')
			brnf = true;
	}
	if (!brnf)
		return 0;
	r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = cir_link_get(sk, t->port, &li, err);
	if (r >= 0)
		r = cir_link_set_hairpin(sk, li.ifindex, true, err);
	return r < 0 ? cir_err_wrap(err, "port %s: hairpin mode (br_netfilter)", t->port) : 0;
}

/* The kernel side: the nft elements (*added once made), the hairpin port,
 * route_localnet on the bridge where a mapping needs it, stale UDP flows. */
int cir_pm_kernel_add(const struct cir_nft_pm *v, size_t nv, const struct cir_portmap_target *t,
		      const struct cir_nft_pm_bridge *br, bool *added, struct cir_error *err)
{
	int r;

	r = cir_nft_portmap_add(v, nv, t->bridge[0] ? br : NULL, err);
	if (r < 0)
		return r;
	*added = true;
	r = hairpin_port(t, err);
	if (r < 0)
		return r;
	if (t->bridge[0] && needs_localnet(v, nv)) {
		r = cir_sysctl_if_ensure(4, t->bridge, "route_localnet", "1", err);
		if (r < 0)
			return cir_err_wrap(err, "bridge %s: route_localnet", t->bridge);
	}
	/* Entries made before the mapping existed would keep bypassing it. */
	return cir_pm_ct_flush_udp(v, nv, false, err);
}
