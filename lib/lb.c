// SPDX-License-Identifier: Apache-2.0
/*
 * lb.c - load-balanced services: records (lb/<name>.json), the
 * reconciliation of a record with the kernel's IPVS table, and what makes
 * traffic reach a VIP (dummy device, VIP addresses, conntrack, hairpin).
 *
 * Every verb is: take lb/lock, read the record, change a copy, make the
 * kernel match the copy (cir_lb_sync), write the copy.  A failure after
 * the kernel changed puts the kernel back to the old record.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "addr.h"
#include "cleanup.h"
#include "conntrack.h"
#include "ipvs.h"
#include "lb.h"
#include "lbbackend.h"
#include "lbcache.h"
#include "link.h"
#include "nft.h"
#include "nl.h"
#include "sysctl.h"

#define RECORD_SUFFIX ".json"

CIR_DEFINE_CLEANUP(DIR, closedir)

static const char *const scheds[] = {
	"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf",
	"twos", NULL,
};

void cir_lb_service_clear(struct cir_lb_service *s)
{
	if (!s)
		return;
	free(s->targets);
	s->targets = NULL;
	s->n_targets = 0;
}

static void service_clearp(struct cir_lb_service *s)
{
	cir_lb_service_clear(s);
}
#define _cleanup_service_ _cleanup_(service_clearp)

/* Deep copy src into *dst (dst's old targets are not freed). */
static int service_copy(struct cir_lb_service *dst, const struct cir_lb_service *src,
			size_t extra, struct cir_error *err)
{
	*dst = *src;
	dst->targets = NULL;
	if (src->n_targets + extra == 0)
		return 0;
	dst->targets = calloc(src->n_targets + extra, sizeof(*dst->targets));
	if (!dst->targets) {
		dst->n_targets = 0;
		return cir_err(err, ENOMEM, "out of memory");
	}
	if (src->n_targets)
		memcpy(dst->targets, src->targets, src->n_targets * sizeof(*src->targets));
	return 0;
}

/* ------------------------------------------------------------- values */

int cir_lb_addr_parse(const char *what, const char *s, struct cir_lb_addr *out,
		      struct cir_error *err)
{
	char host[CIR_IP_TEXT_MAX + 1], show[CIR_ERR_SHOWN_MAX];
	const char *colon, *port;
	struct cir_lb_addr a = { 0 };
	unsigned long v = 0;
	size_t hl;

	if (!s || !*s)
		return cir_err(err, EINVAL, "%s: empty address (want ADDR:PORT)", what);
	cir_err_shown(s, show, sizeof(show));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return cir_err(err, EINVAL, "%s \"%s\": want [IPV6]:PORT", what, show);
		hl = close - (s + 1);
		if (hl == 0 || hl > CIR_IP_TEXT_MAX)
			return cir_err(err, EINVAL, "%s \"%s\": bad address", what, show);
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return cir_err(err, EINVAL, "%s \"%s\": missing port (want ADDR:PORT)",
				       what, show);
		if (memchr(s, ':', colon - s))
			return cir_err(err, EINVAL,
				       "%s \"%s\": write IPv6 addresses as [ADDR]:PORT", what, show);
		hl = colon - s;
		if (hl == 0 || hl > CIR_IP_TEXT_MAX)
			return cir_err(err, EINVAL, "%s \"%s\": bad address", what, show);
		memcpy(host, s, hl);
		host[hl] = '\0';
		port = colon + 1;
	}
	if (!*port || strlen(port) > 5 || port[0] == '0')
		return cir_err(err, EINVAL, "%s \"%s\": port must be 1..65535", what, show);
	for (const char *p = port; *p; p++) {
		if (*p < '0' || *p > '9')
			return cir_err(err, EINVAL, "%s \"%s\": port must be 1..65535", what, show);
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		return cir_err(err, EINVAL, "%s \"%s\": port must be 1..65535", what, show);
	if (cir_ip_parse(host, &a.ip, err) < 0)
		return cir_err_wrap(err, "%s", what);
	if (s[0] == '[' && a.ip.af != AF_INET6)
		return cir_err(err, EINVAL, "%s \"%s\": brackets are for IPv6 only", what, show);
	a.port = (uint16_t)v;
	*out = a;
	return 0;
}

const char *cir_lb_addr_format(const struct cir_lb_addr *a, char *buf, size_t len)
{
	char ip[CIR_IP_STRLEN];

	cir_ip_format(&a->ip, ip, sizeof(ip));
	if (a->ip.af == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, a->port);
	else
		snprintf(buf, len, "%s:%u", ip, a->port);
	return buf;
}

int cir_lb_sched_check(const char *name, struct cir_error *err)
{
	char show[32];

	for (size_t i = 0; scheds[i]; i++)
		if (name && strcmp(name, scheds[i]) == 0)
			return 0;
	return cir_err(err, EINVAL,
		       "unknown scheduler \"%s\" (want rr, wrr, lc, wlc, lblc, lblcr, dh, sh, "
		       "sed, nq, mh, fo, ovf or twos)", cir_err_shown(name, show, sizeof(show)));
}

int cir_lb_proto_parse(const char *s, uint16_t *out, struct cir_error *err)
{
	char show[32];

	if (s && strcmp(s, "tcp") == 0)
		*out = IPPROTO_TCP;
	else if (s && strcmp(s, "udp") == 0)
		*out = IPPROTO_UDP;
	else
		return cir_err(err, EINVAL, "unknown protocol \"%s\" (want tcp or udp)",
			       cir_err_shown(s, show, sizeof(show)));
	return 0;
}

int cir_lb_backend_parse(const char *s, enum cir_lb_backend *out, struct cir_error *err)
{
	char show[32];

	for (int b = 0; b < CIR_LB_BACKENDS; b++)
		if (s && strcmp(s, cir_lb_backend_ops((enum cir_lb_backend)b)->name) == 0) {
			*out = (enum cir_lb_backend)b;
			return 0;
		}
	return cir_err(err, EINVAL, "unknown backend \"%s\" (want ipvs or haproxy)",
		       cir_err_shown(s, show, sizeof(show)));
}

const char *cir_lb_backend_name(enum cir_lb_backend b)
{
	return cir_lb_backend_ops(b)->name;
}

int cir_lb_mode_parse(const char *s, enum cir_lb_mode *out, struct cir_error *err)
{
	char show[32];

	if (s && strcmp(s, "tcp") == 0)
		*out = CIR_LB_MODE_TCP;
	else if (s && strcmp(s, "http") == 0)
		*out = CIR_LB_MODE_HTTP;
	else
		return cir_err(err, EINVAL, "unknown mode \"%s\" (want tcp or http)",
			       cir_err_shown(s, show, sizeof(show)));
	return 0;
}

const char *cir_lb_mode_name(enum cir_lb_mode m)
{
	return m == CIR_LB_MODE_HTTP ? "http" : "tcp";
}

const char *cir_lb_proto_name(uint16_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : proto == IPPROTO_TCP ? "tcp" : "?";
}

const char *cir_lb_method_name(enum cir_ipvs_fwd m)
{
	switch (m) {
	case CIR_IPVS_FWD_MASQ:
		return "nat";
	case CIR_IPVS_FWD_ROUTE:
		return "dr";
	case CIR_IPVS_FWD_TUNNEL:
		return "tunnel";
	}
	return "?";
}

int cir_lb_service_check(const struct cir_lb_service *s, struct cir_error *err)
{
	if (cir_name_check("service name", s->name, err) < 0)
		return -err->errnum;
	if (s->vip.ip.af != AF_INET && s->vip.ip.af != AF_INET6)
		return cir_err(err, EINVAL, "service %s: no address", s->name);
	if (s->vip.port == 0)
		return cir_err(err, EINVAL, "service %s: port must be 1..65535", s->name);
	if (s->protocol != IPPROTO_TCP && s->protocol != IPPROTO_UDP)
		return cir_err(err, EINVAL, "service %s: protocol must be tcp or udp", s->name);
	if (cir_lb_sched_check(s->sched, err) < 0)
		return cir_err_wrap(err, "service %s", s->name);
	if ((s->mh_fallback || s->mh_port) && strcmp(s->sched, "mh") != 0)
		return cir_err(err, EINVAL, "service %s: --mh-fallback and --mh-port need "
			       "the mh scheduler", s->name);
	if ((unsigned int)s->backend >= CIR_LB_BACKENDS)
		return cir_err(err, EINVAL, "service %s: unknown backend", s->name);
	if (s->mode != CIR_LB_MODE_TCP && s->backend != CIR_LB_BACKEND_HAPROXY)
		return cir_err(err, EINVAL, "service %s: --mode is for --backend haproxy",
			       s->name);
	if (cir_lb_backend_ops(s->backend)->validate(s, err) < 0)
		return cir_err_wrap(err, "service %s", s->name);
	return 0;
}

void cir_lb_service_to_ipvs(const struct cir_lb_service *s, struct cir_ipvs_service *out)
{
	memset(out, 0, sizeof(*out));
	out->af = s->vip.ip.af;
	out->protocol = s->protocol;
	memcpy(&out->addr, s->vip.ip.addr, s->vip.ip.af == AF_INET6 ? 16 : 4);
	out->port = s->vip.port;
	snprintf(out->sched, sizeof(out->sched), "%s", s->sched);
	if (s->persistent) {
		out->flags = IP_VS_SVC_F_PERSISTENT;
		out->timeout = s->persistent;
	}
	/* The mh flags are the scheduler's own bits (SCHED1, SCHED2): only
	 * with mh do they mean fallback and port. */
	if (strcmp(s->sched, "mh") == 0) {
		if (s->mh_fallback)
			out->flags |= IP_VS_SVC_F_SCHED_MH_FALLBACK;
		if (s->mh_port)
			out->flags |= IP_VS_SVC_F_SCHED_MH_PORT;
	}
}

/*
 * Is target t of s programmed into IPVS?  Every target is, but a UDP one
 * that failed its checks: UDP has no end of connection to wait for, and
 * IPVS keeps a flow on a weight-0 dest for as long as its client keeps
 * sending (DNS from one port, QUIC, syslog), so a down UDP target is taken
 * out instead; with expire_nodest_conn=1 the flow's next datagram is then
 * scheduled again, to a live target.  A TCP target that fails keeps its
 * dest at weight 0: its connections finish, no new one comes.
 */
static bool target_in_kernel(const struct cir_lb_service *s, const struct cir_lb_target *t)
{
	return !(s->protocol == IPPROTO_UDP && t->down);
}

void cir_lb_target_to_ipvs(const struct cir_lb_target *t, struct cir_ipvs_dest *out)
{
	memset(out, 0, sizeof(*out));
	out->af = t->addr.ip.af;
	memcpy(&out->addr, t->addr.ip.addr, t->addr.ip.af == AF_INET6 ? 16 : 4);
	out->port = t->addr.port;
	out->weight = t->down ? 0 : t->weight;
	out->fwd = t->method;
}

/* An exec check's program: an absolute, normalised path of printable
 * characters (no "." or ".." component, no "//"), never a relative name. */
static int exec_path_check(const char *path, struct cir_error *err)
{
	if (path[0] != '/')
		return cir_err(err, EINVAL, "check exec: the program must be an absolute path");
	if (strlen(path) > CIR_LB_CHECK_PATH_MAX)
		return cir_err(err, EINVAL, "check exec: path longer than %d bytes",
			       CIR_LB_CHECK_PATH_MAX);
	for (const char *p = path; *p; p++) {
		if (*p <= ' ' || *p == 0x7f || (unsigned char)*p >= 0x80)
			return cir_err(err, EINVAL,
				       "check exec: path: no spaces, control or non-ASCII characters");
		if (*p == '/' && (p[1] == '/' || p[1] == '\0'))
			return cir_err(err, EINVAL, "check exec: path: empty component or trailing /");
		if (*p == '/' && p[1] == '.' &&
		    (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
			return cir_err(err, EINVAL, "check exec: path: no . or .. components");
	}
	return 0;
}

int cir_lb_check_parse(const char *spec, struct cir_lb_check *out, struct cir_error *err)
{
	struct cir_lb_check c = {
		.expect = 200, .interval_ms = 2000, .timeout_ms = 1000, .rise = 2, .fall = 3,
	};
	const char *path = "/";

	if (!spec)
		spec = "";
	if (strcmp(spec, "tcp") == 0) {
		c.type = CIR_LB_CHECK_TCP;
		path = "";
	} else if (strcmp(spec, "http") == 0) {
		c.type = CIR_LB_CHECK_HTTP;
	} else if (strncmp(spec, "http:", 5) == 0) {
		c.type = CIR_LB_CHECK_HTTP;
		path = spec + 5;
		if (path[0] != '/')
			return cir_err(err, EINVAL, "check \"%.64s\": the path must start with /",
				       spec);
	} else if (strcmp(spec, "udp") == 0 || strncmp(spec, "udp:", 4) == 0) {
		c.type = CIR_LB_CHECK_UDP;
		path = spec[3] ? spec + 4 : "";
		if (strlen(path) > CIR_LB_CHECK_PAYLOAD_MAX)
			return cir_err(err, EINVAL, "check udp: payload longer than %d bytes",
				       CIR_LB_CHECK_PAYLOAD_MAX);
		for (const char *p = path; *p; p++)
			if (*p < ' ' || *p >= 0x7f)
				return cir_err(err, EINVAL,
					       "check udp: payload must be printable ASCII");
		snprintf(c.path, sizeof(c.path), "%s", path);
		*out = c;
		return 0;
	} else if (strncmp(spec, "exec:", 5) == 0) {
		c.type = CIR_LB_CHECK_EXEC;
		path = spec + 5;
		if (exec_path_check(path, err) < 0)
			return -err->errnum;
	} else {
		return cir_err(err, EINVAL, "unknown check \"%.64s\" (want tcp, http, http:/PATH, "
			       "udp, udp:PAYLOAD or exec:/PATH)", spec);
	}
	if (strlen(path) > CIR_LB_CHECK_PATH_MAX)
		return cir_err(err, EINVAL, "check path longer than %d bytes",
			       CIR_LB_CHECK_PATH_MAX);
	for (const char *p = path; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return cir_err(err, EINVAL, "check path: no spaces or control characters");
	snprintf(c.path, sizeof(c.path), "%s", path);
	*out = c;
	return 0;
}

const char *cir_lb_check_format(const struct cir_lb_check *c, char *buf, size_t len)
{
	if (c->type == CIR_LB_CHECK_TCP)
		snprintf(buf, len, "tcp");
	else if (c->type == CIR_LB_CHECK_HTTP)
		snprintf(buf, len, "http:%s", c->path);
	else if (c->type == CIR_LB_CHECK_UDP)
		snprintf(buf, len, "udp%s%s", c->path[0] ? ":" : "", c->path);
	else if (c->type == CIR_LB_CHECK_EXEC)
		snprintf(buf, len, "exec:%s", c->path);
	else
		snprintf(buf, len, "none");
	return buf;
}

int cir_lb_check_valid(const struct cir_lb_check *c, struct cir_error *err)
{
	if (c->type == CIR_LB_CHECK_NONE)
		return 0;
	if (c->interval_ms < 100 || c->interval_ms > 3600 * 1000)
		return cir_err(err, EINVAL, "check interval must be 100ms..1h");
	if (c->timeout_ms < 10 || c->timeout_ms > c->interval_ms)
		return cir_err(err, EINVAL, "check timeout must be 10ms..the interval");
	if (c->rise < 1 || c->rise > 100 || c->fall < 1 || c->fall > 100)
		return cir_err(err, EINVAL, "check rise and fall must be 1..100");
	if (c->type == CIR_LB_CHECK_HTTP && (c->expect < 100 || c->expect > 599))
		return cir_err(err, EINVAL, "check expected status must be 100..599");
	return 0;
}

int cir_lb_duration_parse(const char *s, uint32_t *ms, struct cir_error *err)
{
	unsigned long long v = 0, mult = 1000;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return cir_err(err, EINVAL, "bad duration \"%.32s\" (want e.g. 2s, 500ms, 1m)",
			       s ? s : "");
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 86400000ULL)
			return cir_err(err, EINVAL, "duration \"%.32s\" too long", s);
	}
	if (strcmp(p, "ms") == 0)
		mult = 1;
	else if (strcmp(p, "s") == 0 || !*p)
		mult = 1000;
	else if (strcmp(p, "m") == 0)
		mult = 60000;
	else
		return cir_err(err, EINVAL, "bad duration \"%.32s\" (want e.g. 2s, 500ms, 1m)", s);
	if (v * mult > 86400000ULL)
		return cir_err(err, EINVAL, "duration \"%.32s\" too long", s);
	*ms = (uint32_t)(v * mult);
	return 0;
}

static bool addr_eq(const struct cir_lb_addr *a, const struct cir_lb_addr *b)
{
	return a->port == b->port && cir_ip_eq(&a->ip, &b->ip);
}

const struct cir_lb_check *cir_lb_target_check(const struct cir_lb_service *s,
					       const struct cir_lb_target *t)
{
	return t->check.type != CIR_LB_CHECK_NONE ? &t->check : &s->check;
}

int cir_lb_target_find(const struct cir_lb_service *s, const struct cir_lb_addr *a)
{
	for (size_t i = 0; i < s->n_targets; i++)
		if (addr_eq(&s->targets[i].addr, a))
			return (int)i;
	return -1;
}

static bool owner_eq(const struct cir_lb_owner *a, const struct cir_lb_owner *b)
{
	return strcmp(a->network, b->network) == 0 && strcmp(a->cid, b->cid) == 0 &&
	       strcmp(a->ifname, b->ifname) == 0;
}

/* ------------------------------------------------------------ records */

static int copy_str(char *dst, size_t size, const char *src, const char *what,
		    struct cir_error *err)
{
	if (!src)
		src = "";
	if (strlen(src) >= size) {
		char show[40];

		return cir_err(err, EINVAL, "%s \"%s\" is too long", what,
			       cir_err_shown(src, show, sizeof(show)));
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int parse_ip_port(const struct cir_jnode *o, struct cir_lb_addr *out,
			 struct cir_error *err)
{
	const char *ip = NULL;
	uint32_t port = 0;

	if (cir_json_str(o, "address", &ip, err) < 0 ||
	    cir_json_u32(o, "port", 65535, &port, err) < 0)
		return -err->errnum;
	if (!ip)
		return cir_err(err, EINVAL, "address is missing");
	if (port == 0)
		return cir_err(err, EINVAL, "port must be 1..65535");
	if (cir_ip_parse(ip, &out->ip, err) < 0)
		return -err->errnum;
	out->port = (uint16_t)port;
	return 0;
}

static int check_parse_json(const struct cir_jnode *root, struct cir_lb_check *out,
			    struct cir_error *err);

static int parse_target(const struct cir_jnode *o, uint16_t af, struct cir_lb_target *t,
			struct cir_error *err)
{
	const char *method = "nat", *bridge = NULL, *net = NULL, *cid = NULL, *ifn = NULL;
	const char *state = "up", *error = NULL;
	uint64_t since = 0;
	uint32_t weight = 1;

	memset(t, 0, sizeof(*t));
	if (cir_jnode_type(o) != CIR_JOBJECT)
		return cir_err(err, EINVAL, "expected an object");
	if (parse_ip_port(o, &t->addr, err) < 0 ||
	    cir_json_u32(o, "weight", 65535, &weight, err) < 0 ||
	    cir_json_str(o, "method", &method, err) < 0 ||
	    cir_json_str(o, "bridge", &bridge, err) < 0 ||
	    cir_json_str(o, "network", &net, err) < 0 ||
	    cir_json_str(o, "container", &cid, err) < 0 ||
	    cir_json_str(o, "interface", &ifn, err) < 0 ||
	    cir_json_str(o, "state", &state, err) < 0 ||
	    cir_json_str(o, "error", &error, err) < 0 ||
	    cir_json_u64(o, "since", INT64_MAX, &since, err) < 0)
		return -err->errnum;
	if (strcmp(state, "up") != 0 && strcmp(state, "down") != 0)
		return cir_err(err, EINVAL, "state must be up or down");
	t->down = strcmp(state, "down") == 0;
	t->since = (long long)since;
	snprintf(t->error, sizeof(t->error), "%s", error ? error : "");
	if (t->addr.ip.af != af)
		return cir_err(err, EINVAL, "address family differs from the service's");
	if (cir_ipvs_fwd_parse(method, &t->method, err) < 0)
		return -err->errnum;
	t->weight = weight;
	if (copy_str(t->bridge, sizeof(t->bridge), bridge, "bridge", err) < 0 ||
	    copy_str(t->owner.network, sizeof(t->owner.network), net, "network", err) < 0 ||
	    copy_str(t->owner.cid, sizeof(t->owner.cid), cid, "container", err) < 0 ||
	    copy_str(t->owner.ifname, sizeof(t->owner.ifname), ifn, "interface", err) < 0)
		return -err->errnum;
	if (check_parse_json(o, &t->check, err) < 0)
		return cir_err_wrap(err, "check");
	return 0;
}

/* "check": {"type", "path" (http, exec), "payload" (udp), "expect",
 * "interval", "timeout", "rise", "fall"} (times in ms) of object root (a
 * record or a target); absent = none. */
static int check_parse_json(const struct cir_jnode *root, struct cir_lb_check *out,
			    struct cir_error *err)
{
	const struct cir_jnode *o = NULL;
	const char *type = NULL, *path = NULL, *payload = NULL;
	struct cir_lb_check c;
	uint32_t expect, interval, timeout, rise, fall;
	char spec[CIR_LB_CHECK_PATH_MAX + 8];

	memset(out, 0, sizeof(*out));
	if (cir_json_obj(root, "check", &o, err) < 0)
		return -err->errnum;
	if (!o)
		return 0;
	if (cir_json_str(o, "type", &type, err) < 0 || cir_json_str(o, "path", &path, err) < 0 ||
	    cir_json_str(o, "payload", &payload, err) < 0)
		return -err->errnum;
	if (!type)
		return cir_err(err, EINVAL, "type is missing");
	if ((path && strlen(path) > CIR_LB_CHECK_PATH_MAX) ||
	    (payload && strlen(payload) > CIR_LB_CHECK_PAYLOAD_MAX))
		return cir_err(err, EINVAL, "path or payload too long");
	if (strcmp(type, "http") == 0 && path)
		snprintf(spec, sizeof(spec), "http:%s", path);
	else if (strcmp(type, "exec") == 0)
		snprintf(spec, sizeof(spec), "exec:%s", path ? path : "");
	else if (strcmp(type, "udp") == 0 && payload && *payload)
		snprintf(spec, sizeof(spec), "udp:%s", payload);
	else if (strcmp(type, "tcp") == 0 || strcmp(type, "http") == 0 || strcmp(type, "udp") == 0)
		snprintf(spec, sizeof(spec), "%s", type);
	else
		return cir_err(err, EINVAL, "unknown type \"%.32s\"", type);
	if (cir_lb_check_parse(spec, &c, err) < 0)
		return -err->errnum;
	expect = c.expect;
	interval = c.interval_ms;
	timeout = c.timeout_ms;
	rise = c.rise;
	fall = c.fall;
	if (cir_json_u32(o, "expect", 599, &expect, err) < 0 ||
	    cir_json_u32(o, "interval", 3600 * 1000, &interval, err) < 0 ||
	    cir_json_u32(o, "timeout", 3600 * 1000, &timeout, err) < 0 ||
	    cir_json_u32(o, "rise", 100, &rise, err) < 0 ||
	    cir_json_u32(o, "fall", 100, &fall, err) < 0)
		return -err->errnum;
	c.expect = (uint16_t)expect;
	c.interval_ms = interval;
	c.timeout_ms = timeout;
	c.rise = rise;
	c.fall = fall;
	if (cir_lb_check_valid(&c, err) < 0)
		return -err->errnum;
	*out = c;
	return 0;
}

static const char *check_type_name(enum cir_lb_check_type t)
{
	switch (t) {
	case CIR_LB_CHECK_TCP:
		return "tcp";
	case CIR_LB_CHECK_HTTP:
		return "http";
	case CIR_LB_CHECK_UDP:
		return "udp";
	case CIR_LB_CHECK_EXEC:
		return "exec";
	case CIR_LB_CHECK_NONE:
		break;
	}
	return "none";
}

void cir_lb_check_emit(struct cir_jgen *g, const struct cir_lb_check *c)
{
	cir_jgen_key(g, "check");
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "type", check_type_name(c->type));
	if (c->type == CIR_LB_CHECK_HTTP) {
		cir_jgen_kstr(g, "path", c->path);
		cir_jgen_kint(g, "expect", c->expect);
	} else if (c->type == CIR_LB_CHECK_EXEC) {
		cir_jgen_kstr(g, "path", c->path);
	} else if (c->type == CIR_LB_CHECK_UDP && c->path[0]) {
		cir_jgen_kstr(g, "payload", c->path);
	}
	cir_jgen_kint(g, "interval", c->interval_ms);
	cir_jgen_kint(g, "timeout", c->timeout_ms);
	cir_jgen_kint(g, "rise", c->rise);
	cir_jgen_kint(g, "fall", c->fall);
	cir_jgen_map_close(g);
}

int cir_lb_service_parse(const struct cir_jnode *root, struct cir_lb_service *out,
			 struct cir_error *err)
{
	_cleanup_service_ struct cir_lb_service s = { 0 };
	const struct cir_jnode *arr = NULL;
	const char *name = NULL, *proto = "tcp", *sched = CIR_LB_DEFAULT_SCHED;
	const char *backend = "ipvs", *mode = "tcp";
	uint64_t created = 0;
	size_t n;
	int r;

	if (cir_jnode_type(root) != CIR_JOBJECT)
		return cir_err(err, EINVAL, "service record: expected an object");
	if (cir_json_str(root, "name", &name, err) < 0 ||
	    cir_json_str(root, "protocol", &proto, err) < 0 ||
	    cir_json_str(root, "scheduler", &sched, err) < 0 ||
	    cir_json_u32(root, "persistent", UINT32_MAX, &s.persistent, err) < 0 ||
	    cir_json_u64(root, "created", INT64_MAX, &created, err) < 0 ||
	    cir_json_str(root, "backend", &backend, err) < 0 ||
	    cir_json_str(root, "mode", &mode, err) < 0 ||
	    cir_json_arr(root, "targets", &arr, err) < 0)
		return cir_err_wrap(err, "service record");
	if (cir_lb_backend_parse(backend, &s.backend, err) < 0 ||
	    cir_lb_mode_parse(mode, &s.mode, err) < 0)
		return cir_err_wrap(err, "service record");
	if (!name)
		return cir_err(err, EINVAL, "service record: name is missing");
	if (copy_str(s.name, sizeof(s.name), name, "name", err) < 0 ||
	    copy_str(s.sched, sizeof(s.sched), sched, "scheduler", err) < 0 ||
	    parse_ip_port(root, &s.vip, err) < 0 ||
	    cir_lb_proto_parse(proto, &s.protocol, err) < 0)
		return cir_err_wrap(err, "service record");
	s.created = (long long)created;
	if (cir_json_bool(root, "mh_fallback", &s.mh_fallback, err) < 0 ||
	    cir_json_bool(root, "mh_port", &s.mh_port, err) < 0)
		return cir_err_wrap(err, "service record");
	if (cir_lb_service_check(&s, err) < 0)
		return cir_err_wrap(err, "service record");
	r = check_parse_json(root, &s.check, err);
	if (r < 0)
		return cir_err_wrap(err, "service record %s: check", s.name);
	n = arr ? cir_jnode_len(arr) : 0;
	if (n > CIR_LB_TARGETS_MAX)
		return cir_err(err, EINVAL, "service record %s: more than %d targets", s.name,
			       CIR_LB_TARGETS_MAX);
	if (n) {
		s.targets = calloc(n, sizeof(*s.targets));
		if (!s.targets)
			return cir_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (parse_target(cir_jnode_at(arr, i), s.vip.ip.af, &s.targets[i], err) < 0)
			return cir_err_wrap(err, "service record %s: target %zu", s.name, i);
		if (cir_lb_target_find(&s, &s.targets[i].addr) >= 0)
			return cir_err(err, EINVAL, "service record %s: target %zu is a duplicate",
				       s.name, i);
		s.n_targets = i + 1;
	}
	if (cir_lb_backend_ops(s.backend)->validate(&s, err) < 0)
		return cir_err_wrap(err, "service record %s", s.name);
	cir_lb_service_clear(out);
	*out = s;
	s.targets = NULL;
	s.n_targets = 0;
	return 0;
}

void cir_lb_service_emit(struct cir_jgen *g, const struct cir_lb_service *s)
{
	char ip[CIR_IP_STRLEN];

	cir_jgen_kstr(g, "name", s->name);
	cir_jgen_kstr(g, "address", cir_ip_format(&s->vip.ip, ip, sizeof(ip)));
	cir_jgen_kint(g, "port", s->vip.port);
	cir_jgen_kstr(g, "protocol", cir_lb_proto_name(s->protocol));
	cir_jgen_kstr(g, "scheduler", s->sched);
	cir_jgen_kint(g, "persistent", s->persistent);
	cir_jgen_kint(g, "created", s->created);
	if (s->backend != CIR_LB_BACKEND_IPVS)
		cir_jgen_kstr(g, "backend", cir_lb_backend_name(s->backend));
	if (s->mode != CIR_LB_MODE_TCP)
		cir_jgen_kstr(g, "mode", cir_lb_mode_name(s->mode));
	if (s->mh_fallback)
		cir_jgen_kbool(g, "mh_fallback", true);
	if (s->mh_port)
		cir_jgen_kbool(g, "mh_port", true);
	if (s->check.type != CIR_LB_CHECK_NONE)
		cir_lb_check_emit(g, &s->check);
	cir_jgen_key(g, "targets");
	cir_jgen_arr_open(g);
	for (size_t i = 0; i < s->n_targets; i++) {
		const struct cir_lb_target *t = &s->targets[i];

		cir_jgen_map_open(g);
		cir_jgen_kstr(g, "address", cir_ip_format(&t->addr.ip, ip, sizeof(ip)));
		cir_jgen_kint(g, "port", t->addr.port);
		cir_jgen_kint(g, "weight", t->weight);
		cir_jgen_kstr(g, "method", cir_lb_method_name(t->method));
		if (t->bridge[0])
			cir_jgen_kstr(g, "bridge", t->bridge);
		if (t->owner.cid[0]) {
			cir_jgen_kstr(g, "network", t->owner.network);
			cir_jgen_kstr(g, "container", t->owner.cid);
			cir_jgen_kstr(g, "interface", t->owner.ifname);
		}
		if (t->down)
			cir_jgen_kstr(g, "state", "down");
		if (t->error[0])
			cir_jgen_kstr(g, "error", t->error);
		if (t->since)
			cir_jgen_kint(g, "since", t->since);
		if (t->check.type != CIR_LB_CHECK_NONE)
			cir_lb_check_emit(g, &t->check);
		cir_jgen_map_close(g);
	}
	cir_jgen_arr_close(g);
}

int cir_lb_service_format(const struct cir_lb_service *s, bool pretty, char **out,
			  struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	int r;

	r = cir_jgen_new(&g, pretty, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_lb_service_emit(g, s);
	cir_jgen_map_close(g);
	return cir_jgen_finish_dup(g, out, err);
}

/* ------------------------------------------------------------ the db */

int cir_lb_db_open(struct cir_lb_db *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int fd;

	fd = cir_store_open_sub(&st, dir, CIR_LB_DIR, err);
	if (fd < 0)
		return fd;
	*db = (struct cir_lb_db)CIR_LB_DB_INIT;
	db->st = st;
	db->fd = fd;
	return 0;
}

int cir_lb_db_open_existing(struct cir_lb_db *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int r, fd;

	r = cir_store_open_existing(&st, dir, err);
	if (r < 0)
		return r;
	fd = cir_store_dir(st.fd, CIR_LB_DIR, false, err);
	if (fd < 0) {
		cir_store_close(&st);
		return fd;
	}
	*db = (struct cir_lb_db)CIR_LB_DB_INIT;
	db->st = st;
	db->fd = fd;
	return 0;
}

int cir_lb_db_open_ro(struct cir_lb_db *db, const char *dir, struct cir_error *err)
{
	struct cir_store st = CIR_STORE_INIT;
	int r, fd = -1;

	r = cir_store_open_sub_ro(&st, dir, CIR_LB_DIR, &fd, err);
	if (r < 0)
		return r;
	*db = (struct cir_lb_db)CIR_LB_DB_INIT;
	db->st = st;
	db->fd = fd;
	return 0;
}

void cir_lb_db_close(struct cir_lb_db *db)
{
	if (!db)
		return;
	cir_ipvs_close(db->ipvs);
	db->ipvs = NULL;
	if (db->rt)
		nl_socket_free(db->rt);
	db->rt = NULL;
	if (db->fd >= 0)
		close(db->fd);
	db->fd = -1;
	cir_store_close(&db->st);
}

int cir_lb_db_ipvs(struct cir_lb_db *db, struct cir_ipvs **out, struct cir_error *err)
{
	int r;

	if (!db->ipvs) {
		r = cir_ipvs_open(&db->ipvs, err);
		if (r < 0)
			return r;
	}
	*out = db->ipvs;
	return 0;
}

static int db_route(struct cir_lb_db *db, struct nl_sock **out, struct cir_error *err)
{
	int r;

	if (!db->rt) {
		r = cir_nl_route_open(&db->rt, err);
		if (r < 0)
			return r;
	}
	*out = db->rt;
	return 0;
}

int cir_lb_lock(struct cir_lb_db *db, struct cir_error *err)
{
	int r = cir_store_lock(db->fd, err);

	return r < 0 ? cir_err_wrap(err, "lb lock") : r;
}

/* ------------------------------------------------------------ the index */

/*
 * lb/vip/<ip>/<proto>-<port> holds the name of the service that has that
 * key, so create and delete find a duplicate VIP, a shared VIP address and
 * the last service without reading any record.  lb/index marks a store
 * whose vip/ holds the key of every record; a store from before the index
 * (records, no marker) gets it built once, under the lock, by the first
 * create, delete or restore.  Every change to it is made under lb/lock.
 */
#define INDEX_DIR "vip"
#define INDEX_MARK "index"

static void index_ipdir(const struct cir_lb_addr *vip, char *buf, size_t len)
{
	cir_ip_format(&vip->ip, buf, len);
}

static void index_key(const struct cir_lb_service *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", cir_lb_proto_name(s->protocol), s->vip.port);
}

/* Open lb/vip/<ip> (create: making both as needed); -ENOENT when absent. */
static int index_open(struct cir_lb_db *db, const struct cir_lb_service *s, bool create,
		      struct cir_error *err)
{
	_cleanup_close_ int vfd = -1;
	char ip[CIR_IP_STRLEN];

	if (db->fd < 0)
		return -ENOENT;
	vfd = cir_store_dir(db->fd, INDEX_DIR, create, err);
	if (vfd < 0)
		return vfd;
	index_ipdir(&s->vip, ip, sizeof(ip));
	return cir_store_dir(vfd, ip, create, err);
}

/* Reserve s's key for s (O_EXCL).  -EEXIST when another service holds
 * it; a key already naming s (left by a create that died before writing
 * its record) is s's. */
static int index_reserve(struct cir_lb_db *db, const struct cir_lb_service *s,
			 struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	char key[32], owner[CIR_NAME_MAX + 2];
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	fd = index_open(db, s, true, err);
	if (fd < 0)
		return cir_err_wrap(err, "lb index");
	index_key(s, key, sizeof(key));
	r = cir_store_create(fd, key, s->name, strlen(s->name), err);
	if (r == -EEXIST && cir_store_read(fd, key, owner, sizeof(owner), &e2) >= 0 &&
	    strcmp(owner, s->name) == 0) {
		cir_err_clear(err);
		return 0;
	}
	return r;
}

/*
 * Drop s's key (when it names s) and its address directory when empty.
 * *ip_shared: another service keeps this VIP address; *last: no service
 * keeps any key.  Either may be NULL.
 */
static int index_release(struct cir_lb_db *db, const struct cir_lb_service *s, bool *ip_shared,
			 bool *last, struct cir_error *err)
{
	_cleanup_close_ int vfd = -1;
	_cleanup_(closedirp) DIR *d = NULL;
	char ip[CIR_IP_STRLEN], key[32], owner[CIR_NAME_MAX + 2];
	int fd, r;

	if (ip_shared)
		*ip_shared = false;
	if (last)
		*last = true;
	if (db->fd < 0)
		return 0;
	vfd = cir_store_dir(db->fd, INDEX_DIR, false, err);
	if (vfd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (vfd < 0)
		return vfd;
	index_ipdir(&s->vip, ip, sizeof(ip));
	index_key(s, key, sizeof(key));
	fd = cir_store_dir(vfd, ip, false, err);
	if (fd >= 0) {
		r = cir_store_read(fd, key, owner, sizeof(owner), err);
		if (r >= 0 && strcmp(owner, s->name) == 0)
			unlinkat(fd, key, 0);
		cir_err_clear(err);
		close(fd);
		if (unlinkat(vfd, ip, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			if (errno != ENOTEMPTY && errno != EEXIST)
				return cir_err(err, errno, "lb index %s: %s", ip, strerror(errno));
			if (ip_shared)
				*ip_shared = true;
		}
	} else if (fd != -ENOENT) {
		return fd;
	}
	cir_err_clear(err);
	if (last) {
		struct dirent *e;
		int dfd = fcntl(vfd, F_DUPFD_CLOEXEC, 0);

		if (dfd < 0 || !(d = fdopendir(dfd))) {
			if (dfd >= 0)
				close(dfd);
			return cir_err(err, errno, "lb index: %s", strerror(errno));
		}
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				*last = false;
				break;
			}
	}
	return 0;
}

/*
 * The service holding s's key, other than s itself, into other ("" when
 * none).  One record read: an entry whose record is gone or has another
 * key (a crash between the two writes) is stale and removed.
 */
static int index_lookup(struct cir_lb_db *db, const struct cir_lb_service *s,
			char other[CIR_NAME_MAX + 1], struct cir_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_service_ struct cir_lb_service o = { 0 };
	char key[32], owner[CIR_NAME_MAX + 2];
	struct cir_error e2 = CIR_ERROR_INIT;
	int r;

	other[0] = '\0';
	fd = index_open(db, s, false, err);
	if (fd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	index_key(s, key, sizeof(key));
	r = cir_store_read(fd, key, owner, sizeof(owner), &e2);
	if (r == -ENOENT)
		return 0;
	if (r >= 0 && strcmp(owner, s->name) == 0)
		return 0;
	if (r >= 0 && cir_name_valid(owner) && cir_lb_get(db, owner, &o, &e2) == 0 &&
	    o.protocol == s->protocol && o.vip.port == s->vip.port &&
	    cir_ip_eq(&o.vip.ip, &s->vip.ip)) {
		snprintf(other, CIR_NAME_MAX + 1, "%s", owner);
		return 0;
	}
	/* Stale (or garbled): its owner is gone. */
	if (unlinkat(fd, key, 0) < 0 && errno != ENOENT)
		return cir_err(err, errno, "lb index %s: %s", key, strerror(errno));
	return 0;
}

struct index_build {
	struct cir_lb_db *db;
	struct cir_error *err;
	int added;
};

/* Index s when its key is free (two records with one key: the first
 * listed keeps it).  Adds to ib->added. */
static int index_add_fn(const struct cir_lb_service *s, void *arg)
{
	struct index_build *ib = arg;
	char other[CIR_NAME_MAX + 1];
	int r;

	r = index_lookup(ib->db, s, other, ib->err);
	if (r < 0)
		return r;
	if (other[0])
		return 0;
	r = index_reserve(ib->db, s, ib->err);
	if (r == -EEXIST) {
		cir_err_clear(ib->err);
		return 0;
	}
	if (r < 0)
		return r;
	ib->added++;
	return 0;
}

/*
 * With the lock held: make sure vip/ holds every record's key.  A store
 * with the marker is trusted (no record read); without it every record is
 * read once and, when there was any, the marker written.  (An empty store
 * gets no marker, so that records written by hand before the first
 * service are still indexed.)  Returns the number of keys added.
 */
static int index_ensure(struct cir_lb_db *db, struct cir_error *err)
{
	struct index_build ib = { .db = db, .err = err };
	int r, n;

	if (db->fd < 0)
		return 0;
	r = cir_store_exists(db->fd, INDEX_MARK, err);
	if (r != 0)
		return r < 0 ? r : 0;
	n = cir_lb_list(db, index_add_fn, &ib, err);
	if (n < 0)
		return cir_err_wrap(err, "lb index");
	if (n > 0) {
		r = cir_store_write(db->fd, INDEX_MARK, "1\n", 2, err);
		if (r < 0)
			return cir_err_wrap(err, "lb index");
	}
	return ib.added;
}

/* ------------------------------------------------------------ kernel */

/* The dummy device carrying the VIPs: made (up) when missing. */
static int device_ensure(struct cir_lb_db *db, int *ifindex, struct cir_error *err)
{
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	struct cir_link_info info;
	struct nl_sock *sk;
	int r;

	if (db->dev_ifindex) {
		*ifindex = db->dev_ifindex;
		return 0;
	}
	r = db_route(db, &sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, CIR_LB_DEVICE, &info, err);
	if (r == -ENODEV) {
		l = rtnl_link_alloc();
		if (!l)
			return cir_err(err, ENOMEM, "out of memory");
		rtnl_link_set_name(l, CIR_LB_DEVICE);
		r = rtnl_link_set_type(l, "dummy");
		if (r < 0)
			return cir_nl_err(err, r, "device " CIR_LB_DEVICE ": dummy type");
		rtnl_link_set_flags(l, IFF_UP);
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
		if (r < 0 && (cir_nl_errno(r) == EOPNOTSUPP || cir_nl_errno(r) == ENOENT)) {
			/* A kernel without the dummy driver: the VIPs go on lo,
			 * where any local address is taken (spec/lb.md). */
			r = cir_link_get(sk, "lo", &info, err);
			if (r < 0)
				return cir_err_wrap(err, "device lo (no dummy driver for %s)",
						    CIR_LB_DEVICE);
			*ifindex = db->dev_ifindex = info.ifindex;
			return 0;
		}
		if (r < 0 && cir_nl_errno(r) != EEXIST) {
			r = cir_nl_err(err, r, "create dummy device");
			if (r == -EOPNOTSUPP || r == -ENOENT)
				cir_err_wrap(err, "device %s (kernel without the dummy module?)",
					     CIR_LB_DEVICE);
			else
				cir_err_wrap(err, "device %s", CIR_LB_DEVICE);
			return r;
		}
		r = cir_link_get(sk, CIR_LB_DEVICE, &info, err);
	}
	if (r < 0)
		return cir_err_wrap(err, "device %s", CIR_LB_DEVICE);
	if (strcmp(info.kind, "dummy") != 0)
		return cir_err(err, EEXIST, "device %s: a %s link with that name exists",
			       CIR_LB_DEVICE, info.kind[0] ? info.kind : "non-dummy");
	if (!info.up) {
		r = cir_link_set_up(sk, info.ifindex, true, err);
		if (r < 0)
			return cir_err_wrap(err, "device %s", CIR_LB_DEVICE);
	}
	*ifindex = db->dev_ifindex = info.ifindex;
	return 0;
}

static void vip_cidr(const struct cir_ip *ip, char *buf, size_t len)
{
	char s[CIR_IP_STRLEN];

	snprintf(buf, len, "%s/%u", cir_ip_format(ip, s, sizeof(s)), cir_ip_bits(ip->af));
}

/* The VIP as a host address on the device (one request, no listing);
 * returns 1 when added, 0 when it was there. */
static int vip_ensure(struct cir_lb_db *db, int ifindex, const struct cir_ip *ip,
		      struct cir_error *err)
{
	char cidr[CIR_CIDR_STRLEN];
	int r;

	vip_cidr(ip, cidr, sizeof(cidr));
	r = cir_addr_add(db->rt, ifindex, cidr, false, err);
	if (r == -EEXIST) {
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? cir_err_wrap(err, "device %s", CIR_LB_DEVICE) : 1;
}

/* What a NAT'd VIP needs beyond IPVS: conntrack for IPVS flows (hairpin
 * masquerade and reply routing) and forwarding (replies to remote clients
 * are forwarded, then de-NAT'd by IPVS).  Returns the number of changes. */
static int sysctls_ensure(struct cir_error *err)
{
	int r, n = 0;

	r = cir_sysctl_ensure("net/ipv4/vs/conntrack", "1", err);
	if (r < 0)
		return cir_err_wrap(err, "net.ipv4.vs.conntrack");
	n += r;
	/* A target taken out (weight 0 by a failed check, or removed): its
	 * persistence templates expire instead of pinning clients to it, and
	 * packets of connections to a removed dest end them at once. */
	r = cir_sysctl_ensure("net/ipv4/vs/expire_quiescent_template", "1", err);
	if (r < 0)
		return cir_err_wrap(err, "net.ipv4.vs.expire_quiescent_template");
	n += r;
	r = cir_sysctl_ensure("net/ipv4/vs/expire_nodest_conn", "1", err);
	if (r < 0)
		return cir_err_wrap(err, "net.ipv4.vs.expire_nodest_conn");
	n += r;
	r = cir_sysctl_ip_forward_enable(err);
	if (r < 0)
		return cir_err_wrap(err, "net.ipv4.ip_forward");
	return n + r;
}

/* Everything a VIP needs on this host.  Returns the number of changes. */
int cir_lb_vip_setup(struct cir_lb_db *db, const struct cir_ip *ip, bool with_sysctls,
		     struct cir_error *err)
{
	int ifindex = 0, r, n;

	r = device_ensure(db, &ifindex, err);
	if (r < 0)
		return r;
	n = vip_ensure(db, ifindex, ip, err);
	if (n < 0 || db->sysctls_done || !with_sysctls)
		return n;
	r = sysctls_ensure(err);
	if (r < 0)
		return r;
	db->sysctls_done = true;
	return n + r;
}

static int vip_setup(struct cir_lb_db *db, const struct cir_ip *ip, struct cir_error *err)
{
	return cir_lb_vip_setup(db, ip, true, err);
}

int cir_lb_path(const struct cir_lb_db *db, const char *name, char *buf, size_t len,
		struct cir_error *err)
{
	int n = snprintf(buf, len, "%s/%s/%s", db->st.path, CIR_LB_DIR, name);

	if (n < 0 || (size_t)n >= len || !db->st.path[0])
		return cir_err(err, ENAMETOOLONG, "state path %s/%s/%s: too long or unknown",
			       db->st.path, CIR_LB_DIR, name);
	return 0;
}

/* The bridge whose subnet holds ip, into out ("" when none): the kernel's
 * route to ip, when it is on-link (no gateway) through a bridge.  One
 * lookup, not a dump of the host's addresses (which holds every VIP). */
static int bridge_of(struct cir_lb_db *db, const struct cir_ip *ip, char out[CIR_IFNAMSIZ],
		     struct cir_error *err)
{
	_cleanup_nl_addr_ struct nl_addr *dst = NULL;
	_cleanup_rtnl_route_ struct rtnl_route *rt = NULL;
	_cleanup_rtnl_link_ struct rtnl_link *l = NULL;
	struct rtnl_nexthop *nh;
	struct nl_sock *sk;
	const char *kind;
	int r, ifindex;

	out[0] = '\0';
	r = db_route(db, &sk, err);
	if (r < 0)
		return r;
	dst = nl_addr_build(ip->af, ip->addr, ip->af == AF_INET6 ? 16 : 4);
	if (!dst)
		return cir_err(err, ENOMEM, "out of memory");
	r = rtnl_route_lookup(sk, dst, &rt);
	if (r < 0)
		return 0;       /* no route: behind no bridge */
	if (rtnl_route_get_type(rt) != RTN_UNICAST || rtnl_route_get_nnexthops(rt) != 1)
		return 0;
	nh = rtnl_route_nexthop_n(rt, 0);
	if (!nh || rtnl_route_nh_get_gateway(nh))
		return 0;
	ifindex = rtnl_route_nh_get_ifindex(nh);
	if (ifindex <= 0)
		return 0;
	r = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (r < 0)
		return cir_nl_err(err, r, "get link");
	kind = rtnl_link_get_type(l);
	if (kind && strcmp(kind, "bridge") == 0)
		snprintf(out, CIR_IFNAMSIZ, "%s", rtnl_link_get_name(l));
	return 0;
}

static int hairpin_ensure(const struct cir_lb_target *t, struct cir_error *err)
{
	int r;

	if (!t->bridge[0] || t->method != CIR_IPVS_FWD_MASQ)
		return 0;
	r = cir_nft_hairpin_exists(t->bridge, err);
	if (r != 0)
		return r < 0 ? cir_err_wrap(err, "hairpin %s", t->bridge) : 0;
	r = cir_nft_hairpin_add(t->bridge, err);
	return r < 0 ? cir_err_wrap(err, "hairpin %s", t->bridge) : 1;
}

/* The service flags a record decides (the kernel may report others). */
#define SVC_FLAGS (IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2)

/* A scheduler the kernel lacks (-ENOENT from IPVS): say which module. */
static int sched_missing(const struct cir_lb_service *s, struct cir_error *err)
{
	char up[IP_VS_SCHEDNAME_MAXLEN];
	size_t i;

	for (i = 0; s->sched[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(s->sched[i] >= 'a' && s->sched[i] <= 'z' ? s->sched[i] - 32
									: s->sched[i]);
	up[i] = '\0';
	return cir_err(err, ENOENT, "scheduler %s not available in this kernel (load module "
		       "ip_vs_%s, CONFIG_IP_VS_%s)", s->sched, s->sched, up);
}

static bool dest_same(const struct cir_ipvs_dest *a, const struct cir_ipvs_dest *b)
{
	return a->weight == b->weight && a->fwd == b->fwd;
}

static int sync_known(struct cir_lb_db *db, const struct cir_lb_service *s, int have_service,
		      const struct cir_ipvs_service *known, struct cir_error *err);

int cir_lb_sync(struct cir_lb_db *db, const struct cir_lb_service *s, int have_service,
		struct cir_error *err)
{
	return sync_known(db, s, have_service, NULL, err);
}

/* cir_lb_sync, with the kernel's copy of the service (known, from a dump
 * of all services: restore) instead of a service get when given. */
static int sync_known(struct cir_lb_db *db, const struct cir_lb_service *s, int have_service,
		      const struct cir_ipvs_service *known, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_dest *cur = NULL;
	struct cir_ipvs_service want, got;
	struct cir_ipvs *h;
	size_t ncur = 0;
	int r, changes = 0;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &want);
	if (have_service < 0) {
		if (known) {
			got = *known;
			r = 0;
		} else {
			r = cir_ipvs_service_get(h, &want, &got, err);
		}
		if (r < 0 && r != -ENOENT)
			return r;
		have_service = r == 0;
		if (have_service && (strcmp(got.sched, want.sched) != 0 ||
				     (got.flags & SVC_FLAGS) != want.flags ||
				     (want.flags && got.timeout != want.timeout))) {
			r = cir_ipvs_service_edit(h, &want, err);
			if (r == -ENOENT)
				return sched_missing(s, err);
			if (r < 0)
				return r;
			changes++;
		}
	}
	if (!have_service) {
		r = cir_ipvs_service_add(h, &want, err);
		if (r == -ENOENT)
			return sched_missing(s, err);
		if (r < 0)
			return r;
		changes++;
	} else {
		r = cir_ipvs_dest_dump(h, &want, &cur, &ncur, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_targets; i++) {
		struct cir_ipvs_dest d;
		size_t k;

		if (!target_in_kernel(s, &s->targets[i]))
			continue;
		cir_lb_target_to_ipvs(&s->targets[i], &d);
		for (k = 0; k < ncur; k++)
			if (cir_ipvs_dest_key_eq(&cur[k], &d, want.af))
				break;
		if (k < ncur && dest_same(&cur[k], &d))
			continue;
		r = k < ncur ? cir_ipvs_dest_edit(h, &want, &d, err)
			     : cir_ipvs_dest_add(h, &want, &d, err);
		if (r == -EEXIST)
			r = cir_ipvs_dest_edit(h, &want, &d, err);
		if (r < 0)
			return r;
		changes++;
	}
	for (size_t k = 0; k < ncur; k++) {
		struct cir_lb_target t = { 0 };
		int j;

		t.addr.ip.af = cur[k].af ? cur[k].af : want.af;
		memcpy(t.addr.ip.addr, &cur[k].addr, t.addr.ip.af == AF_INET6 ? 16 : 4);
		t.addr.port = cur[k].port;
		j = cir_lb_target_find(s, &t.addr);
		if (j >= 0 && target_in_kernel(s, &s->targets[j]))
			continue;
		r = cir_ipvs_dest_del(h, &want, &cur[k], err);
		if (r < 0 && r != -ENOENT)
			return r;
		changes++;
	}
	return changes;
}

/*
 * A UDP target left the kernel's table of service s (lb remove, CNI
 * DEL/GC, a failed health check: target_in_kernel, the service deleted):
 * IPVS reschedules the next datagram of its flows (expire_nodest_conn=1),
 * and the conntrack entries IPVS made for them (vs.conntrack=1: orig dst
 * the VIP, reply source the departed target) are deleted, so that no NAT
 * or masquerade state of the dead path outlives it.  A target drained to
 * weight 0 keeps its dest and its flows: that is what draining means.
 * Best effort: never fails the change that removed the target.
 */
static int lb_flush_udp_target(struct cir_lb_db *db, const struct cir_lb_service *s,
			       const struct cir_lb_target *t, struct cir_error *err)
{
	struct cir_ct_filter f = {
		.family = s->vip.ip.af,
		.l4proto = IPPROTO_UDP,
		.orig_dst = s->vip.ip,
		.orig_dst_port = s->vip.port,
		.reply_src = t->addr.ip,
		.reply_src_port = t->addr.port,
	};

	(void)db;
	return cir_ct_flush(&f, err);
}

/* Every UDP target of old that is in the kernel's table and no longer in
 * new's (removed, or newly down): flush its flows.  new NULL: the service
 * went. */
static void flush_departed(struct cir_lb_db *db, const struct cir_lb_service *old,
			   const struct cir_lb_service *new)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (old->protocol != IPPROTO_UDP)
		return;
	for (size_t i = 0; i < old->n_targets; i++) {
		const struct cir_lb_target *t = &old->targets[i];
		int j = new ? cir_lb_target_find(new, &t->addr) : -1;
		bool was = target_in_kernel(old, t);
		bool is = j >= 0 && target_in_kernel(new, &new->targets[j]);

		if (was && !is)
			lb_flush_udp_target(db, old, t, &e2);
	}
}

static bool target_changed(const struct cir_lb_target *a, const struct cir_lb_target *b)
{
	return a->weight != b->weight || a->down != b->down || a->method != b->method;
}

/*
 * Make the backend's data plane go from old (NULL: nothing of it) to new:
 * a whole-service backend (IPVS) reconciles new; a per-target one gets a
 * command for every target that went, came or changed.  Returns the
 * number of changes.
 */
static int backend_apply(struct cir_lb_db *db, const struct cir_lb_service *old,
			 const struct cir_lb_service *new, struct cir_error *err)
{
	const struct cir_lb_backend_ops *ops = cir_lb_backend_ops(new->backend);
	int r, n = 0;

	if (ops->apply)
		return ops->apply(db, old, new, err);
	for (size_t i = 0; old && i < old->n_targets; i++) {
		if (cir_lb_target_find(new, &old->targets[i].addr) >= 0)
			continue;
		r = ops->target_remove(db, new, &old->targets[i], err);
		if (r < 0)
			return r;
		n += r;
	}
	for (size_t i = 0; i < new->n_targets; i++) {
		int k = old ? cir_lb_target_find(old, &new->targets[i].addr) : -1;

		if (k >= 0 && !target_changed(&old->targets[k], &new->targets[i]))
			continue;
		r = k < 0 ? ops->target_add(db, new, &new->targets[i], err)
			  : ops->target_weight(db, new, &new->targets[i], err);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/* Put the kernel back to old (NULL: remove new's service), keeping *err. */
static void kernel_undo(struct cir_lb_db *db, const struct cir_lb_service *old,
			const struct cir_lb_service *new)
{
	struct cir_error e2 = CIR_ERROR_INIT;

	if (old)
		backend_apply(db, new, old, &e2);
	else
		cir_lb_backend_ops(new->backend)->remove(db, new, &e2);
}

/*
 * Kernel to new, then the record to new; on failure the kernel back to old.
 * With kernel_optional, a kernel without IPVS only changes the record.
 */
static int commit(struct cir_lb_db *db, const struct cir_lb_service *old,
		  const struct cir_lb_service *new, bool kernel_optional, struct cir_error *err)
{
	int r;

	r = backend_apply(db, old, new, err);
	if (r == -EPROTONOSUPPORT && kernel_optional) {
		cir_err_clear(err);
	} else if (r < 0) {
		kernel_undo(db, old, new);
		cir_err_wrap(err, "service %s", new->name);
		/* Without IPVS nothing was programmed, and the record is kept. */
		if (r == -EPROTONOSUPPORT)
			cir_err_append(err, "; service %s was not changed", new->name);
		return r;
	}
	r = cir_lb_record_write(db, new, err);
	if (r < 0) {
		kernel_undo(db, old, new);
		return r;
	}
	if (old)
		flush_departed(db, old, new);
	return 0;
}

/* ------------------------------------------------------------- IPVS */

/*
 * The IPVS backend (lib/lbbackend.h): a thin adapter over cir_lb_sync and
 * lib/ipvs, which reconcile a whole service with the kernel's table.
 */

/* s's VIP/port is not an IPVS service Circuit does not own. */
static int ipvs_free(struct cir_lb_db *db, const struct cir_lb_service *s,
		     struct cir_error *err)
{
	struct cir_ipvs_service k;
	struct cir_ipvs *h;
	char a[CIR_LB_ADDR_STRLEN];
	int r;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r == -EPROTONOSUPPORT)
		return cir_err_append(err, "; service %s was not created", s->name);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_service_get(h, &k, NULL, err);
	if (r == 0)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "%s %s already exists in IPVS but is not a Circuit service "
				    "(remove it with ipvsadm -D or choose another address)",
				    cir_lb_proto_name(s->protocol),
				    cir_lb_addr_format(&s->vip, a, sizeof(a)));
	return r == -ENOENT ? 0 : r;
}

static int ipvs_validate(const struct cir_lb_service *s, struct cir_error *err)
{
	(void)s;
	(void)err;
	return 0;
}

static int ipvs_create(struct cir_lb_db *db, const struct cir_lb_service *s,
		       struct cir_error *err)
{
	int r = cir_lb_sync(db, s, 0, err);

	return r < 0 ? r : vip_setup(db, &s->vip.ip, err);
}

static int ipvs_remove(struct cir_lb_db *db, const struct cir_lb_service *s,
		       struct cir_error *err)
{
	struct cir_ipvs_service k;
	struct cir_ipvs *h;
	int r;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r == -EPROTONOSUPPORT) {
		/* Nothing of it can be in a kernel without IPVS. */
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_service_del(h, &k, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

static int ipvs_apply(struct cir_lb_db *db, const struct cir_lb_service *old,
		      const struct cir_lb_service *s, struct cir_error *err)
{
	(void)old;
	return cir_lb_sync(db, s, -1, err);
}

static int ipvs_status(struct cir_lb_db *db, const struct cir_lb_service *s, bool *present,
		       struct cir_lb_target_status *st, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_dest *cur = NULL;
	struct cir_ipvs_service k;
	struct cir_ipvs *h;
	size_t n = 0;
	int r;

	*present = false;
	memset(st, 0, s->n_targets * sizeof(*st));
	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_service_get(h, &k, NULL, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	*present = true;
	r = cir_ipvs_dest_dump(h, &k, &cur, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_targets; i++) {
		struct cir_ipvs_dest w;

		cir_lb_target_to_ipvs(&s->targets[i], &w);
		for (size_t j = 0; j < n; j++)
			if (cir_ipvs_dest_key_eq(&cur[j], &w, k.af)) {
				st[i].programmed = true;
				st[i].active = cur[j].active_conns;
				st[i].inactive = cur[j].inact_conns;
			}
	}
	return 0;
}

static int active_conns(struct cir_lb_db *db, const struct cir_lb_service *s,
			const struct cir_lb_addr *a, uint32_t *out, struct cir_error *err);
static int ipvs_restore(struct cir_lb_db *db, struct cir_error *err);

const struct cir_lb_backend_ops cir_lb_ipvs_ops = {
	.name = "ipvs",
	.validate = ipvs_validate,
	.create = ipvs_create,
	.remove = ipvs_remove,
	.apply = ipvs_apply,
	.restore = ipvs_restore,
	.status = ipvs_status,
	.active = active_conns,
};

const struct cir_lb_backend_ops *cir_lb_backend_ops(enum cir_lb_backend b)
{
	return b == CIR_LB_BACKEND_HAPROXY ? &cir_lb_haproxy_ops : &cir_lb_ipvs_ops;
}

static int vip_release(struct cir_lb_db *db, const struct cir_lb_service *s,
		       struct cir_error *err);

/* ------------------------------------------------------------- verbs */

int cir_lb_create(struct cir_lb_db *db, const struct cir_lb_service *s, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service n = { 0 };
	char file[CIR_NAME_MAX + sizeof(RECORD_SUFFIX) + 1], a[CIR_LB_ADDR_STRLEN];
	char other[CIR_NAME_MAX + 1];
	int r;

	r = cir_lb_service_check(s, err);
	if (r < 0)
		return r;
	r = service_copy(&n, s, 0, err);
	if (r < 0)
		return r;
	if (!n.created)
		n.created = time(NULL);
	for (size_t i = 0; i < n.n_targets; i++)
		if (n.targets[i].addr.ip.af != n.vip.ip.af)
			return cir_err(err, EINVAL, "service %s: target family differs from the VIP's",
				       s->name);
	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	cir_lb_record_name(s->name, file, sizeof(file), err);
	r = cir_store_exists(db->fd, file, err);
	if (r < 0)
		return r;
	if (r > 0)
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST, "service %s already exists",
				    s->name);
	r = index_ensure(db, err);
	if (r < 0)
		return r;
	r = index_lookup(db, s, other, err);
	if (r < 0)
		return r;
	cir_lb_addr_format(&s->vip, a, sizeof(a));
	if (other[0])
		return cir_err_code(err, CIR_CNI_EXISTS, EEXIST,
				    "service %s already uses %s %s", other,
				    cir_lb_proto_name(s->protocol), a);
	if (n.backend == CIR_LB_BACKEND_IPVS) {
		r = ipvs_free(db, &n, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n.n_targets; i++) {
		r = bridge_of(db, &n.targets[i].addr.ip, n.targets[i].bridge, err);
		if (r < 0)
			return cir_err_wrap(err, "service %s", s->name);
	}
	r = index_reserve(db, &n, err);
	if (r < 0)
		return cir_err_wrap(err, "service %s", s->name);
	r = cir_lb_backend_ops(n.backend)->create(db, &n, err);
	for (size_t i = 0; r >= 0 && n.backend == CIR_LB_BACKEND_IPVS && i < n.n_targets; i++)
		r = hairpin_ensure(&n.targets[i], err);
	if (r >= 0)
		r = cir_lb_record_write(db, &n, err);
	if (r < 0) {
		struct cir_error e2 = CIR_ERROR_INIT;

		kernel_undo(db, NULL, &n);
		if (n.backend != CIR_LB_BACKEND_IPVS)
			vip_release(db, &n, &e2);
		else
			index_release(db, &n, NULL, NULL, &e2);
		return cir_err_wrap(err, "service %s", s->name);
	}
	return 0;
}

/* Drop s's index key; remove the VIP address from the device unless
 * another service has it; the device goes when no service is left. */
static int vip_release(struct cir_lb_db *db, const struct cir_lb_service *s,
		       struct cir_error *err)
{
	struct cir_link_info info;
	struct nl_sock *sk;
	char cidr[CIR_CIDR_STRLEN];
	bool shared = false, last = true;
	int r;

	r = index_release(db, s, &shared, &last, err);
	if (r < 0)
		return r;
	if (last)
		cir_lb_cache_drop(db);  /* the last service: leave no cache */
	r = db_route(db, &sk, err);
	if (r < 0)
		return r;
	r = cir_link_get(sk, CIR_LB_DEVICE, &info, err);
	if (r == -ENODEV) {
		/* A kernel without the dummy driver had the VIP on lo. */
		cir_err_clear(err);
		if (shared || cir_link_get(sk, "lo", &info, err) < 0) {
			cir_err_clear(err);
			return 0;
		}
		vip_cidr(&s->vip.ip, cidr, sizeof(cidr));
		r = cir_addr_del(sk, info.ifindex, cidr, err);
		if (r == -EADDRNOTAVAIL || r == -ENODEV)
			cir_err_clear(err);
		return r == -EADDRNOTAVAIL || r == -ENODEV ? 0 : r;
	}
	if (r < 0)
		return r;
	if (last) {
		db->dev_ifindex = 0;
		r = cir_link_delete(sk, CIR_LB_DEVICE, err);
		return r == -ENODEV ? 0 : r;
	}
	if (shared)
		return 0;
	vip_cidr(&s->vip.ip, cidr, sizeof(cidr));
	r = cir_addr_del(sk, info.ifindex, cidr, err);
	return r == -EADDRNOTAVAIL || r == -ENODEV ? 0 : r;
}

int cir_lb_delete(struct cir_lb_db *db, const char *name, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service s = { 0 };
	char file[CIR_NAME_MAX + sizeof(RECORD_SUFFIX) + 1];
	int r;

	r = cir_lb_record_name(name, file, sizeof(file), err);
	if (r < 0)
		return r;
	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &s, err);
	if (r < 0)
		return r;
	r = index_ensure(db, err);
	if (r < 0)
		return r;
	r = cir_lb_backend_ops(s.backend)->remove(db, &s, err);
	if (r < 0)
		return cir_err_wrap(err, "service %s", name);
	flush_departed(db, &s, NULL);
	r = vip_release(db, &s, err);
	if (r < 0)
		return cir_err_wrap(err, "service %s: release VIP", name);
	r = cir_lb_record_remove(db, name, err);
	return r < 0 ? cir_err_wrap(err, "service %s", name) : 0;
}

int cir_lb_target_add(struct cir_lb_db *db, const char *name, const struct cir_lb_target *t,
		      struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	char a[CIR_LB_ADDR_STRLEN];
	struct cir_lb_target nt = *t;
	int r, i;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &old, err);
	if (r < 0)
		return r;
	cir_lb_addr_format(&t->addr, a, sizeof(a));
	if (t->addr.ip.af != old.vip.ip.af)
		return cir_err(err, EINVAL, "service %s: target %s: address family differs from "
			       "the service's", name, a);
	if (t->addr.port == 0)
		return cir_err(err, EINVAL, "service %s: target %s: port must be 1..65535", name,
			       a);
	i = cir_lb_target_find(&old, &t->addr);
	if (i < 0 && old.n_targets >= CIR_LB_TARGETS_MAX)
		return cir_err(err, ENOSPC, "service %s: already %d targets", name,
			       CIR_LB_TARGETS_MAX);
	r = service_copy(&n, &old, 1, err);
	if (r < 0)
		return r;
	r = bridge_of(db, &t->addr.ip, nt.bridge, err);
	if (r < 0)
		return cir_err_wrap(err, "service %s: target %s", name, a);
	if (i >= 0) {
		/* Its health is the agent's, not the caller's. */
		nt.down = old.targets[i].down;
		nt.since = old.targets[i].since;
		memcpy(nt.error, old.targets[i].error, sizeof(nt.error));
		n.targets[i] = nt;
	} else {
		nt.down = false;
		nt.since = 0;
		nt.error[0] = '\0';
		n.targets[n.n_targets++] = nt;
	}
	if (cir_lb_backend_ops(n.backend)->validate(&n, err) < 0)
		return cir_err_wrap(err, "service %s: target %s", name, a);
	if (n.backend == CIR_LB_BACKEND_IPVS) {
		r = hairpin_ensure(&nt, err);
		if (r < 0)
			return cir_err_wrap(err, "service %s", name);
	}
	r = commit(db, &old, &n, false, err);
	if (r < 0)
		return r;
	return i < 0;
}

/* Drop n->targets[i] (order kept). */
static void target_drop(struct cir_lb_service *n, size_t i)
{
	memmove(&n->targets[i], &n->targets[i + 1], (n->n_targets - i - 1) * sizeof(*n->targets));
	n->n_targets--;
}

int cir_lb_target_remove(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			 bool missing_ok, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	char s[CIR_LB_ADDR_STRLEN];
	int r, i;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &old, err);
	if (r == -ENOENT && missing_ok)
		return 0;
	if (r < 0)
		return r;
	i = cir_lb_target_find(&old, a);
	if (i < 0) {
		if (missing_ok)
			return 0;
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "service %s has no target %s",
				    name, cir_lb_addr_format(a, s, sizeof(s)));
	}
	r = service_copy(&n, &old, 0, err);
	if (r < 0)
		return r;
	target_drop(&n, i);
	r = commit(db, &old, &n, true, err);
	return r < 0 ? r : 1;
}

int cir_lb_target_health(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			 bool down, const char *error, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	char s[CIR_LB_ADDR_STRLEN];
	int r, i;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &old, err);
	if (r < 0)
		return r;
	i = cir_lb_target_find(&old, a);
	if (i < 0)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT, "service %s has no target %s",
				    name, cir_lb_addr_format(a, s, sizeof(s)));
	if (old.targets[i].down == down)
		return 0;
	r = service_copy(&n, &old, 0, err);
	if (r < 0)
		return r;
	n.targets[i].down = down;
	n.targets[i].since = time(NULL);
	/* Coming back up keeps the last error on show. */
	if (error && *error)
		snprintf(n.targets[i].error, sizeof(n.targets[i].error), "%s", error);
	r = commit(db, &old, &n, true, err);
	return r < 0 ? r : 1;
}

/* Active connections IPVS counts to target a of s (0 when not there). */
static int active_conns(struct cir_lb_db *db, const struct cir_lb_service *s,
			const struct cir_lb_addr *a, uint32_t *out, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_dest *cur = NULL;
	struct cir_ipvs_service k;
	struct cir_lb_target t = { .addr = *a };
	struct cir_ipvs_dest d;
	struct cir_ipvs *h;
	size_t n = 0;
	int r;

	*out = 0;
	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(s, &k);
	cir_lb_target_to_ipvs(&t, &d);
	r = cir_ipvs_dest_dump(h, &k, &cur, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (cir_ipvs_dest_key_eq(&cur[i], &d, k.af))
			*out = cur[i].active_conns;
	return 0;
}

int cir_lb_target_drain(struct cir_lb_db *db, const char *name, const struct cir_lb_addr *a,
			uint32_t timeout_ms, uint32_t *active_left, struct cir_error *err)
{
	_cleanup_service_ struct cir_lb_service cur = { 0 };
	struct timespec t0, now;
	uint32_t active = 0;
	int r, i;

	{
		_cleanup_close_ int lock = -1;
		_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
		char s[CIR_LB_ADDR_STRLEN];

		lock = cir_lb_lock(db, err);
		if (lock < 0)
			return lock;
		r = cir_lb_get(db, name, &old, err);
		if (r < 0)
			return r;
		i = cir_lb_target_find(&old, a);
		if (i < 0)
			return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
					    "service %s has no target %s", name,
					    cir_lb_addr_format(a, s, sizeof(s)));
		r = service_copy(&n, &old, 0, err);
		if (r < 0)
			return r;
		n.targets[i].weight = 0;
		if (old.targets[i].weight != 0) {
			r = commit(db, &old, &n, false, err);
			if (r < 0)
				return r;
		}
		r = service_copy(&cur, &n, 0, err);
		if (r < 0)
			return r;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long long el;

		r = cir_lb_backend_ops(cur.backend)->active(db, &cur, a, &active, err);
		if (r < 0)
			return cir_err_wrap(err, "service %s: drain", name);
		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (active == 0 || el >= timeout_ms)
			break;
		usleep(200 * 1000);
	}
	if (active_left)
		*active_left = active;
	r = cir_lb_target_remove(db, name, a, true, err);
	return r < 0 ? r : 1;
}

int cir_lb_detach(struct cir_lb_db *db, const char *name, const struct cir_lb_owner *o,
		  struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
	int r, removed = 0;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_get(db, name, &old, err);
	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	r = service_copy(&n, &old, 0, err);
	if (r < 0)
		return r;
	for (size_t i = n.n_targets; i-- > 0;)
		if (owner_eq(&n.targets[i].owner, o)) {
			target_drop(&n, i);
			removed++;
		}
	if (!removed)
		return 0;
	r = commit(db, &old, &n, true, err);
	return r < 0 ? r : removed;
}

int cir_lb_verify(struct cir_lb_db *db, const char *name, const struct cir_lb_owner *o,
		  const struct cir_lb_addr *a, struct cir_error *err)
{
	_cleanup_service_ struct cir_lb_service s = { 0 };
	_cleanup_free_ struct cir_ipvs_dest *cur = NULL;
	struct cir_ipvs_service k;
	struct cir_ipvs_dest d;
	struct cir_ipvs *h;
	char as[CIR_LB_ADDR_STRLEN];
	size_t ncur = 0;
	int r, i;

	cir_lb_addr_format(a, as, sizeof(as));
	r = cir_lb_get(db, name, &s, err);
	if (r < 0)
		return r;
	i = cir_lb_target_find(&s, a);
	if (i < 0 || !owner_eq(&s.targets[i].owner, o))
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "service %s: no target %s for container %s", name, as, o->cid);
	if (s.backend != CIR_LB_BACKEND_IPVS) {
		_cleanup_free_ struct cir_lb_target_status *st = calloc(s.n_targets,
									  sizeof(*st));
		bool present = false;

		if (!st)
			return cir_err(err, ENOMEM, "out of memory");
		r = cir_lb_backend_ops(s.backend)->status(db, &s, &present, st, err);
		if (r < 0)
			return r;
		if (!present || !st[i].programmed)
			return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
					    "service %s: target %s is not in %s", name, as,
					    cir_lb_backend_name(s.backend));
		return 0;
	}
	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0)
		return r;
	cir_lb_service_to_ipvs(&s, &k);
	r = cir_ipvs_service_get(h, &k, NULL, err);
	if (r == -ENOENT)
		return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
				    "service %s is not in the kernel's IPVS table", name);
	if (r < 0)
		return r;
	r = cir_ipvs_dest_dump(h, &k, &cur, &ncur, err);
	if (r < 0)
		return r;
	cir_lb_target_to_ipvs(&s.targets[i], &d);
	for (size_t j = 0; j < ncur; j++)
		if (cir_ipvs_dest_key_eq(&cur[j], &d, k.af)) {
			if (!target_in_kernel(&s, &s.targets[i]))
				return cir_err_code(err, CIR_CNI_NOT_FOUND, EEXIST,
						    "service %s: target %s is down but still in "
						    "the kernel's IPVS table", name, as);
			if (!dest_same(&cur[j], &d))
				return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
						    "service %s: target %s has weight %u %s in "
						    "the kernel, want %u %s", name, as,
						    cur[j].weight, cir_lb_method_name(cur[j].fwd),
						    d.weight, cir_lb_method_name(d.fwd));
			return 0;
		}
	/* A down UDP target is out of the table on purpose. */
	if (!target_in_kernel(&s, &s.targets[i]))
		return 0;
	return cir_err_code(err, CIR_CNI_NOT_FOUND, ENOENT,
			    "service %s: target %s is not in the kernel's IPVS table", name, as);
}

int cir_lb_gc(struct cir_lb_db *db, const char *network,
	      int (*valid)(const char *cid, const char *ifname, void *arg), void *arg,
	      struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_(cir_lb_names_free) struct cir_lb_names ns = { 0 };
	int r, total = 0, first = 0;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_lb_names_list(db, &ns, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ns.n; i++) {
		_cleanup_service_ struct cir_lb_service old = { 0 }, n = { 0 };
		struct cir_error e2 = CIR_ERROR_INIT;
		int removed = 0;

		r = cir_lb_get(db, ns.v[i], &old, &e2);
		if (r == 0)
			r = service_copy(&n, &old, 0, &e2);
		for (size_t j = n.n_targets; r == 0 && j-- > 0;) {
			const struct cir_lb_owner *o = &n.targets[j].owner;

			if (!o->cid[0] || strcmp(o->network, network) != 0)
				continue;
			if (valid(o->cid, o->ifname, arg) == 0) {
				target_drop(&n, j);
				removed++;
			}
		}
		if (r == 0 && removed)
			r = commit(db, &old, &n, true, &e2);
		if (r < 0 && !first) {
			first = r;
			*err = e2;
		}
		if (r == 0)
			total += removed;
	}
	return first ? first : total;
}

struct restore_ctx {
	struct cir_lb_db *db;
	struct cir_ipvs_service *have;  /* sorted by key_cmp */
	size_t nhave;
	/* Services the kernel lacked, programmed through one pipelined batch
	 * (tag = index here); failed ones are synced one by one after it. */
	struct cir_ipvs_batch *batch;
	char (*queued)[CIR_NAME_MAX + 1];
	bool *failed;
	size_t nqueued, capqueued;
	bool overrun;
	int batch_sent;
	/* VIP addresses, added through one pipelined batch (tag = index
	 * here); errno of each failure, 0 = added. */
	struct cir_addr_batch *ab;
	struct cir_ip *vips;
	int *vip_err;
	size_t nvips, capvips;
	bool vip_overrun;
	int ifindex;
	char bridges[64][CIR_IFNAMSIZ];
	size_t nbridges;
	int changes;
	int index_added;
	int first;
	struct cir_error *err;
};

/* A total order on service keys, for finding restore's services in the
 * kernel's dump by binary search. */
static int key_cmp(const void *pa, const void *pb)
{
	const struct cir_ipvs_service *a = pa, *b = pb;
	size_t alen = a->af == AF_INET6 ? 16 : 4;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	if (a->fwmark != b->fwmark)
		return a->fwmark < b->fwmark ? -1 : 1;
	if (a->protocol != b->protocol)
		return a->protocol < b->protocol ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(&a->addr, &b->addr, alen);
}

static void restore_failed(uint32_t tag, int errnum, void *arg)
{
	struct restore_ctx *rc = arg;

	if (tag == UINT32_MAX)
		rc->overrun = true;
	else if (tag < rc->nqueued)
		rc->failed[tag] = true;
}

static void vip_failed(uint32_t tag, int errnum, void *arg)
{
	struct restore_ctx *rc = arg;

	if (tag == UINT32_MAX)
		rc->vip_overrun = true;
	else if (tag < rc->nvips)
		rc->vip_err[tag] = errnum;
}

/* The device and sysctls (once), and ip queued for the address batch.
 * Returns the number of changes made so far. */
static int restore_vip(struct restore_ctx *rc, const struct cir_ip *ip, struct cir_error *err)
{
	int r, n = 0;

	if (!rc->ifindex) {
		r = device_ensure(rc->db, &rc->ifindex, err);
		if (r < 0)
			return r;
	}
	if (!rc->db->sysctls_done) {
		n = sysctls_ensure(err);
		if (n < 0)
			return n;
		rc->db->sysctls_done = true;
	}
	if (!rc->ab) {
		r = cir_addr_batch_new(rc->db->rt, &rc->ab, err);
		if (r < 0)
			return r;
	}
	if (rc->nvips == rc->capvips) {
		size_t nc = rc->capvips ? rc->capvips * 2 : 256;
		struct cir_ip *nv = realloc(rc->vips, nc * sizeof(*nv));
		int *ne;

		if (!nv)
			return cir_err(err, ENOMEM, "out of memory");
		rc->vips = nv;
		ne = realloc(rc->vip_err, nc * sizeof(*ne));
		if (!ne)
			return cir_err(err, ENOMEM, "out of memory");
		rc->vip_err = ne;
		rc->capvips = nc;
	}
	rc->vips[rc->nvips] = *ip;
	rc->vip_err[rc->nvips] = 0;
	rc->nvips++;
	r = cir_addr_batch_add(rc->ab, rc->ifindex, ip->af, ip->addr, cir_ip_bits(ip->af),
			       (uint32_t)(rc->nvips - 1), vip_failed, rc, err);
	return r < 0 ? cir_err_wrap(err, "device %s", CIR_LB_DEVICE) : n;
}

/* Send the queued VIPs; one that failed other than "exists" (or every one
 * after an overrun) is added the slow way, which names the error. */
static void restore_vips_finish(struct restore_ctx *rc)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int r = 0;

	if (rc->ab)
		r = cir_addr_batch_flush(rc->ab, vip_failed, rc, &e2);
	if (r < 0)
		rc->vip_overrun = true;
	for (size_t i = 0; i < rc->nvips; i++) {
		cir_err_clear(&e2);
		if (!rc->vip_overrun && rc->vip_err[i] == 0) {
			rc->changes++;
			continue;
		}
		if (!rc->vip_overrun && rc->vip_err[i] == EEXIST)
			continue;
		r = vip_ensure(rc->db, rc->ifindex, &rc->vips[i], &e2);
		if (r > 0)
			rc->changes += r;
		if (r < 0 && !rc->first) {
			char a[CIR_IP_STRLEN];

			rc->first = r;
			*rc->err = e2;
			cir_err_wrap(rc->err, "restore VIP %s",
				     cir_ip_format(&rc->vips[i], a, sizeof(a)));
		}
	}
}

/* Queue s (absent from the kernel): its service, then its dests. */
static int restore_queue(struct restore_ctx *rc, const struct cir_lb_service *s,
			 struct cir_error *err)
{
	struct cir_ipvs_service k;
	struct cir_ipvs *h;
	uint32_t tag;
	int r;

	if (rc->nqueued == rc->capqueued) {
		size_t nc = rc->capqueued ? rc->capqueued * 2 : 256;
		char (*nq)[CIR_NAME_MAX + 1] = realloc(rc->queued, nc * sizeof(*nq));
		bool *nf;

		if (!nq)
			return cir_err(err, ENOMEM, "out of memory");
		rc->queued = nq;
		nf = realloc(rc->failed, nc * sizeof(*nf));
		if (!nf)
			return cir_err(err, ENOMEM, "out of memory");
		rc->failed = nf;
		rc->capqueued = nc;
	}
	if (!rc->batch) {
		r = cir_lb_db_ipvs(rc->db, &h, err);
		if (r < 0)
			return r;
		r = cir_ipvs_batch_new(h, &rc->batch, err);
		if (r < 0)
			return r;
	}
	tag = (uint32_t)rc->nqueued;
	snprintf(rc->queued[tag], sizeof(rc->queued[tag]), "%s", s->name);
	rc->failed[tag] = false;
	rc->nqueued++;
	cir_lb_service_to_ipvs(s, &k);
	r = cir_ipvs_batch_add(rc->batch, IPVS_CMD_NEW_SERVICE, &k, NULL, tag, restore_failed, rc,
			       err);
	if (r > 0)
		rc->batch_sent += r;
	for (size_t i = 0; r >= 0 && i < s->n_targets; i++) {
		struct cir_ipvs_dest d;

		if (!target_in_kernel(s, &s->targets[i]))
			continue;
		cir_lb_target_to_ipvs(&s->targets[i], &d);
		r = cir_ipvs_batch_add(rc->batch, IPVS_CMD_NEW_DEST, &k, &d, tag, restore_failed,
				       rc, err);
		if (r > 0)
			rc->batch_sent += r;
	}
	return r < 0 ? r : 0;
}

/* Send what is queued; sync each service with a failure (or every queued
 * one after an overrun) the slow way, which names the error. */
static void restore_finish(struct restore_ctx *rc)
{
	struct cir_error e2 = CIR_ERROR_INIT;
	int r = 0, failures = 0;

	if (rc->batch) {
		r = cir_ipvs_batch_flush(rc->batch, restore_failed, rc, &e2);
		if (r > 0)
			rc->batch_sent += r;
	}
	if (r < 0)
		rc->overrun = true;
	for (size_t i = 0; i < rc->nqueued; i++) {
		_cleanup_service_ struct cir_lb_service s = { 0 };
		struct cir_error e3 = CIR_ERROR_INIT;

		if (!rc->overrun && !rc->failed[i])
			continue;
		failures++;
		r = cir_lb_get(rc->db, rc->queued[i], &s, &e3);
		if (r >= 0)
			r = cir_lb_sync(rc->db, &s, -1, &e3);
		if (r > 0)
			rc->changes += r;
		if (r < 0 && !rc->first) {
			rc->first = r;
			*rc->err = e3;
			cir_err_wrap(rc->err, "restore service %s", rc->queued[i]);
		}
	}
	/* Requests that did not fail are changes made. */
	if (!rc->overrun)
		rc->changes += rc->batch_sent;
	(void)failures;
}

static int restore_fn(const struct cir_lb_service *s, void *arg)
{
	struct restore_ctx *rc = arg;
	struct cir_error e2 = CIR_ERROR_INIT;
	const struct cir_ipvs_service *have;
	struct cir_ipvs_service k;
	int r;

	if (s->backend != CIR_LB_BACKEND_IPVS)
		return 0;       /* its backend's restore */
	{
		struct index_build ib = { .db = rc->db, .err = &e2 };

		/* The index is repaired from the records, which restore reads
		 * anyway (records written by hand, a crash mid-create). */
		r = index_add_fn(s, &ib);
		if (r < 0 && !rc->first) {
			rc->first = r;
			*rc->err = e2;
			cir_err_wrap(rc->err, "restore service %s", s->name);
		}
		cir_err_clear(&e2);
		rc->index_added += ib.added;
	}
	cir_lb_service_to_ipvs(s, &k);
	have = rc->nhave ? bsearch(&k, rc->have, rc->nhave, sizeof(k), key_cmp) : NULL;
	r = restore_vip(rc, &s->vip.ip, &e2);
	if (r >= 0) {
		rc->changes += r;
		/* A present service may have stale settings: let sync compare
		 * it with its entry in the dump.  An absent one is added whole,
		 * pipelined with the others. */
		if (have)
			r = sync_known(rc->db, s, -1, have, &e2);
		else
			r = restore_queue(rc, s, &e2);
	}
	if (r >= 0)
		rc->changes += r;
	for (size_t i = 0; r >= 0 && i < s->n_targets; i++) {
		const struct cir_lb_target *t = &s->targets[i];
		size_t b;

		if (!t->bridge[0] || t->method != CIR_IPVS_FWD_MASQ)
			continue;
		for (b = 0; b < rc->nbridges; b++)
			if (strcmp(rc->bridges[b], t->bridge) == 0)
				break;
		if (b < rc->nbridges)
			continue;
		r = hairpin_ensure(t, &e2);
		if (r >= 0) {
			rc->changes += r;
			if (rc->nbridges < 64)
				snprintf(rc->bridges[rc->nbridges++], CIR_IFNAMSIZ, "%s", t->bridge);
		}
	}
	if (r < 0 && !rc->first) {
		rc->first = r;
		*rc->err = e2;
		cir_err_wrap(rc->err, "restore service %s", s->name);
	}
	return 0;
}

static int count_fn(const struct cir_lb_service *s, void *arg)
{
	if (s->backend == CIR_LB_BACKEND_IPVS)
		(*(size_t *)arg)++;
	return 0;
}

/* IPVS's restore (with the lock held): every IPVS record into the kernel. */
static int ipvs_restore(struct cir_lb_db *db, struct cir_error *err)
{
	_cleanup_free_ struct cir_ipvs_service *have = NULL;
	struct restore_ctx rc = { .db = db, .err = err };
	struct cir_error e2 = CIR_ERROR_INIT;
	struct cir_ipvs *h;
	size_t nrec = 0, nhave = 0;
	int r;

	r = cir_lb_db_ipvs(db, &h, err);
	if (r < 0) {
		/* Without IPVS, only IPVS records are a problem. */
		if (cir_lb_list(db, count_fn, &nrec, &e2) >= 0 && nrec == 0) {
			cir_err_clear(err);
			return 0;
		}
		cir_err_wrap(err, "%zu load-balanced service%s to restore", nrec,
			     nrec == 1 ? "" : "s");
		return cir_err_append(err, "; %s kept for the next restore",
				      nrec == 1 ? "its record is" : "their records are");
	}
	r = cir_ipvs_service_dump(h, &have, &nhave, err);
	if (r < 0)
		return r;
	if (nhave)
		qsort(have, nhave, sizeof(*have), key_cmp);
	rc.have = have;
	rc.nhave = nhave;
	r = cir_lb_list(db, restore_fn, &rc, err);
	if (r >= 0) {
		restore_vips_finish(&rc);
		restore_finish(&rc);
	}
	cir_addr_batch_free(rc.ab);
	free(rc.vips);
	free(rc.vip_err);
	cir_ipvs_batch_free(rc.batch);
	free(rc.queued);
	free(rc.failed);
	if (r < 0)
		return r;
	if (!rc.first && r > 0) {
		r = cir_store_write(db->fd, INDEX_MARK, "1\n", 2, err);
		if (r < 0)
			return cir_err_wrap(err, "lb index");
	}
	return rc.first ? rc.first : rc.changes;
}

static int has_records_fn(const char *name, void *arg)
{
	size_t l = strlen(name), sl = strlen(RECORD_SUFFIX);

	if (l > sl && strcmp(name + l - sl, RECORD_SUFFIX) == 0)
		(*(size_t *)arg)++;
	return 0;
}

int cir_lb_db_restore(struct cir_lb_db *db, struct cir_error *err)
{
	_cleanup_close_ int lock = -1;
	struct cir_error e2 = CIR_ERROR_INIT;
	size_t nrec = 0;
	int r, first = 0, changes = 0;

	lock = cir_lb_lock(db, err);
	if (lock < 0)
		return lock;
	r = cir_store_list(db->fd, has_records_fn, &nrec, err);
	if (r < 0)
		return r;
	db->locked = true;      /* reading every record may rewrite lb/cache */
	/* Every backend brings back its own records; one failing does not
	 * stop the others.  (An empty store still lets haproxy's restore
	 * remove a configuration left by a deleted store.) */
	for (int b = 0; b < CIR_LB_BACKENDS; b++) {
		if (nrec == 0 && b == CIR_LB_BACKEND_IPVS)
			continue;
		r = cir_lb_backend_ops((enum cir_lb_backend)b)->restore(db, &e2);
		if (r < 0 && !first) {
			first = r;
			*err = e2;
		}
		if (r > 0)
			changes += r;
		cir_err_clear(&e2);
	}
	db->locked = false;
	return first ? first : changes;
}

int cir_lb_restore(struct cir_store *st, struct cir_error *err)
{
	struct cir_lb_db db = CIR_LB_DB_INIT;
	int r, fd;

	fd = cir_store_dir(st->fd, CIR_LB_DIR, false, err);
	if (fd == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	if (fd < 0)
		return fd;
	db.fd = fd;
	db.st.fd = -1;
	snprintf(db.st.path, sizeof(db.st.path), "%s", st->path);
	db.may_spawn = true;
	r = cir_lb_db_restore(&db, err);
	/* st stays the caller's. */
	cir_ipvs_close(db.ipvs);
	if (db.rt)
		nl_socket_free(db.rt);
	close(fd);
	return r;
}
