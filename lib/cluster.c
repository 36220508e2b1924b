// SPDX-License-Identifier: Apache-2.0
/*
 * cluster.c - cluster configuration (circuit.conf, environment), the
 * underlay address (RTM_GETROUTE), a session with the cluster.  The
 * agent's lease thread is cluster_agent.c, the host registry it keeps
 * cluster_hosts.c.
 * spec/cluster.md is the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "cleanup.h"
#include "cluster.h"
#include "json.h"
#include "nl.h"
#include "store.h"

/* ---- configuration ---- */

bool cir_cluster_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > CIR_CLUSTER_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

struct conf_key {
	const char *name;
	size_t off, size;            /* a string field */
	unsigned int *num;           /* or a number */
	unsigned int min, max;
};

/* One line [k0, e) (no newline): its key and value, blanks trimmed. */
struct conf_line {
	const char *k0, *k1, *v0, *v1;
};

/* 0 for a blank line or a comment, 1 for key = value (*l), -EINVAL. */
static int conf_line_split(const char *k0, const char *e, unsigned int line,
			   struct conf_line *l, struct cir_error *err)
{
	const char *eq;

	while (k0 < e && (*k0 == ' ' || *k0 == '\t'))
		k0++;
	if (k0 == e || *k0 == '#' || (*k0 == '\r' && k0 + 1 == e))
		return 0;
	if (memchr(k0, '\0', (size_t)(e - k0)))
		return cir_err(err, EINVAL, "circuit.conf:%u: NUL byte", line);
	eq = memchr(k0, '=', (size_t)(e - k0));
	if (!eq)
		return cir_err(err, EINVAL, "circuit.conf:%u: want key = value", line);
	l->k0 = k0;
	l->k1 = eq;
	while (l->k1 > k0 && (l->k1[-1] == ' ' || l->k1[-1] == '\t'))
		l->k1--;
	l->v0 = eq + 1;
	l->v1 = e;
	while (l->v0 < l->v1 && (*l->v0 == ' ' || *l->v0 == '\t'))
		l->v0++;
	while (l->v1 > l->v0 && (l->v1[-1] == ' ' || l->v1[-1] == '\t' || l->v1[-1] == '\r'))
		l->v1--;
	return 1;
}

/* A number key's value, within its bounds. */
static int conf_number(const struct conf_key *k, const char *v0, const char *v1,
		       unsigned int line, struct cir_error *err)
{
	char num[16];
	char *ne;
	unsigned long v;

	if (v1 - v0 == 0 || v1 - v0 >= (long)sizeof(num) || *v0 < '0' || *v0 > '9')
		return cir_err(err, EINVAL, "circuit.conf:%u: %s: want a number", line, k->name);
	memcpy(num, v0, (size_t)(v1 - v0));
	num[v1 - v0] = '\0';
	errno = 0;
	v = strtoul(num, &ne, 10);
	if (*ne || errno || v < k->min || v > k->max)
		return cir_err(err, EINVAL, "circuit.conf:%u: %s: want %u to %u", line, k->name,
			       k->min, k->max);
	*k->num = (unsigned int)v;
	return 0;
}

/* Key k of c = the value of l. */
static int conf_value_set(struct cir_cluster_conf *c, const struct conf_key *k,
			  const struct conf_line *l, unsigned int line, struct cir_error *err)
{
	char *f = (char *)c + k->off;

	for (const char *q = l->v0; q < l->v1; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return cir_err(err, EINVAL, "circuit.conf:%u: %s: control character", line,
				       k->name);
	if (k->num)
		return conf_number(k, l->v0, l->v1, line, err);
	if ((size_t)(l->v1 - l->v0) >= k->size)
		return cir_err(err, EINVAL, "circuit.conf:%u: %s: longer than %zu bytes", line,
			       k->name, k->size - 1);
	memcpy(f, l->v0, (size_t)(l->v1 - l->v0));
	f[l->v1 - l->v0] = '\0';
	return 0;
}

int cir_cluster_conf_parse(const char *text, size_t len, struct cir_cluster_conf *c,
			   struct cir_error *err)
{
#define STR(k, f) { k, offsetof(struct cir_cluster_conf, f), sizeof(c->f), NULL, 0, 0 }
	const struct conf_key keys[] = {
		STR("cluster", endpoints), STR("host-name", host_name), STR("underlay", underlay),
		STR("etcd-cacert", cacert), STR("etcd-cert", cert), STR("etcd-key", key),
		STR("etcd-token", token),
		{ "etcd-connect-timeout-ms", 0, 0, &c->connect_ms, 1, 60000 },
		{ "etcd-timeout-ms", 0, 0, &c->timeout_ms, 1, 60000 },
		{ "lease-ttl", 0, 0, &c->lease_ttl, 2, 3600 },
	};
#undef STR
	const char *p = text, *end = text + len;
	unsigned int line = 0;

	if (len > CIR_CLUSTER_CONF_MAX)
		return cir_err(err, EFBIG, "circuit.conf: larger than %u bytes", CIR_CLUSTER_CONF_MAX);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		const struct conf_key *k = NULL;
		char shown[CIR_ERR_SHOWN_MAX];
		struct conf_line l = { NULL, NULL, NULL, NULL };
		int r;

		line++;
		r = conf_line_split(p, e, line, &l, err);
		p = nl ? nl + 1 : end;
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strlen(keys[i].name) == (size_t)(l.k1 - l.k0) &&
			    memcmp(keys[i].name, l.k0, (size_t)(l.k1 - l.k0)) == 0)
				k = &keys[i];
		if (!k)
			return cir_err(err, EINVAL, "circuit.conf:%u: unknown key \"%s\"", line,
				       cir_err_shown_n(l.k0, (size_t)(l.k1 - l.k0), shown,
						       sizeof(shown)));
		r = conf_value_set(c, k, &l, line, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int copy_env(char *dst, size_t size, const char *var, struct cir_error *err)
{
	const char *v = getenv(var);

	if (!v || !*v)
		return 0;
	if (strlen(v) >= size)
		return cir_err(err, EINVAL, "$%s: longer than %zu bytes", var, size - 1);
	strcpy(dst, v);
	return 0;
}

/* circuit.conf at path into c (a missing file is no error). */
static int conf_file_read(const char *path, struct cir_cluster_conf *c, struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno != ENOENT)
		return cir_err(err, errno, "%s: %s", path, strerror(errno));
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0)
		return cir_err(err, errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cir_err(err, EINVAL, "%s: not a regular file", path);
	if (st.st_size > (off_t)CIR_CLUSTER_CONF_MAX)
		return cir_err(err, EFBIG, "%s: larger than %u bytes", path, CIR_CLUSTER_CONF_MAX);
	buf = malloc(CIR_CLUSTER_CONF_MAX + 1);
	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	n = read(fd, buf, CIR_CLUSTER_CONF_MAX + 1);
	if (n < 0)
		return cir_err(err, errno, "%s: %s", path, strerror(errno));
	return cir_cluster_conf_parse(buf, (size_t)n, c, err);
}

/* The host's name when none is configured: the system's, if valid. */
static int conf_host_name(struct cir_cluster_conf *c, struct cir_error *err)
{
	char shown[CIR_ERR_SHOWN_MAX];

	if (!c->host_name[0]) {
		char h[HOST_NAME_MAX + 1] = "";

		if (gethostname(h, sizeof(h)) < 0 || !h[0])
			return cir_err(err, EINVAL, "host name: none set (--host-name)");
		h[HOST_NAME_MAX] = '\0';
		if (strlen(h) >= sizeof(c->host_name))
			return cir_err(err, EINVAL, "host name %.70s: longer than %d bytes "
				       "(--host-name)", h, CIR_CLUSTER_NAME_MAX);
		strcpy(c->host_name, h);
	}
	if (!cir_cluster_name_valid(c->host_name))
		return cir_err(err, EINVAL, "host name \"%s\": want 1 to %d of A-Z a-z 0-9 . - _, "
			       "not starting with . or -",
			       cir_err_shown(c->host_name, shown, sizeof(shown)), CIR_CLUSTER_NAME_MAX);
	return 0;
}

int cir_cluster_conf_load(struct cir_cluster_conf *c, struct cir_error *err)
{
	const char *path = getenv(CIR_CLUSTER_CONF_ENV);
	int r;

	memset(c, 0, sizeof(*c));
	c->lease_ttl = CIR_CLUSTER_TTL;
	if (!path || !*path)
		path = CIR_CLUSTER_CONF_PATH;
	r = conf_file_read(path, c, err);
	if (r >= 0)
		r = copy_env(c->endpoints, sizeof(c->endpoints), CIR_CLUSTER_ENV, err);
	if (r >= 0)
		r = copy_env(c->host_name, sizeof(c->host_name), CIR_CLUSTER_HOST_ENV, err);
	if (r >= 0)
		r = copy_env(c->underlay, sizeof(c->underlay), CIR_CLUSTER_UNDERLAY_ENV, err);
	if (r < 0)
		return r;
	/* No cluster: the host's name plays no part (a machine whose hostname
	 * is not a valid cluster name, "(none)" in a VM, works as before). */
	if (!c->endpoints[0] && !c->host_name[0])
		return 0;
	return conf_host_name(c, err);
}

/* ---- the underlay address ---- */

struct route_src {
	struct cir_ip *src;
	bool found;
	int error;
};

static int route_cb(struct nl_msg *msg, void *arg)
{
	struct route_src *rs = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[RTA_MAX + 1];
	struct rtmsg *rtm;
	size_t alen;

	if (h->nlmsg_type != RTM_NEWROUTE)
		return NL_OK;
	if (nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_OK;
	rtm = nlmsg_data(h);
	alen = rtm->rtm_family == AF_INET ? 4 : rtm->rtm_family == AF_INET6 ? 16 : 0;
	if (alen && tb[RTA_PREFSRC] && (size_t)nla_len(tb[RTA_PREFSRC]) == alen) {
		memset(rs->src, 0, sizeof(*rs->src));
		rs->src->af = rtm->rtm_family;
		memcpy(rs->src->addr, nla_data(tb[RTA_PREFSRC]), alen);
		rs->found = true;
	}
	return NL_OK;
}

int cir_cluster_route_src(const struct cir_ip *dst, struct cir_ip *src, struct cir_error *err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_nl_msg_ struct nl_msg *m = NULL;
	struct rtmsg rtm = { .rtm_family = (unsigned char)dst->af };
	struct cir_ip out = { 0 };
	struct route_src rs = { .src = &out };
	char a[CIR_IP_STRLEN];
	size_t alen = dst->af == AF_INET ? 4 : 16;
	int r;

	cir_ip_format(dst, a, sizeof(a));
	rtm.rtm_dst_len = (unsigned char)(alen * 8);
	r = cir_nl_route_open(&sk, err);
	if (r < 0)
		return r;
	m = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST);
	if (!m)
		return cir_err(err, ENOMEM, "out of memory");
	if (nlmsg_append(m, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(m, RTA_DST, (int)alen, dst->addr) < 0)
		return cir_err(err, ENOMEM, "route to %s: message too large", a);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, route_cb, &rs);
	r = nl_send_auto(sk, m);
	if (r >= 0)
		r = nl_recvmsgs_default(sk);
	if (r < 0) {
		int e = cir_nl_errno(r);

		return cir_err(err, e, "route to %s: %s", a, strerror(e));
	}
	if (!rs.found)
		return cir_err(err, EADDRNOTAVAIL, "route to %s: no source address", a);
	*src = out;
	return 0;
}

/* The host part of endpoint URL ep ("http://[fd00::1]:2379" -> fd00::1). */
static int endpoint_host(const char *ep, char *host, size_t size)
{
	const char *p = strstr(ep, "://"), *e;

	if (!p)
		return -EINVAL;
	p += 3;
	if (*p == '[') {
		p++;
		e = strchr(p, ']');
	} else {
		e = p + strcspn(p, ":/,");
	}
	if (!e || (size_t)(e - p) >= size || e == p)
		return -EINVAL;
	memcpy(host, p, (size_t)(e - p));
	host[e - p] = '\0';
	return 0;
}

int cir_cluster_underlay(struct cir_cluster *c, struct cir_error *err)
{
	char host[300];
	struct cir_ip dst;
	int r;

	if (c->conf.underlay[0]) {
		r = cir_ip_parse(c->conf.underlay, &c->underlay, err);
		return r < 0 ? cir_err_wrap(err, "underlay") : 0;
	}
	if (endpoint_host(c->conf.endpoints, host, sizeof(host)) < 0)
		return cir_err(err, EINVAL, "underlay: cannot read the first endpoint's host");
	r = cir_ip_parse(host, &dst, err);
	if (r < 0)
		return cir_err(err, EINVAL, "underlay: the first endpoint's host %.80s is not an "
			       "address: set underlay in circuit.conf ($CIRCUIT_UNDERLAY)", host);
	r = cir_cluster_route_src(&dst, &c->underlay, err);
	return r < 0 ? cir_err_wrap(err, "underlay") : 0;
}

/* ---- sessions ---- */

int cir_cluster_err_none(struct cir_error *err)
{
	return cir_err(err, ENOTCONN, "no cluster configured (--cluster URL, $CIRCUIT_CLUSTER "
		       "or cluster = in %s)", CIR_CLUSTER_CONF_PATH);
}

void cir_cluster_close(struct cir_cluster *c)
{
	if (!c)
		return;
	cir_etcd_close(c->etcd);
	explicit_bzero(c->conf.token, sizeof(c->conf.token));
	free(c);
}

int cir_cluster_open(struct cir_cluster **out, const char *state_dir, struct cir_error *err)
{
	_cleanup_cluster_ struct cir_cluster *c = calloc(1, sizeof(*c));
	struct cir_etcd_opts o = { 0 };
	int r;

	if (!c)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_cluster_conf_load(&c->conf, err);
	if (r < 0)
		return r;
	c->state_dir = state_dir;
	if (!c->conf.endpoints[0]) {
		*out = NULL;
		return 0;
	}
	o.endpoints = c->conf.endpoints;
	o.cacert = c->conf.cacert[0] ? c->conf.cacert : NULL;
	o.cert = c->conf.cert[0] ? c->conf.cert : NULL;
	o.key = c->conf.key[0] ? c->conf.key : NULL;
	o.token = c->conf.token[0] ? c->conf.token : NULL;
	o.connect_ms = c->conf.connect_ms;
	o.timeout_ms = c->conf.timeout_ms;
	r = cir_etcd_open(&c->etcd, &o, err);
	if (r < 0)
		return r;
	*out = TAKE_PTR(c);
	return 0;
}
