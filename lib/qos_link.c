// SPDX-License-Identifier: Apache-2.0
/*
 * qos_link.c - both directions of a device's shaping (egress on the
 * device, ingress on its ifb) by the device's name, and the GC of
 * Circuit's ifbs no device uses.  One direction's tree is in qos.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>

#include "cleanup.h"
#include "link.h"
#include "names.h"
#include "nl.h"
#include "qos.h"
#include "qos_int.h"

static int dev_index(const char *dev, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = cir_link_get(sk, dev, &li, err);
	return r < 0 ? r : li.ifindex;
}

int cir_qos_link_apply(const char *dev, const struct cir_qos *egress,
		       const struct cir_qos *ingress, struct cir_error *err)
{
	struct cir_error undo_err = CIR_ERROR_INIT;
	char ifb[CIR_QOS_IFNAMSIZ];
	struct cir_qos prev;
	bool had;
	int ifindex, r;

	r = cir_qos_validate(egress, err);
	if (r < 0)
		return cir_err_wrap(err, "%s egress", dev);
	r = cir_qos_validate(ingress, err);
	if (r < 0)
		return cir_err_wrap(err, "%s ingress", dev);
	r = cir_name_ifb(dev, ifb, err);
	if (r < 0)
		return r;
	ifindex = dev_index(dev, err);
	if (ifindex < 0)
		return ifindex;
	r = cir_qos_get(ifindex, &prev, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "%s", dev);
	had = r == 0;
	r = cir_qos_apply(ifindex, egress, err);
	if (r < 0)
		return r;
	r = cir_qos_apply_ingress(ifindex, ifb, ingress, err);
	if (r < 0) {
		/* Put the egress direction back as it was. */
		int undo = had ? cir_qos_apply(ifindex, &prev, &undo_err)
			       : cir_qos_clear(ifindex, &undo_err);

		if (undo < 0)
			return cir_err_append(err, "; putting back its egress shaping failed: %s",
					      undo_err.msg);
		return cir_err_append(err, "; its egress shaping was put back");
	}
	return 0;
}

int cir_qos_link_clear(const char *dev, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	char ifb[CIR_QOS_IFNAMSIZ];
	int r, ifindex;

	r = cir_name_ifb(dev, ifb, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, dev, &li, err);
	if (r < 0 && r != -ENODEV)
		return r;
	if (r < 0) {
		/* The device is gone and took its qdiscs; its ifb stays. */
		cir_err_clear(err);
		r = cir_link_ifb_delete(sk, ifb, err);
		return r < 0 ? cir_err_wrap(err, "%s", dev) : 0;
	}
	ifindex = li.ifindex;
	r = cir_qs_tree_clear(sk, ifindex, err);
	if (r >= 0)
		r = cir_qs_ingress_clear(sk, ifindex, ifb, err);
	return r < 0 ? cir_err_wrap(err, "clear shaping on %s", dev) : 0;
}

int cir_qos_link_get(const char *dev, struct cir_qos *egress, struct cir_qos *ingress,
		     struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_link_info li;
	char ifb[CIR_QOS_IFNAMSIZ];
	struct cir_qos e = { 0 }, i = { 0 };
	int r, ifindex;

	r = cir_name_ifb(dev, ifb, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r >= 0)
		r = cir_link_get(sk, dev, &li, err);
	if (r < 0)
		return r;
	ifindex = li.ifindex;
	r = cir_qs_tree_read(sk, ifindex, &e, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "%s egress", dev);
	r = cir_qs_ingress_read(sk, ifindex, ifb, &i, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "%s ingress", dev);
	cir_err_clear(err);
	*egress = e;
	*ingress = i;
	return 0;
}

/* The links of a namespace by name: the ifb each would use, and the
 * Circuit ifbs ("cq-*", "cq_*") there are. */
struct ifb_walk {
	char (*wanted)[CIR_QOS_IFNAMSIZ];
	char (*ifbs)[CIR_QOS_IFNAMSIZ];
	size_t n_wanted, n_ifbs, n_seen, cap;
};

static int ifb_walk_add(const struct cir_link_info *l, void *arg)
{
	struct ifb_walk *w = arg;

	if (w->n_seen++ == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		void *a = realloc(w->wanted, cap * sizeof(*w->wanted));

		if (a)
			w->wanted = a;
		a = a ? realloc(w->ifbs, cap * sizeof(*w->ifbs)) : NULL;
		if (!a)
			return -ENOMEM;
		w->ifbs = a;
		w->cap = cap;
	}
	if (cir_name_ifb(l->name, w->wanted[w->n_wanted], NULL) == 0)
		w->n_wanted++;
	if (strcmp(l->kind, "ifb") == 0 && strncmp(l->name, "cq", 2) == 0 &&
	    (l->name[2] == '-' || l->name[2] == '_'))
		snprintf(w->ifbs[w->n_ifbs++], CIR_QOS_IFNAMSIZ, "%s", l->name);
	return 0;
}

int cir_qos_ifb_gc(struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct ifb_walk w = { 0 };
	int r, removed = 0;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = cir_link_list(sk, ifb_walk_add, &w, err);
	if (r == -ENOMEM)
		r = cir_err(err, ENOMEM, "out of memory");
	for (size_t i = 0; r >= 0 && i < w.n_ifbs; i++) {
		bool used = false;

		for (size_t k = 0; k < w.n_wanted && !used; k++)
			used = strcmp(w.wanted[k], w.ifbs[i]) == 0;
		if (used)
			continue;
		r = cir_link_ifb_delete(sk, w.ifbs[i], err);
		if (r >= 0)
			removed++;
	}
	free(w.wanted);
	free(w.ifbs);
	return r < 0 ? r : removed;
}
