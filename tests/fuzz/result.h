/* SPDX-License-Identifier: Apache-2.0 */
/*
 * result.h - CNI result checks shared by the cni_conf and cni_result
 * harnesses (header only, like fuzz.h).
 */
#ifndef CIR_FUZZ_RESULT_H
#define CIR_FUZZ_RESULT_H

#include "cni.h"
#include "fuzz.h"

static inline bool result_eq(const struct cir_cni_result *a, const struct cir_cni_result *b, bool mtu)
{
	if (a->n_ifaces != b->n_ifaces || a->n_ips != b->n_ips || a->n_routes != b->n_routes)
		return false;
	for (size_t i = 0; i < a->n_ifaces; i++) {
		const struct cir_cni_iface *x = &a->ifaces[i], *y = &b->ifaces[i];

		if (strcmp(x->name, y->name) || strcmp(x->mac, y->mac) ||
		    strcmp(x->sandbox, y->sandbox) || (mtu && x->mtu != y->mtu))
			return false;
	}
	for (size_t i = 0; i < a->n_ips; i++) {
		const struct cir_cni_ip *x = &a->ips[i], *y = &b->ips[i];

		if (strcmp(x->address, y->address) || strcmp(x->gateway, y->gateway) ||
		    x->iface != y->iface)
			return false;
	}
	for (size_t i = 0; i < a->n_routes; i++)
		if (strcmp(a->routes[i].dst, b->routes[i].dst) ||
		    strcmp(a->routes[i].gw, b->routes[i].gw))
			return false;
	if (a->dns.n_nameservers != b->dns.n_nameservers || a->dns.n_search != b->dns.n_search ||
	    a->dns.n_options != b->dns.n_options || strcmp(a->dns.domain, b->dns.domain))
		return false;
	for (size_t i = 0; i < a->dns.n_nameservers; i++)
		if (strcmp(a->dns.nameservers[i], b->dns.nameservers[i]))
			return false;
	for (size_t i = 0; i < a->dns.n_search; i++)
		if (strcmp(a->dns.search[i], b->dns.search[i]))
			return false;
	for (size_t i = 0; i < a->dns.n_options; i++)
		if (strcmp(a->dns.options[i], b->dns.options[i]))
			return false;
	return true;
}

/* prevResult -> JSON of each version -> parsed again: the same result. */
static inline void result_roundtrip(const struct cir_cni_result *res)
{
	for (size_t v = 0; cir_cni_versions[v]; v++) {
		struct cir_error err = CIR_ERROR_INIT;
		struct cir_jgen *g = NULL;
		struct cir_json *j = NULL;
		struct cir_cni_result *back = malloc(sizeof(*back));
		const char *out = NULL;

		FUZZ_CHECK(back);
		/* A parsed result holds valid UTF-8 only: it always emits. */
		FUZZ_CHECK(cir_cni_result_format(res, cir_cni_versions[v], &g, &out, &err) == 0);
		FUZZ_CHECK(cir_json_parse(out, strlen(out), &j, &err) == 0);
		FUZZ_CHECK(cir_cni_result_parse(cir_json_root(j), back, &err) == 0);
		FUZZ_CHECK(result_eq(res, back,
				     cir_cni_version_cmp(cir_cni_versions[v], "1.0.0") >= 0));
		cir_json_free(j);
		cir_jgen_free(g);
		free(back);
	}
}

#endif
