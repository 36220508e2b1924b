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

/* A block's record (damaged ones skipped). */
static int block_kv(void *arg, const struct cir_etcd_kv *kv, void *rec, struct cir_error *err)
{
	struct cir_cluster_block *b = rec;
	int r = cir_cluster_block_parse(kv->key, kv->key_len, kv->value, kv->value_len, b, err);

	if (r == 0) {
		b->lease = kv->lease;
		b->mod_rev = kv->mod_rev;
	}
	return r;
}

int cir_cluster_blocks(struct cir_cluster *c, const char *network,
		       struct cir_cluster_block **out, size_t *n, struct cir_error *err)
{
	static const struct cir_etcd_list how = { sizeof(struct cir_cluster_block), block_kv,
						  cmp_block };
	char prefix[256];
	void *v = NULL;
	int r = network ? net_check(network, err) : 0;

	if (r < 0)
		return r;
	if (network)
		snprintf(prefix, sizeof(prefix), "%s%s/", BLOCKS, network);
	else
		snprintf(prefix, sizeof(prefix), "%s", BLOCKS);
	r = cir_etcd_list(c->etcd, prefix, &how, NULL, &v, n, NULL, err);
	if (r >= 0)
		*out = v;
	return r;
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

/* One claim's state across its rounds. */
struct claim {
	struct cir_cluster *c;
	const char *network;
	const struct cir_cidr *subnet;
	char sn[CIR_CIDR_STRLEN];
	unsigned int prefix;             /* of the blocks */
	uint64_t count;                  /* candidates, numbered 0 .. count - 1 */
	struct cir_cluster_block *have;  /* the network's blocks, as last read */
	size_t n;
	uint64_t *taken;                 /* candidates among them, sorted */
	size_t nt;
};

static void claim_clear(struct claim *cl)
{
	free(cl->have);
	free(cl->taken);
}

/* The block size (prefix, 0 = the default) and how many candidates. */
static int claim_size(struct claim *cl, unsigned int prefix, struct cir_error *err)
{
	const struct cir_cidr *subnet = cl->subnet;
	unsigned int bits = cir_ip_bits(subnet->ip.af), span, host, lim;

	if (!prefix)
		prefix = subnet->ip.af == AF_INET ? CIR_CLUSTER_BLOCK4 : CIR_CLUSTER_BLOCK6;
	if (prefix < subnet->prefix || prefix > bits - 2)
		return cir_err(err, EINVAL, "network %s: block size /%u does not fit %s (want /%u "
			       "to /%u)", cl->network, prefix, cl->sn, subnet->prefix, bits - 2);
	span = prefix - subnet->prefix;
	/* Candidates are numbered so that index << host bits fits cir_ip_add. */
	host = bits - prefix;
	lim = host >= 62 ? 0 : 62 - host;
	cl->count = (uint64_t)1 << (span < lim ? span : lim);
	cl->prefix = prefix;
	return 0;
}

/* Read the network's blocks and number the candidates they take;
 * -ENOSPC when they take every one. */
static int claim_read(struct claim *cl, struct cir_error *err)
{
	int r;

	free(cl->have);
	cl->have = NULL;
	r = cir_cluster_blocks(cl->c, cl->network, &cl->have, &cl->n, err);
	if (r < 0)
		return r;
	free(cl->taken);
	cl->taken = calloc(cl->n ? cl->n : 1, sizeof(*cl->taken));
	if (!cl->taken)
		return cir_err(err, ENOMEM, "out of memory");
	cl->nt = 0;
	for (size_t i = 0; i < cl->n; i++) {
		const struct cir_cidr *b = &cl->have[i].block;

		/* Blocks of another size or outside the subnet still block
		 * what they overlap: compare by overlap (claim_free). */
		if (b->ip.af == cl->subnet->ip.af && cir_cidr_contains(cl->subnet, &b->ip) &&
		    b->prefix == cl->prefix)
			cl->taken[cl->nt++] = block_index(cl->subnet, cl->prefix, b);
	}
	qsort(cl->taken, cl->nt, sizeof(*cl->taken), cmp_u64);
	if ((uint64_t)cl->nt >= cl->count)
		return cir_err(err, ENOSPC, "network %s: every /%u block of %s is taken",
			       cl->network, cl->prefix, cl->sn);
	return 0;
}

/* Whether candidate i (*b) is free by what was read. */
static bool claim_free(const struct claim *cl, uint64_t i, struct cir_cidr *b)
{
	if (bsearch(&i, cl->taken, cl->nt, sizeof(*cl->taken), cmp_u64))
		return false;
	if (block_at(cl->subnet, cl->prefix, i, b) < 0)
		return false;
	for (size_t k = 0; k < cl->n; k++)
		if (cl->have[k].block.ip.af == b->ip.af && cir_cidr_overlap(&cl->have[k].block, b))
			return false;
	return true;
}

/* Create block b's record if absent: 1 ours, 0 another host was faster. */
static int claim_try(struct claim *cl, const struct cir_cidr *b, struct cir_error *err)
{
	struct cir_cluster *c = cl->c;
	_cleanup_free_ char *val = NULL;
	char key[512];
	size_t vlen = 0;
	int r;

	block_key(key, sizeof(key), cl->network, b);
	r = block_value(c->conf.host_name, cl->network, b, &val, &vlen, err);
	if (r < 0)
		return r;
	return cir_etcd_create(c->etcd, key, val, vlen, c->lease, NULL, err);
}

/* One round over the candidates from a random start (it spreads concurrent
 * claims over the subnet), up to 16 conflicts: 1 claimed (*out), 0 when
 * others were faster (read again), -ENOSPC when nothing is free. */
static int claim_round(struct claim *cl, struct cir_cidr *out, struct cir_error *err)
{
	uint64_t start = rand64() % cl->count;
	int conflicts = 0;

	for (uint64_t step = 0; step < cl->count && conflicts < 16; step++) {
		struct cir_cidr b;
		int r;

		if (!claim_free(cl, (start + step) % cl->count, &b))
			continue;
		r = claim_try(cl, &b, err);
		if (r == 1)
			*out = b;
		if (r != 0)
			return r;
		conflicts++;    /* another host was faster: the next one */
	}
	if (conflicts == 0)
		return cir_err(err, ENOSPC, "network %s: every /%u block of %s is taken",
			       cl->network, cl->prefix, cl->sn);
	return 0;
}

int cir_cluster_block_claim(struct cir_cluster *c, const char *network,
			    const struct cir_cidr *subnet, unsigned int prefix,
			    struct cir_cidr *out, struct cir_error *err)
{
	_cleanup_(claim_clear) struct claim cl = { .c = c, .network = network, .subnet = subnet };
	int r = net_check(network, err);

	if (r < 0)
		return r;
	cir_cidr_format(subnet, cl.sn, sizeof(cl.sn));
	r = claim_size(&cl, prefix, err);
	if (r < 0)
		return r;
	/* One budget for the whole claim, however many round trips. */
	cir_etcd_set_deadline(c->etcd, c->conf.timeout_ms ? c->conf.timeout_ms
							  : CIR_ETCD_TIMEOUT_MS);
	r = cir_cluster_lease(c, err);
	for (int round = 0; r >= 0 && round < 4; round++) {
		r = claim_read(&cl, err);
		if (r >= 0)
			r = claim_round(&cl, out, err);
		if (r == 1)
			break;
		if (r >= 0 && round == 3)
			r = cir_err(err, EAGAIN, "network %s: no block claimed after 4 rounds of "
				    "conflicts: try again", network);
	}
	cir_etcd_set_deadline(c->etcd, 0);
	return r < 0 ? r : 0;
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

struct reclaim {
	struct cir_cluster *c;
	const char *name;
	int64_t lease;
	int moved;
};

/* One block of host rc->name held on another lease: onto rc->lease, if
 * nobody changed it since it was read. */
static int reclaim_kv(void *arg, const struct cir_etcd_kv *kv, struct cir_error *err)
{
	struct reclaim *rc = arg;
	struct cir_error e2 = CIR_ERROR_INIT;
	struct cir_cluster_block b;
	struct cir_etcd_cmp cmp = { .key = kv->key, .target = CIR_ETCD_CMP_MOD, .rev = kv->mod_rev };
	struct cir_etcd_op put = { .kind = CIR_ETCD_OP_PUT, .key = kv->key, .value = kv->value,
				   .vlen = kv->value_len, .lease = rc->lease };
	int r;

	if (cir_cluster_block_parse(kv->key, kv->key_len, kv->value, kv->value_len, &b, &e2) < 0 ||
	    strcmp(b.host, rc->name) != 0 || kv->lease == rc->lease)
		return 0;
	r = cir_etcd_txn(rc->c->etcd, &cmp, 1, &put, 1, NULL, 0, NULL, err);
	if (r == 1)
		rc->moved++;
	return r;
}

int cir_cluster_blocks_reclaim(struct cir_cluster *c, const char *name, int64_t lease,
			       struct cir_error *err)
{
	struct reclaim rc = { c, name, lease, 0 };
	int r = cir_etcd_range_prefix(c->etcd, BLOCKS, reclaim_kv, &rc, NULL, err);

	return r < 0 ? r : rc.moved;
}
