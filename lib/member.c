// SPDX-License-Identifier: Apache-2.0
/*
 * member.c - a network's members in the store (one record per container,
 * with its cached chain result) and the identity of their processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "names.h"
#include "netconf.h"
#include "netconf_int.h"

/* ---- members ---- */

static void member_emit_addresses(struct cir_jgen *g, const struct cir_member *m)
{
	cir_jgen_key(g, "addresses");
	cir_jgen_arr_open(g);
	for (unsigned int i = 0; i < m->n_addresses; i++)
		cir_jgen_str(g, m->addresses[i]);
	cir_jgen_arr_close(g);
}

/* "publish": [...] only when the member publishes ports. */
static void member_emit_publish(struct cir_jgen *g, const struct cir_member *m)
{
	if (!m->n_publish)
		return;
	cir_jgen_key(g, "publish");
	cir_jgen_arr_open(g);
	for (unsigned int i = 0; i < m->n_publish; i++)
		cir_jgen_str(g, m->publish[i]);
	cir_jgen_arr_close(g);
}

void cir_member_set_addresses(struct cir_member *m, const struct cir_cni_result *res)
{
	m->address[0] = '\0';
	m->n_addresses = 0;
	for (size_t i = 0; i < res->n_ips && m->n_addresses < CIR_NETCONF_SUBNETS_MAX; i++) {
		if (strlen(res->ips[i].address) >= sizeof(m->addresses[0]))
			continue;
		snprintf(m->addresses[m->n_addresses++], sizeof(m->addresses[0]), "%s",
			 res->ips[i].address);
	}
	if (m->n_addresses)
		memcpy(m->address, m->addresses[0], sizeof(m->address));
}

void cir_member_ip_args(const struct cir_member *m, char *buf, size_t len)
{
	size_t off;

	buf[0] = '\0';
	if (!m->n_addresses)
		return;
	off = (size_t)snprintf(buf, len, "IgnoreUnknown=1;IP=");
	for (unsigned int i = 0; i < m->n_addresses && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%.*s", i ? "," : "",
					(int)strcspn(m->addresses[i], "/"), m->addresses[i]);
}

void cir_member_emit(struct cir_jgen *g, const struct cir_member *m)
{
	cir_jgen_kstr(g, "container", m->cid);
	cir_jgen_kint(g, "pid", m->pid);
	cir_jgen_kstr(g, "interface", m->ifname);
	cir_jgen_kstr(g, "address", m->address);
	member_emit_addresses(g, m);
	cir_jgen_kstr(g, "netns", m->netns);
	cir_jgen_kbool(g, "hook", m->hook);
	member_emit_publish(g, m);
	if (m->pending)
		cir_jgen_kbool(g, "pending", true);
}

static int member_parse(const struct cir_jnode *root, struct cir_member *m,
			struct cir_error *err)
{
	const char *cid = NULL, *ifname = NULL, *boot = NULL, *ns = NULL, *addr = NULL;
	const struct cir_jnode *addrs = NULL, *pub = NULL;
	uint64_t pid = 0, st = 0;

	memset(m, 0, sizeof(*m));
	if (cir_json_str(root, "container", &cid, err) < 0 ||
	    cir_json_str(root, "interface", &ifname, err) < 0 ||
	    cir_json_u64(root, "pid", INT32_MAX, &pid, err) < 0 ||
	    cir_json_u64(root, "starttime", UINT64_MAX, &st, err) < 0 ||
	    cir_json_str(root, "bootId", &boot, err) < 0 ||
	    cir_json_str(root, "netns", &ns, err) < 0 ||
	    cir_json_str(root, "address", &addr, err) < 0 ||
	    cir_json_arr(root, "addresses", &addrs, err) < 0 ||
	    cir_json_bool(root, "hook", &m->hook, err) < 0 ||
	    cir_json_bool(root, "pending", &m->pending, err) < 0 ||
	    cir_json_arr(root, "publish", &pub, err) < 0)
		return -err->errnum;
	if (cir_jnode_len(pub) > CIR_MEMBER_PUBLISH_MAX)
		return cir_err(err, EINVAL, "publish: more than %d entries", CIR_MEMBER_PUBLISH_MAX);
	for (size_t i = 0; i < cir_jnode_len(pub); i++)
		if (cir_netconf_copy_str(m->publish[m->n_publish++], sizeof(m->publish[0]),
					 cir_jnode_str(cir_jnode_at(pub, i)), "publish", err) < 0)
			return -err->errnum;
	if (!cid || !ifname)
		return cir_err(err, EINVAL, "container or interface missing");
	if (cir_netconf_copy_str(m->cid, sizeof(m->cid), cid, "container", err) < 0 ||
	    cir_netconf_copy_str(m->ifname, sizeof(m->ifname), ifname, "interface", err) < 0 ||
	    cir_netconf_copy_str(m->boot_id, sizeof(m->boot_id), boot, "bootId", err) < 0 ||
	    cir_netconf_copy_str(m->netns, sizeof(m->netns), ns, "netns", err) < 0 ||
	    cir_netconf_copy_str(m->address, sizeof(m->address), addr, "address", err) < 0)
		return -err->errnum;
	/* A member written before dual stack has its one address only. */
	for (size_t i = 0; i < cir_jnode_len(addrs) && i < CIR_NETCONF_SUBNETS_MAX; i++)
		if (cir_netconf_copy_str(m->addresses[m->n_addresses++], sizeof(m->addresses[0]),
			     cir_jnode_str(cir_jnode_at(addrs, i)), "addresses", err) < 0)
			return -err->errnum;
	if (!m->n_addresses && m->address[0]) {
		memcpy(m->addresses[0], m->address, sizeof(m->address));
		m->n_addresses = 1;
	}
	m->pid = (long long)pid;
	m->starttime = st;
	return 0;
}

int cir_member_get(struct cir_network *n, const char *cid, struct cir_member *m,
		   char **result_json, struct cir_error *err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_json_ struct cir_json *j = NULL;
	const struct cir_jnode *res;
	int r;

	if (!cir_name_valid(cid))
		return cir_name_check("container id", cid, err);
	if (n->members_fd < 0)
		return cir_err(err, ENOENT, "network %s: member %s not found", n->conf.name, cid);
	r = cir_store_read_doc(n->members_fd, cid, &buf, err);
	if (r < 0)
		return r;
	r = cir_json_parse(buf, r, &j, err);
	if (r >= 0)
		r = member_parse(cir_json_root(j), m, err);
	/* Disconnecting it would DEL and forget the container it names. */
	if (r >= 0 && strcmp(m->cid, cid) != 0) {
		char show[80];

		r = cir_err(err, EINVAL, "record names container %s",
			    cir_err_shown(m->cid, show, sizeof(show)));
	}
	if (r < 0)
		return cir_err_wrap(err, "network %s: member %s", n->conf.name, cid);
	if (result_json) {
		*result_json = NULL;
		res = cir_jnode_get(cir_json_root(j), "result");
		if (res && cir_jnode_type(res) == CIR_JOBJECT) {
			_cleanup_jgen_ struct cir_jgen *g = NULL;

			r = cir_jgen_new(&g, false, err);
			if (r < 0)
				return r;
			cir_jgen_node(g, res);
			r = cir_jgen_finish_dup(g, result_json, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int cir_member_put(struct cir_network *n, const struct cir_member *m, const char *result_json,
		   struct cir_error *err)
{
	_cleanup_jgen_ struct cir_jgen *g = NULL;
	_cleanup_json_ struct cir_json *res = NULL;
	const char *buf;
	size_t len;
	int r;

	if (!cir_name_valid(m->cid))
		return cir_name_check("container id", m->cid, err);
	if (result_json) {
		r = cir_json_parse(result_json, strlen(result_json), &res, err);
		if (r < 0)
			return cir_err_wrap(err, "cached result");
	}
	r = cir_jgen_new(&g, true, err);
	if (r < 0)
		return r;
	cir_jgen_map_open(g);
	cir_jgen_kstr(g, "container", m->cid);
	cir_jgen_kstr(g, "interface", m->ifname);
	cir_jgen_kint(g, "pid", m->pid);
	cir_jgen_key(g, "starttime");
	cir_jgen_uint(g, m->starttime);
	cir_jgen_kstr(g, "bootId", m->boot_id);
	cir_jgen_kstr(g, "netns", m->netns);
	cir_jgen_kstr(g, "address", m->address);
	member_emit_addresses(g, m);
	cir_jgen_kbool(g, "hook", m->hook);
	member_emit_publish(g, m);
	if (m->pending)
		cir_jgen_kbool(g, "pending", true);
	if (res) {
		cir_jgen_key(g, "result");
		cir_jgen_node(g, cir_json_root(res));
	}
	cir_jgen_map_close(g);
	r = cir_jgen_finish(g, &buf, &len, err);
	if (r < 0)
		return r;
	return cir_store_write(n->members_fd, m->cid, buf, len, err);
}

int cir_member_del(struct cir_network *n, const char *cid, struct cir_error *err)
{
	if (!cir_name_valid(cid))
		return cir_name_check("container id", cid, err);
	return cir_store_unlink(n->members_fd, cid, err);
}

int cir_member_list(struct cir_network *n, int (*fn)(const struct cir_member *m, void *arg),
		    void *arg, struct cir_error *err)
{
	struct cir_store_names ns;
	int r, count = 0;

	if (n->members_fd < 0)
		return 0;
	r = cir_store_names_read(n->members_fd, &ns, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ns.n; i++) {
		struct cir_member m;

		r = cir_member_get(n, ns.v[i], &m, NULL, err);
		if (r == -ENOENT) {
			cir_err_clear(err);
			continue;
		}
		if (r < 0)
			break;
		count++;
		r = fn ? fn(&m, arg) : 0;
		if (r < 0)
			break;
	}
	cir_store_names_free(&ns);
	return r < 0 ? r : count;
}

static int read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k;

	if (fd < 0)
		return -errno;
	k = read(fd, buf, size - 1);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	return (int)k;
}

static int boot_id(char *buf, size_t size)
{
	int r = read_small("/proc/sys/kernel/random/boot_id", buf, size);

	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* State letter and start time (field 22) of /proc/PID/stat. */
static int proc_stat(long long pid, char *state, unsigned long long *starttime)
{
	char path[64], buf[1024];
	const char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	*state = p[2];
	p += 2;
	/* p is at field 3; skip to field 22. */
	for (int f = 3; f < 22; f++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*starttime = strtoull(p, NULL, 10);
	return 0;
}

int cir_member_set_process(struct cir_member *m, long long pid, struct cir_error *err)
{
	unsigned long long st;
	char state;
	int r;

	if (pid <= 0 || pid > INT32_MAX)
		return cir_err(err, EINVAL, "invalid pid %lld", pid);
	r = proc_stat(pid, &state, &st);
	if (r == -ESRCH || (r == 0 && (state == 'Z' || state == 'X')))
		return cir_err_code(err, CIR_CNI_UNKNOWN_CONTAINER, ESRCH,
				    "process %lld not found", pid);
	if (r < 0)
		return cir_err(err, -r, "process %lld: %s", pid, strerror(-r));
	r = boot_id(m->boot_id, sizeof(m->boot_id));
	if (r < 0)
		return cir_err(err, -r, "boot id: %s", strerror(-r));
	m->pid = pid;
	m->starttime = st;
	snprintf(m->netns, sizeof(m->netns), "/proc/%lld/ns/net", pid);
	return 0;
}

int cir_member_alive(const struct cir_member *m)
{
	char boot[40], state;
	unsigned long long st;

	if (m->pid <= 0 || boot_id(boot, sizeof(boot)) < 0 || strcmp(boot, m->boot_id) != 0)
		return 0;
	if (proc_stat(m->pid, &state, &st) < 0 || state == 'Z' || state == 'X')
		return 0;
	return st == m->starttime;
}
