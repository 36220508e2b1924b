// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_net.c - cluster networks in etcd (spec/cluster.md "Cluster
 * networks"): /circuit/v1/networks/NAME holds what every host needs to
 * materialise the network (subnet, gateway, VNI, block size, gateway MAC),
 * /circuit/v1/vnis/VNI names the network that holds a VNI, so that one
 * transaction makes both and no VNI is ever used twice.  Neither key is
 * attached to a lease: a network outlives the hosts that use it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cleanup.h"
#include "cluster.h"
#include "cni.h"
#include "json.h"
#include "names.h"

#define NETS CIR_CLUSTER_PREFIX "networks/"
#define VNIS CIR_CLUSTER_PREFIX "vnis/"

unsigned int cir_cluster_net_default_vni(const char *name)
{
	uint64_t h = cir_fnv1a(CIR_FNV_INIT, name, strlen(name));

	return CIR_CLUSTER_VNI_MIN + (unsigned int)(h % (CIR_CLUSTER_VNI_MAX - CIR_CLUSTER_VNI_MIN + 1));
}

void cir_cluster_net_mac(const char *name, unsigned char mac[6])
{
	static const char tag[] = "gateway-mac:";
	uint64_t h = cir_fnv1a(cir_fnv1a(CIR_FNV_INIT, tag, sizeof(tag) - 1), name, strlen(name));

	/* Locally administered, unicast. */
	mac[0] = 0x02;
	mac[1] = 0xc1;
	for (int i = 0; i < 4; i++)
		mac[2 + i] = (unsigned char)(h >> (8 * i));
}

static int name_check(const char *name, struct cir_error *err)
{
	int r = cir_cni_check_network_name(name, err);

	if (r >= 0 && strlen(name) >= sizeof(((struct cir_cluster_net *)0)->name))
		r = cir_err(err, EINVAL, "network name longer than %zu bytes",
			    sizeof(((struct cir_cluster_net *)0)->name) - 1);
	return r;
}

int cir_cluster_net_init(struct cir_cluster_net *n, const char *name, const char *subnet,
			 unsigned int vni, unsigned int block, struct cir_error *err)
{
	unsigned int bits;
	int r;

	memset(n, 0, sizeof(*n));
	r = name_check(name, err);
	if (r < 0)
		return r;
	snprintf(n->name, sizeof(n->name), "%s", name);
	r = cir_cidr_parse_subnet(subnet, &n->subnet, err);
	if (r < 0)
		return cir_err_wrap(err, "subnet");
	bits = n->subnet.ip.af == AF_INET ? 32 : 128;
	/* At most 1024 addresses a block: a DEL checks its block for
	 * emptiness address by address (lib/cluster_alloc.c). */
	if (!block)
		block = n->subnet.ip.af == AF_INET ? CIR_CLUSTER_BLOCK4 : CIR_CLUSTER_BLOCK6;
	if (block < n->subnet.prefix || block > bits - 2 || bits - block > 10)
		return cir_err(err, EINVAL, "block size /%u: want /%u to /%u inside %s", block,
			       n->subnet.prefix > bits - 10 ? n->subnet.prefix : bits - 10, bits - 2,
			       subnet);
	n->block = block;
	if (vni && (vni < CIR_CLUSTER_VNI_MIN || vni > CIR_CLUSTER_VNI_MAX))
		return cir_err(err, EINVAL, "VNI %u: want %u to %u", vni, CIR_CLUSTER_VNI_MIN,
			       CIR_CLUSTER_VNI_MAX);
	n->vni = vni ? vni : cir_cluster_net_default_vni(name);
	r = cir_cidr_first_host(&n->subnet, &n->gateway);
	if (r < 0)
		return cir_err(err, -r, "subnet %s has no host address", subnet);
	cir_cluster_net_mac(name, n->mac);
	n->created = (long long)time(NULL);
	return 0;
}

static int net_value(const struct cir_cluster_net *n, char **out, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	char sn[CIR_CIDR_STRLEN], gw[CIR_IP_STRLEN], mac[18];
	int r = cir_jgen_new(&g, false, err);

	if (r < 0)
		return r;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
		 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "name", n->name);
	cir_jgen_kstr(g, "subnet", cir_cidr_format(&n->subnet, sn, sizeof(sn)));
	cir_jgen_kstr(g, "gateway", cir_ip_format(&n->gateway, gw, sizeof(gw)));
	cir_jgen_kint(g, "vni", n->vni);
	cir_jgen_kint(g, "blockSize", n->block);
	cir_jgen_kstr(g, "gatewayMac", mac);
	cir_jgen_kint(g, "created", n->created);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

int cir_cluster_net_parse(const char *key, size_t klen, const char *value, size_t vlen,
			  struct cir_cluster_net *out, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	struct cir_cluster_net n;
	struct cir_error e2 = CIR_ERROR_INIT;
	const char *name = NULL, *sn = NULL, *gw = NULL, *mac = NULL;
	uint32_t vni = 0, block = 0;
	uint64_t created = 0;
	unsigned int m[6];
	char tail;

	if (klen != strlen(key) || klen <= strlen(NETS) || strncmp(key, NETS, strlen(NETS)))
		return cir_err(err, EBADMSG, "network record: bad key");
	if (cir_json_parse(value, vlen, &j, &e2) < 0)
		return cir_err(err, EBADMSG, "network record %s: %s", key + strlen(NETS), e2.msg);
	if (cir_json_str(cir_json_root(j), "name", &name, &e2) <= 0 ||
	    cir_json_str(cir_json_root(j), "subnet", &sn, &e2) <= 0 ||
	    cir_json_str(cir_json_root(j), "gatewayMac", &mac, &e2) <= 0 ||
	    cir_json_str(cir_json_root(j), "gateway", &gw, &e2) < 0 ||
	    cir_json_u32(cir_json_root(j), "vni", CIR_CLUSTER_VNI_MAX, &vni, &e2) <= 0 ||
	    cir_json_u32(cir_json_root(j), "blockSize", 128, &block, &e2) <= 0 ||
	    cir_json_u64(cir_json_root(j), "created", INT64_MAX, &created, &e2) < 0)
		return cir_err(err, EBADMSG, "network record %s: want name, subnet, gatewayMac, vni "
			       "and blockSize", key + strlen(NETS));
	if (strcmp(name, key + strlen(NETS)) != 0)
		return cir_err(err, EBADMSG, "network record %s: names %s", key + strlen(NETS), name);
	if (cir_cluster_net_init(&n, name, sn, vni, block, &e2) < 0)
		return cir_err(err, EBADMSG, "network record %s: %s", name, e2.msg);
	if (strlen(mac) != 17 || sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2],
					&m[3], &m[4], &m[5], &tail) != 6)
		return cir_err(err, EBADMSG, "network record %s: bad gatewayMac", name);
	for (int i = 0; i < 6; i++)
		n.mac[i] = (unsigned char)m[i];
	if ((n.mac[0] & 1) || !(n.mac[0] & 2))
		return cir_err(err, EBADMSG, "network record %s: gatewayMac not a local unicast "
			       "address", name);
	if (gw && *gw) {
		struct cir_ip g;

		if (cir_ip_parse(gw, &g, &e2) < 0 || !cir_cidr_contains(&n.subnet, &g))
			return cir_err(err, EBADMSG, "network record %s: bad gateway", name);
		n.gateway = g;
	}
	n.created = (long long)created;
	*out = n;
	return 0;
}

int cir_cluster_net_create(struct cir_cluster *c, const struct cir_cluster_net *n,
			   struct cir_error *err)
{
	_cleanup_free_ char *val = NULL;
	char nkey[256], vkey[64];
	struct cir_etcd_resp cur = { 0 };
	int r;

	r = net_value(n, &val, err);
	if (r < 0)
		return r;
	snprintf(nkey, sizeof(nkey), "%s%s", NETS, n->name);
	snprintf(vkey, sizeof(vkey), "%s%u", VNIS, n->vni);
	{
		struct cir_etcd_cmp cmp[2] = {
			{ .key = nkey, .target = CIR_ETCD_CMP_CREATE, .rev = 0 },
			{ .key = vkey, .target = CIR_ETCD_CMP_CREATE, .rev = 0 },
		};
		struct cir_etcd_op ok[2] = {
			{ .kind = CIR_ETCD_OP_PUT, .key = nkey, .value = val, .vlen = strlen(val) },
			{ .kind = CIR_ETCD_OP_PUT, .key = vkey, .value = n->name,
			  .vlen = strlen(n->name) },
		};
		struct cir_etcd_op fail = { .kind = CIR_ETCD_OP_GET, .key = vkey };

		r = cir_etcd_txn(c->etcd, cmp, 2, ok, 2, &fail, 1, &cur, err);
	}
	if (r < 0)
		return r;
	if (r == 1) {
		cir_etcd_resp_free(&cur);
		return 0;
	}
	if (cur.nkvs && !(cur.kvs[0].value_len == strlen(n->name) &&
			  memcmp(cur.kvs[0].value, n->name, cur.kvs[0].value_len) == 0)) {
		char shown[80];

		cir_err(err, EEXIST, "VNI %u is taken by network %s (--vni to choose another)",
			n->vni, cir_err_shown_n(cur.kvs[0].value, cur.kvs[0].value_len, shown,
						sizeof(shown)));
	} else {
		cir_err_code(err, CIR_CNI_EXISTS, EEXIST, "network %s already exists in the cluster",
			     n->name);
	}
	cir_etcd_resp_free(&cur);
	return -EEXIST;
}

int cir_cluster_net_get(struct cir_cluster *c, const char *name, struct cir_cluster_net *out,
			struct cir_error *err)
{
	struct cir_etcd_resp resp = { 0 };
	char key[256];
	int r = name_check(name, err);

	if (r < 0)
		return r;
	snprintf(key, sizeof(key), "%s%s", NETS, name);
	r = cir_etcd_get(c->etcd, key, false, &resp, err);
	if (r < 0)
		return r;
	if (!resp.nkvs)
		r = cir_err(err, ENOENT, "no cluster network %s", name);
	else
		r = cir_cluster_net_parse(resp.kvs[0].key, resp.kvs[0].key_len, resp.kvs[0].value,
					  resp.kvs[0].value_len, out, err);
	if (r >= 0)
		out->mod_rev = resp.kvs[0].mod_rev;
	cir_etcd_resp_free(&resp);
	return r;
}

static int cmp_net(const void *a, const void *b)
{
	return strcmp(((const struct cir_cluster_net *)a)->name,
		      ((const struct cir_cluster_net *)b)->name);
}

/* A damaged record is skipped: one bad network must not hide the others. */
static int net_kv(void *arg, const struct cir_etcd_kv *kv, void *rec, struct cir_error *err)
{
	struct cir_cluster_net *n = rec;
	int r = cir_cluster_net_parse(kv->key, kv->key_len, kv->value, kv->value_len, n, err);

	if (r == 0)
		n->mod_rev = kv->mod_rev;
	return r;
}

int cir_cluster_nets(struct cir_cluster *c, struct cir_cluster_net **out, size_t *n,
		     int64_t *rev, struct cir_error *err)
{
	static const struct cir_etcd_list how = { sizeof(struct cir_cluster_net), net_kv, cmp_net };
	void *v = NULL;
	int r = cir_etcd_list(c->etcd, NETS, &how, NULL, &v, n, rev, err);

	if (r >= 0)
		*out = v;
	return r;
}

int cir_cluster_net_delete(struct cir_cluster *c, const char *name, struct cir_error *err)
{
	_cleanup_free_ struct cir_cluster_block *b = NULL;
	struct cir_cluster_net n;
	char nkey[256], vkey[64];
	size_t nb = 0;
	int r;

	r = cir_cluster_net_get(c, name, &n, err);
	if (r < 0)
		return r;
	r = cir_cluster_blocks(c, name, &b, &nb, err);
	if (r < 0)
		return r;
	if (nb)
		return cir_err(err, EBUSY, "network %s has members on host %s (%zu address blocks "
			       "held): disconnect them first", name, b[0].host, nb);
	snprintf(nkey, sizeof(nkey), "%s%s", NETS, name);
	snprintf(vkey, sizeof(vkey), "%s%u", VNIS, n.vni);
	{
		struct cir_etcd_cmp cmp = { .key = nkey, .target = CIR_ETCD_CMP_MOD,
					    .rev = n.mod_rev };
		struct cir_etcd_op del[2] = { { .kind = CIR_ETCD_OP_DELETE, .key = nkey },
					      { .kind = CIR_ETCD_OP_DELETE, .key = vkey } };

		r = cir_etcd_txn(c->etcd, &cmp, 1, del, 2, NULL, 0, NULL, err);
	}
	if (r == 0)
		return cir_err(err, EAGAIN, "network %s changed while deleting it: try again", name);
	return r < 0 ? r : 0;
}
