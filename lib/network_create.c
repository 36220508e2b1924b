// SPDX-License-Identifier: Apache-2.0
/*
 * network_create.c - a network's creation: the spec checked (subnets,
 * gateways, an imported chain) and turned into a record and conflist,
 * the bridge claimed, all undone on failure.  Ensure and delete are in
 * network.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "addr.h"
#include "ipam.h"
#include "cleanup.h"
#include "link.h"
#include "masq.h"
#include "names.h"
#include "network_int.h"
#include "nft.h"
#include "nl.h"
#include "ovs.h"
#include "portmap.h"
#include "qosnet.h"
#include "sysctl.h"

static int read_text(const char *path, char **out, size_t *len, struct cir_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t n;

	if (!f)
		return cir_err(err, errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0)
		return cir_err(err, errno, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return cir_err(err, EISDIR, "%s: is a directory", path);
	buf = malloc(CIR_JSON_MAX + 1);
	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	n = fread(buf, 1, CIR_JSON_MAX + 1, f);
	if (ferror(f))
		return cir_err(err, EIO, "%s: read error", path);
	if (n > CIR_JSON_MAX)
		return cir_err(err, EFBIG, "%s: larger than %u bytes", path, CIR_JSON_MAX);
	buf[n] = '\0';
	*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

/*
 * One subnet of a network Circuit generates, checked (a network address
 * with room for hosts, no reserved or, for a container's request, public
 * range) and appended to nc with its gateway: --gateway when it lies in
 * this subnet, else the first host.  At most one subnet per family.
 */
static int spec_subnet(const struct cir_net_spec *spec, const char *text,
		       struct cir_netconf *nc, struct cir_error *err)
{
	char subnet[CIR_CIDR_STRLEN], gateway[CIR_IP_STRLEN];
	struct cir_cidr sn;
	struct cir_ip gw;
	const char *kind;
	int r;

	r = cir_cidr_parse_subnet(text, &sn, err);
	if (r < 0)
		return r;
	cir_cidr_format(&sn, subnet, sizeof(subnet));
	kind = cir_cidr_special(&sn);
	if (kind && !spec->allow_reserved)
		return cir_err(err, EINVAL, "subnet %s is in a %s range (--allow-reserved "
			       "to take it anyway)", subnet, kind);
	/* A subnet a container asks for would re-route whatever the host
	 * reaches through its default route in that range: only the
	 * private-use ranges, which the host does not reach that way. */
	if (spec->private_only && (kind || !cir_cidr_private(&sn)))
		return cir_err(err, EPERM, "subnet %s is not a private-use range "
			       "(10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): a container "
			       "may not ask for it; create the network with 'circuit network "
			       "create' first", subnet);
	if (spec->gateway && cir_ip_parse(spec->gateway, &gw, NULL) == 0 &&
	    gw.af == sn.ip.af) {
		struct cir_ip net, bc;

		cir_cidr_network(&sn, &net);
		cir_cidr_broadcast(&sn, &bc);
		if (!cir_cidr_contains(&sn, &gw) || cir_ip_eq(&gw, &net) ||
		    (gw.af == AF_INET && cir_ip_eq(&gw, &bc)))
			return cir_err(err, EINVAL, "gateway %s is not a host address of %s",
				       spec->gateway, subnet);
	} else {
		r = cir_cidr_first_host(&sn, &gw);
		if (r < 0)
			return cir_err(err, -r, "subnet %s has no host address", subnet);
	}
	cir_ip_format(&gw, gateway, sizeof(gateway));
	return cir_netconf_add_subnet(nc, subnet, gateway, err);
}

/* An imported chain (--conflist FILE): normalised, and described in nc. */
static int spec_import(const struct cir_net_spec *spec, struct cir_netconf *nc,
		       char **conflist, struct cir_error *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ struct cir_json *j = NULL;
	size_t len = 0;
	int r;

	r = read_text(spec->conflist, &text, &len, err);
	if (r < 0)
		return r;
	r = cir_conflist_normalize(text, len, spec->name, spec->cni_version, conflist, err);
	if (r < 0)
		return cir_err_wrap(err, "%s", spec->conflist);
	r = cir_json_parse(*conflist, strlen(*conflist), &j, err);
	if (r < 0)
		return r;
	cir_conflist_describe(cir_json_root(j), nc);
	return 0;
}

/* --gateway must be an address of one of the subnets' families. */
static int spec_gateway(const struct cir_net_spec *spec, struct cir_error *err)
{
	struct cir_ip gw;
	bool used = false;
	int r;

	if (!spec->gateway)
		return 0;
	r = cir_ip_parse(spec->gateway, &gw, err);
	if (r < 0)
		return cir_err_wrap(err, "gateway");
	for (int i = -1; i < spec->n_more && !used; i++) {
		struct cir_cidr sn;
		const char *t = i < 0 ? spec->subnet : spec->more_subnets[i];

		used = cir_cidr_parse(t, 0, &sn, NULL) == 0 && sn.ip.af == gw.af;
	}
	if (!used)
		return cir_err(err, EINVAL, "gateway %s: no subnet of its address family",
			       spec->gateway);
	return 0;
}

static int spec_to_conf(const struct cir_net_spec *spec, struct cir_netconf *nc,
			char **conflist, struct cir_error *err)
{
	int r;

	memset(nc, 0, sizeof(*nc));
	r = cir_cni_check_network_name(spec->name, err);
	if (r < 0)
		return r;
	snprintf(nc->name, sizeof(nc->name), "%s", spec->name);
	nc->hook = spec->hook;
	nc->created = (long long)time(NULL);
	if (spec->conflist)
		return spec_import(spec, nc, conflist, err);
	r = spec_gateway(spec, err);
	if (r < 0)
		return r;
	for (int i = -1; i < spec->n_more; i++) {
		r = spec_subnet(spec, i < 0 ? spec->subnet : spec->more_subnets[i], nc, err);
		if (r < 0)
			return r;
	}
	cir_name_bridge(nc->name, nc->bridge);
	nc->driver = spec->driver;
	nc->vlan = spec->vlan;
	if (spec->ovsdb) {
		if (strlen(spec->ovsdb) >= sizeof(nc->ovsdb) || spec->ovsdb[0] != '/' ||
		    strstr(spec->ovsdb, "/../"))
			return cir_err(err, EINVAL, "ovsdb socket: an absolute path without \"..\" "
				       "of at most %zu bytes", sizeof(nc->ovsdb) - 1);
		snprintf(nc->ovsdb, sizeof(nc->ovsdb), "%s", spec->ovsdb);
	}
	nc->mtu = spec->mtu;
	nc->masquerade = !spec->no_masquerade;
	nc->masquerade6 = nc->masquerade && !spec->no_masquerade6;
	nc->managed = true;
	return cir_conflist_generate(nc, spec->cni_version, conflist, err);
}

int cir_net_create(const struct cir_net_ctx *ctx, struct cir_netdb *db,
		   const struct cir_net_spec *spec, struct cir_error *err)
{
	_cleanup_free_ char *conflist = NULL;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_netconf nc;
	int r;

	r = spec_to_conf(spec, &nc, &conflist, err);
	if (r < 0)
		return r;
	r = cir_network_open(db, nc.name, false, &n, err);
	cir_network_close(&n);
	if (r == 0)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST, "network %s already exists",
				    nc.name);
	cir_err_clear(err);
	for (unsigned int i = 0; i < nc.n_subnets; i++) {
		r = cir_net_overlaps(db, nc.subnets[i], nc.name, err);
		if (r > 0)
			return -EEXIST;
		if (r < 0)
			return r;
	}
	r = cir_nw_bridge_claim(db, &nc, err);
	if (r < 0)
		return r;
	r = cir_network_create(db, &nc, conflist, err);
	if (r < 0)
		return r;
	r = cir_net_ensure(ctx, &nc, err);
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		cir_nw_net_teardown(ctx, db, &nc, &e2);
		cir_network_remove(db, nc.name, &e2);
		return cir_err_wrap(err, "network %s", nc.name);
	}
	return 0;
}
