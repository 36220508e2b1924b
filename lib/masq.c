// SPDX-License-Identifier: Apache-2.0
/*
 * masq.c - users of a network's masquerade, and the chain's lifetime.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "masq.h"
#include "nft.h"
#include "store.h"

#define MASQ_DIR "masq"           /* <root>/masq/<network>/users/ */

struct masq_dir {
	struct cir_store st;
	int net;
	int users;
	int lock;
};

static void masq_close(struct masq_dir *m)
{
	if (m->lock >= 0)
		close(m->lock);
	if (m->users >= 0)
		close(m->users);
	if (m->net >= 0)
		close(m->net);
	cir_store_close(&m->st);
}

/* Open (with create, making) masq/<network>/ and take its lock.  Without
 * create nothing is made: -ENOENT, with no message, when the network has
 * no masquerade state (release and GC then have nothing to do). */
static int masq_open(const char *data_dir, const char *network, bool create,
		     struct masq_dir *m, struct cir_error *err)
{
	_cleanup_close_ int top = -1;
	int r;

	*m = (struct masq_dir){ .st = CIR_STORE_INIT, .net = -1, .users = -1, .lock = -1 };
	r = cir_store_data_dir_check(data_dir, create, err);
	if (r >= 0)
		r = cir_store_openf(&m->st, data_dir, NULL,
				    create ? CIR_STORE_CREATE : CIR_STORE_EXISTING, NULL, err);
	if (r == -ENOENT && !create)
		return r;
	if (r < 0)
		return cir_err_wrap(err, "masquerade state");
	top = cir_store_dir(m->st.fd, MASQ_DIR, create, err);
	if (top >= 0)
		m->net = cir_store_dir(top, network, create, err);
	if (m->net >= 0)
		m->users = cir_store_dir(m->net, "users", create, err);
	if (m->users >= 0)
		m->lock = cir_store_lock(m->net, err);
	if (m->lock < 0) {
		r = -err->errnum;
		masq_close(m);
		if (r == -ENOENT && !create)
			return r;
		return cir_err_wrap(err, "masquerade state");
	}
	return 0;
}

/*
 * The "asserted" record: which kernel boot and which network namespace
 * last got the chain for which subnet from us.  When it matches, the chain
 * is there (nothing else in Circuit removes it without removing the record)
 * and an ADD need not load libnftables to say so again (~1.7 ms).  A reboot
 * or another namespace changes the key; `circuit restore` and CHECK verify
 * the kernel itself.
 */
#define ASSERTED "asserted"

static int asserted_key(const char *subnet, char *buf, size_t len)
{
	char boot[64] = "";
	struct stat st;
	int fd, n;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, boot, sizeof(boot) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	boot[n] = '\0';
	boot[strcspn(boot, "\n")] = '\0';
	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	snprintf(buf, len, "%s %llu:%llu %s\n", boot, (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, subnet);
	return 0;
}

static bool asserted(int net, const char *key)
{
	char have[256];
	int n = cir_store_read(net, ASSERTED, have, sizeof(have), NULL);

	return n > 0 && strcmp(have, key) == 0;
}

/* Install network's chain for subnets, a comma-separated list of one or
 * more CIDRs (one per family for a dual-stack network). */
static int masq_install(const char *network, const char *subnets, struct cir_error *err)
{
	char buf[256], *v[16], *save = NULL;
	size_t n = 0;

	if (strlen(subnets) >= sizeof(buf))
		return cir_err(err, EINVAL, "subnets \"%.64s...\" are too long", subnets);
	memcpy(buf, subnets, strlen(subnets) + 1);
	for (char *p = strtok_r(buf, ",", &save); p && n < 16; p = strtok_r(NULL, ",", &save))
		v[n++] = p;
	if (n == 0)
		return cir_err(err, EINVAL, "no subnet to masquerade");
	if (n == 1)
		return cir_nft_masq_add(network, v[0], err);
	return cir_nft_masq_set(network, (const char *const *)v, n, err);
}

int cir_masq_acquire(const char *data_dir, const char *network, const char *user,
		     const char *subnet, bool verify, struct cir_error *err)
{
	struct masq_dir m;
	char key[256];
	bool created, have_key;
	int r;

	r = masq_open(data_dir, network, true, &m, err);
	if (r < 0)
		return r;
	have_key = asserted_key(subnet, key, sizeof(key)) == 0;
	r = cir_store_create(m.users, user, subnet, strlen(subnet), err);
	created = r >= 0;
	if (r == -EEXIST)
		r = 0;
	if (r >= 0 && (verify || !have_key || !asserted(m.net, key))) {
		r = masq_install(network, subnet, err);
		if (r >= 0 && have_key)
			cir_store_overwrite(m.net, ASSERTED, key, strlen(key), NULL);
		if (r < 0 && created)
			cir_store_unlink(m.users, user, NULL);
	}
	masq_close(&m);
	return r < 0 ? cir_err_wrap(err, "masquerade %s", network) : 0;
}

static int drop_if_last(struct masq_dir *m, const char *network, struct cir_error *err)
{
	int empty = cir_store_dir_empty(m->users);
	int any = empty < 0 ? empty : !empty;

	if (any < 0)
		return cir_err(err, -any, "masquerade %s: users: %s", network, strerror(-any));
	if (any)
		return 0;
	cir_store_unlink(m->net, ASSERTED, NULL);
	return cir_nft_masq_del(network, err);
}

/* network's users for a release: 1, or 0 when nothing is stored. */
static int masq_open_existing(const char *data_dir, const char *network, struct masq_dir *m,
			      struct cir_error *err)
{
	int r = masq_open(data_dir, network, false, m, err);

	if (r == -ENOENT) {
		cir_err_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

/* Users left m (r says how that went): the chain goes with the last of
 * them; m is closed. */
static int masq_done(struct masq_dir *m, const char *network, int r, struct cir_error *err)
{
	if (r >= 0)
		r = drop_if_last(m, network, err);
	masq_close(m);
	return r < 0 ? cir_err_wrap(err, "masquerade %s", network) : 0;
}

int cir_masq_release(const char *data_dir, const char *network, const char *user,
		     struct cir_error *err)
{
	struct masq_dir m;
	int r;

	r = masq_open_existing(data_dir, network, &m, err);
	if (r <= 0)
		return r;
	return masq_done(&m, network, cir_store_unlink(m.users, user, err), err);
}

struct gc_walk {
	int users;
	bool (*keep)(const char *user, void *arg);
	void *arg;
};

static int gc_one(const char *name, void *data)
{
	struct gc_walk *w = data;

	if (!w->keep(name, w->arg))
		cir_store_unlink(w->users, name, NULL);
	return 0;
}

int cir_masq_gc(const char *data_dir, const char *network,
		bool (*keep)(const char *user, void *arg), void *arg, struct cir_error *err)
{
	struct gc_walk w = { .keep = keep, .arg = arg };
	struct masq_dir m;
	int r;

	r = masq_open_existing(data_dir, network, &m, err);
	if (r <= 0)
		return r;
	w.users = m.users;
	return masq_done(&m, network, cir_store_list(m.users, gc_one, &w, err), err);
}

int cir_masq_network_forget(const struct cir_store *st, const char *network,
			    struct cir_error *err)
{
	return cir_store_forget(st, MASQ_DIR, network, err);
}
