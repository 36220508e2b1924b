// SPDX-License-Identifier: Apache-2.0
/*
 * lb_record.c - a load-balanced service's record as JSON: the one parser
 * (cir_lb_service_parse, its targets and checks) and the one emitter
 * (cir_lb_service_emit, cir_lb_check_emit).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbbackend.h"
#include "lb_int.h"

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

/* The record's own fields (all but check and targets) into *s; its
 * "targets" array (NULL when absent) into *arr. */
static int parse_service_fields(const struct cir_jnode *root, struct cir_lb_service *s,
				const struct cir_jnode **arr, struct cir_error *err)
{
	const char *name = NULL, *proto = "tcp", *sched = CIR_LB_DEFAULT_SCHED;
	const char *backend = "ipvs", *mode = "tcp", *scope = "local";
	uint64_t created = 0;

	if (cir_json_str(root, "name", &name, err) < 0 ||
	    cir_json_str(root, "protocol", &proto, err) < 0 ||
	    cir_json_str(root, "scheduler", &sched, err) < 0 ||
	    cir_json_u32(root, "persistent", UINT32_MAX, &s->persistent, err) < 0 ||
	    cir_json_u64(root, "created", INT64_MAX, &created, err) < 0 ||
	    cir_json_str(root, "backend", &backend, err) < 0 ||
	    cir_json_str(root, "mode", &mode, err) < 0 ||
	    cir_json_str(root, "scope", &scope, err) < 0 ||
	    cir_json_arr(root, "targets", arr, err) < 0)
		return cir_err_wrap(err, "service record");
	if (strcmp(scope, "local") != 0 && strcmp(scope, "cluster") != 0)
		return cir_err(err, EINVAL, "service record: scope: want local or cluster");
	s->cluster = strcmp(scope, "cluster") == 0;
	if (cir_lb_backend_parse(backend, &s->backend, err) < 0 ||
	    cir_lb_mode_parse(mode, &s->mode, err) < 0)
		return cir_err_wrap(err, "service record");
	if (!name)
		return cir_err(err, EINVAL, "service record: name is missing");
	if (copy_str(s->name, sizeof(s->name), name, "name", err) < 0 ||
	    copy_str(s->sched, sizeof(s->sched), sched, "scheduler", err) < 0 ||
	    parse_ip_port(root, &s->vip, err) < 0 ||
	    cir_lb_proto_parse(proto, &s->protocol, err) < 0)
		return cir_err_wrap(err, "service record");
	s->created = (long long)created;
	if (cir_json_bool(root, "mh_fallback", &s->mh_fallback, err) < 0 ||
	    cir_json_bool(root, "mh_port", &s->mh_port, err) < 0)
		return cir_err_wrap(err, "service record");
	return 0;
}

/* The targets array arr (may be NULL) into s->targets: each valid, none
 * twice. */
static int parse_targets(const struct cir_jnode *arr, struct cir_lb_service *s,
			 struct cir_error *err)
{
	size_t n = arr ? cir_jnode_len(arr) : 0;

	if (n > CIR_LB_TARGETS_MAX)
		return cir_err(err, EINVAL, "service record %s: more than %d targets", s->name,
			       CIR_LB_TARGETS_MAX);
	if (n) {
		s->targets = calloc(n, sizeof(*s->targets));
		if (!s->targets)
			return cir_err(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (parse_target(cir_jnode_at(arr, i), s->vip.ip.af, &s->targets[i], err) < 0)
			return cir_err_wrap(err, "service record %s: target %zu", s->name, i);
		if (cir_lb_target_find(s, &s->targets[i].addr) >= 0)
			return cir_err(err, EINVAL, "service record %s: target %zu is a duplicate",
				       s->name, i);
		s->n_targets = i + 1;
	}
	return 0;
}

int cir_lb_service_parse(const struct cir_jnode *root, struct cir_lb_service *out,
			 struct cir_error *err)
{
	_cleanup_service_ struct cir_lb_service s = { 0 };
	const struct cir_jnode *arr = NULL;
	int r;

	if (cir_jnode_type(root) != CIR_JOBJECT)
		return cir_err(err, EINVAL, "service record: expected an object");
	r = parse_service_fields(root, &s, &arr, err);
	if (r < 0)
		return r;
	if (cir_lb_service_check(&s, err) < 0)
		return cir_err_wrap(err, "service record");
	r = check_parse_json(root, &s.check, err);
	if (r < 0)
		return cir_err_wrap(err, "service record %s: check", s.name);
	r = parse_targets(arr, &s, err);
	if (r < 0)
		return r;
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
	if (s->cluster)
		cir_jgen_kstr(g, "scope", "cluster");
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
