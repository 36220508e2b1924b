// SPDX-License-Identifier: Apache-2.0
/*
 * conntrack.c - a filtered flush of connection-tracking entries (ctnetlink).
 *
 * The kernel's own dump filter (CTA_FILTER) exists only since Linux 5.10
 * and matches the original tuple only; matching here works everywhere and
 * on both directions.  The dump is read to its end before anything is
 * deleted: deleting during a dump makes the kernel skip entries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include "cleanup.h"
#include "conntrack.h"

#define CT_BUF 65536
/* Matches collected per dump round; more are deleted in further rounds. */
#define CT_BATCH 256

static size_t put_hdr(void *buf, uint16_t type, uint16_t flags, uint32_t seq, int family)
{
	struct nlmsghdr *nh = buf;
	struct nfgenmsg *nf = (struct nfgenmsg *)((char *)buf + NLMSG_HDRLEN);

	memset(buf, 0, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*nf)));
	nh->nlmsg_type = (uint16_t)((NFNL_SUBSYS_CTNETLINK << 8) | type);
	nh->nlmsg_flags = flags;
	nh->nlmsg_seq = seq;
	nf->nfgen_family = (uint8_t)family;
	nf->version = NFNETLINK_V0;
	nf->res_id = 0;
	nh->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*nf));
	return nh->nlmsg_len;
}

int cir_ct_dump_build(int family, uint32_t seq, void *buf, size_t len)
{
	if (len < NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)))
		return -ENOSPC;
	return (int)put_hdr(buf, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, seq, family);
}

int cir_ct_delete_build(const struct cir_ct_entry *e, uint32_t seq, void *buf, size_t len)
{
	size_t off, need = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) +
			   NLA_ALIGN(e->tuple_len) + NLA_HDRLEN + NLA_ALIGN(2);
	struct nlattr *a;

	if (need > len || e->tuple_len < NLA_HDRLEN)
		return -ENOSPC;
	off = put_hdr(buf, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, seq, e->family);
	memcpy((char *)buf + off, e->tuple, e->tuple_len);
	memset((char *)buf + off + e->tuple_len, 0, NLA_ALIGN(e->tuple_len) - e->tuple_len);
	off += NLA_ALIGN(e->tuple_len);
	if (e->has_zone) {
		uint16_t z = htons(e->zone);

		a = (struct nlattr *)((char *)buf + off);
		a->nla_type = CTA_ZONE;
		a->nla_len = NLA_HDRLEN + 2;
		memcpy((char *)a + NLA_HDRLEN, &z, 2);
		memset((char *)a + NLA_HDRLEN + 2, 0, 2);
		off += NLA_ALIGN(a->nla_len);
	}
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)off;
	return (int)off;
}

/* Walk the attributes in [p, p+len): fn(type, payload, payload_len, arg). */
static int attrs_walk(const unsigned char *p, size_t len,
		      int (*fn)(uint16_t type, const unsigned char *v, size_t vlen,
				const struct nlattr *a, void *arg),
		      void *arg)
{
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t alen = a->nla_len, step;
		int r;

		if (alen < NLA_HDRLEN || alen > len)
			return -EBADMSG;
		r = fn(a->nla_type & NLA_TYPE_MASK, p + NLA_HDRLEN, alen - NLA_HDRLEN, a, arg);
		if (r < 0)
			return r;
		step = NLA_ALIGN(alen);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

struct tuple_out {
	int family;
	struct cir_ip *src, *dst;
	uint16_t *sport, *dport;
	uint8_t *proto;
};

static int ip_attr(uint16_t type, const unsigned char *v, size_t vlen, const struct nlattr *a,
		   void *arg)
{
	struct tuple_out *t = arg;
	struct cir_ip *ip = NULL;

	if (type == CTA_IP_V4_SRC || type == CTA_IP_V6_SRC)
		ip = t->src;
	else if (type == CTA_IP_V4_DST || type == CTA_IP_V6_DST)
		ip = t->dst;
	if (!ip)
		return 0;
	if ((type == CTA_IP_V4_SRC || type == CTA_IP_V4_DST) && vlen == 4)
		ip->af = AF_INET;
	else if ((type == CTA_IP_V6_SRC || type == CTA_IP_V6_DST) && vlen == 16)
		ip->af = AF_INET6;
	else
		return -EBADMSG;
	memset(ip->addr, 0, sizeof(ip->addr));
	memcpy(ip->addr, v, vlen);
	return 0;
}

static int proto_attr(uint16_t type, const unsigned char *v, size_t vlen, const struct nlattr *a,
		      void *arg)
{
	struct tuple_out *t = arg;
	uint16_t port;

	if (type == CTA_PROTO_NUM) {
		if (vlen < 1)
			return -EBADMSG;
		*t->proto = v[0];
	} else if (type == CTA_PROTO_SRC_PORT || type == CTA_PROTO_DST_PORT) {
		if (vlen < 2)
			return -EBADMSG;
		memcpy(&port, v, 2);
		*(type == CTA_PROTO_SRC_PORT ? t->sport : t->dport) = ntohs(port);
	}
	return 0;
}

static int tuple_attr(uint16_t type, const unsigned char *v, size_t vlen, const struct nlattr *a,
		      void *arg)
{
	if (type == CTA_TUPLE_IP)
		return attrs_walk(v, vlen, ip_attr, arg);
	if (type == CTA_TUPLE_PROTO)
		return attrs_walk(v, vlen, proto_attr, arg);
	return 0;
}

static int entry_attr(uint16_t type, const unsigned char *v, size_t vlen, const struct nlattr *a,
		      void *arg)
{
	struct cir_ct_entry *e = arg;
	struct tuple_out t;
	uint8_t proto = 0;
	int r;

	switch (type) {
	case CTA_TUPLE_ORIG:
		if (a->nla_len > sizeof(e->tuple))
			return -EBADMSG;
		t = (struct tuple_out){ e->family, &e->orig_src, &e->orig_dst, &e->orig_sport,
					&e->orig_dport, &e->l4proto };
		r = attrs_walk(v, vlen, tuple_attr, &t);
		if (r < 0)
			return r;
		memcpy(e->tuple, a, a->nla_len);
		e->tuple_len = a->nla_len;
		return 0;
	case CTA_TUPLE_REPLY:
		t = (struct tuple_out){ e->family, &e->reply_src, &e->reply_dst, &e->reply_sport,
					&e->reply_dport, &proto };
		return attrs_walk(v, vlen, tuple_attr, &t);
	case CTA_ZONE:
		if (vlen < 2)
			return -EBADMSG;
		{
			uint16_t z;

			memcpy(&z, v, 2);
			e->zone = ntohs(z);
			e->has_zone = true;
		}
		return 0;
	default:
		return 0;
	}
}

int cir_ct_entry_parse(const void *msg, size_t msg_len, struct cir_ct_entry *e)
{
	const struct nlmsghdr *nh = msg;
	const struct nfgenmsg *nf;
	size_t hdr = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*nf));
	int r;

	memset(e, 0, sizeof(*e));
	if (msg_len < hdr || nh->nlmsg_len < hdr || nh->nlmsg_len > msg_len)
		return -EBADMSG;
	nf = (const struct nfgenmsg *)((const char *)msg + NLMSG_HDRLEN);
	e->family = nf->nfgen_family;
	r = attrs_walk((const unsigned char *)msg + hdr, nh->nlmsg_len - hdr, entry_attr, e);
	if (r < 0)
		return r;
	return e->tuple_len ? 0 : -EBADMSG;
}

static bool ip_match(const struct cir_ip *want, const struct cir_ip *have)
{
	return want->af == 0 || cir_ip_eq(want, have);
}

bool cir_ct_entry_matches(const struct cir_ct_filter *f, const struct cir_ct_entry *e)
{
	return e->family == f->family && (!f->l4proto || e->l4proto == f->l4proto) &&
	       ip_match(&f->orig_dst, &e->orig_dst) &&
	       (!f->orig_dst_port || e->orig_dport == f->orig_dst_port) &&
	       ip_match(&f->reply_src, &e->reply_src) &&
	       (!f->reply_src_port || e->reply_sport == f->reply_src_port);
}

static int ct_send(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(fd, buf, len, 0, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/*
 * One dump: up to CT_BATCH matches into m[], *more when there were more.
 * Returns the count or -errno.
 */
static bool matches_any(const struct cir_ct_filter *f, size_t nf, const struct cir_ct_entry *e)
{
	for (size_t i = 0; i < nf; i++)
		if (cir_ct_entry_matches(&f[i], e))
			return true;
	return false;
}

static int ct_dump(int fd, const struct cir_ct_filter *f, size_t nf, uint32_t seq,
		   struct cir_ct_entry *m, bool *more, unsigned char *buf)
{
	int n = 0, len;
	bool done = false;

	*more = false;
	len = cir_ct_dump_build(f->family, seq, buf, CT_BUF);
	if (len < 0 || ct_send(fd, buf, (size_t)len) < 0)
		return len < 0 ? len : -errno;
	while (!done) {
		ssize_t k = recv(fd, buf, CT_BUF, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)k);
		     nh = NLMSG_NEXT(nh, k)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EBADMSG;
				return e->error ? e->error : 0;
			}
			if ((nh->nlmsg_type & 0xff) != IPCTNL_MSG_CT_NEW)
				continue;
			if (n == CT_BATCH) {
				*more = true;
				continue;
			}
			if (cir_ct_entry_parse(nh, nh->nlmsg_len, &m[n]) == 0 &&
			    matches_any(f, nf, &m[n]))
				n++;
		}
	}
	return n;
}

/* Delete e; an entry that is gone already is success (0), deleted 1. */
static int ct_delete(int fd, const struct cir_ct_entry *e, uint32_t seq, unsigned char *buf)
{
	int len = cir_ct_delete_build(e, seq, buf, CT_BUF);

	if (len < 0)
		return len;
	if (ct_send(fd, buf, (size_t)len) < 0)
		return -errno;
	for (;;) {
		ssize_t k = recv(fd, buf, CT_BUF, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)k);
		     nh = NLMSG_NEXT(nh, k)) {
			const struct nlmsgerr *me;

			if (nh->nlmsg_seq != seq || nh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*me)))
				return -EBADMSG;
			me = NLMSG_DATA(nh);
			if (me->error == -ENOENT)
				return 0;
			return me->error ? me->error : 1;
		}
	}
}

int cir_ct_flush(const struct cir_ct_filter *f, struct cir_error *err)
{
	return cir_ct_flush_any(f, f ? 1 : 0, err);
}

int cir_ct_flush_any(const struct cir_ct_filter *f, size_t nf, struct cir_error *err)
{
	_cleanup_free_ unsigned char *buf = NULL;
	_cleanup_free_ struct cir_ct_entry *m = NULL;
	_cleanup_close_ int fd = -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint32_t seq = 1;
	int total = 0;
	bool more = true;

	if (!f || nf == 0)
		return cir_err(err, EINVAL, "conntrack flush: bad filter");
	for (size_t i = 0; i < nf; i++)
		if ((f[i].family != AF_INET && f[i].family != AF_INET6) ||
		    f[i].family != f[0].family ||
		    (f[i].orig_dst.af && f[i].orig_dst.af != f[i].family) ||
		    (f[i].reply_src.af && f[i].reply_src.af != f[i].family))
			return cir_err(err, EINVAL, "conntrack flush: bad filter");
	buf = malloc(CT_BUF);
	m = calloc(CT_BATCH, sizeof(*m));
	if (!buf || !m)
		return cir_err(err, ENOMEM, "conntrack flush: %s", strerror(ENOMEM));
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return cir_err(err, errno, "conntrack flush: netlink socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cir_err(err, errno, "conntrack flush: bind: %s", strerror(errno));
	/* Each round deletes what it found; a full batch means another. */
	for (int round = 0; more && round < 64; round++) {
		int n = ct_dump(fd, f, nf, seq++, m, &more, buf);

		if (n == -ENOENT || n == -EOPNOTSUPP || n == -EPROTONOSUPPORT)
			return total;       /* no conntrack in this kernel: nothing to flush */
		if (n < 0)
			return cir_err(err, -n, "conntrack flush: dump: %s", strerror(-n));
		for (int i = 0; i < n; i++) {
			int r = ct_delete(fd, &m[i], seq++, buf);

			if (r < 0)
				return cir_err(err, -r, "conntrack flush: delete: %s", strerror(-r));
			total += r;
		}
		if (n == 0)
			break;
	}
	return total;
}
