// SPDX-License-Identifier: Apache-2.0
/*
 * cni_conf.c - a plugin's stdin: the CNI network configuration with its
 * prevResult, runtimeConfig, args and ipam section, parsed the way Circuit's
 * plugins parse it (cir_cni_conf_parse, then circuit-ipam, circuit-bridge,
 * circuit-qos, circuit-lb, circuit-portmap and circuit-ovs's own keys).  Checks: errors carry a message;
 * a parsed prevResult emits and parses back to the same struct in every
 * version that keeps its fields; a parsed ipam config is canonical and its
 * allocator walk stays inside its ranges; every dataDir goes through the
 * store's policy (cir_store_data_dir_check, never creating).
 */
#include <errno.h>

#include "bridge/bridge.h"
#include "cni.h"
#include "fuzz.h"
#include "ipam.h"
#include "ipam_cni.h"
#include "lb/chain.h"
#include "ovs/plugin.h"
#include "portmap/plugin.h"
#include "qos.h"
#include "qos/plugin.h"
#include "qosnet.h"
#include "result.h"
#include "store.h"

static int count_attachment(const char *cid, const char *ifname, void *arg)
{
	FUZZ_CHECK(cid && ifname);
	++*(size_t *)arg;
	return 0;
}

/* The allocator's walk over a parsed range set: every candidate lies in
 * one of its ranges and is not a gateway; a bounded number of steps. */
static void ipam_walk(const struct cir_ipam_config *cfg)
{
	for (size_t s = 0; s < cfg->n; s++) {
		const struct cir_ipam_rangeset *set = &cfg->sets[s];
		struct cir_ipam_iter it;
		struct cir_ip ip, last = set->r[set->n - 1].end;

		cir_ipam_iter_init(&it, set, s % 2 ? &last : NULL);
		for (int k = 0; k < 64 && cir_ipam_iter_next(&it, &ip); k++) {
			int ri = cir_ipam_set_find(set, &ip);

			FUZZ_CHECK(ri >= 0);
			FUZZ_CHECK(!cir_ip_eq(&ip, &set->r[ri].gateway));
			FUZZ_CHECK(cir_cidr_contains(&set->r[ri].subnet, &ip));
		}
	}
}

/* A config's dataDir goes through the store's policy (never creating). */
static void data_dir(const char *dir)
{
	struct cir_error err = CIR_ERROR_INIT;
	int r = cir_store_data_dir_check(dir, false, &err);

	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(!dir || !*dir || dir[0] == '/');
}

static void plugin_keys(const struct cir_cni_conf *conf)
{
	struct cir_cni_env env = { .cmd = CIR_CNI_CMD_ADD, .containerid = "c1", .ifname = "eth0",
				   .netns = "/proc/self/ns/net", .args = "IgnoreUnknown=1;IP=10.1.0.9" };
	struct cir_ipam_cni_conf *ic = malloc(sizeof(*ic));
	struct cir_error err = CIR_ERROR_INIT;
	struct bridge_conf bc;
	struct ovs_conf oc;
	struct cir_qos_dirs qc;
	struct lb_conf *lc = malloc(sizeof(*lc));
	size_t n = 0;
	char fmt[256];
	int r;

	FUZZ_CHECK(ic && lc);
	r = cir_ipam_cni_parse(conf, &env, ic, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		struct cir_ipam_config again = ic->cfg;

		FUZZ_CHECK(ic->cfg.n >= 1 && ic->cfg.n <= CIR_IPAM_MAX_SETS);
		FUZZ_CHECK(ic->n_req <= CIR_IPAM_MAX_SETS);
		FUZZ_CHECK(cir_ipam_config_check(&again, &err) == 0);
		FUZZ_CHECK(memcmp(&again, &ic->cfg, sizeof(again)) == 0);
		ipam_walk(&ic->cfg);
		data_dir(ic->data_dir);
	}
	cir_err_clear(&err);
	env.args = NULL;
	r = cir_ipam_cni_parse(conf, &env, ic, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);

	cir_err_clear(&err);
	r = bridge_conf_parse(conf, &bc, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(bc.bridge[0] && strlen(bc.bridge) < CIR_IFNAMSIZ);
	if (r >= 0)
		data_dir(bc.v.data_dir);

	cir_err_clear(&err);
	r = ovs_conf_parse(conf, &oc, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(oc.bridge[0] && strlen(oc.bridge) < CIR_IFNAMSIZ && oc.vlan < 4095 &&
			   (!oc.ovsdb || oc.ovsdb[0] == '/'));
	if (r >= 0)
		data_dir(oc.v.data_dir);

	for (int i = 0; i < 2; i++) {
		cir_err_clear(&err);
		r = cir_qos_entry_for_container(conf, i ? "c1" : NULL, &qc, &err);
		if (r < 0) {
			FUZZ_CHECK_ERR(r, &err);
			continue;
		}
		FUZZ_CHECK(cir_qos_validate(&qc.ingress, &err) == 0);
		FUZZ_CHECK(cir_qos_validate(&qc.egress, &err) == 0);
		cir_qos_format(&qc.ingress, fmt, sizeof(fmt));
		cir_qos_format(&qc.egress, fmt, sizeof(fmt));
	}

	cir_err_clear(&err);
	r = lb_conf_parse(conf, lc, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(lc->n_joins <= LB_JOINS_MAX);
	if (r >= 0)
		data_dir(lc->data_dir);

	cir_err_clear(&err);
	{
		struct portmap_conf pc;

		r = portmap_conf_parse(conf, &pc, &err);
		if (r < 0) {
			FUZZ_CHECK_ERR(r, &err);
		} else {
			FUZZ_CHECK(pc.n <= CIR_PORTMAP_MAX);
			for (size_t i = 0; i < pc.n; i++)
				FUZZ_CHECK(pc.m[i].host_port && pc.m[i].container_port);
			data_dir(pc.data_dir);
			portmap_conf_free(&pc);
		}
	}

	cir_err_clear(&err);
	r = cir_cni_valid_attachments(conf, count_attachment, &n, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	(void)cir_cni_gc_keep_live(conf);
	free(lc);
	free(ic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_conf conf;
	int r;

	/* VERSION reads cniVersion only; every other command the whole. */
	r = cir_cni_conf_parse((const char *)data, size, CIR_CNI_CMD_VERSION, &conf, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		cir_cni_conf_free(&conf);

	cir_err_clear(&err);
	r = cir_cni_conf_parse((const char *)data, size, CIR_CNI_CMD_ADD, &conf, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
		return 0;
	}
	FUZZ_CHECK(cir_cni_version_supported(conf.cni_version));
	FUZZ_CHECK(conf.name && cir_cni_check_network_name(conf.name, &err) == 0);
	FUZZ_CHECK(conf.raw_len == size && memcmp(conf.raw, data, size) == 0);
	FUZZ_CHECK(!conf.ipam_type || conf.ipam);
	if (conf.has_prev_result)
		result_roundtrip(&conf.prev_result);
	plugin_keys(&conf);
	cir_cni_conf_free(&conf);
	return 0;
}
