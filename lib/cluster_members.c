// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_members.c - member keys of cluster networks (cluster_members.h,
 * spec/cluster.md "Members across hosts").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/socket.h>

#include "cleanup.h"
#include "cluster_members.h"
#include "json.h"
#include "link.h"
#include "names.h"
#include "nl.h"
#include "store.h"

#define MEMBERS CIR_CLUSTER_PREFIX "members/"

static int member_key(char *buf, size_t size, const char *network, const char *host,
		      const char *cid, const char *ifname)
{
	int n;

	if (host && cid)
		n = snprintf(buf, size, "%s%s/%s/%s:%s", MEMBERS, network, host, cid, ifname);
	else if (host)
		n = snprintf(buf, size, "%s%s/%s/", MEMBERS, network, host);
	else
		n = snprintf(buf, size, "%s%s/", MEMBERS, network);
	return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

bool cir_cluster_mac_parse(const char *s, unsigned char out[6])
{
	unsigned char m[6];

	if (!s || strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		unsigned int v = 0;

		for (int k = 0; k < 2; k++) {
			char ch = s[i * 3 + k];

			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned int)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned int)(ch - 'a' + 10);
			else if (ch >= 'A' && ch <= 'F')
				v |= (unsigned int)(ch - 'A' + 10);
			else
				return false;
		}
		if (i < 5 && s[i * 3 + 2] != ':')
			return false;
		m[i] = (unsigned char)v;
	}
	if ((m[0] & 1) || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return false;
	memcpy(out, m, 6);
	return true;
}

int cir_cluster_member_mac(struct nl_sock *sk, const char *cid, const char *ifname,
			   char out[18], struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *own = NULL;
	char host[CIR_IFNAMSIZ];
	unsigned char m[6];
	int r;

	if (!sk) {
		r = cir_nl_route_open(&own, err);
		if (r < 0)
			return r;
		sk = own;
	}
	cir_name_host_veth(cid, ifname, host);
	r = cir_link_peer_mac(sk, host, m, err);
	if (r < 0)
		return r;
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return 0;
}

static int member_value(const char *host, const char *cid, const char *ifname,
			const struct cir_ipam_result *a, const char *mac, char **out,
			struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r = cir_jgen_new(&g, false, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "container", cid);
	cir_jgen_kstr(g, "interface", ifname);
	cir_jgen_key(g, "addresses");
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < a->n; i++) {
		char s[CIR_CIDR_STRLEN];

		cir_jgen_str(g, cir_cidr_format(&a->ips[i].addr, s, sizeof(s)));
	}
	cir_jgen_arr_close(g);
	cir_jgen_kstr(g, "host", host);
	if (mac && *mac)
		cir_jgen_kstr(g, "mac", mac);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

int cir_cluster_member_put(struct cir_cluster *c, const char *network, const char *cid,
			   const char *ifname, const struct cir_ipam_result *a, const char *mac,
			   unsigned int ms, struct cir_error *err)
{
	_cleanup_free_ char *val = NULL;
	char key[CIR_ETCD_KEY_MAX];
	int64_t lease = c->lease ? c->lease : cir_cluster_lease_recorded(c);
	int r;

	if (lease <= 0)
		return cir_err(err, ENOLINK, "host %s has no lease: is `circuit agent` running?",
			       c->conf.host_name);
	if (member_key(key, sizeof(key), network, c->conf.host_name, cid, ifname) < 0)
		return cir_err(err, ENAMETOOLONG, "member key too long");
	r = member_value(c->conf.host_name, cid, ifname, a, mac, &val, err);
	if (r < 0)
		return r;
	if (ms)
		cir_etcd_set_deadline(c->etcd, ms);
	r = cir_etcd_put(c->etcd, key, val, strlen(val), lease, err);
	if (ms)
		cir_etcd_set_deadline(c->etcd, 0);
	if (r == -ENOENT)
		return cir_err(err, ENOLINK, "host %s: its lease expired: is `circuit agent` "
			       "running?", c->conf.host_name);
	return r < 0 ? r : 0;
}

int cir_cluster_member_del(struct cir_cluster *c, const char *network, const char *cid,
			   const char *ifname, unsigned int ms, struct cir_error *err)
{
	char key[CIR_ETCD_KEY_MAX];
	int r;

	if (member_key(key, sizeof(key), network, c->conf.host_name, cid, ifname) < 0)
		return cir_err(err, ENAMETOOLONG, "member key too long");
	if (ms)
		cir_etcd_set_deadline(c->etcd, ms);
	r = cir_etcd_delete(c->etcd, key, false, err);
	if (ms)
		cir_etcd_set_deadline(c->etcd, 0);
	return r < 0 ? r : 0;
}

/* Copy the next '/'-free component of *p into buf (size): -1 if empty or
 * too long. */
static int component(const char **p, char sep, char *buf, size_t size)
{
	const char *e = strchr(*p, sep);
	size_t n = e ? (size_t)(e - *p) : strlen(*p);

	if (!n || n >= size || (sep == '/' && !e))
		return -1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p += n + (e ? 1 : 0);
	return 0;
}

int cir_cluster_member_parse(const char *key, size_t klen, const char *value, size_t vlen,
			     struct cir_cluster_member *out, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	struct cir_error e2 = CIR_ERROR_INIT;
	const struct cir_jnode *arr = NULL;
	const char *p = key + strlen(MEMBERS), *s = NULL;
	char ifkey[CIR_IFNAMSIZ];
	int r;

	memset(out, 0, sizeof(*out));
	if (klen != strlen(key) || klen <= strlen(MEMBERS) || strncmp(key, MEMBERS, strlen(MEMBERS)) ||
	    component(&p, '/', out->network, sizeof(out->network)) < 0 ||
	    component(&p, '/', out->host, sizeof(out->host)) < 0 ||
	    component(&p, ':', out->cid, sizeof(out->cid)) < 0 ||
	    component(&p, '\0', out->ifname, sizeof(out->ifname)) < 0 ||
	    cir_cni_check_network_name(out->network, &e2) < 0 ||
	    !cir_cluster_name_valid(out->host) || cir_cni_check_containerid(out->cid, &e2) < 0 ||
	    cir_cni_check_ifname(out->ifname, &e2) < 0)
		return cir_err(err, EBADMSG, "member record: bad key");
	r = cir_json_parse(value, vlen, &j, err);
	if (r < 0)
		return cir_err_wrap(err, "member %s", out->cid);
	if (cir_json_str(cir_json_root(j), "host", &s, &e2) <= 0 || strcmp(s, out->host) ||
	    cir_json_str(cir_json_root(j), "container", &s, &e2) <= 0 || strcmp(s, out->cid) ||
	    cir_json_str(cir_json_root(j), "interface", &s, &e2) <= 0 ||
	    strlen(s) >= sizeof(ifkey) || strcmp(s, out->ifname) ||
	    cir_json_arr(cir_json_root(j), "addresses", &arr, &e2) <= 0)
		return cir_err(err, EBADMSG, "member %s: record does not match its key", out->cid);
	/* The MAC is optional (records written before it was, or by a
	 * circuit-ipam that could not read it); present, it must be a
	 * unicast address, kept in one spelling. */
	r = cir_json_str(cir_json_root(j), "mac", &s, &e2);
	if (r < 0)
		return cir_err(err, EBADMSG, "member %s: bad mac", out->cid);
	if (r > 0) {
		unsigned char m[6];

		if (!cir_cluster_mac_parse(s, m))
			return cir_err(err, EBADMSG, "member %s: bad mac", out->cid);
		snprintf(out->mac, sizeof(out->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
			 m[2], m[3], m[4], m[5]);
	}
	for (size_t i = 0; cir_jnode_at(arr, i); i++) {
		const char *t = cir_jnode_str(cir_jnode_at(arr, i));
		struct cir_cidr cidr;

		if (!t || out->naddrs >= CIR_CLUSTER_MEMBER_ADDRS ||
		    cir_cidr_parse(t, 0, &cidr, &e2) < 0)
			return cir_err(err, EBADMSG, "member %s: bad addresses", out->cid);
		cir_cidr_format(&cidr, out->addrs[out->naddrs++], CIR_CIDR_STRLEN);
	}
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	const struct cir_cluster_member *x = a, *y = b;
	int d = strcmp(x->host, y->host);

	if (!d)
		d = strcmp(x->cid, y->cid);
	return d ? d : strcmp(x->ifname, y->ifname);
}

/* A damaged record is skipped, as the network records are. */
static int member_kv(void *arg, const struct cir_etcd_kv *kv, void *rec, struct cir_error *err)
{
	struct cir_cluster_member *m = rec;
	int r = cir_cluster_member_parse(kv->key, kv->key_len, kv->value, kv->value_len, m, err);

	if (r != 0 || strcmp(m->network, arg) != 0)
		return r ? r : 1;
	m->lease = kv->lease;
	return 0;
}

int cir_cluster_members(struct cir_cluster *c, const char *network, const char *host,
			struct cir_cluster_member **out, size_t *n, struct cir_error *err)
{
	static const struct cir_etcd_list how = { sizeof(struct cir_cluster_member), member_kv,
						  cmp_member };
	char key[CIR_ETCD_KEY_MAX];
	void *v = NULL;
	int r;

	*out = NULL;
	*n = 0;
	if (member_key(key, sizeof(key), network, host, NULL, NULL) < 0)
		return cir_err(err, ENAMETOOLONG, "member key too long");
	r = cir_etcd_list(c->etcd, key, &how, (void *)network, &v, n, NULL, err);
	if (r >= 0)
		*out = v;
	return r;
}

/* ---- the agent's reconcile ---- */

struct sync_scan {
	struct cir_cluster *c;
	struct nl_sock *sk;          /* NULL: MACs unknown */
	const char *network;
	struct cir_cluster_member *have;
	size_t nhave;
	bool *seen;
	unsigned int put;
	int r;
	struct cir_error *err;
};

static bool same_addrs(const struct cir_cluster_member *m, const struct cir_ipam_result *a)
{
	if (m->naddrs != a->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		char s[CIR_CIDR_STRLEN];

		if (strcmp(m->addrs[i], cir_cidr_format(&a->ips[i].addr, s, sizeof(s))))
			return false;
	}
	return true;
}

static int sync_one(const char *cid, const char *ifname, const struct cir_ipam_result *a,
		    void *data)
{
	struct sync_scan *s = data;
	struct cir_error e2 = CIR_ERROR_INIT;
	char mac[18] = "";
	int r;

	/* Unknown (no veth of that name: another plugin's interface) stays
	 * unknown; a key that has one keeps it. */
	if (s->sk && cir_cluster_member_mac(s->sk, cid, ifname, mac, &e2) < 0)
		mac[0] = '\0';
	for (size_t i = 0; i < s->nhave; i++) {
		const struct cir_cluster_member *m = &s->have[i];

		if (strcmp(m->cid, cid) || strcmp(m->ifname, ifname))
			continue;
		s->seen[i] = true;
		if (!mac[0])
			snprintf(mac, sizeof(mac), "%s", m->mac);
		if (m->lease == s->c->lease && same_addrs(m, a) && strcmp(m->mac, mac) == 0)
			return 0;
		break;
	}
	r = cir_cluster_member_put(s->c, s->network, cid, ifname, a, mac, 0, s->err);
	if (r < 0)
		return s->r = r;
	s->put++;
	return 0;
}

int cir_cluster_members_sync(struct cir_cluster *c, const char *state_dir, const char *network,
			     unsigned int *put, unsigned int *del, struct cir_error *err)
{
	_cleanup_store_ struct cir_store st = CIR_STORE_INIT;
	_cleanup_ipam_ struct cir_ipam h = CIR_IPAM_INIT;
	_cleanup_free_ struct cir_cluster_member *have = NULL;
	_cleanup_free_ bool *seen = NULL;
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_error e2 = CIR_ERROR_INIT;
	struct sync_scan s = { .c = c, .network = network, .err = err };
	size_t n = 0;
	int r;

	*put = *del = 0;
	if (c->lease <= 0)
		return cir_err(err, ENOLINK, "host %s has no lease", c->conf.host_name);
	r = cir_store_open_existing(&st, state_dir, err);
	if (r >= 0)
		r = cir_ipam_open_existing(&h, &st, network, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		r = 0;          /* no reservation here: every key of this host goes */
	} else if (r < 0) {
		return r;
	}
	r = cir_cluster_members(c, network, c->conf.host_name, &have, &n, err);
	if (r < 0)
		return r;
	seen = calloc(n ? n : 1, sizeof(*seen));
	if (!seen)
		return cir_err(err, ENOMEM, "out of memory");
	s.have = have;
	s.nhave = n;
	s.seen = seen;
	if (cir_nl_route_open(&sk, &e2) == 0)
		s.sk = sk;
	if (h.fd >= 0) {
		r = cir_ipam_list(&h, sync_one, &s, err);
		*put = s.put;
		if (r < 0 || s.r < 0)
			return r < 0 ? r : s.r;
	}
	for (size_t i = 0; i < n; i++) {
		if (seen[i])
			continue;
		r = cir_cluster_member_del(c, network, have[i].cid, have[i].ifname, 0, err);
		if (r < 0)
			return r;
		(*del)++;
	}
	return 0;
}
