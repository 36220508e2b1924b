/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qos.h - shaping policy for one device: rate/ceil/burst (HTB) and
 * delay/jitter/loss (netem) that work together, on the traffic a device
 * SENDS (egress) or RECEIVES (ingress, redirected through an ifb).
 *
 * The tree (spec/qos.md):
 *     root 1: htb default 10
 *       class 1:1 htb rate C ceil C            (the device's cap)
 *         class 1:10 htb rate R ceil C burst B (default leaf; R = C =
 *                                               "unlimited" when unset)
 *           qdisc 10: netem ...                (only with delay/jitter/loss)
 * Ingress of a device: ingress qdisc ffff: + u32 match-all filter with a
 * mirred egress redirect to an ifb, which carries the same tree.
 *
 * Every call opens its own NETLINK_ROUTE socket in the calling thread's
 * current network namespace.  The parsers and formatters are pure.
 */
#ifndef CIR_QOS_H
#define CIR_QOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Limits (inclusive). */
#define CIR_QOS_RATE_MAX_KBIT 100000000ULL      /* 100 Gbit/s */
#define CIR_QOS_DELAY_MAX_US (60U * 1000000U)   /* 60 s, delay and jitter */
#define CIR_QOS_PPM 1000000U                    /* 100 % in parts per million */
#define CIR_QOS_BURST_MAX (1U << 30)            /* 1 GiB */

/* The HTB rate used when only netem is wanted; read back as "no rate". */
#define CIR_QOS_UNLIMITED_KBIT 1000000000ULL    /* 1 Tbit/s */

/* 1 kbit/s in bytes/s. */
#define CIR_QOS_KBIT_BYTES 125ULL

/* Interface name buffer size (IFNAMSIZ). */
#define CIR_QOS_IFNAMSIZ 16

/*
 * One direction of shaping.  Zero means "not set" for every field, so an
 * all-zero struct means "no shaping" and callers merge settings by field.
 */
struct cir_qos {
	uint64_t rate_kbit;     /* guaranteed rate, kbit/s (1 kbit = 1000 bit) */
	uint64_t ceil_kbit;     /* maximum rate, >= rate; 0 = rate (no borrowing) */
	uint32_t burst_bytes;   /* HTB burst; 0 = 1 ms at rate + MTU */
	uint32_t delay_us;      /* netem delay */
	uint32_t jitter_us;     /* netem jitter, needs delay */
	uint32_t loss_ppm;      /* random loss, parts per million (10 % = 100000) */
	uint32_t loss_corr_ppm; /* loss correlation, needs loss */
};

/* True when no field is set. */
bool cir_qos_is_empty(const struct cir_qos *q);

/* True when delay, jitter or loss is set (a netem leaf is needed). */
bool cir_qos_has_netem(const struct cir_qos *q);

/*
 * Check ranges and dependencies (ceil needs a rate and ceil >= rate,
 * jitter needs delay, loss correlation needs loss, burst must fit the
 * rate).  Returns 0 or -EINVAL/-ERANGE with a message naming the field.
 */
int cir_qos_validate(const struct cir_qos *q, struct cir_error *err);

/*
 * Shape what device ifindex SENDS.  Builds or updates the tree above;
 * re-applying replaces the previous settings (no EEXIST), so pass the
 * merged struct.  An empty struct clears (like cir_qos_clear).  A root
 * qdisc that is not Circuit's HTB 1: is replaced.
 * On failure nothing is left half-applied: a device that had no Circuit
 * tree is cleared again, one that had a tree gets its previous settings
 * back, and the message ends saying which ("; the egress shaping already
 * on c-x was kept", "; c-x was left without egress shaping", or why putting
 * it back failed).  A kernel without netem fails with -EOPNOTSUPP (CNI code
 * 103) "... kernel has no netem qdisc: load module sch_netem
 * (CONFIG_NET_SCH_NETEM); ...".
 */
int cir_qos_apply(int ifindex, const struct cir_qos *q, struct cir_error *err);

/*
 * Shape what device ifindex RECEIVES, the way the CNI bandwidth plugin
 * does: ensure ifb ifb_name (see cir_name_ifb) exists and is up with
 * the device's MTU, add the ingress qdisc to the device, a u32 match-all
 * filter redirecting every packet to the ifb, and apply the tree of
 * cir_qos_apply to the ifb.  Idempotent; an empty struct clears.  On
 * failure it rolls back like cir_qos_apply.
 */
int cir_qos_apply_ingress(int ifindex, const char *ifb_name, const struct cir_qos *q,
			  struct cir_error *err);

/* Remove Circuit's egress tree (root HTB 1:) from ifindex.  Idempotent:
 * no tree is success; a foreign root qdisc is left alone. */
int cir_qos_clear(int ifindex, struct cir_error *err);

/* Remove the ingress qdisc (and so its filters) from ifindex and delete
 * ifb ifb_name.  Idempotent: missing pieces are success. */
int cir_qos_clear_ingress(int ifindex, const char *ifb_name, struct cir_error *err);

/*
 * Read back the egress settings the kernel has on ifindex into *out (set
 * only on success): rate/ceil (0 when the class runs "unlimited", ceil 0
 * when it equals rate), the effective burst (the derived default included;
 * libnl keeps it as whole microseconds, so it can be off by the bytes of
 * 1 us), and the netem leaf's delay/jitter/loss.  -ENOENT when the device
 * carries no Circuit tree.
 */
int cir_qos_get(int ifindex, struct cir_qos *out, struct cir_error *err);

/*
 * Read back the ingress settings of ifindex: checks that the redirect to
 * ifb ifb_name is in place and reads the ifb's tree.  -ENOENT when any
 * piece is missing.
 */
int cir_qos_get_ingress(int ifindex, const char *ifb_name, struct cir_qos *out,
			struct cir_error *err);

/*
 * True when the kernel state have matches the wanted settings want:
 * rates and burst within 1 % (burst only when want sets it), delay and
 * jitter within 1 us + 1 %, loss within 1 ppm.  Pure.
 */
bool cir_qos_matches(const struct cir_qos *want, const struct cir_qos *have);

/*
 * Parsers for the CLI and configs.  *out is set only on success; errors
 * are -EINVAL/-ERANGE with "invalid <what> '<input>': <reason>".
 *  rate:     "5000" (kbit/s), "500kbit", "5mbit", "1gbit", "1.5mbit", "800bit",
 *            "100kbps" (kilo BYTES/s, as in tc), units bit/kbit/mbit/gbit/
 *            tbit, bps/kbps/mbps/gbps; > 0 and <= CIR_QOS_RATE_MAX_KBIT
 *  size:     "1500" (bytes), "32k"/"32kb", "1m"/"1mb", "1g" (1024-based); > 0
 *  duration: "50ms", "1.5s", "200us" (also usec, msec, sec); a unit is
 *            required except for "0"; 0 allowed (= unset), <= 60 s
 *  percent:  "10%", "10", "0.5%"; 0..100, result in ppm; 0 allowed
 */
int cir_qos_parse_rate(const char *s, uint64_t *kbit, struct cir_error *err);
int cir_qos_parse_size(const char *s, uint32_t *bytes, struct cir_error *err);
int cir_qos_parse_duration(const char *s, uint32_t *us, struct cir_error *err);
int cir_qos_parse_percent(const char *s, uint32_t *ppm, struct cir_error *err);

/*
 * Format *q as "rate 5mbit ceil 6mbit burst 15000b delay 50ms jitter 5ms
 * loss 1% loss-corr 25%" (unset fields omitted, "none" when empty).  Every
 * value reads back with the parsers above.  Returns the length snprintf
 * would have written.
 */
int cir_qos_format(const struct cir_qos *q, char *buf, size_t len);

/* Conversions between percent-ppm and the kernel's UINT32_MAX = 100 %
 * scale; exact round trip for every ppm value.  Pure. */
uint32_t cir_qos_ppm_to_prob(uint32_t ppm);
uint32_t cir_qos_prob_to_ppm(uint32_t prob);

/* ---- JSON settings objects (CNI config, the CLI's records) ---- */

struct cir_jnode;
struct cir_jgen;

/*
 * Read the settings keys of object obj into *q, field by field: keys that
 * are absent (or null) leave their field untouched, so parsing a second
 * object over the first merges them.  Keys:
 *   "rate", "ceiling": kbit/s as a number (5000) or a rate string ("5mbit")
 *   "burst": bytes as a number or a size string ("32k")
 *   "delay", "jitter": duration strings ("50ms", "1.5s")
 *   "loss", "lossCorrelation": percent as a number (10, 0.5) or a string
 *     ("10%")
 * A zero number or "0" clears delay, jitter and loss fields; rates and
 * bursts must be > 0.  -EINVAL/-ERANGE with "<key>: ..." on bad values.
 * Does not validate the combination (see cir_qos_validate).
 */
int cir_qos_conf_parse(const struct cir_jnode *obj, struct cir_qos *q, struct cir_error *err);

/* Emit the set fields of *q as the keys above into the map the caller has
 * open in g (rate/ceiling/burst as numbers, the rest as strings); they
 * read back with cir_qos_conf_parse to the same values. */
void cir_qos_conf_emit(struct cir_jgen *g, const struct cir_qos *q);

/*
 * Both directions of a container's link, named from the container as the
 * CNI bandwidth capability names them: "ingress" is traffic INTO the
 * container (the egress of the host-side veth), "egress" traffic OUT of it
 * (the ingress of the host-side veth, shaped on an ifb).
 */
struct cir_qos_dirs {
	struct cir_qos ingress;
	struct cir_qos egress;
};

/*
 * Read a settings object for both directions into *d: its flat keys (as
 * cir_qos_conf_parse) for both, then "ingress"/"egress" objects over them,
 * then the reference bandwidth plugin's keys (cir_qos_bandwidth_parse).
 * The one grammar of circuit-qos's config, its "containers" entries and
 * the CLI's records.  Does not validate the combination.
 */
int cir_qos_dirs_parse(const struct cir_jnode *obj, struct cir_qos_dirs *d,
		       struct cir_error *err);

/* The bandwidth plugin's ingressRate/ingressBurst/egressRate/egressBurst
 * (bit/s, bits) of obj over *d; a direction without a rate is untouched. */
int cir_qos_bandwidth_parse(const struct cir_jnode *obj, struct cir_qos_dirs *d,
			    struct cir_error *err);

/* Emit *d into the map the caller has open: flat keys when both directions
 * are the same, else "ingress"/"egress" objects (the empty one left out).
 * Reads back with cir_qos_dirs_parse to the same values. */
void cir_qos_dirs_emit(struct cir_jgen *g, const struct cir_qos_dirs *d);

bool cir_qos_dirs_is_empty(const struct cir_qos_dirs *d);
bool cir_qos_dirs_same(const struct cir_qos_dirs *d);

/* ---- both directions of one device, by name ---- */

/*
 * Shape device dev in both directions: egress (what dev sends) on dev,
 * ingress (what dev receives) on the ifb cir_name_ifb(dev).  Either
 * may be empty (that direction is cleared).  Validates both first; on
 * failure the direction already changed gets its previous settings back
 * (or is cleared), so nothing is half-applied.  -ENODEV when dev is
 * missing.  Idempotent.
 */
int cir_qos_link_apply(const char *dev, const struct cir_qos *egress,
		       const struct cir_qos *ingress, struct cir_error *err);

/*
 * Remove Circuit's shaping from dev in both directions and delete its ifb.
 * A missing dev is success (its ifb is still deleted).  Idempotent.
 */
int cir_qos_link_clear(const char *dev, struct cir_error *err);

/*
 * Read dev's shaping: *egress and *ingress are zeroed for a direction
 * without a Circuit tree.  -ENODEV when dev is missing.
 */
int cir_qos_link_get(const char *dev, struct cir_qos *egress, struct cir_qos *ingress,
		     struct cir_error *err);

/*
 * Delete the ifbs Circuit made (named "cq-*" or "cq_*", kind ifb) whose
 * device is gone: no link in the namespace has a name that
 * cir_name_ifb maps to them.  Returns how many were deleted.
 */
int cir_qos_ifb_gc(struct cir_error *err);

/* Single values in the text forms above ("5mbit", "50ms", "10%"). */
void cir_qos_format_rate(uint64_t kbit, char *buf, size_t len);
void cir_qos_format_duration(uint32_t us, char *buf, size_t len);
void cir_qos_format_percent(uint32_t ppm, char *buf, size_t len);

#endif
