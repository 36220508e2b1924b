// SPDX-License-Identifier: Apache-2.0
/*
 * qos_parse.c - the text forms of shaping settings: parsers for the CLI and
 * configs ("5mbit", "32k", "50ms", "10%") and the formatters that write
 * values those parsers read back.  Pure.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qos.h"

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

