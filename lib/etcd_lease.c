// SPDX-License-Identifier: Apache-2.0
/*
 * etcd_lease.c - etcd leases: grant, one keep-alive, time-to-live and
 * revoke (the /v3/lease/ calls).
 */
#include <errno.h>
#include <inttypes.h>

#include "cleanup.h"
#include "etcd_int.h"

static int lease_call(struct cir_etcd *e, enum cir_etcd_kind kind, const char *path,
		      int64_t id, int64_t ttl, struct cir_etcd_resp *out, struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r = cir_etcd_gen_new(&g, err);

	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	if (kind == CIR_ETCD_LEASE_GRANT) {
		cir_etcd_gen_i64(g, "TTL", ttl);
	} else {
		cir_etcd_gen_i64(g, "ID", id);
	}
	cir_jgen_map_close(g);
	return cir_etcd_call(e, kind, path, g, out, err);
}

int cir_etcd_lease_grant(struct cir_etcd *e, int64_t ttl, int64_t *id, int64_t *granted,
			 struct cir_error *err)
{
	struct cir_etcd_resp r = { 0 };
	int rc;

	if (ttl < 1 || ttl > 1000000)
		return cir_err(err, EINVAL, "lease TTL %" PRId64 ": want 1 to 1000000 seconds", ttl);
	rc = lease_call(e, CIR_ETCD_LEASE_GRANT, "/v3/lease/grant", 0, ttl, &r, err);
	if (rc < 0)
		return rc;
	*id = r.lease_id;
	if (granted)
		*granted = r.ttl;
	cir_etcd_resp_free(&r);
	return 0;
}

int cir_etcd_lease_keepalive(struct cir_etcd *e, int64_t id, int64_t *ttl,
			     struct cir_error *err)
{
	struct cir_etcd_resp r = { 0 };
	int rc = lease_call(e, CIR_ETCD_LEASE_KEEPALIVE, "/v3/lease/keepalive", id, 0, &r, err);

	if (rc < 0)
		return rc;
	/* The gateway answers an expired lease with TTL 0 (left out). */
	if (r.ttl <= 0 || r.lease_id != id)
		return cir_err(err, ENOENT, "etcd %s: lease %" PRIx64 " expired",
			       cir_etcd_endpoint(e), id);
	*ttl = r.ttl;
	return 0;
}

int cir_etcd_lease_ttl(struct cir_etcd *e, int64_t id, int64_t *ttl, int64_t *granted,
		       struct cir_error *err)
{
	struct cir_etcd_resp r = { 0 };
	int rc = lease_call(e, CIR_ETCD_LEASE_TTL, "/v3/lease/timetolive", id, 0, &r, err);

	if (rc < 0)
		return rc;
	if (r.ttl < 0)
		return cir_err(err, ENOENT, "etcd %s: lease %" PRIx64 " does not exist",
			       cir_etcd_endpoint(e), id);
	*ttl = r.ttl;
	if (granted)
		*granted = r.granted_ttl;
	return 0;
}

int cir_etcd_lease_revoke(struct cir_etcd *e, int64_t id, struct cir_error *err)
{
	struct cir_etcd_resp r = { 0 };
	int rc = lease_call(e, CIR_ETCD_LEASE_REVOKE, "/v3/lease/revoke", id, 0, &r, err);

	cir_etcd_resp_free(&r);
	if (rc == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return rc;
}
