// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_ipam.c - address blocks of cluster networks in etcd: claim (a
 * create-if-absent transaction attached to the host's lease), free,
 * list, and take over on restart.  spec/cluster.md "Block claims".
 *
 * Key: /circuit/v1/blocks/NETWORK/ADDR-PREFIX ("10.128.0.64-26"); value
 * {"host":NAME,"network":NETWORK,"block":"10.128.0.64/26"}; lease: the
 * host's.  etcd guarantees the rest: a key that exists cannot be created
 * again (so no block is ever held twice), and a lease that expires takes
 * its keys with it (so a dead host's blocks come free after its TTL, and
 * never before).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "cluster.h"
#include "cni.h"
#include "json.h"

#define BLOCKS CIR_CLUSTER_PREFIX "blocks/"

static int net_check(const char *network, struct cir_error *err)
{
	int r = cir_cni_check_network_name(network, err);

	if (r >= 0 && strlen(network) >= sizeof(((struct cir_cluster_block *)0)->network))
		r = cir_err(err, EINVAL, "network name longer than %zu bytes",
			    sizeof(((struct cir_cluster_block *)0)->network) - 1);
	return r;
}

static void block_key(char *buf, size_t size, const char *network, const struct cir_cidr *b)
{
	char a[CIR_IP_STRLEN];

	cir_ip_format(&b->ip, a, sizeof(a));
	snprintf(buf, size, "%s%s/%s-%u", BLOCKS, network, a, b->prefix);
}

int cir_cluster_block_parse(const char *key, size_t klen, const char *value, size_t vlen,
			    struct cir_cluster_block *out, struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	struct cir_cluster_block b = { 0 };
	const char *host = NULL, *net = NULL, *blk = NULL, *slash, *k = key + strlen(BLOCKS);
	char want[512];
	int r;

	if (klen != strlen(key) || klen <= strlen(BLOCKS) || strncmp(key, BLOCKS, strlen(BLOCKS)))
		return cir_err(err, EBADMSG, "block record: bad key");
	slash = strchr(k, '/');
	if (!slash || (size_t)(slash - k) >= sizeof(b.network))
		return cir_err(err, EBADMSG, "block record: bad key");
	r = cir_json_parse(value, vlen, &j, err);
	if (r < 0)
		return cir_err(err, EBADMSG, "block record: %s", err->msg);
	if (cir_json_str(cir_json_root(j), "host", &host, err) <= 0 ||
	    cir_json_str(cir_json_root(j), "network", &net, err) <= 0 ||
	    cir_json_str(cir_json_root(j), "block", &blk, err) <= 0)
		return cir_err(err, EBADMSG, "block record: want host, network and block strings");
	if (!cir_cluster_name_valid(host) || strlen(net) != (size_t)(slash - k) ||
	    strncmp(net, k, (size_t)(slash - k)) != 0)
		return cir_err(err, EBADMSG, "block record: bad host or network");
	if (cir_cidr_parse(blk, CIR_CIDR_NETWORK, &b.block, err) < 0)
		return cir_err(err, EBADMSG, "block record: bad block");
	/* The key says the same block as the value. */
	block_key(want, sizeof(want), net, &b.block);
	if (strcmp(want, key) != 0)
		return cir_err(err, EBADMSG, "block record: key and block differ");
	memcpy(b.network, net, (size_t)(slash - k));
	strcpy(b.host, host);
	*out = b;
	return 0;
}

static int block_value(const char *host, const char *network, const struct cir_cidr *b,
		       char **out, size_t *len, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	char s[CIR_CIDR_STRLEN];
	int r = cir_jgen_new(&g, false, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "host", host);
	cir_jgen_kstr(g, "network", network);
	cir_jgen_kstr(g, "block", cir_cidr_format(b, s, sizeof(s)));
	cir_jgen_map_close(g);
	r = cir_jgen_finish_dup(g, out, err);
	if (r >= 0)
		*len = strlen(*out);
	return r;
}

static int cmp_block(const void *a, const void *b)
{
	const struct cir_cluster_block *x = a, *y = b;
	int c = strcmp(x->network, y->network);

	return c ? c : cir_ip_cmp(&x->block.ip, &y->block.ip);
}

/* Range prefix into parsed blocks (damaged records skipped). */
static int blocks_get(struct cir_cluster *c, const char *prefix, struct cir_cluster_block **out,
		      size_t *n, struct cir_error *err)
{
	struct cir_etcd_resp resp = { 0 };
	_cleanup_free_ struct cir_cluster_block *v = NULL;
	size_t k = 0;
	int r = cir_etcd_get(c->etcd, prefix, true, &resp, err);

	if (r < 0)
		return r;
	v = calloc(resp.nkvs ? resp.nkvs : 1, sizeof(*v));
	if (!v) {
		cir_etcd_resp_free(&resp);
		return cir_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < resp.nkvs; i++) {
		struct cir_error e2 = CIR_ERROR_INIT;
		const struct cir_etcd_kv *kv = &resp.kvs[i];

		if (cir_cluster_block_parse(kv->key, kv->key_len, kv->value, kv->value_len, &v[k],
					    &e2) == 0) {
			v[k].lease = kv->lease;
			v[k].mod_rev = kv->mod_rev;
			k++;
		}
	}
	cir_etcd_resp_free(&resp);
	qsort(v, k, sizeof(*v), cmp_block);
	*out = TAKE_PTR(v);
	*n = k;
	return 0;
}

int cir_cluster_blocks(struct cir_cluster *c, const char *network,
		       struct cir_cluster_block **out, size_t *n, struct cir_error *err)
{
	char prefix[256];

	if (network) {
		int r = net_check(network, err);

		if (r < 0)
			return r;
		snprintf(prefix, sizeof(prefix), "%s%s/", BLOCKS, network);
	} else {
		snprintf(prefix, sizeof(prefix), "%s", BLOCKS);
	}
	return blocks_get(c, prefix, out, n, err);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rand64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint64_t)random() << 32 ^ (uint64_t)random();
	return v;
}

/* Block index i of subnet at prefix p: *out. */
static int block_at(const struct cir_cidr *subnet, unsigned int p, uint64_t i,
		    struct cir_cidr *out)
{
	unsigned int host = cir_ip_bits(subnet->ip.af) - p;
	struct cir_ip base;

	cir_cidr_network(subnet, &base);
	if (host >= 63 || i > (uint64_t)INT64_MAX >> host)
		return -ERANGE;
	out->prefix = p;
	return cir_ip_add(&base, (int64_t)(i << host), &out->ip);
}

/* Index of block b inside subnet at prefix p (b is inside). */
static uint64_t block_index(const struct cir_cidr *subnet, unsigned int p,
			    const struct cir_cidr *b)
{
	uint64_t v = 0;

	/* The address bits between the two prefixes, most significant first
	 * (only the low 64 survive: enough for every index we number). */
	for (unsigned int i = subnet->prefix; i < p; i++)
		v = v << 1 | ((b->ip.addr[i / 8] >> (7 - i % 8)) & 1);
	return v;
}

int cir_cluster_block_claim(struct cir_cluster *c, const char *network,
			    const struct cir_cidr *subnet, unsigned int prefix,
			    struct cir_cidr *out, struct cir_error *err)
{
	_cleanup_free_ struct cir_cluster_block *have = NULL;
	_cleanup_free_ uint64_t *taken = NULL;
	char sn[CIR_CIDR_STRLEN], prefix_key[256];
	unsigned int bits = cir_ip_bits(subnet->ip.af), span;

	uint64_t count;
	size_t n = 0, nt = 0;
	int r;

	r = net_check(network, err);
	if (r < 0)
		return r;
	cir_cidr_format(subnet, sn, sizeof(sn));
	if (!prefix)
		prefix = subnet->ip.af == AF_INET ? CIR_CLUSTER_BLOCK4 : CIR_CLUSTER_BLOCK6;
	if (prefix < subnet->prefix || prefix > bits - 2)
		return cir_err(err, EINVAL, "network %s: block size /%u does not fit %s (want /%u "
			       "to /%u)", network, prefix, sn, subnet->prefix, bits - 2);
	span = prefix - subnet->prefix;
	/* Candidates are numbered so that index << host bits fits cir_ip_add. */
	{
		unsigned int host = bits - prefix, lim = host >= 62 ? 0 : 62 - host;

		count = (uint64_t)1 << (span < lim ? span : lim);
	}
	/* One budget for the whole claim, however many round trips. */
	cir_etcd_set_deadline(c->etcd, c->conf.timeout_ms ? c->conf.timeout_ms
							  : CIR_ETCD_TIMEOUT_MS);
	r = cir_cluster_lease(c, err);
	if (r < 0)
		goto out;
	snprintf(prefix_key, sizeof(prefix_key), "%s%s/", BLOCKS, network);
	for (int round = 0; round < 4; round++) {
		uint64_t start;
		int conflicts = 0;

		free(have);
		have = NULL;
		r = blocks_get(c, prefix_key, &have, &n, err);
		if (r < 0)
			goto out;
		free(taken);
		taken = calloc(n ? n : 1, sizeof(*taken));
		if (!taken) {
			r = cir_err(err, ENOMEM, "out of memory");
			goto out;
		}
		nt = 0;
		for (size_t i = 0; i < n; i++) {
			/* Blocks of another size or outside the subnet still
			 * block what they overlap: compare by overlap below. */
			if (have[i].block.ip.af == subnet->ip.af &&
			    cir_cidr_contains(subnet, &have[i].block.ip) &&
			    have[i].block.prefix == prefix)
				taken[nt++] = block_index(subnet, prefix, &have[i].block);
		}
		qsort(taken, nt, sizeof(*taken), cmp_u64);
		if ((uint64_t)nt >= count) {
			r = cir_err(err, ENOSPC, "network %s: every /%u block of %s is taken",
				    network, prefix, sn);
			goto out;
		}
		/* A random start spreads concurrent claims over the subnet;
		 * then the next free index from there on. */
		start = rand64() % count;
		for (uint64_t step = 0; step < count && conflicts < 16; step++) {
			uint64_t i = (start + step) % count;
			struct cir_cidr b;
			_cleanup_free_ char *val = NULL;
			char key[512];
			size_t vlen = 0;
			bool overlaps = false;

			if (bsearch(&i, taken, nt, sizeof(*taken), cmp_u64))
				continue;
			if (block_at(subnet, prefix, i, &b) < 0)
				continue;
			for (size_t k = 0; k < n && !overlaps; k++)
				overlaps = have[k].block.ip.af == b.ip.af &&
					   cir_cidr_overlap(&have[k].block, &b);
			if (overlaps)
				continue;
			block_key(key, sizeof(key), network, &b);
			r = block_value(c->conf.host_name, network, &b, &val, &vlen, err);
			if (r < 0)
				goto out;
			r = cir_etcd_create(c->etcd, key, val, vlen, c->lease, NULL, err);
			if (r < 0)
				goto out;
			if (r == 1) {
				*out = b;
				r = 0;
				goto out;
			}
			conflicts++;    /* another host was faster: the next one */
		}
		if (conflicts == 0) {
			r = cir_err(err, ENOSPC, "network %s: every /%u block of %s is taken",
				    network, prefix, sn);
			goto out;
		}
	}
	r = cir_err(err, EAGAIN, "network %s: no block claimed after 4 rounds of conflicts: "
		    "try again", network);
out:
	cir_etcd_set_deadline(c->etcd, 0);
	return r;
}

int cir_cluster_block_take(struct cir_cluster *c, const char *network,
			   const struct cir_cidr *block, char *holder, size_t hsize,
			   struct cir_error *err)
{
	struct cir_etcd_resp cur = { 0 };
	_cleanup_free_ char *val = NULL;
	char key[512];
	size_t vlen = 0;
	int r = net_check(network, err);

	if (r < 0)
		return r;
	r = cir_cluster_lease(c, err);
	if (r < 0)
		return r;
	block_key(key, sizeof(key), network, block);
	r = block_value(c->conf.host_name, network, block, &val, &vlen, err);
	if (r < 0)
		return r;
	r = cir_etcd_create(c->etcd, key, val, vlen, c->lease, &cur, err);
	if (r == 0) {
		struct cir_cluster_block b;
		struct cir_error e2 = CIR_ERROR_INIT;

		snprintf(holder, hsize, "?");
		if (cur.nkvs && cir_cluster_block_parse(cur.kvs[0].key, cur.kvs[0].key_len,
							cur.kvs[0].value, cur.kvs[0].value_len, &b,
							&e2) == 0)
			snprintf(holder, hsize, "%s", b.host);
		/* Ours after all (a take-over raced with this): kept. */
		if (strcmp(holder, c->conf.host_name) == 0)
			r = 1;
	}
	cir_etcd_resp_free(&cur);
	return r;
}

int cir_cluster_block_free(struct cir_cluster *c, const char *network,
			   const struct cir_cidr *block, struct cir_error *err)
{
	struct cir_etcd_resp cur = { 0 };
	struct cir_cluster_block b;
	char key[512], bs[CIR_CIDR_STRLEN];
	int r = net_check(network, err);

	if (r < 0)
		return r;
	cir_cidr_format(block, bs, sizeof(bs));
	block_key(key, sizeof(key), network, block);
	r = cir_etcd_get(c->etcd, key, false, &cur, err);
	if (r < 0)
		return r;
	if (!cur.nkvs) {
		cir_etcd_resp_free(&cur);
		return 0;
	}
	r = cir_cluster_block_parse(cur.kvs[0].key, cur.kvs[0].key_len, cur.kvs[0].value,
				    cur.kvs[0].value_len, &b, err);
	if (r >= 0 && strcmp(b.host, c->conf.host_name) != 0)
		r = cir_err(err, EPERM, "network %s: block %s belongs to host %s", network, bs,
			    b.host);
	if (r >= 0) {
		struct cir_etcd_cmp cmp = { .key = key, .target = CIR_ETCD_CMP_MOD,
					    .rev = cur.kvs[0].mod_rev };
		struct cir_etcd_op del = { .kind = CIR_ETCD_OP_DELETE, .key = key };

		r = cir_etcd_txn(c->etcd, &cmp, 1, &del, 1, NULL, 0, NULL, err);
		if (r == 0)
			r = cir_err(err, EAGAIN, "network %s: block %s changed while freeing it: "
				    "try again", network, bs);
	}
	cir_etcd_resp_free(&cur);
	return r < 0 ? r : 1;
}

int cir_cluster_blocks_reclaim(struct cir_cluster *c, const char *name, int64_t lease,
			       struct cir_error *err)
{
	struct cir_etcd_resp resp = { 0 };
	int r, moved = 0;

	r = cir_etcd_get(c->etcd, BLOCKS, true, &resp, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < resp.nkvs && r >= 0; i++) {
		const struct cir_etcd_kv *kv = &resp.kvs[i];
		struct cir_error e2 = CIR_ERROR_INIT;
		struct cir_cluster_block b;

		if (cir_cluster_block_parse(kv->key, kv->key_len, kv->value, kv->value_len, &b,
					    &e2) < 0 ||
		    strcmp(b.host, name) != 0 || kv->lease == lease)
			continue;
		{
			struct cir_etcd_cmp cmp = { .key = kv->key, .target = CIR_ETCD_CMP_MOD,
						    .rev = kv->mod_rev };
			struct cir_etcd_op put = { .kind = CIR_ETCD_OP_PUT, .key = kv->key,
						   .value = kv->value, .vlen = kv->value_len,
						   .lease = lease };

			r = cir_etcd_txn(c->etcd, &cmp, 1, &put, 1, NULL, 0, NULL, err);
			if (r == 1)
				moved++;
		}
	}
	cir_etcd_resp_free(&resp);
	return r < 0 ? r : moved;
}
