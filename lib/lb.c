// SPDX-License-Identifier: Apache-2.0
/*
 * lb.c - load-balanced services: the model.  Values (addresses, schedulers,
 * protocols, backends, modes, checks, durations), a service's validation,
 * the record's IPVS form, target lookup.  No I/O.
 *
 * The load balancer's modules (lib/lb_int.h lists them): records
 * (lb/<name>.json) are read and written by lib/lbcache.c and
 * lib/lb_record.c, reconciled with the kernel's IPVS table by
 * lib/lb_kernel.c, changed by the verbs of lib/lb_verbs.c.
 */

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_int.h"
#include "lbbackend.h"


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

/* Deep copy src into *dst (dst's old targets are not freed). */
int cir_lb_service_copy(struct cir_lb_service *dst, const struct cir_lb_service *src,
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
bool cir_lb_target_in_kernel(const struct cir_lb_service *s, const struct cir_lb_target *t)
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

const char *cir_lb_target_shown_state(const struct cir_lb_service *s, const struct cir_lb_target *t,
				 const struct cir_lb_target_status *d)
{
	if (s->backend == CIR_LB_BACKEND_IPVS &&
	    cir_lb_target_check(s, t)->type != CIR_LB_CHECK_NONE)
		return t->down ? "down" : "up";
	return d && d->state[0] ? d->state : NULL;
}

int cir_lb_target_find(const struct cir_lb_service *s, const struct cir_lb_addr *a)
{
	for (size_t i = 0; i < s->n_targets; i++)
		if (addr_eq(&s->targets[i].addr, a))
			return (int)i;
	return -1;
}

/* Drop n->targets[i] (order kept). */
void cir_lb_target_drop(struct cir_lb_service *n, size_t i)
{
	memmove(&n->targets[i], &n->targets[i + 1], (n->n_targets - i - 1) * sizeof(*n->targets));
	n->n_targets--;
}

