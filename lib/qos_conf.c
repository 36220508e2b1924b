// SPDX-License-Identifier: Apache-2.0
/*
 * qos_conf.c - the pure side of Circuit's shaping settings: checks and
 * comparison of a struct cir_qos, and its JSON settings objects (CNI
 * config, the CLI's records), for one direction or both.  No kernel here
 * (lib/qos.c), no text parsing (lib/qos_parse.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "qos.h"
#include "tc.h"

/* ---- pure helpers ------------------------------------------------------ */

bool cir_qos_is_empty(const struct cir_qos *q)
{
	return !q->rate_kbit && !q->ceil_kbit && !q->burst_bytes && !cir_qos_has_netem(q) &&
	       !q->loss_corr_ppm;
}

bool cir_qos_has_netem(const struct cir_qos *q)
{
	return q->delay_us || q->jitter_us || q->loss_ppm;
}

uint32_t cir_qos_ppm_to_prob(uint32_t ppm)
{
	if (ppm >= CIR_QOS_PPM)
		return UINT32_MAX;
	return (uint32_t)(((uint64_t)ppm * UINT32_MAX + CIR_QOS_PPM / 2) / CIR_QOS_PPM);
}

uint32_t cir_qos_prob_to_ppm(uint32_t prob)
{
	return (uint32_t)(((uint64_t)prob * CIR_QOS_PPM + UINT32_MAX / 2) / UINT32_MAX);
}

int cir_qos_validate(const struct cir_qos *q, struct cir_error *err)
{
	if (q->rate_kbit > CIR_QOS_RATE_MAX_KBIT || q->ceil_kbit > CIR_QOS_RATE_MAX_KBIT)
		return cir_err(err, ERANGE, "rate and ceil must be at most %llukbit",
			       (unsigned long long)CIR_QOS_RATE_MAX_KBIT);
	if (q->ceil_kbit && !q->rate_kbit)
		return cir_err(err, EINVAL, "ceil needs a rate");
	if (q->ceil_kbit && q->ceil_kbit < q->rate_kbit)
		return cir_err(err, EINVAL, "ceil %llukbit is below rate %llukbit",
			       (unsigned long long)q->ceil_kbit, (unsigned long long)q->rate_kbit);
	if (q->burst_bytes && !q->rate_kbit)
		return cir_err(err, EINVAL, "burst needs a rate");
	if (q->burst_bytes > CIR_QOS_BURST_MAX)
		return cir_err(err, ERANGE, "burst must be at most %u bytes", CIR_QOS_BURST_MAX);
	/* The kernel keeps the burst as its transmit time at rate. */
	if (q->burst_bytes &&
	    (uint64_t)q->burst_bytes * 1000000 / (q->rate_kbit * CIR_QOS_KBIT_BYTES) > CIR_TC_BURST_MAX_US)
		return cir_err(err, ERANGE, "burst %u bytes takes more than %us at rate %llukbit",
			       q->burst_bytes, CIR_TC_BURST_MAX_US / 1000000,
			       (unsigned long long)q->rate_kbit);
	if (q->delay_us > CIR_QOS_DELAY_MAX_US || q->jitter_us > CIR_QOS_DELAY_MAX_US)
		return cir_err(err, ERANGE, "delay and jitter must be at most %us",
			       CIR_QOS_DELAY_MAX_US / 1000000);
	if (q->jitter_us && !q->delay_us)
		return cir_err(err, EINVAL, "jitter needs a delay");
	if (q->loss_ppm > CIR_QOS_PPM || q->loss_corr_ppm > CIR_QOS_PPM)
		return cir_err(err, ERANGE, "loss and its correlation must be at most 100%%");
	if (q->loss_corr_ppm && !q->loss_ppm)
		return cir_err(err, EINVAL, "loss correlation needs a loss");
	return 0;
}

static bool within(uint64_t want, uint64_t have, uint64_t slack)
{
	uint64_t d = want > have ? want - have : have - want;

	return d <= slack;
}

bool cir_qos_matches(const struct cir_qos *want, const struct cir_qos *have)
{
	uint64_t wceil = want->ceil_kbit ? want->ceil_kbit : want->rate_kbit;
	uint64_t hceil = have->ceil_kbit ? have->ceil_kbit : have->rate_kbit;

	return within(want->rate_kbit, have->rate_kbit, want->rate_kbit / 100) &&
	       within(wceil, hceil, wceil / 100) &&
	       (!want->burst_bytes ||
		within(want->burst_bytes, have->burst_bytes, want->burst_bytes / 100)) &&
	       within(want->delay_us, have->delay_us, 1 + want->delay_us / 100) &&
	       within(want->jitter_us, have->jitter_us, 1 + want->jitter_us / 100) &&
	       within(want->loss_ppm, have->loss_ppm, 1) &&
	       within(want->loss_corr_ppm, have->loss_corr_ppm, 1);
}

/* ---- JSON settings objects --------------------------------------------- */

/* A member that is absent or null: 0.  Present: 1 and *out set. */
static int conf_member(const struct cir_jnode *obj, const char *key,
		       const struct cir_jnode **out)
{
	const struct cir_jnode *n = cir_jnode_get(obj, key);

	if (!n || cir_jnode_type(n) == CIR_JNULL)
		return 0;
	*out = n;
	return 1;
}

static int conf_rate(const struct cir_jnode *obj, const char *key, uint64_t *kbit,
		     struct cir_error *err)
{
	const struct cir_jnode *n;
	uint64_t v;
	int r;

	if (!conf_member(obj, key, &n))
		return 0;
	if (cir_jnode_type(n) != CIR_JSTRING) {
		r = cir_json_u64(obj, key, CIR_QOS_RATE_MAX_KBIT, &v, err);
		if (r < 0)
			return r;
		if (v == 0)
			return cir_err(err, ERANGE, "%s: invalid rate '0': must be above 0", key);
		*kbit = v;
		return 1;
	}
	r = cir_qos_parse_rate(cir_jnode_str(n), kbit, err);
	return r < 0 ? cir_err_wrap(err, "%s", key) : 1;
}

static int conf_size(const struct cir_jnode *obj, const char *key, uint32_t *bytes,
		     struct cir_error *err)
{
	const struct cir_jnode *n;
	uint32_t v;
	int r;

	if (!conf_member(obj, key, &n))
		return 0;
	if (cir_jnode_type(n) != CIR_JSTRING) {
		r = cir_json_u32(obj, key, CIR_QOS_BURST_MAX, &v, err);
		if (r < 0)
			return r;
		if (v == 0)
			return cir_err(err, ERANGE, "%s: invalid size '0': must be above 0", key);
		*bytes = v;
		return 1;
	}
	r = cir_qos_parse_size(cir_jnode_str(n), bytes, err);
	return r < 0 ? cir_err_wrap(err, "%s", key) : 1;
}

static int conf_duration(const struct cir_jnode *obj, const char *key, uint32_t *us,
			 struct cir_error *err)
{
	const struct cir_jnode *n;
	const char *s;
	int r;

	if (!conf_member(obj, key, &n))
		return 0;
	r = cir_json_str(obj, key, &s, err);
	if (r < 0)
		return r;
	r = cir_qos_parse_duration(s, us, err);
	return r < 0 ? cir_err_wrap(err, "%s", key) : 1;
}

static int conf_percent(const struct cir_jnode *obj, const char *key, uint32_t *ppm,
			struct cir_error *err)
{
	const struct cir_jnode *n;
	double v;
	int r;

	if (!conf_member(obj, key, &n))
		return 0;
	if (cir_jnode_type(n) == CIR_JSTRING) {
		r = cir_qos_parse_percent(cir_jnode_str(n), ppm, err);
		return r < 0 ? cir_err_wrap(err, "%s", key) : 1;
	}
	r = cir_json_double(obj, key, &v, err);
	if (r < 0)
		return r;
	if (!(v >= 0 && v <= 100))
		return cir_err(err, ERANGE, "%s: invalid percentage '%g': outside 0..100", key, v);
	/* To ppm, rounded to the nearest (v is within 0..100). */
	if (v > 0 && (uint32_t)(v * 10000 + 0.5) < 1)
		return cir_err(err, ERANGE, "%s: invalid percentage '%g': below 0.0001%%", key, v);
	*ppm = (uint32_t)(v * 10000 + 0.5);
	return 1;
}

int cir_qos_conf_parse(const struct cir_jnode *obj, struct cir_qos *q, struct cir_error *err)
{
	struct cir_qos t = *q;
	int r;

	if (!obj || cir_jnode_type(obj) != CIR_JOBJECT)
		return cir_err(err, EINVAL, "expected an object of qos settings");
	if ((r = conf_rate(obj, "rate", &t.rate_kbit, err)) < 0 ||
	    (r = conf_rate(obj, "ceiling", &t.ceil_kbit, err)) < 0 ||
	    (r = conf_size(obj, "burst", &t.burst_bytes, err)) < 0 ||
	    (r = conf_duration(obj, "delay", &t.delay_us, err)) < 0 ||
	    (r = conf_duration(obj, "jitter", &t.jitter_us, err)) < 0 ||
	    (r = conf_percent(obj, "loss", &t.loss_ppm, err)) < 0 ||
	    (r = conf_percent(obj, "lossCorrelation", &t.loss_corr_ppm, err)) < 0)
		return r;
	*q = t;
	return 0;
}

void cir_qos_conf_emit(struct cir_jgen *g, const struct cir_qos *q)
{
	char b[32];

	if (q->rate_kbit) {
		cir_jgen_key(g, "rate");
		cir_jgen_uint(g, q->rate_kbit);
	}
	if (q->ceil_kbit) {
		cir_jgen_key(g, "ceiling");
		cir_jgen_uint(g, q->ceil_kbit);
	}
	if (q->burst_bytes) {
		cir_jgen_key(g, "burst");
		cir_jgen_uint(g, q->burst_bytes);
	}
	if (q->delay_us) {
		cir_qos_format_duration(q->delay_us, b, sizeof(b));
		cir_jgen_kstr(g, "delay", b);
	}
	if (q->jitter_us) {
		cir_qos_format_duration(q->jitter_us, b, sizeof(b));
		cir_jgen_kstr(g, "jitter", b);
	}
	if (q->loss_ppm) {
		cir_qos_format_percent(q->loss_ppm, b, sizeof(b));
		cir_jgen_kstr(g, "loss", b);
	}
	if (q->loss_corr_ppm) {
		cir_qos_format_percent(q->loss_corr_ppm, b, sizeof(b));
		cir_jgen_kstr(g, "lossCorrelation", b);
	}
}


/* ---- both directions of a container's link ----------------------------- */

/* CNI bandwidth: rates in bit/s, bursts in bits. */
#define BW_RATE_MAX (CIR_QOS_RATE_MAX_KBIT * 1000ULL)
#define BW_BURST_MAX (8ULL * CIR_QOS_BURST_MAX)

/* One direction of the bandwidth plugin's keys: rate bit/s, burst bits. */
static int bw_direction(const struct cir_jnode *obj, const char *rate_key, const char *burst_key,
			struct cir_qos *q, struct cir_error *err)
{
	uint64_t rate = 0, burst = 0;
	int hr, hb;

	hr = cir_json_u64(obj, rate_key, BW_RATE_MAX, &rate, err);
	if (hr < 0)
		return hr;
	hb = cir_json_u64(obj, burst_key, BW_BURST_MAX, &burst, err);
	if (hb < 0)
		return hb;
	if (!rate && burst)
		return cir_err(err, EINVAL, "%s needs %s", burst_key, rate_key);
	if (!rate)
		return 0;       /* 0 or absent: this direction is not shaped here */
	/* To whole kbit/s, rounded, at least 1; a burst in bits to bytes. */
	q->rate_kbit = (rate + 500) / 1000 ? (rate + 500) / 1000 : 1;
	q->ceil_kbit = 0;
	q->burst_bytes = (uint32_t)((burst + 7) / 8);
	return 0;
}

int cir_qos_bandwidth_parse(const struct cir_jnode *obj, struct cir_qos_dirs *d,
			    struct cir_error *err)
{
	int r;

	r = bw_direction(obj, "ingressRate", "ingressBurst", &d->ingress, err);
	if (r >= 0)
		r = bw_direction(obj, "egressRate", "egressBurst", &d->egress, err);
	return r;
}

int cir_qos_dirs_parse(const struct cir_jnode *obj, struct cir_qos_dirs *d,
		       struct cir_error *err)
{
	const struct cir_jnode *dir = NULL;
	struct cir_qos both = { 0 };
	int r;

	r = cir_qos_conf_parse(obj, &both, err);
	if (r < 0)
		return r;
	d->ingress = d->egress = both;
	r = cir_json_obj(obj, "ingress", &dir, err);
	if (r < 0)
		return r;
	if (r > 0 && (r = cir_qos_conf_parse(dir, &d->ingress, err)) < 0)
		return cir_err_wrap(err, "ingress");
	dir = NULL;
	r = cir_json_obj(obj, "egress", &dir, err);
	if (r < 0)
		return r;
	if (r > 0 && (r = cir_qos_conf_parse(dir, &d->egress, err)) < 0)
		return cir_err_wrap(err, "egress");
	return cir_qos_bandwidth_parse(obj, d, err);
}

bool cir_qos_dirs_is_empty(const struct cir_qos_dirs *d)
{
	return cir_qos_is_empty(&d->ingress) && cir_qos_is_empty(&d->egress);
}

bool cir_qos_dirs_same(const struct cir_qos_dirs *d)
{
	return memcmp(&d->ingress, &d->egress, sizeof(d->ingress)) == 0;
}

void cir_qos_dirs_emit(struct cir_jgen *g, const struct cir_qos_dirs *d)
{
	if (cir_qos_dirs_same(d)) {
		cir_qos_conf_emit(g, &d->ingress);
		return;
	}
	if (!cir_qos_is_empty(&d->ingress)) {
		cir_jgen_key(g, "ingress");
		cir_jgen_map_open(g);
		cir_qos_conf_emit(g, &d->ingress);
		cir_jgen_map_close(g);
	}
	if (!cir_qos_is_empty(&d->egress)) {
		cir_jgen_key(g, "egress");
		cir_jgen_map_open(g);
		cir_qos_conf_emit(g, &d->egress);
		cir_jgen_map_close(g);
	}
}
