// SPDX-License-Identifier: Apache-2.0
/*
 * store.c - every record Circuit reads back from its state store, damaged
 * at will: the first input byte picks the record (its value modulo 8), the
 * rest becomes that file's content in a store under $TMPDIR, and the
 * public read paths run over it:
 *   '0' networks/net/network.json  cir_network_open, cir_netdb_list
 *   '1' networks/net/conflist.json cir_network_open, the chain runner
 *                                  (ADD, DEL, CHECK, GC; no plugin runs), the
 *                                  qos settings of its circuit-qos entry
 *   '2' networks/net/members/c1    cir_member_get, cir_member_list, put back
 *   '3' networks/net/qos.json      read as `circuit network qos` does
 *   '4' ipam/net/ids/c1@eth0       (with ips/10.254.1.3 linked to it)
 *                                  cir_ipam_get, _list, _proven_dead, _gc, _release
 *   '5' ipam/net/ips/10.254.1.3    an orphan address file: cir_ipam_gc
 *   '6' ipam/net/last-0            the cursor: cir_ipam_alloc, _status
 *   '7' lb/svc.json                cir_lb_get, cir_lb_list
 * A damaged record must be a clear error (or, for what is advisory, be
 * ignored), never a crash, and nothing read from a record may name another
 * object than the file it came from.  Every input starts from the same
 * store: a network "net" with member c0, c0's ipam allocation, service
 * "web".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "ipam.h"
#include "json.h"
#include "lb.h"
#include "netconf.h"
#include "qos.h"
#include "qosnet.h"
#include "store.h"

#define NET "net"

static char root[4096];
static struct cir_netdb db = CIR_NETDB_INIT;
static struct cir_store st = CIR_STORE_INIT;
static struct cir_ipam ih = CIR_IPAM_INIT;
static struct cir_lb_db lb = CIR_LB_DB_INIT;
static struct cir_ipam_config cfg;
static int net_fd = -1, members_fd = -1;
/* Known-good contents every input starts from. */
static char *good_record, *good_conflist, *good_member, *good_alloc, *good_cursor, *good_lb;
static char good_addr[CIR_IP_STRLEN];

static void put(int dirfd, const char *name, const void *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, buf, len) == (ssize_t)len);
	close(fd);
}

static char *slurp(int dirfd, const char *name)
{
	char *buf = malloc(1 << 16);
	int r;

	FUZZ_CHECK(buf);
	r = cir_store_read(dirfd, name, buf, 1 << 16, NULL);
	FUZZ_CHECK(r > 0);
	return buf;
}

/* Remove every entry of dirfd but "lock". */
static void empty_dir(int dirfd)
{
	DIR *d = fdopendir(dup(dirfd));
	struct dirent *e;

	FUZZ_CHECK(d);
	rewinddir(d);           /* the dup shares the offset of the last walk */
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, CIR_STORE_LOCK))
			unlinkat(dirfd, e->d_name, 0);
	closedir(d);
}

/* Put back the part of the store an input of kind k changed. */
static void reset(int k)
{
	if (k < 0 || k <= 3) {
		put(net_fd, CIR_NETCONF_RECORD, good_record, strlen(good_record));
		put(net_fd, CIR_NETCONF_CONFLIST, good_conflist, strlen(good_conflist));
		unlinkat(net_fd, "qos.json", 0);
		empty_dir(members_fd);
		put(members_fd, "c0", good_member, strlen(good_member));
	}
	if (k < 0 || (k >= 4 && k <= 6)) {
		empty_dir(ih.ids_fd);
		empty_dir(ih.ips_fd);
		put(ih.ids_fd, "c0@eth0", good_alloc, strlen(good_alloc));
		FUZZ_CHECK(linkat(ih.ids_fd, "c0@eth0", ih.ips_fd, good_addr, 0) == 0);
		put(ih.fd, "last-0", good_cursor, strlen(good_cursor));
	}
	if (k < 0 || k == 7) {
		empty_dir(lb.fd);
		put(lb.fd, "web.json", good_lb, strlen(good_lb));
	}
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* libFuzzer exits through exit() when done: leave no store behind. */
static void cleanup(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_netconf nc = { .name = NET, .subnet = "10.254.1.0/24",
				  .gateway = "10.254.1.1", .bridge = "c-net", .masquerade = true,
				  .managed = true, .created = 1700000000 };
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_member m = { .cid = "c0", .ifname = "eth0", .pid = 1, .starttime = 42,
				.boot_id = "b0", .netns = "/proc/1/ns/net",
				.address = "10.254.1.2/24" };
	struct cir_lb_target t = { .weight = 1, .method = CIR_IPVS_FWD_MASQ,
				   .owner = { .network = NET, .cid = "c0", .ifname = "eth0" } };
	struct cir_lb_service s = { .name = "web", .protocol = IPPROTO_TCP, .sched = "rr",
				    .created = 1700000000, .targets = &t, .n_targets = 1 };
	struct cir_ipam_result res;
	struct cir_cidr subnet;
	char *conflist = NULL;

	snprintf(root, sizeof(root), "%s/cir-fuzz-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(root));
	FUZZ_CHECK(cir_netdb_open(&db, root, &err) == 0);
	FUZZ_CHECK(cir_conflist_generate(&nc, NULL, &conflist, &err) == 0);
	FUZZ_CHECK(cir_network_create(&db, &nc, conflist, &err) == 0);
	free(conflist);
	FUZZ_CHECK(cir_network_open(&db, NET, false, &n, &err) == 0);
	FUZZ_CHECK(cir_member_put(&n, &m, "{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":"
				  "\"10.254.1.2/24\",\"gateway\":\"10.254.1.1\"}]}", &err) == 0);
	net_fd = dup(n.fd);
	members_fd = dup(n.members_fd);
	cir_network_close(&n);
	good_record = slurp(net_fd, CIR_NETCONF_RECORD);
	good_conflist = slurp(net_fd, CIR_NETCONF_CONFLIST);
	good_member = slurp(members_fd, "c0");

	FUZZ_CHECK(cir_store_open(&st, root, &err) == 0);
	FUZZ_CHECK(cir_ipam_open(&ih, &st, NET, &err) == 0);
	FUZZ_CHECK(cir_cidr_parse_subnet("10.254.1.0/24", &subnet, &err) == 0);
	cir_ipam_config_from_subnet(&cfg, &subnet);
	FUZZ_CHECK(cir_ipam_config_check(&cfg, &err) == 0);
	cir_ipam_set_netns(&ih, "/proc/self/ns/net");
	FUZZ_CHECK(cir_ipam_alloc(&ih, &cfg, "c0", "eth0", NULL, 0, &res, &err) == 0);
	cir_ip_format(&res.ips[0].addr.ip, good_addr, sizeof(good_addr));
	good_alloc = slurp(ih.ids_fd, "c0@eth0");
	good_cursor = slurp(ih.fd, "last-0");

	FUZZ_CHECK(cir_lb_db_open(&lb, root, &err) == 0);
	FUZZ_CHECK(cir_ip_parse("10.96.0.10", &s.vip.ip, &err) == 0);
	s.vip.port = 80;
	FUZZ_CHECK(cir_ip_parse("10.254.1.2", &t.addr.ip, &err) == 0);
	t.addr.port = 8080;
	FUZZ_CHECK(cir_lb_service_format(&s, true, &good_lb, &err) == 0);
	reset(-1);
	atexit(cleanup);
	return 0;
}

/* ---- networks ---- */

static int count_net(const char *name, void *arg)
{
	FUZZ_CHECK(cir_name_valid(name));
	return 0;
}

/*
 * The chain runner over the conflist as read from the store, with a plugin
 * path that does not exist: every plugin's stdin is built, no plugin runs
 * (none is registered in-process here), every verb fails cleanly.
 */
static void chain_run(const struct cir_network *n)
{
	static const struct cir_chain_attachment valid[] = { { "c0", "eth0" } };
	const struct cir_chain_rt rt = { .cid = "c1", .netns = "/proc/self/ns/net",
					 .ifname = "eth0", .args = "IgnoreUnknown=1",
					 .path = "/nonexistent/cni" };
	const char *cached = "{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":\"10.254.1.3/24\"}]}";
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_result *res = malloc(sizeof(*res));
	char *result = NULL;
	int r;

	FUZZ_CHECK(res);
	r = cir_chain_add(n->conflist, &rt, &result, res, &err);
	FUZZ_CHECK_ERR(r, &err);
	FUZZ_CHECK(!result);
	cir_err_clear(&err);
	r = cir_chain_del(n->conflist, &rt, cached, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	cir_err_clear(&err);
	r = cir_chain_check(n->conflist, &rt, cached, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	for (int keep = 0; keep < 2; keep++) {
		cir_err_clear(&err);
		r = cir_chain_gc(n->conflist, rt.path, valid, 1, keep, &err);
		if (r < 0)
			FUZZ_CHECK_ERR(r, &err);
	}
	free(res);
}

static void network_open(void)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_json *j = NULL;
	struct cir_netconf back;
	char *rec = NULL;
	int r;

	r = cir_network_open(&db, NET, true, &n, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
		FUZZ_CHECK(n.fd == -1 && !n.conflist);
		return;
	}
	FUZZ_CHECK(strcmp(n.conf.name, NET) == 0);
	FUZZ_CHECK(n.conflist && n.conflist_raw);
	/* The record formats and parses back to itself. */
	FUZZ_CHECK(cir_netconf_format(&n.conf, false, &rec, &err) == 0);
	FUZZ_CHECK(cir_json_parse(rec, strlen(rec), &j, &err) == 0);
	FUZZ_CHECK(cir_netconf_parse(cir_json_root(j), &back, &err) == 0);
	FUZZ_CHECK(memcmp(&back, &n.conf, sizeof(back)) == 0);
	cir_json_free(j);
	free(rec);
	chain_run(&n);
	cir_network_close(&n);
	cir_err_clear(&err);
	r = cir_netdb_list(&db, count_net, NULL, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
}

/* A loaded chain entry emits to JSON that parses back to the same. */
static void qos_round_trip(const struct cir_qos_entry *e)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_jgen *g = NULL;
	struct cir_json *j = NULL;
	struct cir_qos_entry again;
	const char *buf;
	size_t len;

	FUZZ_CHECK(cir_jgen_new(&g, false, &err) == 0);
	cir_qos_entry_emit(g, e);
	FUZZ_CHECK(cir_jgen_finish(g, &buf, &len, &err) == 0);
	FUZZ_CHECK(cir_json_parse(buf, len, &j, &err) == 0);
	FUZZ_CHECK(cir_qos_entry_parse(cir_json_root(j), &again, &err) == 0);
	FUZZ_CHECK(memcmp(&again.def, &e->def, sizeof(e->def)) == 0);
	FUZZ_CHECK(again.n_ov == e->n_ov);
	for (size_t i = 0; i < e->n_ov; i++)
		FUZZ_CHECK(memcmp(cir_qos_entry_get(&again, e->ov[i].cid), &e->ov[i].q,
				  sizeof(e->ov[i].q)) == 0);
	cir_qos_entry_free(&again);
	cir_json_free(j);
	cir_jgen_free(g);
}

/* What `circuit network qos` reads: the chain's circuit-qos entry and its
 * "containers" map, and networks/<name>/qos.json ("network" settings),
 * through the CLI's own loader; what it loads emits and reads back. */
static void qos_settings(void)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_qosnet q;
	int r;

	if (cir_network_open(&db, NET, true, &n, &err) < 0)
		return;
	r = cir_qosnet_load(&n, &q, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		qos_round_trip(&q.chain);
	cir_qosnet_free(&q);
	cir_network_close(&n);
}

static int member_seen(const struct cir_member *m, void *arg)
{
	FUZZ_CHECK(cir_name_valid(m->cid));
	++*(int *)arg;
	return 0;
}

static void member_read(void)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_network n = CIR_NETWORK_INIT;
	struct cir_member m, back;
	char *result = NULL, *result2 = NULL;
	int r, seen = 0;

	FUZZ_CHECK(cir_network_open(&db, NET, true, &n, &err) == 0);
	r = cir_member_get(&n, "c1", &m, &result, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
		FUZZ_CHECK(!result);
	} else {
		FUZZ_CHECK(strcmp(m.cid, "c1") == 0);
		/* Written back and read again: the same member and result. */
		FUZZ_CHECK(cir_member_put(&n, &m, result, &err) == 0);
		FUZZ_CHECK(cir_member_get(&n, "c1", &back, &result2, &err) == 0);
		FUZZ_CHECK(memcmp(&m, &back, sizeof(m)) == 0);
		FUZZ_CHECK(!result == !result2);
		FUZZ_CHECK(!result || strcmp(result, result2) == 0);
	}
	free(result);
	free(result2);
	cir_err_clear(&err);
	r = cir_member_list(&n, member_seen, &seen, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(r == seen && seen >= 1);
	cir_network_close(&n);
}

/* ---- ipam ---- */

static int alloc_seen(const char *cid, const char *ifname, const struct cir_ipam_result *res,
		      void *arg)
{
	FUZZ_CHECK(cir_name_valid(cid) && ifname[0]);
	FUZZ_CHECK(res->n >= 1 && res->n <= CIR_IPAM_MAX_SETS);
	return 0;
}

static void ipam_record(void)
{
	static const struct cir_ipam_attachment valid[] = { { "c1", "eth0" }, { "c0", "eth0" } };
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipam_result res;
	int r;

	r = cir_ipam_get(&ih, "c1", "eth0", &res, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		char a[CIR_IP_STRLEN];

		FUZZ_CHECK(res.n >= 1 && res.n <= CIR_IPAM_MAX_SETS);
		FUZZ_CHECK(strcmp(cir_ip_format(&res.ips[0].addr.ip, a, sizeof(a)), "10.254.1.3") == 0);
	}
	cir_err_clear(&err);
	r = cir_ipam_list(&ih, alloc_seen, NULL, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	(void)cir_ipam_proven_dead(&ih, "c1", "eth0");
	cir_err_clear(&err);
	r = cir_ipam_gc_flags(&ih, valid, 2, CIR_IPAM_GC_KEEP_LIVE, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	/* Whatever c1's record says, c0 keeps its address. */
	FUZZ_CHECK(cir_ipam_get(&ih, "c0", "eth0", &res, &err) == 0);
	cir_err_clear(&err);
	r = cir_ipam_release(&ih, "c1", "eth0", &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	FUZZ_CHECK(cir_ipam_get(&ih, "c0", "eth0", &res, &err) == 0);
	cir_err_clear(&err);
	r = cir_ipam_gc(&ih, NULL, 0, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
}

static void ipam_alloc(void)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_ipam_result res;
	int r;

	r = cir_ipam_alloc(&ih, &cfg, "c2", "eth0", NULL, 0, &res, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
	} else {
		char a[CIR_IP_STRLEN];

		FUZZ_CHECK(res.n == 1);
		FUZZ_CHECK(cir_ipam_set_find(&cfg.sets[0], &res.ips[0].addr.ip) == 0);
		FUZZ_CHECK(!cir_ip_eq(&res.ips[0].addr.ip, &cfg.sets[0].r[0].gateway));
		FUZZ_CHECK(strcmp(cir_ip_format(&res.ips[0].addr.ip, a, sizeof(a)), good_addr));
		FUZZ_CHECK(cir_ipam_release(&ih, "c2", "eth0", &err) == 1);
	}
	cir_err_clear(&err);
	r = cir_ipam_status(&ih, &cfg, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
}

/* ---- lb ---- */

static int service_seen(const struct cir_lb_service *s, void *arg)
{
	struct cir_error err = CIR_ERROR_INIT;

	FUZZ_CHECK(cir_lb_service_check(s, &err) == 0);
	++*(int *)arg;
	return 0;
}

static void lb_read(void)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_lb_service s = { 0 }, back = { 0 };
	struct cir_json *j = NULL;
	char *doc = NULL;
	int r, seen = 0;

	r = cir_lb_get(&lb, "svc", &s, &err);
	if (r < 0) {
		FUZZ_CHECK_ERR(r, &err);
		FUZZ_CHECK(!s.targets && !s.n_targets);
	} else {
		FUZZ_CHECK(strcmp(s.name, "svc") == 0);
		FUZZ_CHECK(cir_lb_service_check(&s, &err) == 0);
		FUZZ_CHECK(s.n_targets <= CIR_LB_TARGETS_MAX);
		/* The record formats and parses back to itself. */
		FUZZ_CHECK(cir_lb_service_format(&s, false, &doc, &err) == 0);
		FUZZ_CHECK(cir_json_parse(doc, strlen(doc), &j, &err) == 0);
		FUZZ_CHECK(cir_lb_service_parse(cir_json_root(j), &back, &err) == 0);
		FUZZ_CHECK(back.n_targets == s.n_targets && back.persistent == s.persistent &&
			   back.protocol == s.protocol && strcmp(back.sched, s.sched) == 0 &&
			   cir_ip_eq(&back.vip.ip, &s.vip.ip) && back.vip.port == s.vip.port);
		for (size_t i = 0; i < s.n_targets; i++) {
			const struct cir_lb_target *x = &s.targets[i], *y = &back.targets[i];

			FUZZ_CHECK(cir_ip_eq(&x->addr.ip, &y->addr.ip) && x->addr.port == y->addr.port);
			FUZZ_CHECK(x->weight == y->weight && x->method == y->method);
			FUZZ_CHECK(strcmp(x->bridge, y->bridge) == 0);
			/* A target without a container has no owner (its other
			 * owner keys, never written so, are dropped). */
			if (x->owner.cid[0])
				FUZZ_CHECK(memcmp(&x->owner, &y->owner, sizeof(x->owner)) == 0);
			else
				FUZZ_CHECK(!y->owner.cid[0]);
		}
		cir_lb_service_clear(&back);
		cir_json_free(j);
		free(doc);
	}
	cir_lb_service_clear(&s);
	cir_err_clear(&err);
	r = cir_lb_list(&lb, service_seen, &seen, &err);
	if (r < 0)
		FUZZ_CHECK_ERR(r, &err);
	else
		FUZZ_CHECK(r == seen && seen >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	int kind = size ? data[0] % 8 : -1;

	if (size == 0)
		return 0;
	switch (kind) {
	case 0:
		put(net_fd, CIR_NETCONF_RECORD, body, len);
		network_open();
		break;
	case 1:
		put(net_fd, CIR_NETCONF_CONFLIST, body, len);
		network_open();
		qos_settings();
		break;
	case 2:
		put(members_fd, "c1", body, len);
		member_read();
		break;
	case 3:
		put(net_fd, "qos.json", body, len);
		qos_settings();
		break;
	case 4:
		put(ih.ids_fd, "c1@eth0", body, len);
		FUZZ_CHECK(linkat(ih.ids_fd, "c1@eth0", ih.ips_fd, "10.254.1.3", 0) == 0);
		ipam_record();
		break;
	case 5:
		put(ih.ips_fd, "10.254.1.3", body, len);
		ipam_record();
		ipam_alloc();
		break;
	case 6:
		put(ih.fd, "last-0", body, len);
		ipam_alloc();
		break;
	case 7:
		put(lb.fd, "svc.json", body, len);
		lb_read();
		break;
	}
	reset(kind);
	return 0;
}
