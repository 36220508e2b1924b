// SPDX-License-Identifier: Apache-2.0
/*
 * etcd_resp.c - what an etcd member (or anything answering on its port)
 * sends back through the v3 JSON gateway: the first byte picks the kind of
 * response (range, put, txn, deleterange, lease grant/keepalive/timetolive/
 * revoke, one watch message), the rest is its body (cir_etcd_parse).  Also
 * strict base64 both ways.  Checks: an error has a message; a parsed
 * response has keys within CIR_ETCD_KEY_MAX, values within
 * CIR_ETCD_VALUE_MAX (NUL-terminated at their length), non-negative
 * revisions and leases, a granted lease with a positive ID and TTL.  Each
 * key and value returned is also read as a member record
 * (cir_cluster_member_parse): parsed, its MAC is empty or a unicast
 * address, at most CIR_CLUSTER_MEMBER_ADDRS addresses.
 */
#include <errno.h>
#include <stdint.h>

#include "cluster_members.h"
#include "etcd.h"
#include "fuzz.h"

static void base64(const uint8_t *data, size_t size)
{
	char *enc = cir_base64_encode(data, size), *dec = NULL;
	size_t n = 0;

	FUZZ_CHECK(enc);
	FUZZ_CHECK(cir_base64_decode(enc, strlen(enc), size, &dec, &n) == 0);
	FUZZ_CHECK(n == size && memcmp(dec, data, size) == 0 && dec[n] == '\0');
	free(dec);
	free(enc);
	dec = NULL;
	if (cir_base64_decode((const char *)data, size, 1024, &dec, &n) == 0) {
		/* What decodes re-encodes to the same text (canonical only). */
		enc = cir_base64_encode(dec, n);
		FUZZ_CHECK(enc && strlen(enc) == size && memcmp(enc, data, size) == 0);
		free(enc);
		free(dec);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_etcd_resp r;
	enum cir_etcd_kind kind;
	int rc;

	if (size < 1)
		return 0;
	base64(data, size);
	kind = (enum cir_etcd_kind)(data[0] % CIR_ETCD_KINDS);
	memset(&r, 0x5a, sizeof(r));
	rc = cir_etcd_parse(kind, (const char *)data + 1, size - 1, &r, &err);
	if (rc < 0) {
		FUZZ_CHECK_ERR(rc, &err);
		return 0;
	}
	FUZZ_CHECK(r.revision >= 0 && r.count >= 0 && r.deleted >= 0);
	for (size_t i = 0; i < r.nkvs; i++) {
		const struct cir_etcd_kv *kv = &r.kvs[i];

		FUZZ_CHECK(kv->key && kv->key_len > 0 && kv->key_len <= CIR_ETCD_KEY_MAX);
		FUZZ_CHECK(kv->key[kv->key_len] == '\0');
		FUZZ_CHECK(kv->value && kv->value_len <= CIR_ETCD_VALUE_MAX);
		FUZZ_CHECK(kv->value[kv->value_len] == '\0');
		FUZZ_CHECK(kv->create_rev >= 0 && kv->mod_rev >= 0 && kv->version >= 0 &&
			   kv->lease >= 0);
		FUZZ_CHECK(!kv->deleted || kind == CIR_ETCD_WATCH);
		{
			struct cir_error e2 = CIR_ERROR_INIT;
			struct cir_cluster_member m;
			unsigned char mac[6];
			int mr = cir_cluster_member_parse(kv->key, kv->key_len, kv->value,
							  kv->value_len, &m, &e2);

			if (mr < 0)
				FUZZ_CHECK_ERR(mr, &e2);
			else
				FUZZ_CHECK(m.naddrs <= CIR_CLUSTER_MEMBER_ADDRS &&
					   (!m.mac[0] || cir_cluster_mac_parse(m.mac, mac)));
		}
	}
	if (kind == CIR_ETCD_LEASE_GRANT)
		FUZZ_CHECK(r.lease_id > 0 && r.ttl > 0);
	if (kind == CIR_ETCD_LEASE_TTL)
		FUZZ_CHECK(r.ttl >= -1);
	else
		FUZZ_CHECK(r.ttl >= 0);
	cir_etcd_resp_free(&r);
	FUZZ_CHECK(r.kvs == NULL && r.nkvs == 0);
	return 0;
}
