// SPDX-License-Identifier: Apache-2.0
/*
 * test_cluster_poke.c - the member poke's socket (lib/cluster_poke.c):
 * send, bind, receive, what is dropped, the queue full, a stale file.
 * AF_UNIX in a temporary directory only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cluster_poke.h"
#include "unit.h"

static char dir[64];
static char path[128];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cir-poke.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cluster/%s", dir, CIR_CLUSTER_POKE_SOCK);
}

static void rm_tmp(void)
{
	char p[160];

	unlink(path);
	snprintf(p, sizeof(p), "%s/cluster", dir);
	rmdir(p);
	rmdir(dir);
}

/* A raw datagram to the socket, as a hostile local sender could. */
static void raw_send(const void *buf, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ck_assert_int_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&sun, sizeof(sun)),
			 (ssize_t)len);
	close(fd);
}

START_TEST(send_bind_recv)
{
	struct cir_error err = CIR_ERROR_INIT;
	char name[CIR_CNI_NAME_MAX + 1], big[200];
	struct stat st;
	int fd;

	mkdir_tmp();
	/* No agent: nothing listens. */
	ck_assert_int_eq(cir_cluster_poke_send(dir, "blue"), -ENOENT);
	fd = cir_cluster_poke_bind(dir, &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(cir_cluster_poke_recv(fd, name), 0);
	/* A name the sender refuses: nothing sent. */
	ck_assert_int_eq(cir_cluster_poke_send(dir, "../etc"), -EINVAL);
	ck_assert_int_eq(cir_cluster_poke_send(dir, ""), -EINVAL);
	ck_assert_int_eq(cir_cluster_poke_send(dir, NULL), -EINVAL);
	/* What a hostile sender may put: dropped one by one, in order. */
	raw_send("../x", 4);
	raw_send("blue\0red", 8);
	memset(big, 'a', sizeof(big));
	raw_send(big, sizeof(big));
	raw_send(big, CIR_CNI_NAME_MAX + 1);
	raw_send("", 0);
	ck_assert_int_eq(cir_cluster_poke_send(dir, "blue"), 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(cir_cluster_poke_recv(fd, name), -EBADMSG);
	ck_assert_int_eq(cir_cluster_poke_recv(fd, name), 1);
	ck_assert_str_eq(name, "blue");
	/* The longest name passes whole. */
	raw_send(big, CIR_CNI_NAME_MAX);
	ck_assert_int_eq(cir_cluster_poke_recv(fd, name), 1);
	ck_assert_uint_eq(strlen(name), CIR_CNI_NAME_MAX);
	ck_assert_int_eq(cir_cluster_poke_recv(fd, name), 0);
	cir_cluster_poke_unbind(fd, dir);
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(cir_cluster_poke_send(dir, "blue"), -ENOENT);
	rm_tmp();
}
END_TEST

START_TEST(queue_full_and_stale)
{
	struct cir_error err = CIR_ERROR_INIT;
	char name[CIR_CNI_NAME_MAX + 1];
	unsigned int q = cir_cluster_poke_qlen(), sent = 0;
	int fd, r;

	ck_assert_uint_ge(q, 1);
	mkdir_tmp();
	fd = cir_cluster_poke_bind(dir, &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	/* Never blocks: EAGAIN once the queue is full (at most q + 1 sent:
	 * the kernel's check is "more than q queued"). */
	while ((r = cir_cluster_poke_send(dir, "blue")) == 0 && sent < 10000)
		sent++;
	ck_assert_int_eq(r, -EAGAIN);
	ck_assert_uint_ge(sent, q);
	ck_assert_uint_le(sent, q + 1);
	for (unsigned int i = 0; i < sent; i++)
		ck_assert_int_eq(cir_cluster_poke_recv(fd, name), 1);
	ck_assert_int_eq(cir_cluster_poke_recv(fd, name), 0);
	/* An agent gone without its unbind: the file stays, refused. */
	close(fd);
	ck_assert_int_eq(cir_cluster_poke_send(dir, "blue"), -ECONNREFUSED);
	/* The next agent replaces it. */
	fd = cir_cluster_poke_bind(dir, &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	ck_assert_int_eq(cir_cluster_poke_send(dir, "blue"), 0);
	ck_assert_int_eq(cir_cluster_poke_recv(fd, name), 1);
	cir_cluster_poke_unbind(fd, dir);
	rm_tmp();
}
END_TEST

static Suite *cluster_poke_suite(void)
{
	Suite *s = suite_create("cluster_poke");
	TCase *tc = tcase_create("socket");

	tcase_add_test(tc, send_bind_recv);
	tcase_add_test(tc, queue_full_and_stale);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(cluster_poke_suite)
