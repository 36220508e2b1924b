// SPDX-License-Identifier: Apache-2.0
/*
 * ip.c - strict address/prefix parsing, formatting and arithmetic.
 *
 * inet_pton() does the address grammar (glibc refuses leading zeros in
 * IPv4 octets and short forms); we add the length limit, the character set
 * and the prefix grammar around it.  Arithmetic is byte-wise big-endian so
 * that one code path serves both families.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ip.h"


static unsigned int af_len(int af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

unsigned int cir_ip_bits(int af)
{
	return af_len(af) * 8;
}

/* Parse the address text s[0..n) (not NUL-terminated) into *out. */
static int parse_addr(const char *s, size_t n, struct cir_ip *out)
{
	char buf[CIR_IP_TEXT_MAX + 1];
	struct cir_ip ip = { 0 };
	bool colon = false;

	if (n == 0 || n > CIR_IP_TEXT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == ':')
			colon = true;
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F') || c == '.'))
			return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	ip.af = colon ? AF_INET6 : AF_INET;
	if (inet_pton(ip.af, buf, ip.addr) != 1)
		return -EINVAL;
	*out = ip;
	return 0;
}

int cir_ip_parse(const char *s, struct cir_ip *out, struct cir_error *err)
{
	char show[80];

	if (!s)
		return cir_err(err, EINVAL, "missing address");
	if (parse_addr(s, strnlen(s, CIR_IP_TEXT_MAX + 1), out) < 0)
		return cir_err(err, EINVAL, "invalid address \"%s\"", cir_err_shown(s, show, sizeof(show)));
	return 0;
}

static bool host_bits_zero(const struct cir_cidr *c)
{
	struct cir_ip net;

	cir_cidr_network(c, &net);
	return memcmp(net.addr, c->ip.addr, sizeof(net.addr)) == 0;
}

int cir_cidr_parse(const char *s, unsigned int flags, struct cir_cidr *out,
		   struct cir_error *err)
{
	struct cir_cidr c = { 0 };
	const char *slash, *p;
	unsigned int bits, prefix = 0;
	char show[80];
	size_t n;

	if (!s)
		return cir_err(err, EINVAL, "missing prefix");
	cir_err_shown(s, show, sizeof(show));
	n = strnlen(s, CIR_IP_TEXT_MAX + 5);
	if (n > CIR_IP_TEXT_MAX + 4)
		return cir_err(err, EINVAL, "invalid prefix \"%s\": too long", show);
	slash = strchr(s, '/');
	if (!slash)
		return cir_err(err, EINVAL, "invalid prefix \"%s\": missing /length", show);
	if (parse_addr(s, (size_t)(slash - s), &c.ip) < 0)
		return cir_err(err, EINVAL, "invalid prefix \"%s\": bad address", show);

	p = slash + 1;
	if (*p == '\0' || strlen(p) > 3 || (p[0] == '0' && p[1] != '\0'))
		return cir_err(err, EINVAL, "invalid prefix \"%s\": bad length", show);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return cir_err(err, EINVAL, "invalid prefix \"%s\": bad length", show);
		prefix = prefix * 10 + (unsigned int)(*p - '0');
	}
	bits = cir_ip_bits(c.ip.af);
	if (prefix > bits)
		return cir_err(err, EINVAL, "invalid prefix \"%s\": length above /%u", show, bits);
	c.prefix = prefix;

	if ((flags & CIR_CIDR_NETWORK) && !host_bits_zero(&c)) {
		char net[CIR_CIDR_STRLEN];
		struct cir_cidr fixed = c;

		cir_cidr_network(&c, &fixed.ip);
		return cir_err(err, EINVAL, "invalid subnet \"%s\": not a network address (did you mean %s?)",
			       show, cir_cidr_format(&fixed, net, sizeof(net)));
	}
	if ((flags & CIR_CIDR_HOSTS) && prefix > bits - 2)
		return cir_err(err, EINVAL, "invalid subnet \"%s\": /%u leaves no room for hosts (at most /%u)",
			       show, prefix, bits - 2);
	*out = c;
	return 0;
}

int cir_cidr_parse_subnet(const char *s, struct cir_cidr *out, struct cir_error *err)
{
	return cir_cidr_parse(s, CIR_CIDR_NETWORK | CIR_CIDR_HOSTS, out, err);
}

const char *cir_ip_format(const struct cir_ip *ip, char *buf, size_t len)
{
	char tmp[CIR_IP_STRLEN];

	if (!buf || len == 0)
		return buf;
	if (!ip || !af_len(ip->af) || !inet_ntop(ip->af, ip->addr, tmp, sizeof(tmp)))
		snprintf(buf, len, "invalid");
	else
		snprintf(buf, len, "%s", tmp);
	return buf;
}

const char *cir_cidr_format(const struct cir_cidr *c, char *buf, size_t len)
{
	char tmp[CIR_IP_STRLEN];

	if (!buf || len == 0)
		return buf;
	if (!c || !af_len(c->ip.af) || c->prefix > cir_ip_bits(c->ip.af))
		snprintf(buf, len, "invalid");
	else
		snprintf(buf, len, "%s/%u", cir_ip_format(&c->ip, tmp, sizeof(tmp)), c->prefix);
	return buf;
}

bool cir_ip_eq(const struct cir_ip *a, const struct cir_ip *b)
{
	return cir_ip_cmp(a, b) == 0;
}

int cir_ip_cmp(const struct cir_ip *a, const struct cir_ip *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->addr, b->addr, af_len(a->af));
}

/* Mask byte i for a prefix length. */
static uint8_t mask_byte(unsigned int prefix, unsigned int i)
{
	if (prefix >= (i + 1) * 8)
		return 0xff;
	if (prefix <= i * 8)
		return 0;
	return (uint8_t)(0xff << (8 - (prefix - i * 8)));
}

bool cir_cidr_contains(const struct cir_cidr *c, const struct cir_ip *ip)
{
	unsigned int n = af_len(c->ip.af);

	if (!n || ip->af != c->ip.af)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t m = mask_byte(c->prefix, i);

		if ((c->ip.addr[i] & m) != (ip->addr[i] & m))
			return false;
	}
	return true;
}

bool cir_cidr_overlap(const struct cir_cidr *a, const struct cir_cidr *b)
{
	if (a->ip.af != b->ip.af)
		return false;
	/* Two prefixes overlap iff the shorter one contains the other's base. */
	return a->prefix <= b->prefix ? cir_cidr_contains(a, &b->ip) : cir_cidr_contains(b, &a->ip);
}

int cir_ip_add(const struct cir_ip *ip, int64_t off, struct cir_ip *out)
{
	unsigned int n = af_len(ip->af);
	struct cir_ip r = *ip;
	uint64_t mag;
	unsigned int carry = 0;

	if (!n)
		return -EAFNOSUPPORT;
	/* |off| without overflowing on INT64_MIN */
	mag = off < 0 ? (uint64_t)0 - (uint64_t)off : (uint64_t)off;
	for (int i = (int)n - 1; i >= 0; i--) {
		unsigned int d = (unsigned int)(mag & 0xff);
		int v;

		mag >>= 8;
		if (off >= 0) {
			v = r.addr[i] + (int)d + (int)carry;
			carry = v > 0xff;
			r.addr[i] = (uint8_t)v;
		} else {
			v = r.addr[i] - (int)d - (int)carry;
			carry = v < 0;
			r.addr[i] = (uint8_t)(v + (carry ? 0x100 : 0));
		}
	}
	if (carry || mag)
		return -ERANGE;
	*out = r;
	return 0;
}

int cir_ip_next(const struct cir_ip *ip, struct cir_ip *out)
{
	return cir_ip_add(ip, 1, out);
}

int cir_ip_prev(const struct cir_ip *ip, struct cir_ip *out)
{
	return cir_ip_add(ip, -1, out);
}

void cir_cidr_network(const struct cir_cidr *c, struct cir_ip *out)
{
	struct cir_ip r = c->ip;

	for (unsigned int i = 0; i < af_len(r.af); i++)
		r.addr[i] &= mask_byte(c->prefix, i);
	*out = r;
}

void cir_cidr_broadcast(const struct cir_cidr *c, struct cir_ip *out)
{
	struct cir_ip r = c->ip;

	for (unsigned int i = 0; i < af_len(r.af); i++)
		r.addr[i] |= (uint8_t)~mask_byte(c->prefix, i);
	*out = r;
}

int cir_cidr_first_host(const struct cir_cidr *c, struct cir_ip *out)
{
	struct cir_ip net;
	unsigned int bits = cir_ip_bits(c->ip.af);

	if (!bits)
		return -EAFNOSUPPORT;
	if (c->prefix >= (c->ip.af == AF_INET ? bits - 1 : bits))
		return -ERANGE;
	cir_cidr_network(c, &net);
	return cir_ip_next(&net, out);
}

int cir_cidr_last_host(const struct cir_cidr *c, struct cir_ip *out)
{
	struct cir_ip last;
	unsigned int bits = cir_ip_bits(c->ip.af);

	if (!bits)
		return -EAFNOSUPPORT;
	if (c->prefix >= (c->ip.af == AF_INET ? bits - 1 : bits))
		return -ERANGE;
	cir_cidr_broadcast(c, &last);
	if (c->ip.af == AF_INET)
		return cir_ip_prev(&last, out);
	*out = last;
	return 0;
}

struct named_range {
	const char *cidr;
	const char *kind;
};

static bool in_table(const struct cir_cidr *c, const struct named_range *t, size_t n,
		     bool inside, const char **kind)
{
	for (size_t i = 0; i < n; i++) {
		struct cir_cidr r;

		if (cir_cidr_parse(t[i].cidr, 0, &r, NULL) < 0 || r.ip.af != c->ip.af)
			continue;
		if (inside ? (r.prefix <= c->prefix && cir_cidr_contains(&r, &c->ip))
			   : cir_cidr_overlap(&r, c)) {
			if (kind)
				*kind = t[i].kind;
			return true;
		}
	}
	return false;
}

const char *cir_cidr_special(const struct cir_cidr *c)
{
	static const struct named_range special[] = {
		{ "0.0.0.0/8", "unspecified" }, { "127.0.0.0/8", "loopback" },
		{ "169.254.0.0/16", "link-local" }, { "224.0.0.0/4", "multicast" },
		{ "240.0.0.0/4", "reserved" },  { "::/128", "unspecified" },
		{ "::1/128", "loopback" },      { "fe80::/10", "link-local" },
		{ "ff00::/8", "multicast" },
	};
	const char *kind = NULL;

	in_table(c, special, sizeof(special) / sizeof(special[0]), false, &kind);
	return kind;
}

bool cir_cidr_private(const struct cir_cidr *c)
{
	static const struct named_range priv[] = {
		{ "10.0.0.0/8", "" },   { "172.16.0.0/12", "" }, { "192.168.0.0/16", "" },
		{ "100.64.0.0/10", "" }, { "fc00::/7", "" },
	};

	return in_table(c, priv, sizeof(priv) / sizeof(priv[0]), true, NULL);
}
