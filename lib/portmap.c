// SPDX-License-Identifier: Apache-2.0
/*
 * portmap.c - published ports of CNI attachments: attach (record, reserve,
 * then the kernel, undone on failure), detach, verify (CHECK) and gc.
 * The parsing is in portmap_parse.c, the store in portmap_store.c, the
 * kernel steps in portmap_kernel.c (lib/portmap_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "portmap_int.h"
#include "sysctl.h"

/* Undo a recorded attachment: kernel elements, reservations, bridge
 * count, record.  Kernel first: a failure keeps the store, so a retry
 * finds what to remove. */
static int detach_locked(struct cir_pm_store *s, int netdir, const char *name,
			 const struct cir_portmap_owner *o, struct cir_error *err)
{
	struct cir_pm_record rec;
	struct cir_nft_pm_bridge br;
	_cleanup_free_ struct cir_nft_pm *v = NULL;
	char mine[PM_OWNER_STRLEN];
	size_t nv = 0;
	int r, left = 1, users = 1;

	r = cir_pm_record_read(netdir, name, &rec, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	cir_pm_owner_text(o, mine, sizeof(mine));
	r = cir_pm_elements(rec.m, rec.n, &rec.addr4, &rec.addr6, &v, &nv, err);
	if (r < 0) {
		/* A record we cannot turn into elements made none. */
		cir_err_clear(err);
		nv = 0;
	}
	for (size_t i = 0; i < rec.n; i++)
		cir_pm_unreserve(s, &rec.m[i], mine);
	if (rec.bridge[0]) {
		users = cir_pm_bridge_count(s, rec.bridge, 0, err);
		if (users < 0)
			users = 1;
	}
	left = cir_store_dir_empty(s->ports) != 1;      /* unsure: keep the shared objects */
	br = (struct cir_nft_pm_bridge){ .name = rec.bridge, .net4 = rec.net4, .net6 = rec.net6 };
	r = cir_nft_portmap_del(v, nv, rec.bridge[0] && users <= 1 ? &br : NULL, !left, err);
	if (r < 0) {
		/* Put the reservations back: the store must name what the
		 * kernel still has. */
		struct cir_error e2 = CIR_ERROR_INIT;

		for (size_t i = 0; i < rec.n; i++)
			cir_pm_reserve(s, &rec.m[i], mine, &e2);
		cir_pm_record_free(&rec);
		return r;
	}
	if (rec.bridge[0] && cir_pm_bridge_count(s, rec.bridge, -1, err) == 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		/* Back to the kernel's default once nothing is published
		 * through the bridge (a gone bridge: ENOENT, fine). */
		cir_sysctl_if_ensure(4, rec.bridge, "route_localnet", "0", &e2);
	}
	cir_store_unlink(netdir, name, err);
	r = cir_pm_ct_flush_udp(v, nv, true, err);
	cir_pm_record_free(&rec);
	return r < 0 ? r : 1;
}

/* The store side of an attach: what this attachment had is replaced, its
 * host ports must be free, its record is written.  Nothing to undo on
 * failure. */
static int attach_record(struct cir_pm_store *s, int nd, const char *name, const char *mine,
			 const struct cir_portmap_owner *o, const struct cir_portmap *m, size_t n,
			 const struct cir_portmap_target *t, struct cir_error *err)
{
	_cleanup_free_ char *doc = NULL;
	int r;

	/* A repeated ADD replaces what this attachment had. */
	r = detach_locked(s, nd, name, o, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = cir_pm_port_free(s, &m[i], mine, err);
		if (r < 0)
			return r;
	}
	r = cir_pm_record_format(o, m, n, t, &doc, err);
	if (r >= 0)
		r = cir_store_write(nd, name, doc, strlen(doc), err);
	return r;
}

/* The host ports reserved (*reserved of them) and the bridge's users
 * counted (*counted). */
static int attach_reserve(struct cir_pm_store *s, const struct cir_portmap *m, size_t n,
			  const struct cir_portmap_target *t, const char *mine, size_t *reserved,
			  bool *counted, struct cir_error *err)
{
	int r;

	for (; *reserved < n; (*reserved)++) {
		r = cir_pm_reserve(s, &m[*reserved], mine, err);
		if (r < 0)
			return r;
	}
	if (t->bridge[0]) {
		r = cir_pm_bridge_count(s, t->bridge, 1, err);
		if (r < 0)
			return r;
		*counted = true;
	}
	return 0;
}

int cir_portmap_attach(const char *data_dir, const struct cir_portmap_owner *o,
		       const struct cir_portmap *m, size_t n,
		       const struct cir_portmap_target *t, struct cir_error *err)
{
	struct cir_pm_store s;
	struct cir_nft_pm_bridge br = { .name = t->bridge, .net4 = t->net4, .net6 = t->net6 };
	_cleanup_free_ struct cir_nft_pm *v = NULL;
	_cleanup_close_ int nd = -1;
	char name[PM_ATT_STRLEN], mine[PM_OWNER_STRLEN];
	struct cir_error e2 = CIR_ERROR_INIT;
	size_t nv = 0, reserved = 0;
	bool counted = false, added = false;
	int r, users;

	r = cir_pm_att_name(o, name, sizeof(name), err);
	if (r < 0)
		return r;
	if (t->bridge[0] && !cir_sysctl_ifname_valid(t->bridge))
		return cir_err(err, EINVAL, "published ports: bridge name is invalid");
	r = cir_pm_elements(m, n, &t->addr4, &t->addr6, &v, &nv, err);
	if (r < 0)
		return r;
	r = cir_pm_open(data_dir, true, &s, err);
	if (r < 0)
		return r;
	cir_pm_owner_text(o, mine, sizeof(mine));
	r = nd = cir_pm_net_dir(&s, o->network, true, err);
	if (r >= 0)
		r = attach_record(&s, nd, name, mine, o, m, n, t, err);
	if (r < 0)
		goto out;
	r = attach_reserve(&s, m, n, t, mine, &reserved, &counted, err);
	if (r >= 0)
		r = cir_pm_kernel_add(v, nv, t, &br, &added, err);
	if (r >= 0) {
		r = 0;
		goto out;
	}
	users = added && counted ? cir_pm_bridge_count(&s, t->bridge, 0, &e2) : 0;
	for (size_t i = 0; i < reserved; i++)
		cir_pm_unreserve(&s, &m[i], mine);
	if (added)
		cir_nft_portmap_del(v, nv, counted && users <= 1 ? &br : NULL,
				    cir_store_dir_empty(s.ports) == 1, &e2);
	if (counted)
		cir_pm_bridge_count(&s, t->bridge, -1, &e2);
	cir_store_unlink(nd, name, &e2);
out:
	cir_pm_close(&s);
	return r;
}

/* o's record name into name, and portmap/ opened (locked) as it is:
 * -ENOENT without a message when nothing was ever published here. */
static int open_existing(const char *data_dir, const struct cir_portmap_owner *o,
			 char name[PM_ATT_STRLEN], struct cir_pm_store *s, struct cir_error *err)
{
	int r = cir_pm_att_name(o, name, PM_ATT_STRLEN, err);

	return r < 0 ? r : cir_pm_open(data_dir, false, s, err);
}

int cir_portmap_detach(const char *data_dir, const struct cir_portmap_owner *o,
		       struct cir_error *err)
{
	struct cir_pm_store s;
	_cleanup_close_ int nd = -1;
	char name[PM_ATT_STRLEN];
	int r;

	r = open_existing(data_dir, o, name, &s, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	nd = cir_pm_net_dir(&s, o->network, false, err);
	if (nd == -ENOENT) {
		cir_err_clear(err);
		r = 0;
	} else if (nd < 0) {
		r = nd;
	} else {
		r = detach_locked(&s, nd, name, o, err);
	}
	cir_pm_close(&s);
	return r < 0 ? r : 0;
}

static bool same_mapping(const struct cir_portmap *a, const struct cir_portmap *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       a->container_port == b->container_port && a->host_ip.af == b->host_ip.af &&
	       (!a->host_ip.af || cir_ip_eq(&a->host_ip, &b->host_ip));
}

int cir_portmap_verify(const char *data_dir, const struct cir_portmap_owner *o,
		       const struct cir_portmap *m, size_t n, struct cir_error *err)
{
	struct cir_pm_store s;
	struct cir_pm_record rec = { 0 };
	_cleanup_free_ struct cir_nft_pm *v = NULL;
	_cleanup_close_ int nd = -1;
	char name[PM_ATT_STRLEN];
	size_t nv = 0;
	int r;

	r = open_existing(data_dir, o, name, &s, err);
	if (r == -ENOENT)
		return n ? cir_err(err, ENOENT, "no published ports recorded") : 0;
	if (r < 0)
		return r;
	nd = cir_pm_net_dir(&s, o->network, false, err);
	r = nd < 0 ? nd : cir_pm_record_read(nd, name, &rec, err);
	if (r == -ENOENT) {
		cir_pm_close(&s);
		return n ? cir_err(err, ENOENT, "no published ports recorded for %s", name) : 0;
	}
	if (r < 0)
		goto out;
	r = 0;
	if (rec.n != n)
		r = cir_err(err, EINVAL, "%zu published ports recorded, %zu asked for", rec.n, n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		bool found = false;

		for (size_t k = 0; k < rec.n && !found; k++)
			found = same_mapping(&m[i], &rec.m[k]);
		if (!found)
			r = cir_err(err, EINVAL, "host port %s/%u is not recorded",
				    cir_portmap_proto_name(m[i].proto), m[i].host_port);
	}
	if (r >= 0)
		r = cir_pm_elements(rec.m, rec.n, &rec.addr4, &rec.addr6, &v, &nv, err);
	if (r >= 0) {
		r = cir_nft_portmap_exists(v, nv, err);
		r = r == 0 ? -ENOENT : r < 0 ? r : 0;
	}
out:
	cir_pm_record_free(&rec);
	cir_pm_close(&s);
	return r;
}

struct gc_scan {
	struct cir_pm_store *s;
	int nd;
	const char *network;
	bool (*valid)(const char *cid, const char *ifname, const char *netns, void *arg);
	void *arg;
	int released;
	struct cir_error *err;
};

static int gc_one(const char *name, void *arg)
{
	struct gc_scan *g = arg;
	struct cir_pm_record rec;
	struct cir_error e = CIR_ERROR_INIT;
	char cid[CIR_NAME_MAX + 1], ifname[32];
	const char *colon = strrchr(name, ':');
	struct cir_portmap_owner o;

	if (!colon || (size_t)(colon - name) > CIR_NAME_MAX || strlen(colon + 1) >= sizeof(ifname))
		return 0;
	memcpy(cid, name, (size_t)(colon - name));
	cid[colon - name] = '\0';
	snprintf(ifname, sizeof(ifname), "%s", colon + 1);
	if (cir_pm_record_read(g->nd, name, &rec, &e) < 0)
		return 0;
	if (g->valid(cid, ifname, rec.netns, g->arg)) {
		cir_pm_record_free(&rec);
		return 0;
	}
	cir_pm_record_free(&rec);
	o = (struct cir_portmap_owner){ .network = g->network, .cid = cid, .ifname = ifname };
	if (detach_locked(g->s, g->nd, name, &o, &e) > 0)
		g->released++;
	return 0;
}

int cir_portmap_gc(const char *data_dir, const char *network,
		   bool (*valid)(const char *cid, const char *ifname, const char *netns, void *arg),
		   void *arg, struct cir_error *err)
{
	struct cir_pm_store s;
	struct gc_scan g = { .network = network, .valid = valid, .arg = arg, .err = err };
	int r;

	if (!cir_name_valid(network))
		return cir_name_check("network name", network, err);
	r = cir_pm_open(data_dir, false, &s, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	g.s = &s;
	g.nd = cir_pm_net_dir(&s, network, false, err);
	if (g.nd == -ENOENT) {
		cir_err_clear(err);
		cir_pm_close(&s);
		return 0;
	}
	r = g.nd < 0 ? g.nd : cir_store_list(g.nd, gc_one, &g, err);
	if (g.nd >= 0)
		close(g.nd);
	cir_pm_close(&s);
	return r < 0 ? r : g.released;
}

int cir_portmap_network_forget(const struct cir_store *st, const char *network,
			       struct cir_error *err)
{
	struct cir_error e = CIR_ERROR_INIT;
	_cleanup_close_ int top = cir_store_dir(st->fd, PM_DIR, false, &e);
	_cleanup_close_ int att = top >= 0 ? cir_store_dir(top, PM_ATT, false, &e) : -1;

	if (att >= 0 && unlinkat(att, network, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cir_err(err, errno, "%s", strerror(errno));
	return 0;
}
