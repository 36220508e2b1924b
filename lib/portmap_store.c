// SPDX-License-Identifier: Apache-2.0
/*
 * portmap_store.c - the published ports' store (spec/circuit-portmap.md),
 * under <root>/portmap/, one flock for all of it (a host port is a
 * host-wide resource):
 *   att/<network>/<cid>:<ifname>   the attachment's record (JSON): its
 *                                  mappings, addresses, bridge, netns
 *   ports/<proto>-<port>/<key>     a reservation: key "any", or the host
 *                                  address ("0.0.0.0", "::", "10.1.2.3");
 *                                  content "network cid ifname"
 *   bridges/<bridge>               how many attachments publish through it
 * A conflict check reads the one small directory of its port: flat in the
 * number of published ports.  The record is written before the
 * reservations, so every reservation has a record naming it (GC).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "portmap_int.h"

/* ---- the store ---- */

void cir_pm_close(struct cir_pm_store *s)
{
	int *fds[] = { &s->lock, &s->bridges, &s->ports, &s->att, &s->top };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	cir_store_close(&s->st);
}

/* Open (with create, making) portmap/ and take its lock.  Without create,
 * -ENOENT without a message when nothing was ever published here. */
int cir_pm_open(const char *data_dir, bool create, struct cir_pm_store *s, struct cir_error *err)
{
	int r;

	*s = (struct cir_pm_store){ .st = CIR_STORE_INIT, .top = -1, .att = -1, .ports = -1,
				.bridges = -1, .lock = -1 };
	r = cir_store_data_dir_check(data_dir, create, err);
	if (r >= 0)
		r = create ? cir_store_open(&s->st, data_dir, err)
			   : cir_store_open_existing(&s->st, data_dir, err);
	if (r >= 0) {
		s->top = cir_store_dir(s->st.fd, PM_DIR, create, err);
		r = s->top;
	}
	if (r >= 0)
		r = s->lock = cir_store_lock(s->top, err);
	if (r >= 0)
		r = s->att = cir_store_dir(s->top, PM_ATT, true, err);
	if (r >= 0)
		r = s->ports = cir_store_dir(s->top, "ports", true, err);
	if (r >= 0)
		r = s->bridges = cir_store_dir(s->top, "bridges", true, err);
	if (r < 0) {
		cir_pm_close(s);
		if (r == -ENOENT && !create) {
			cir_err_clear(err);
			return r;
		}
		return cir_err_wrap(err, "published ports state");
	}
	return 0;
}

int cir_pm_att_name(const struct cir_portmap_owner *o, char *buf, size_t len, struct cir_error *err)
{
	if (!cir_name_valid(o->network))
		return cir_name_check("network name", o->network, err);
	if (!cir_name_valid(o->cid))
		return cir_name_check("container id", o->cid, err);
	if ((size_t)snprintf(buf, len, "%s:%s", o->cid, o->ifname) >= len ||
	    !cir_store_name_valid(buf) || strchr(o->ifname, ':') || strchr(o->ifname, ' '))
		return cir_err(err, EINVAL, "interface name is invalid");
	return 0;
}

static void port_dir_name(const struct cir_portmap *m, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", cir_portmap_proto_name(m->proto), m->host_port);
}

static void port_key(const struct cir_ip *ip, char *buf, size_t len)
{
	if (ip->af == 0)
		snprintf(buf, len, "any");
	else
		cir_ip_format(ip, buf, len);
}

struct holder_scan {
	int dirfd;
	const struct cir_portmap *m;
	const char *mine;            /* "network cid ifname" */
	char other[PM_OWNER_STRLEN];
	bool clash;
};

static int holder_check(const char *name, void *arg)
{
	struct holder_scan *h = arg;
	struct cir_error e = CIR_ERROR_INIT;
	struct cir_ip ip = { 0 };
	char owner[sizeof(h->other)];

	if (strcmp(name, "any") != 0 && cir_ip_parse(name, &ip, &e) < 0)
		return 0;           /* not ours to judge */
	if (!cir_portmap_host_overlap(&ip, &h->m->host_ip))
		return 0;
	if (cir_store_read(h->dirfd, name, owner, sizeof(owner), &e) < 0)
		owner[0] = '\0';
	if (strcmp(owner, h->mine) == 0)
		return 0;
	snprintf(h->other, sizeof(h->other), "%s", owner);
	h->clash = true;
	return -EADDRINUSE;
}

/* Is m's host port free of other holders?  0 yes, -EADDRINUSE (code
 * CIR_CNI_EXISTS) with the holder named. */
int cir_pm_port_free(struct cir_pm_store *s, const struct cir_portmap *m, const char *mine,
		     struct cir_error *err)
{
	char dname[32];
	_cleanup_close_ int d = -1;
	struct holder_scan h = { .m = m, .mine = mine };
	struct cir_error e = CIR_ERROR_INIT;
	char net[CIR_NAME_MAX + 1] = "", cid[CIR_NAME_MAX * 2] = "";

	port_dir_name(m, dname, sizeof(dname));
	d = cir_store_dir(s->ports, dname, false, &e);
	if (d == -ENOENT)
		return 0;
	if (d < 0) {
		*err = e;
		return d;
	}
	h.dirfd = d;
	cir_store_list(d, holder_check, &h, &e);
	if (!h.clash)
		return 0;
	char host[CIR_IP_STRLEN] = "";

	sscanf(h.other, "%128s %255s", net, cid);
	if (m->host_ip.af)
		cir_ip_format(&m->host_ip, host, sizeof(host));
	return cir_err_code(err, CIR_CNI_EXISTS, EADDRINUSE,
			    "host port %s/%u%s%s is already published by container %s on network %s",
			    cir_portmap_proto_name(m->proto), m->host_port, host[0] ? " on " : "",
			    host, cid[0] ? cid : "?", net[0] ? net : "?");
}

int cir_pm_reserve(struct cir_pm_store *s, const struct cir_portmap *m, const char *mine,
		   struct cir_error *err)
{
	char dname[32], key[CIR_IP_STRLEN];
	_cleanup_close_ int d = -1;
	int r;

	port_dir_name(m, dname, sizeof(dname));
	port_key(&m->host_ip, key, sizeof(key));
	d = cir_store_dir(s->ports, dname, true, err);
	if (d < 0)
		return d;
	r = cir_store_create(d, key, mine, strlen(mine), err);
	if (r == -EEXIST) {
		/* Ours from an ADD that died before recording: take it over. */
		cir_err_clear(err);
		r = cir_store_write(d, key, mine, strlen(mine), err);
	}
	return r;
}

void cir_pm_unreserve(struct cir_pm_store *s, const struct cir_portmap *m, const char *mine)
{
	char dname[32], key[CIR_IP_STRLEN], owner[PM_OWNER_STRLEN];
	struct cir_error e = CIR_ERROR_INIT;
	_cleanup_close_ int d = -1;

	port_dir_name(m, dname, sizeof(dname));
	port_key(&m->host_ip, key, sizeof(key));
	d = cir_store_dir(s->ports, dname, false, &e);
	if (d < 0)
		return;
	/* Only our own reservation: another holder's stays. */
	if (cir_store_read(d, key, owner, sizeof(owner), &e) >= 0 && strcmp(owner, mine) == 0)
		cir_store_unlink(d, key, &e);
	if (unlinkat(s->ports, dname, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		return;
}

/* Bridge user count: add delta, return the new count (>= 0). */
int cir_pm_bridge_count(struct cir_pm_store *s, const char *bridge, int delta,
			struct cir_error *err)
{
	char buf[32];
	struct cir_error e = CIR_ERROR_INIT;
	long v = 0;
	int r;

	if (cir_store_read(s->bridges, bridge, buf, sizeof(buf), &e) > 0)
		v = strtol(buf, NULL, 10);
	if (v < 0)
		v = 0;
	v += delta;
	if (v <= 0) {
		cir_store_unlink(s->bridges, bridge, &e);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%ld", v);
	r = cir_store_write(s->bridges, bridge, buf, strlen(buf), err);
	return r < 0 ? r : (int)v;
}

/* ---- records ---- */

void cir_pm_record_free(struct cir_pm_record *r)
{
	free(r->m);
	r->m = NULL;
}

int cir_pm_record_format(const struct cir_portmap_owner *o, const struct cir_portmap *m, size_t n,
			 const struct cir_portmap_target *t, char **out, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	char a[CIR_IP_STRLEN];
	int r;

	r = cir_jgen_new(&g, false, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "network", o->network);
	cir_jgen_kstr(g, "container", o->cid);
	cir_jgen_kstr(g, "ifname", o->ifname);
	cir_jgen_kstr(g, "netns", o->netns ? o->netns : "");
	cir_jgen_kstr(g, "bridge", t->bridge);
	cir_jgen_kstr(g, "address4", t->addr4.af ? cir_ip_format(&t->addr4, a, sizeof(a)) : "");
	cir_jgen_kstr(g, "address6", t->addr6.af ? cir_ip_format(&t->addr6, a, sizeof(a)) : "");
	cir_jgen_kstr(g, "subnet4", t->net4.ip.af ? cir_cidr_format(&t->net4, a, sizeof(a)) : "");
	cir_jgen_kstr(g, "subnet6", t->net6.ip.af ? cir_cidr_format(&t->net6, a, sizeof(a)) : "");
	cir_pm_emit_mappings(g, m, n);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

int cir_pm_record_read(int dirfd, const char *name, struct cir_pm_record *rec,
		       struct cir_error *err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ struct cir_json *j = NULL;
	const char *bridge = "", *netns = "", *a4 = "", *a6 = "", *n4 = "", *n6 = "";
	const struct cir_jnode *root, *arr = NULL;
	size_t size = 1u << 20;
	int r;

	memset(rec, 0, sizeof(*rec));
	buf = malloc(size);
	rec->m = calloc(CIR_PORTMAP_MAX, sizeof(*rec->m));
	if (!buf || !rec->m) {
		cir_pm_record_free(rec);
		return cir_err(err, ENOMEM, "%s", strerror(ENOMEM));
	}
	r = cir_store_read(dirfd, name, buf, size, err);
	if (r >= 0)
		r = cir_json_parse(buf, (size_t)r, &j, err);
	if (r < 0)
		goto fail;
	root = cir_json_root(j);
	if (cir_json_str(root, "bridge", &bridge, err) < 0 ||
	    cir_json_str(root, "netns", &netns, err) < 0 ||
	    cir_json_str(root, "address4", &a4, err) < 0 ||
	    cir_json_str(root, "address6", &a6, err) < 0 ||
	    cir_json_str(root, "subnet4", &n4, err) < 0 ||
	    cir_json_str(root, "subnet6", &n6, err) < 0 ||
	    cir_json_arr(root, "portMappings", &arr, err) < 0) {
		r = -err->errnum;
		goto fail;
	}
	if (strlen(bridge) >= sizeof(rec->bridge) || strlen(netns) >= sizeof(rec->netns)) {
		r = cir_err(err, EINVAL, "bridge or netns too long");
		goto fail;
	}
	snprintf(rec->bridge, sizeof(rec->bridge), "%s", bridge);
	snprintf(rec->netns, sizeof(rec->netns), "%s", netns);
	r = 0;
	if (*a4)
		r = cir_ip_parse(a4, &rec->addr4, err);
	if (r >= 0 && *a6)
		r = cir_ip_parse(a6, &rec->addr6, err);
	if (r >= 0 && *n4)
		r = cir_cidr_parse(n4, 0, &rec->net4, err);
	if (r >= 0 && *n6)
		r = cir_cidr_parse(n6, 0, &rec->net6, err);
	if (r >= 0)
		r = cir_portmap_parse_json(arr, rec->m, &rec->n, CIR_PORTMAP_MAX, err);
	if (r >= 0)
		return 0;
fail:
	cir_pm_record_free(rec);
	return r == -ENOENT ? r : cir_err_wrap(err, "published ports record %s", name);
}

void cir_pm_owner_text(const struct cir_portmap_owner *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", o->network, o->cid, o->ifname);
}

int cir_pm_net_dir(struct cir_pm_store *s, const char *network, bool create, struct cir_error *err)
{
	return cir_store_dir(s->att, network, create, err);
}
