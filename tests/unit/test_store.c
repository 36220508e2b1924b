// SPDX-License-Identifier: Apache-2.0
/*
 * test_store.c - the state store in a temporary directory: names, root
 * selection, symlink refusal, modes, atomic write, O_EXCL, listing, lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "store.h"
#include "unit.h"

static char tmp[PATH_MAX];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "%s/cir-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	if (nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

static mode_t mode_of(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(lstat(path, &sb), 0);
	return sb.st_mode & 07777;
}

START_TEST(names)
{
	static const char *const good[] = {
		"a", "0", "c-x", "net_1.2", "A..b", "deadbeef0123456789abcdef0123456789abcdef0123456789abcdef01234567",
	};
	static const char *const bad[] = {
		"", ".", "..", "../etc", "a/b", "/abs", ".hidden", "-dash", "_u", "a b", "a\nb",
		"a:b", "a@b", "caf\xc3\xa9", "a\\b", "a*", "x\x01",
	};
	struct cir_error e = CIR_ERROR_INIT;
	char longname[CIR_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(cir_name_valid(good[i]), "refused \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!cir_name_valid(bad[i]), "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(cir_name_check("network name", bad[i], &e), -EINVAL);
	}
	ck_assert(!cir_name_valid(NULL));
	memset(longname, 'a', sizeof(longname));
	longname[CIR_NAME_MAX] = '\0';
	ck_assert(cir_name_valid(longname));
	longname[CIR_NAME_MAX] = 'a';
	longname[CIR_NAME_MAX + 1] = '\0';
	ck_assert(!cir_name_valid(longname));
	ck_assert_int_eq(cir_name_check("container id", longname, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "longer than 128 bytes"));
	ck_assert_int_eq(cir_name_check("container id", "a/../b", &e), -EINVAL);
	ck_assert_str_eq(e.msg, "invalid container id \"a/../b\": contains '/'");
	ck_assert_int_eq(cir_name_check("network name", "..", &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "must start with a letter or digit"));
	ck_assert_int_eq(cir_name_check("network name", "", &e), -EINVAL);
	ck_assert_str_eq(e.msg, "missing network name");
	ck_assert_int_eq(cir_name_check("network name", "ok-1", &e), 0);

	ck_assert(cir_store_name_valid("fd00::1"));
	ck_assert(cir_store_name_valid("c1@eth0"));
	ck_assert(!cir_store_name_valid(".tmp-1"));
	ck_assert(!cir_store_name_valid("a/b"));
	ck_assert(!cir_store_name_valid("a b"));
	ck_assert(!cir_store_name_valid(""));
}
END_TEST

START_TEST(root_selection)
{
	setenv(CIR_STORE_ENV, "/env/dir", 1);
	ck_assert_str_eq(cir_store_root("/explicit"), "/explicit");
	ck_assert_str_eq(cir_store_root(NULL), "/env/dir");
	ck_assert_str_eq(cir_store_root(""), "/env/dir");
	setenv(CIR_STORE_ENV, "", 1);
	ck_assert_str_eq(cir_store_root(NULL), CIR_STORE_DEFAULT_ROOT);
	unsetenv(CIR_STORE_ENV);
	ck_assert_str_eq(cir_store_root(NULL), "/var/lib/circuit");
}
END_TEST

START_TEST(open_creates_0700)
{
	struct cir_store st = CIR_STORE_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	char root[PATH_MAX], sub[PATH_MAX + 8];
	int fd;

	snprintf(root, sizeof(root), "%s/a/b/state/", tmp);
	umask(022);
	ck_assert_int_eq(cir_store_open(&st, root, &e), 0);
	ck_assert_int_ge(st.fd, 0);
	ck_assert_str_eq(st.path + strlen(tmp), "/a/b/state");     /* trailing '/' gone */
	ck_assert_uint_eq(mode_of(st.path), 0700);
	fd = cir_store_dir(st.fd, "ipam", true, &e);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(sub, sizeof(sub), "%s/ipam", st.path);
	ck_assert_uint_eq(mode_of(sub), 0700);
	ck_assert_int_eq(cir_store_dir(st.fd, "nothere", false, &e), -ENOENT);
	ck_assert_int_eq(cir_store_dir(st.fd, "..", true, &e), -EINVAL);
	ck_assert_int_eq(cir_store_dir(st.fd, "a/b", true, &e), -EINVAL);
	cir_store_close(&st);
	ck_assert_int_eq(st.fd, -1);
	cir_store_close(&st);   /* twice is fine */

	/* The environment is used when no explicit dir is given. */
	setenv(CIR_STORE_ENV, root, 1);
	ck_assert_int_eq(cir_store_open(&st, NULL, &e), 0);
	cir_store_close(&st);
	unsetenv(CIR_STORE_ENV);
	ck_assert_int_eq(cir_store_open(&st, "relative/dir", &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "not an absolute path"));
}
END_TEST

START_TEST(open_ro_creates_nothing)
{
	struct cir_store st = CIR_STORE_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	char root[PATH_MAX], want[PATH_MAX + 64], link[PATH_MAX];
	int fd = 7;

	/* An explicit root that does not exist: an error, nothing made. */
	snprintf(root, sizeof(root), "%s/nope/deeper", tmp);
	ck_assert_int_eq(cir_store_openf(&st, root, "networks", CIR_STORE_READ_ONLY, &fd, &e), -ENOENT);
	snprintf(want, sizeof(want), "state directory %s: No such file or directory", root);
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(st.fd, -1);
	ck_assert_int_eq(fd, 7);
	snprintf(root, sizeof(root), "%s/nope", tmp);
	ck_assert_int_eq(access(root, F_OK), -1);
	/* The same through the environment. */
	setenv(CIR_STORE_ENV, root, 1);
	ck_assert(cir_store_root_explicit(NULL));
	ck_assert_int_eq(cir_store_openf(&st, NULL, "lb", CIR_STORE_READ_ONLY, &fd, &e), -ENOENT);
	unsetenv(CIR_STORE_ENV);
	ck_assert(!cir_store_root_explicit(NULL));
	ck_assert(cir_store_root_explicit("/x"));
	ck_assert_int_eq(access(root, F_OK), -1);

	/* An existing root without the sub: an empty store, still nothing made. */
	snprintf(root, sizeof(root), "%s/empty", tmp);
	ck_assert_int_eq(mkdir(root, 0700), 0);
	cir_err_clear(&e);
	ck_assert_int_eq(cir_store_openf(&st, root, "networks", CIR_STORE_READ_ONLY, &fd, &e), 0);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_ge(st.fd, 0);
	ck_assert_str_eq(e.msg, "");
	cir_store_close(&st);
	snprintf(want, sizeof(want), "%s/networks", root);
	ck_assert_int_eq(access(want, F_OK), -1);

	/* With the sub: its fd. */
	ck_assert_int_eq(mkdir(want, 0700), 0);
	ck_assert_int_eq(cir_store_openf(&st, root, "networks", CIR_STORE_READ_ONLY, &fd, &e), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	cir_store_close(&st);

	/* The root's usual checks hold. */
	snprintf(link, sizeof(link), "%s/link", tmp);
	ck_assert_int_eq(symlink(root, link), 0);
	ck_assert_int_eq(cir_store_openf(&st, link, "networks", CIR_STORE_READ_ONLY, &fd, &e), -ELOOP);
	ck_assert_int_eq(cir_store_openf(&st, "rel", "networks", CIR_STORE_READ_ONLY, &fd, &e), -EINVAL);
	ck_assert_int_eq(st.fd, -1);
}
END_TEST

START_TEST(symlinks_refused)
{
	struct cir_store st = CIR_STORE_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	char real[PATH_MAX], link[PATH_MAX], file[PATH_MAX], inner[PATH_MAX + 16];

	snprintf(real, sizeof(real), "%s/real", tmp);
	snprintf(link, sizeof(link), "%s/link", tmp);
	snprintf(file, sizeof(file), "%s/file", tmp);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, link), 0);
	ck_assert_int_eq(cir_store_open(&st, link, &e), -ELOOP);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a symlink"));
	ck_assert_ptr_nonnull(strstr(e.msg, "state directory"));
	/* A dangling one too, and nothing gets created behind it. */
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(symlink("/nonexistent-cir-target", link), 0);
	ck_assert_int_eq(cir_store_open(&st, link, &e), -ELOOP);
	ck_assert_int_eq(access("/nonexistent-cir-target", F_OK), -1);
	ck_assert_int_eq(close(open(file, O_CREAT | O_WRONLY, 0600)), 0);
	ck_assert_int_eq(cir_store_open(&st, file, &e), -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a directory"));
	ck_assert_int_eq(st.fd, -1);

	/* Inside the store: a planted directory symlink is refused too. */
	ck_assert_int_eq(cir_store_open(&st, real, &e), 0);
	snprintf(inner, sizeof(inner), "%s/ipam", real);
	ck_assert_int_eq(symlink("/etc", inner), 0);
	ck_assert_int_eq(cir_store_dir(st.fd, "ipam", true, &e), -ELOOP);
	/* ... and a file symlink is neither read nor followed on create. */
	snprintf(inner, sizeof(inner), "%s/data", real);
	ck_assert_int_eq(symlink("/etc/hostname", inner), 0);
	{
		char buf[64];

		ck_assert_int_eq(cir_store_read(st.fd, "data", buf, sizeof(buf), &e), -ELOOP);
	}
	ck_assert_int_eq(cir_store_create(st.fd, "data", "x", 1, &e), -EEXIST);
	/* Atomic replace swaps the link itself, never writes through it. */
	ck_assert_int_eq(cir_store_write(st.fd, "data", "x", 1, &e), 0);
	ck_assert_uint_eq(mode_of(inner) & 0777, 0600);
	cir_store_close(&st);
}
END_TEST

START_TEST(files)
{
	struct cir_store st = CIR_STORE_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	char buf[16], path[PATH_MAX + 16];
	int n = 0;

	ck_assert_int_eq(cir_store_open(&st, tmp, &e), 0);
	ck_assert_int_eq(cir_store_read(st.fd, "f", buf, sizeof(buf), &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "read f"));
	ck_assert_int_eq(cir_store_exists(st.fd, "f", &e), 0);
	ck_assert_int_eq(cir_store_write(st.fd, "f", "hello\n", 6, &e), 0);
	ck_assert_int_eq(cir_store_exists(st.fd, "f", &e), 1);
	ck_assert_int_eq(cir_store_read(st.fd, "f", buf, sizeof(buf), &e), 6);
	ck_assert_str_eq(buf, "hello\n");
	ck_assert_int_eq(cir_store_write(st.fd, "f", "bye", 3, &e), 0);
	ck_assert_int_eq(cir_store_read(st.fd, "f", buf, sizeof(buf), &e), 3);
	ck_assert_str_eq(buf, "bye");
	snprintf(path, sizeof(path), "%s/f", tmp);
	ck_assert_uint_eq(mode_of(path), 0600);

	/* Exactly size - 1 bytes fit; one more does not. */
	ck_assert_int_eq(cir_store_write(st.fd, "g", "0123456789abcde", 15, &e), 0);
	ck_assert_int_eq(cir_store_read(st.fd, "g", buf, sizeof(buf), &e), 15);
	ck_assert_int_eq(cir_store_write(st.fd, "g", "0123456789abcdef", 16, &e), 0);
	ck_assert_int_eq(cir_store_read(st.fd, "g", buf, sizeof(buf), &e), -EFBIG);

	ck_assert_int_eq(cir_store_create(st.fd, "r", "me", 2, &e), 0);
	ck_assert_int_eq(cir_store_create(st.fd, "r", "you", 3, &e), -EEXIST);
	ck_assert_int_eq(cir_store_read(st.fd, "r", buf, sizeof(buf), &e), 2);
	ck_assert_str_eq(buf, "me");
	snprintf(path, sizeof(path), "%s/r", tmp);
	ck_assert_uint_eq(mode_of(path), 0600);

	ck_assert_int_eq(cir_store_unlink(st.fd, "r", &e), 1);
	ck_assert_int_eq(cir_store_unlink(st.fd, "r", &e), 0);
	ck_assert_int_eq(cir_store_write(st.fd, "../escape", "x", 1, &e), -EINVAL);
	ck_assert_int_eq(cir_store_create(st.fd, ".tmp-x", "x", 1, &e), -EINVAL);
	ck_assert_int_eq(cir_store_read(st.fd, "a/b", buf, sizeof(buf), &e), -EINVAL);
	ck_assert_int_eq(cir_store_unlink(st.fd, "..", &e), -EINVAL);

	/* Hard-link reservations share the inode. */
	ck_assert_int_eq(cir_store_create(st.fd, "rec", "owner", 5, &e), 0);
	ck_assert_int_eq(cir_store_link(st.fd, "rec", st.fd, "addr", &e), 0);
	ck_assert_int_eq(cir_store_link(st.fd, "rec", st.fd, "addr", &e), -EEXIST);
	ck_assert_int_eq(cir_store_link(st.fd, "nothere", st.fd, "addr2", &e), -ENOENT);
	ck_assert_int_eq(cir_store_same_file(st.fd, "rec", st.fd, "addr", &e), 1);
	ck_assert_int_eq(cir_store_same_file(st.fd, "rec", st.fd, "f", &e), 0);
	ck_assert_int_eq(cir_store_same_file(st.fd, "rec", st.fd, "nothere", &e), 0);
	ck_assert_int_eq(cir_store_read(st.fd, "addr", buf, sizeof(buf), &e), 5);
	ck_assert_int_eq(cir_store_link(st.fd, "rec", st.fd, "../x", &e), -EINVAL);

	/* In-place overwrite, shorter and longer. */
	ck_assert_int_eq(cir_store_overwrite(st.fd, "cur", "10.0.0.200\n", 11, &e), 0);
	ck_assert_int_eq(cir_store_overwrite(st.fd, "cur", "10.0.0.3\n", 9, &e), 0);
	ck_assert_int_eq(cir_store_read(st.fd, "cur", buf, sizeof(buf), &e), 9);
	ck_assert_str_eq(buf, "10.0.0.3\n");
	snprintf(path, sizeof(path), "%s/cur", tmp);
	ck_assert_uint_eq(mode_of(path), 0600);

	/* A directory is not a file. */
	ck_assert_int_ge(n = cir_store_dir(st.fd, "d", true, &e), 0);
	close(n);
	ck_assert_int_eq(cir_store_read(st.fd, "d", buf, sizeof(buf), &e), -EINVAL);
	cir_store_close(&st);
}
END_TEST

static int count_entry(const char *name, void *data)
{
	ck_assert(name[0] != '.');
	ck_assert_str_ne(name, CIR_STORE_LOCK);
	(*(int *)data)++;
	return 0;
}

static int stop_entry(const char *name, void *data)
{
	return -ECANCELED;
}

/* An in-place rewrite never writes through a hard link planted in the
 * store (issue 10: ipam last-N, masq asserted, the qos record). */
START_TEST(overwrite_breaks_planted_links)
{
	struct cir_store st = CIR_STORE_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	char victim[PATH_MAX + 16], planted[PATH_MAX + 16], buf[64];
	struct stat sb;
	FILE *f;

	ck_assert_int_eq(cir_store_open(&st, tmp, &e), 0);
	snprintf(victim, sizeof(victim), "%s/victim", tmp);
	f = fopen(victim, "w");
	ck_assert_ptr_nonnull(f);
	fputs("precious\n", f);
	fclose(f);
	snprintf(planted, sizeof(planted), "%s/last-0", tmp);
	ck_assert_int_eq(link(victim, planted), 0);
	ck_assert_int_eq(cir_store_overwrite(st.fd, "last-0", "10.0.0.9", 8, &e), 0);
	ck_assert_int_eq(cir_store_read(st.fd, "victim", buf, sizeof(buf), &e), 9);
	ck_assert_str_eq(buf, "precious\n");
	ck_assert_int_eq(cir_store_read(st.fd, "last-0", buf, sizeof(buf), &e), 8);
	ck_assert_str_eq(buf, "10.0.0.9");
	ck_assert_int_eq(stat(planted, &sb), 0);
	ck_assert_uint_eq(sb.st_nlink, 1);
	ck_assert_int_eq(stat(victim, &sb), 0);
	ck_assert_uint_eq(sb.st_nlink, 1);
	/* A FIFO in its place is replaced too, without blocking. */
	ck_assert_int_eq(unlink(planted), 0);
	ck_assert_int_eq(mkfifo(planted, 0600), 0);
	ck_assert_int_eq(cir_store_overwrite(st.fd, "last-0", "x", 1, &e), 0);
	ck_assert_int_eq(lstat(planted, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	/* The ordinary case stays in place (same inode). */
	{
		ino_t ino = sb.st_ino;

		ck_assert_int_eq(cir_store_overwrite(st.fd, "last-0", "yz", 2, &e), 0);
		ck_assert_int_eq(stat(planted, &sb), 0);
		ck_assert_uint_eq(sb.st_ino, ino);
	}
	cir_store_close(&st);
}
END_TEST

START_TEST(list_and_sweep)
{
	struct cir_store st = CIR_STORE_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	char path[PATH_MAX + 32];
	int n = 0, lock;

	ck_assert_int_eq(cir_store_open(&st, tmp, &e), 0);
	lock = cir_store_lock(st.fd, &e);
	ck_assert_int_ge(lock, 0);
	for (int i = 0; i < 50; i++) {
		char name[16];

		snprintf(name, sizeof(name), "e%d", i);
		ck_assert_int_eq(cir_store_create(st.fd, name, "", 0, &e), 0);
	}
	/* A crash leftover. */
	snprintf(path, sizeof(path), "%s/.tmp-999-1", tmp);
	ck_assert_int_eq(close(open(path, O_CREAT | O_WRONLY, 0600)), 0);
	ck_assert_int_eq(cir_store_list(st.fd, count_entry, &n, &e), 0);
	ck_assert_int_eq(n, 50);
	ck_assert_int_eq(cir_store_list(st.fd, stop_entry, NULL, &e), -ECANCELED);
	ck_assert_int_eq(cir_store_sweep(st.fd, &e), 1);
	ck_assert_int_eq(access(path, F_OK), -1);
	close(lock);
	cir_store_close(&st);
}
END_TEST

START_TEST(lock_excludes)
{
	struct cir_store st = CIR_STORE_INIT;
	struct cir_error e = CIR_ERROR_INIT;
	char path[PATH_MAX + 16];
	int lock, other, status;
	pid_t pid;

	ck_assert_int_eq(cir_store_open(&st, tmp, &e), 0);
	lock = cir_store_lock(st.fd, &e);
	ck_assert_int_ge(lock, 0);
	snprintf(path, sizeof(path), "%s/lock", tmp);
	ck_assert_uint_eq(mode_of(path), 0600);
	/* Another open file description cannot take it while we hold it. */
	other = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(other, 0);
	ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Blocks until the parent lets go, then exits 0. */
		int l;

		close(lock);    /* the inherited fd shares the parent's lock */
		l = cir_store_lock(st.fd, NULL);

		_exit(l >= 0 ? 0 : 1);
	}
	usleep(50 * 1000);
	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);     /* still waiting */
	close(lock);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	cir_store_close(&st);
}
END_TEST


START_TEST(remove_tree_stays_inside)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_store st = CIR_STORE_INIT;
	char path[PATH_MAX + 64], outside[PATH_MAX + 64];
	int top, net, sub, lk;

	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	ck_assert_int_eq(mkdir(outside, 0700), 0);
	snprintf(path, sizeof(path), "%s/keep", outside);
	ck_assert_int_eq(close(open(path, O_CREAT | O_WRONLY, 0600)), 0);
	snprintf(path, sizeof(path), "%s/root", tmp);
	ck_assert_int_eq(cir_store_openf(&st, path, "ipam", CIR_STORE_CREATE, &top, &err), 0);
	ck_assert_int_ge(top, 0);
	net = cir_store_dir(top, "n1", true, &err);
	sub = cir_store_dir(net, "ips", true, &err);
	ck_assert_int_ge(sub, 0);
	ck_assert_int_eq(cir_store_create(sub, "10.0.0.2", "x", 1, &err), 0);
	lk = cir_store_lock(net, &err);
	ck_assert_int_ge(lk, 0);
	close(lk);
	ck_assert_int_eq(symlinkat(outside, net, "evil"), 0);
	close(sub);
	close(net);
	ck_assert_int_eq(cir_store_remove_tree(top, "n1", &err), 1);
	ck_assert_int_eq(cir_store_exists(top, "n1", &err), 0);
	ck_assert_int_eq(cir_store_remove_tree(top, "n1", &err), 0);
	ck_assert_int_eq(cir_store_remove_tree(top, "../x", &err), -EINVAL);
	snprintf(path, sizeof(path), "%s/keep", outside);
	ck_assert_int_eq(access(path, F_OK), 0);       /* the symlink was not followed */
	close(top);
	cir_store_close(&st);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, names);
	tcase_add_test(tc, root_selection);
	tcase_add_test(tc, open_creates_0700);
	tcase_add_test(tc, open_ro_creates_nothing);
	tcase_add_test(tc, symlinks_refused);
	tcase_add_test(tc, files);
	tcase_add_test(tc, overwrite_breaks_planted_links);
	tcase_add_test(tc, list_and_sweep);
	tcase_add_test(tc, lock_excludes);
	tcase_add_test(tc, remove_tree_stays_inside);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(store_suite)
