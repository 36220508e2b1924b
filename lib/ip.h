/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ip.h - IPv4/IPv6 addresses and prefixes as plain values.
 *
 * Strict parsers for the text forms found in CNI configs ("10.254.1.0/24",
 * "fd00:c::/64", "10.254.1.7"): no surrounding blanks, no zone ids, no
 * leading zeros in the prefix, nothing after the prefix.  Arithmetic
 * (offset, next, prev, network, broadcast, first host) works on the 16-byte
 * big-endian buffer for both families; an IPv4 address uses addr[0..3] and
 * leaves the rest zero so that values compare with memcmp.  Formatting
 * writes into caller buffers.  Nothing here allocates.
 */
#ifndef CIR_IP_H
#define CIR_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct cir_ip {
	int af;                 /* AF_INET, AF_INET6, 0 = unset */
	uint8_t addr[16];       /* network byte order; IPv4 in addr[0..3] */
};

struct cir_cidr {
	struct cir_ip ip;
	unsigned int prefix;    /* 0..32 or 0..128 */
};

/* Buffer sizes for the formatters, including the NUL. */
#define CIR_IP_STRLEN 46        /* INET6_ADDRSTRLEN */
#define CIR_CIDR_STRLEN 50      /* address + "/128" */

/* cir_cidr_parse() flags. */
#define CIR_CIDR_NETWORK  0x1   /* host bits must be zero */
#define CIR_CIDR_HOSTS    0x2   /* room for network, gateway and a host:
				 * IPv4 prefix <= 30, IPv6 prefix <= 126 */

/* Longest text form either parser accepts (longer input is rejected). */
#define CIR_IP_TEXT_MAX 64

/* Address bits of a family: 32, 128, or 0 for an unknown family. */
unsigned int cir_ip_bits(int af);

/*
 * Parse one address ("10.0.0.1", "fd00::1").  Rejects blanks, a prefix,
 * zone ids ("fe80::1%eth0"), short IPv4 forms ("10.1") and leading zeros
 * in IPv4 octets.  -EINVAL with a message naming the input on error; *out
 * is set only on success.
 */
int cir_ip_parse(const char *s, struct cir_ip *out, struct cir_error *err);

/*
 * Parse "address/prefix".  flags: CIR_CIDR_NETWORK requires the host bits to
 * be zero ("10.0.0.1/24" is refused); CIR_CIDR_HOSTS refuses prefixes that
 * cannot hold a network, a gateway and one host.  -EINVAL on error; *out is
 * set only on success.
 */
int cir_cidr_parse(const char *s, unsigned int flags, struct cir_cidr *out,
		   struct cir_error *err);

/* Parse a subnet for containers: CIR_CIDR_NETWORK | CIR_CIDR_HOSTS. */
int cir_cidr_parse_subnet(const char *s, struct cir_cidr *out, struct cir_error *err);

/*
 * Format into buf (at least CIR_IP_STRLEN / CIR_CIDR_STRLEN bytes).  Return
 * buf; an unset or invalid value formats as "invalid".  Never fails for a
 * buffer of the documented size; a shorter buffer gets a truncated string.
 */
const char *cir_ip_format(const struct cir_ip *ip, char *buf, size_t len);
const char *cir_cidr_format(const struct cir_cidr *c, char *buf, size_t len);

/* Equality and total order (family first, then address). */
bool cir_ip_eq(const struct cir_ip *a, const struct cir_ip *b);
int cir_ip_cmp(const struct cir_ip *a, const struct cir_ip *b);

/* Is ip (same family) inside c? */
bool cir_cidr_contains(const struct cir_cidr *c, const struct cir_ip *ip);

/* Do a and b (same family) share at least one address? */
bool cir_cidr_overlap(const struct cir_cidr *a, const struct cir_cidr *b);

/*
 * *out = ip + off (off may be negative).  -ERANGE when the result leaves the
 * family's address space; *out untouched then.  -EAFNOSUPPORT for an unset ip.
 */
int cir_ip_add(const struct cir_ip *ip, int64_t off, struct cir_ip *out);

/* ip + 1 and ip - 1, with the same errors as cir_ip_add(). */
int cir_ip_next(const struct cir_ip *ip, struct cir_ip *out);
int cir_ip_prev(const struct cir_ip *ip, struct cir_ip *out);

/* First address of c (host bits cleared). */
void cir_cidr_network(const struct cir_cidr *c, struct cir_ip *out);

/* Last address of c (host bits set): the IPv4 broadcast. */
void cir_cidr_broadcast(const struct cir_cidr *c, struct cir_ip *out);

/*
 * First usable host (network + 1, the default gateway) and last usable host
 * (broadcast - 1 for IPv4; the last address for IPv6, which has no
 * broadcast).  -ERANGE when c has no such host (IPv4 /31, /32, IPv6 /128).
 */
int cir_cidr_first_host(const struct cir_cidr *c, struct cir_ip *out);
int cir_cidr_last_host(const struct cir_cidr *c, struct cir_ip *out);

/*
 * Ranges no container network may take unless its creator asks for it
 * explicitly: "unspecified" (0.0.0.0/8, ::/128), "loopback" (127.0.0.0/8,
 * ::1/128), "link-local" (169.254.0.0/16, fe80::/10), "multicast"
 * (224.0.0.0/4, ff00::/8), "reserved" (240.0.0.0/4, which holds the
 * broadcast 255.255.255.255).  Returns the kind of the first such range c
 * overlaps, or NULL.
 */
const char *cir_cidr_special(const struct cir_cidr *c);

/* Is c inside a private-use range: 10.0.0.0/8, 172.16.0.0/12,
 * 192.168.0.0/16, 100.64.0.0/10 (shared address space), fc00::/7 (ULA)? */
bool cir_cidr_private(const struct cir_cidr *c);

#endif
