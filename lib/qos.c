// SPDX-License-Identifier: Apache-2.0
/*
 * qos.c - Circuit's shaping policy on top of tc.c: one fixed HTB(+netem)
 * tree per shaped direction, egress on the device itself, ingress on an
 * ifb fed by a mirred redirect; read-back, rollback, and the pure parsers
 * and formatters the CLI and the circuit-qos plugin share.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <linux/pkt_sched.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>

#include "cleanup.h"
#include "json.h"
#include "names.h"
#include "nl.h"
#include "qos.h"
#include "tc.h"

#define ROOT_HANDLE CIR_TC_HANDLE(1, 0)
#define TOP_ID CIR_TC_HANDLE(1, 1)
#define DEFAULT_MINOR 0x10
#define CLASS_ID CIR_TC_HANDLE(1, DEFAULT_MINOR)
#define NETEM_HANDLE CIR_TC_HANDLE(0x10, 0)
#define KBIT_BYTES 125ULL /* 1 kbit/s = 125 bytes/s */

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
	    (uint64_t)q->burst_bytes * 1000000 / (q->rate_kbit * KBIT_BYTES) > CIR_TC_BURST_MAX_US)
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

int cir_qos_ifb_name(const char *ifname, char out[CIR_QOS_IFNAMSIZ], struct cir_error *err)
{
	size_t n = ifname ? strlen(ifname) : 0;
	uint64_t h;

	if (n == 0 || n >= CIR_QOS_IFNAMSIZ)
		return cir_err(err, EINVAL, "invalid interface name '%s'", ifname ? ifname : "");
	if (n + 3 < CIR_QOS_IFNAMSIZ) {
		snprintf(out, CIR_QOS_IFNAMSIZ, "cq-%s", ifname);
		return 0;
	}
	/* '_' in the third byte keeps hashed names apart from "cq-" ones. */
	h = cir_fnv1a(CIR_FNV_INIT, ifname, n);
	snprintf(out, CIR_QOS_IFNAMSIZ, "cq_%.6s%06llx", ifname, (unsigned long long)(h & 0xffffff));
	return 0;
}

/* ---- parsers ----------------------------------------------------------- */

/* Round a non-negative value below 2^63 to the nearest integer (no libm). */
static double round_pos(double x)
{
	return (double)(uint64_t)(x + 0.5);
}

struct unit {
	const char *name;
	double mult;
};

/*
 * Split s into a non-negative decimal ("12", "1.5", ".5") and its unit
 * suffix.  Rejects signs, exponents, hex, spaces, inf/nan.
 */
static int split_number(const char *what, const char *s, double *val, const char **unit,
			struct cir_error *err)
{
	const char *p = s;
	size_t digits = 0;
	char buf[64];

	if (!s || !*s)
		return cir_err(err, EINVAL, "invalid %s '': empty", what);
	if (*s == '-')
		return cir_err(err, EINVAL, "invalid %s '%s': must not be negative", what, s);
	while (isdigit((unsigned char)*p)) {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits++;
		}
	}
	if (digits == 0)
		return cir_err(err, EINVAL, "invalid %s '%s': not a number", what, s);
	if ((size_t)(p - s) >= sizeof(buf))
		return cir_err(err, ERANGE, "invalid %s '%s': too many digits", what, s);
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	*val = strtod(buf, NULL);
	*unit = p;
	return 0;
}

static const struct unit *find_unit(const struct unit *tab, const char *u)
{
	for (; tab->name; tab++)
		if (strcasecmp(tab->name, u) == 0)
			return tab;
	return NULL;
}

int cir_qos_parse_rate(const char *s, uint64_t *kbit, struct cir_error *err)
{
	/* bit/s per unit; a bare number is kbit/s, "bps" is BYTES/s as in tc. */
	static const struct unit units[] = {
		{ "", 1e3 },     { "bit", 1 },    { "kbit", 1e3 }, { "mbit", 1e6 },
		{ "gbit", 1e9 }, { "tbit", 1e12 }, { "bps", 8 },   { "kbps", 8e3 },
		{ "mbps", 8e6 }, { "gbps", 8e9 }, { NULL, 0 },
	};
	const struct unit *u;
	const char *suffix;
	double v, bits;
	int r;

	r = split_number("rate", s, &v, &suffix, err);
	if (r < 0)
		return r;
	u = find_unit(units, suffix);
	if (!u)
		return cir_err(err, EINVAL,
			       "invalid rate '%s': unknown unit '%s' (use kbit, mbit, gbit, bit or kbps, mbps, gbps; a bare number is kbit/s)",
			       s, suffix);
	if (v == 0)
		return cir_err(err, EINVAL, "invalid rate '%s': must be greater than zero", s);
	bits = v * u->mult;
	if (bits > (double)CIR_QOS_RATE_MAX_KBIT * 1000)
		return cir_err(err, ERANGE, "invalid rate '%s': above the maximum of 100gbit", s);
	if (round_pos(bits / 1000) < 1)
		return cir_err(err, ERANGE, "invalid rate '%s': below the minimum of 1kbit", s);
	*kbit = (uint64_t)round_pos(bits / 1000);
	return 0;
}

int cir_qos_parse_size(const char *s, uint32_t *bytes, struct cir_error *err)
{
	static const struct unit units[] = {
		{ "", 1 },          { "b", 1 },          { "k", 1024 },      { "kb", 1024 },
		{ "kib", 1024 },    { "m", 1048576 },    { "mb", 1048576 },  { "mib", 1048576 },
		{ "g", 1073741824 }, { "gb", 1073741824 }, { "gib", 1073741824 }, { NULL, 0 },
	};
	const struct unit *u;
	const char *suffix;
	double v, b;
	int r;

	r = split_number("size", s, &v, &suffix, err);
	if (r < 0)
		return r;
	u = find_unit(units, suffix);
	if (!u)
		return cir_err(err, EINVAL,
			       "invalid size '%s': unknown unit '%s' (use b, k, m, g; 1k = 1024 bytes)",
			       s, suffix);
	if (v == 0)
		return cir_err(err, EINVAL, "invalid size '%s': must be greater than zero", s);
	if (v * u->mult > CIR_QOS_BURST_MAX)
		return cir_err(err, ERANGE, "invalid size '%s': above the maximum of 1g", s);
	b = round_pos(v * u->mult);
	if (b < 1)
		return cir_err(err, ERANGE, "invalid size '%s': below 1 byte", s);
	*bytes = (uint32_t)b;
	return 0;
}

int cir_qos_parse_duration(const char *s, uint32_t *us, struct cir_error *err)
{
	static const struct unit units[] = {
		{ "us", 1 },       { "usec", 1 }, { "ms", 1e3 }, { "msec", 1e3 },
		{ "s", 1e6 },      { "sec", 1e6 }, { NULL, 0 },
	};
	const struct unit *u;
	const char *suffix;
	double v, t;
	int r;

	r = split_number("duration", s, &v, &suffix, err);
	if (r < 0)
		return r;
	if (!*suffix && v == 0) {
		*us = 0;
		return 0;
	}
	if (!*suffix)
		return cir_err(err, EINVAL, "invalid duration '%s': missing unit (us, ms, s)", s);
	u = find_unit(units, suffix);
	if (!u)
		return cir_err(err, EINVAL, "invalid duration '%s': unknown unit '%s' (use us, ms, s)",
			       s, suffix);
	if (v * u->mult > CIR_QOS_DELAY_MAX_US)
		return cir_err(err, ERANGE, "invalid duration '%s': above the maximum of %us", s,
			       CIR_QOS_DELAY_MAX_US / 1000000);
	t = round_pos(v * u->mult);
	if (v > 0 && t < 1)
		return cir_err(err, ERANGE, "invalid duration '%s': below 1us", s);
	*us = (uint32_t)t;
	return 0;
}

int cir_qos_parse_percent(const char *s, uint32_t *ppm, struct cir_error *err)
{
	const char *suffix;
	double v, p;
	int r;

	r = split_number("percentage", s, &v, &suffix, err);
	if (r < 0)
		return r;
	if (*suffix && strcmp(suffix, "%") != 0)
		return cir_err(err, EINVAL, "invalid percentage '%s': trailing '%s' (use 10 or 10%%)",
			       s, suffix);
	if (v > 100)
		return cir_err(err, ERANGE, "invalid percentage '%s': above 100%%", s);
	p = round_pos(v * 10000);
	if (v > 0 && p < 1)
		return cir_err(err, ERANGE, "invalid percentage '%s': below 0.0001%%", s);
	*ppm = (uint32_t)p;
	return 0;
}

/* ---- formatting -------------------------------------------------------- */

static void fmt_rate(char *b, size_t n, uint64_t kbit)
{
	if (kbit % 1000000 == 0)
		snprintf(b, n, "%llugbit", (unsigned long long)(kbit / 1000000));
	else if (kbit % 1000 == 0)
		snprintf(b, n, "%llumbit", (unsigned long long)(kbit / 1000));
	else
		snprintf(b, n, "%llukbit", (unsigned long long)kbit);
}

static void fmt_time(char *b, size_t n, uint32_t us)
{
	if (us % 1000000 == 0)
		snprintf(b, n, "%us", us / 1000000);
	else if (us % 1000 == 0)
		snprintf(b, n, "%ums", us / 1000);
	else
		snprintf(b, n, "%uus", us);
}

static void fmt_ppm(char *b, size_t n, uint32_t ppm)
{
	size_t l;

	snprintf(b, n, "%u.%04u", ppm / 10000, ppm % 10000);
	l = strlen(b);
	while (l > 0 && b[l - 1] == '0')
		b[--l] = '\0';
	if (l > 0 && b[l - 1] == '.')
		b[--l] = '\0';
	snprintf(b + l, n - l, "%%");
}

int cir_qos_format(const struct cir_qos *q, char *buf, size_t len)
{
	char out[256] = "", v[32];
	size_t o = 0;

#define APPEND(label, fn, val)                                                   \
	do {                                                                     \
		fn(v, sizeof(v), val);                                           \
		o += snprintf(out + o, sizeof(out) - o, "%s%s %s", o ? " " : "", \
			      label, v);                                         \
	} while (0)

	if (q->rate_kbit)
		APPEND("rate", fmt_rate, q->rate_kbit);
	if (q->ceil_kbit)
		APPEND("ceil", fmt_rate, q->ceil_kbit);
	if (q->burst_bytes)
		o += snprintf(out + o, sizeof(out) - o, "%sburst %ub", o ? " " : "", q->burst_bytes);
	if (q->delay_us)
		APPEND("delay", fmt_time, q->delay_us);
	if (q->jitter_us)
		APPEND("jitter", fmt_time, q->jitter_us);
	if (q->loss_ppm)
		APPEND("loss", fmt_ppm, q->loss_ppm);
	if (q->loss_corr_ppm)
		APPEND("loss-corr", fmt_ppm, q->loss_corr_ppm);
#undef APPEND
	return snprintf(buf, len, "%s", o ? out : "none");
}

/* ---- kernel side ------------------------------------------------------- */

/* MTU and name of ifindex. */
static int link_info(struct nl_sock *sk, int ifindex, uint32_t *mtu, char name[CIR_QOS_IFNAMSIZ],
		     struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	int r;

	r = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (r < 0) {
		char what[32];

		snprintf(what, sizeof(what), "ifindex %d", ifindex);
		return cir_nl_err(err, r, what);
	}
	*mtu = rtnl_link_get_mtu(l);
	snprintf(name, CIR_QOS_IFNAMSIZ, "%s", rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "");
	return 0;
}

/* 1 when ifindex's root qdisc is Circuit's HTB 1:, 0 when not, or -errno. */
static int root_is_ours(struct nl_sock *sk, int ifindex, struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	const char *kind;
	int r;

	r = cir_tc_qdisc_find(sk, ifindex, TC_H_ROOT, &q, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	kind = rtnl_tc_get_kind(TC_CAST(q));
	return kind && strcmp(kind, "htb") == 0 && rtnl_tc_get_handle(TC_CAST(q)) == ROOT_HANDLE;
}

/*
 * Delete a root qdisc someone else added (e.g. the reference bandwidth
 * plugin's tbf 1:, which its DEL leaves behind): the kernel cannot replace
 * a qdisc by one of another kind under the same handle (EINVAL).  The
 * kernel's default root (handle 0:) is left alone: replace handles it.
 */
static int foreign_root_del(struct nl_sock *sk, int ifindex, struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	uint32_t handle;
	int r;

	r = cir_tc_qdisc_find(sk, ifindex, TC_H_ROOT, &q, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	handle = rtnl_tc_get_handle(TC_CAST(q));
	if (handle == 0)
		return 0;
	return cir_tc_qdisc_del(sk, ifindex, TC_H_ROOT, handle, err);
}

/* 1 when the leaf under 1:10 is Circuit's netem 10:, 0 when not, or -errno. */
static int leaf_is_netem(struct nl_sock *sk, int ifindex, struct rtnl_qdisc **out,
			 struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	const char *kind;
	int r;

	r = cir_tc_qdisc_find(sk, ifindex, CLASS_ID, &q, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	kind = rtnl_tc_get_kind(TC_CAST(q));
	if (!kind || strcmp(kind, "netem") != 0 || rtnl_tc_get_handle(TC_CAST(q)) != NETEM_HANDLE)
		return 0;
	if (out)
		*out = TAKE_PTR(q);
	return 1;
}

/* Build or update the tree on ifindex; q is validated and not empty. */
static int tree_apply(struct nl_sock *sk, int ifindex, uint32_t mtu, const struct cir_qos *q,
		      struct cir_error *err)
{
	uint64_t rate = (q->rate_kbit ? q->rate_kbit : CIR_QOS_UNLIMITED_KBIT) * KBIT_BYTES;
	uint64_t ceil = q->ceil_kbit ? q->ceil_kbit * KBIT_BYTES : rate;
	/* The ceil bucket never holds less than the rate bucket, or it would
	 * cut a configured burst short. */
	uint32_t cburst = cir_tc_burst_default(ceil, mtu);
	/* A root HTB class cannot borrow, so ceil only works below a parent:
	 * 1:1 caps the device at ceil, leaf 1:10 guarantees rate. */
	struct cir_tc_htb_class top = {
		.parent = ROOT_HANDLE,
		.classid = TOP_ID,
		.rate = ceil,
		.ceil = ceil,
		.mtu = mtu,
	};
	struct cir_tc_htb_class leaf = {
		.parent = TOP_ID,
		.classid = CLASS_ID,
		.rate = rate,
		.ceil = ceil,
		.burst = q->burst_bytes,
		.mtu = mtu,
	};
	int r;

	if (q->burst_bytes > cburst)
		cburst = q->burst_bytes;
	top.burst = top.cburst = leaf.cburst = cburst;

	/* HTB has no in-place change: keep our root, replace anything else. */
	r = root_is_ours(sk, ifindex, err);
	if (r < 0)
		return r;
	if (r == 0) {
		r = foreign_root_del(sk, ifindex, err);
		if (r < 0)
			return r;
		r = cir_tc_htb_root_add(sk, ifindex, ROOT_HANDLE, DEFAULT_MINOR, err);
		if (r < 0)
			return r;
	}
	r = cir_tc_htb_class_set(sk, ifindex, &top, err);
	if (r < 0)
		return r;
	r = cir_tc_htb_class_set(sk, ifindex, &leaf, err);
	if (r < 0)
		return r;

	if (cir_qos_has_netem(q)) {
		struct cir_tc_netem n = {
			.parent = CLASS_ID,
			.handle = NETEM_HANDLE,
			.delay_us = q->delay_us,
			.jitter_us = q->jitter_us,
			.loss = cir_qos_ppm_to_prob(q->loss_ppm),
			.loss_corr = cir_qos_ppm_to_prob(q->loss_corr_ppm),
		};

		return cir_tc_netem_set(sk, ifindex, &n, err);
	}
	r = leaf_is_netem(sk, ifindex, NULL, err);
	if (r <= 0)
		return r;
	return cir_tc_qdisc_del(sk, ifindex, CLASS_ID, NETEM_HANDLE, err);
}

static int tree_read(struct nl_sock *sk, int ifindex, struct cir_qos *out, struct cir_error *err)
{
	_cleanup_rtnl_class_ struct rtnl_class *cl = NULL;
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *leaf = NULL;
	struct cir_qos q = { 0 };
	uint64_t rate = 0, ceil = 0;
	int r;

	r = root_is_ours(sk, ifindex, err);
	if (r < 0)
		return r;
	if (r == 0)
		return cir_err(err, ENOENT, "ifindex %d: no circuit qos", ifindex);
	r = cir_tc_class_find(sk, ifindex, CLASS_ID, &cl, err);
	if (r < 0)
		return r;
	if ((r = rtnl_htb_get_rate64(cl, &rate)) < 0 || (r = rtnl_htb_get_ceil64(cl, &ceil)) < 0)
		return cir_nl_err(err, r, "htb class 1:10");
	if (rate / KBIT_BYTES < CIR_QOS_UNLIMITED_KBIT) {
		q.rate_kbit = rate / KBIT_BYTES;
		q.ceil_kbit = ceil == rate ? 0 : ceil / KBIT_BYTES;
		q.burst_bytes = rtnl_htb_get_rbuffer(cl);
	}

	r = leaf_is_netem(sk, ifindex, &leaf, err);
	if (r < 0)
		return r;
	if (r == 1) {
		int v;

		/* Probabilities travel as u32 through libnl's int getters;
		 * only -NLE_NOATTR means "absent" (it is 99.99999928 %). */
		v = rtnl_netem_get_delay(leaf);
		q.delay_us = v > 0 ? (uint32_t)v : 0;
		v = rtnl_netem_get_jitter(leaf);
		q.jitter_us = v > 0 ? (uint32_t)v : 0;
		v = rtnl_netem_get_loss(leaf);
		q.loss_ppm = v == -NLE_NOATTR ? 0 : cir_qos_prob_to_ppm((uint32_t)v);
		v = rtnl_netem_get_loss_correlation(leaf);
		q.loss_corr_ppm = v == -NLE_NOATTR ? 0 : cir_qos_prob_to_ppm((uint32_t)v);
	}
	*out = q;
	return 0;
}

static int tree_clear(struct nl_sock *sk, int ifindex, struct cir_error *err)
{
	int r;

	r = root_is_ours(sk, ifindex, err);
	if (r <= 0)
		return r;
	return cir_tc_qdisc_del(sk, ifindex, TC_H_ROOT, ROOT_HANDLE, err);
}

/* Apply q, and on failure put back prev (or nothing); keeps the first
 * error, and stores how putting back went in *undo (0 or -errno, the
 * reason in *undo_err). */
static int tree_apply_or_restore(struct nl_sock *sk, int ifindex, uint32_t mtu,
				 const struct cir_qos *q, const struct cir_qos *prev, int *undo,
				 struct cir_error *undo_err, struct cir_error *err)
{
	int r;

	*undo = 0;
	r = tree_apply(sk, ifindex, mtu, q, err);
	if (r < 0) {
		if (prev)
			*undo = tree_apply(sk, ifindex, mtu, prev, undo_err);
		else
			*undo = tree_clear(sk, ifindex, undo_err);
	}
	return r;
}

/* After a failed change of the dir ("egress"/"ingress") shaping of device
 * name: say what it was left with. */
static int say_undone(struct cir_error *err, const char *dir, const char *name, bool had,
		      int undo, const struct cir_error *undo_err)
{
	if (undo < 0)
		return cir_err_append(err, "; putting back the %s shaping of %s failed: %s", dir,
				      name, undo_err->msg);
	if (had)
		return cir_err_append(err, "; the %s shaping already on %s was kept", dir, name);
	return cir_err_append(err, "; %s was left without %s shaping", name, dir);
}

int cir_qos_apply(int ifindex, const struct cir_qos *q, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_error undo_err = CIR_ERROR_INIT;
	char name[CIR_QOS_IFNAMSIZ];
	struct cir_qos prev;
	uint32_t mtu;
	bool had;
	int r, undo;

	r = cir_qos_validate(q, err);
	if (r < 0)
		return r;
	if (cir_qos_is_empty(q))
		return cir_qos_clear(ifindex, err);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = link_info(sk, ifindex, &mtu, name, err);
	if (r < 0)
		return r;
	r = tree_read(sk, ifindex, &prev, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "egress shaping on %s", name);
	had = r == 0;
	r = tree_apply_or_restore(sk, ifindex, mtu, q, had ? &prev : NULL, &undo, &undo_err, err);
	if (r < 0) {
		cir_err_wrap(err, "egress shaping on %s", name);
		return say_undone(err, "egress", name, had, undo, &undo_err);
	}
	return 0;
}

int cir_qos_clear(int ifindex, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = tree_clear(sk, ifindex, err);
	if (r < 0)
		return cir_err_wrap(err, "clear egress shaping");
	return 0;
}

int cir_qos_get(int ifindex, struct cir_qos *out, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	return tree_read(sk, ifindex, out, err);
}

static int ingress_clear(struct nl_sock *sk, int ifindex, const char *ifb_name,
			 struct cir_error *err)
{
	_cleanup_rtnl_qdisc_ struct rtnl_qdisc *q = NULL;
	int r;

	r = cir_tc_qdisc_find(sk, ifindex, TC_H_INGRESS, &q, err);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0) {
		r = cir_tc_qdisc_del(sk, ifindex, TC_H_INGRESS, CIR_TC_INGRESS_HANDLE, err);
		if (r < 0)
			return r;
	}
	return cir_tc_ifb_delete(sk, ifb_name, err);
}

/* The ifb's tree when the whole ingress path is in place; -ENOENT if not. */
static int ingress_read(struct nl_sock *sk, int ifindex, const char *ifb_name,
			struct cir_qos *out, struct cir_error *err)
{
	int ifb, r;

	ifb = cir_tc_ifb_index(sk, ifb_name, err);
	if (ifb == -ENODEV)
		return cir_err(err, ENOENT, "ifb %s: not found", ifb_name);
	if (ifb < 0)
		return ifb;
	r = cir_tc_redirect_find(sk, ifindex, ifb, err);
	if (r < 0)
		return r;
	return tree_read(sk, ifb, out, err);
}

int cir_qos_apply_ingress(int ifindex, const char *ifb_name, const struct cir_qos *q,
			  struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	struct cir_error undo_err = CIR_ERROR_INIT;
	char name[CIR_QOS_IFNAMSIZ];
	struct cir_qos prev;
	uint32_t mtu;
	bool had, tree_done = false;
	int ifb = -1, r, undo = 0;

	r = cir_qos_validate(q, err);
	if (r < 0)
		return r;
	if (!ifb_name || !ifb_name[0] || strlen(ifb_name) >= CIR_QOS_IFNAMSIZ)
		return cir_err(err, EINVAL, "invalid ifb name '%s'", ifb_name ? ifb_name : "");
	if (cir_qos_is_empty(q))
		return cir_qos_clear_ingress(ifindex, ifb_name, err);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = link_info(sk, ifindex, &mtu, name, err);
	if (r < 0)
		return r;
	r = ingress_read(sk, ifindex, ifb_name, &prev, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "ingress shaping on %s", name);
	had = r == 0;

	/* Shape the ifb before anything is redirected into it, so a failure
	 * (e.g. no netem) happens before the device is touched. */
	r = cir_tc_ifb_create(sk, ifb_name, mtu, &ifb, err);
	if (r < 0)
		goto fail;
	r = tree_apply_or_restore(sk, ifb, mtu, q, had ? &prev : NULL, &undo, &undo_err, err);
	if (r < 0)
		goto fail;
	tree_done = true;
	r = cir_tc_ingress_add(sk, ifindex, err);
	if (r < 0)
		goto fail;
	r = cir_tc_redirect_set(sk, ifindex, ifb, err);
	if (r < 0)
		goto fail;
	return 0;

fail:
	if (!had)
		undo = ingress_clear(sk, ifindex, ifb_name, &undo_err);
	else if (tree_done)
		undo = tree_apply(sk, ifb, mtu, &prev, &undo_err);
	cir_err_wrap(err, "ingress shaping on %s via %s", name, ifb_name);
	return say_undone(err, "ingress", name, had, undo, &undo_err);
}

int cir_qos_clear_ingress(int ifindex, const char *ifb_name, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = ingress_clear(sk, ifindex, ifb_name, err);
	if (r < 0)
		return cir_err_wrap(err, "clear ingress shaping");
	return 0;
}

int cir_qos_get_ingress(int ifindex, const char *ifb_name, struct cir_qos *out,
			struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	return ingress_read(sk, ifindex, ifb_name, out, err);
}

/* ---- single-value formatters ------------------------------------------- */

void cir_qos_format_rate(uint64_t kbit, char *buf, size_t len)
{
	fmt_rate(buf, len, kbit);
}

void cir_qos_format_duration(uint32_t us, char *buf, size_t len)
{
	fmt_time(buf, len, us);
}

void cir_qos_format_percent(uint32_t ppm, char *buf, size_t len)
{
	fmt_ppm(buf, len, ppm);
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
	if (v > 0 && round_pos(v * 10000) < 1)
		return cir_err(err, ERANGE, "%s: invalid percentage '%g': below 0.0001%%", key, v);
	*ppm = (uint32_t)round_pos(v * 10000);
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
		fmt_time(b, sizeof(b), q->delay_us);
		cir_jgen_kstr(g, "delay", b);
	}
	if (q->jitter_us) {
		fmt_time(b, sizeof(b), q->jitter_us);
		cir_jgen_kstr(g, "jitter", b);
	}
	if (q->loss_ppm) {
		fmt_ppm(b, sizeof(b), q->loss_ppm);
		cir_jgen_kstr(g, "loss", b);
	}
	if (q->loss_corr_ppm) {
		fmt_ppm(b, sizeof(b), q->loss_corr_ppm);
		cir_jgen_kstr(g, "lossCorrelation", b);
	}
}

/* ---- both directions of a device --------------------------------------- */

static int dev_index(const char *dev, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	int r;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, 0, dev, &l);
	if (r < 0)
		return cir_nl_err(err, r, dev);
	return rtnl_link_get_ifindex(l);
}

int cir_qos_link_apply(const char *dev, const struct cir_qos *egress,
		       const struct cir_qos *ingress, struct cir_error *err)
{
	struct cir_error undo_err = CIR_ERROR_INIT;
	char ifb[CIR_QOS_IFNAMSIZ];
	struct cir_qos prev;
	bool had;
	int ifindex, r;

	r = cir_qos_validate(egress, err);
	if (r < 0)
		return cir_err_wrap(err, "%s egress", dev);
	r = cir_qos_validate(ingress, err);
	if (r < 0)
		return cir_err_wrap(err, "%s ingress", dev);
	r = cir_qos_ifb_name(dev, ifb, err);
	if (r < 0)
		return r;
	ifindex = dev_index(dev, err);
	if (ifindex < 0)
		return ifindex;
	r = cir_qos_get(ifindex, &prev, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "%s", dev);
	had = r == 0;
	r = cir_qos_apply(ifindex, egress, err);
	if (r < 0)
		return r;
	r = cir_qos_apply_ingress(ifindex, ifb, ingress, err);
	if (r < 0) {
		/* Put the egress direction back as it was. */
		int undo = had ? cir_qos_apply(ifindex, &prev, &undo_err)
			       : cir_qos_clear(ifindex, &undo_err);

		if (undo < 0)
			return cir_err_append(err, "; putting back its egress shaping failed: %s",
					      undo_err.msg);
		return cir_err_append(err, "; its egress shaping was put back");
	}
	return 0;
}

int cir_qos_link_clear(const char *dev, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	char ifb[CIR_QOS_IFNAMSIZ];
	int r, ifindex;

	r = cir_qos_ifb_name(dev, ifb, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, 0, dev, &l);
	if (r < 0 && cir_nl_errno(r) != ENODEV)
		return cir_nl_err(err, r, dev);
	if (r < 0) {
		/* The device is gone and took its qdiscs; its ifb stays. */
		r = cir_tc_ifb_delete(sk, ifb, err);
		return r < 0 ? cir_err_wrap(err, "%s", dev) : 0;
	}
	ifindex = rtnl_link_get_ifindex(l);
	r = tree_clear(sk, ifindex, err);
	if (r >= 0)
		r = ingress_clear(sk, ifindex, ifb, err);
	return r < 0 ? cir_err_wrap(err, "clear shaping on %s", dev) : 0;
}

int cir_qos_link_get(const char *dev, struct cir_qos *egress, struct cir_qos *ingress,
		     struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	char ifb[CIR_QOS_IFNAMSIZ];
	struct cir_qos e = { 0 }, i = { 0 };
	int r, ifindex;

	r = cir_qos_ifb_name(dev, ifb, err);
	if (r < 0)
		return r;
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = rtnl_link_get_kernel(sk, 0, dev, &l);
	if (r < 0)
		return cir_nl_err(err, r, dev);
	ifindex = rtnl_link_get_ifindex(l);
	r = tree_read(sk, ifindex, &e, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "%s egress", dev);
	r = ingress_read(sk, ifindex, ifb, &i, err);
	if (r < 0 && r != -ENOENT)
		return cir_err_wrap(err, "%s ingress", dev);
	cir_err_clear(err);
	*egress = e;
	*ingress = i;
	return 0;
}

int cir_qos_ifb_gc(struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_nl_cache_ struct nl_cache *cache = NULL;
	_cleanup_free_ char (*wanted)[CIR_QOS_IFNAMSIZ] = NULL;
	size_t n = 0, cap;
	int r, removed = 0;

	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return cir_nl_err(err, r, "list links");
	cap = (size_t)nl_cache_nitems(cache) + 1;
	wanted = calloc(cap, sizeof(*wanted));
	if (!wanted)
		return cir_err(err, ENOMEM, "out of memory");
	/* The ifb every existing link would use. */
	for (struct nl_object *o = nl_cache_get_first(cache); o && n < cap;
	     o = nl_cache_get_next(o)) {
		const char *name = rtnl_link_get_name((struct rtnl_link *)o);

		if (name && cir_qos_ifb_name(name, wanted[n], NULL) == 0)
			n++;
	}
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);
		const char *kind = rtnl_link_get_type(l);
		bool used = false;

		if (!name || !kind || strcmp(kind, "ifb") != 0 || strncmp(name, "cq", 2) != 0 ||
		    (name[2] != '-' && name[2] != '_'))
			continue;
		for (size_t i = 0; i < n && !used; i++)
			used = strcmp(wanted[i], name) == 0;
		if (used)
			continue;
		r = cir_tc_ifb_delete(sk, name, err);
		if (r < 0)
			return r;
		removed++;
	}
	return removed;
}
