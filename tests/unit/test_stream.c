// SPDX-License-Identifier: Apache-2.0
/*
 * test_stream.c - lib/stream.c on a socketpair: everything sent arrives,
 * a read appends and keeps room for a NUL, the peer's close, the timeout,
 * and the size limit, with the messages the clients show.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream.h"
#include "unit.h"

START_TEST(send_and_recv)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_stream_buf b = { 0 };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(cir_stream_send(sv[0], "hello ", 6, "x", &err), 0);
	ck_assert_int_eq(cir_stream_recv(sv[1], &b, 1000, 1u << 20, "x", &err), 6);
	ck_assert_int_eq(cir_stream_send(sv[0], "world", 5, "x", &err), 0);
	ck_assert_int_eq(cir_stream_recv(sv[1], &b, 1000, 1u << 20, "x", &err), 5);
	ck_assert_uint_eq(b.len, 11);
	ck_assert_uint_gt(b.cap, b.len);        /* room for the NUL */
	b.buf[b.len] = '\0';
	ck_assert_str_eq(b.buf, "hello world");
	/* nothing in time */
	ck_assert_int_eq(cir_stream_recv(sv[1], &b, 20, 1u << 20, "x", &err), -ETIMEDOUT);
	ck_assert_str_eq(err.msg, "x: no answer");
	/* the peer's close */
	close(sv[0]);
	ck_assert_int_eq(cir_stream_recv(sv[1], &b, 1000, 1u << 20, "x", &err), 0);
	ck_assert_uint_eq(b.len, 11);
	close(sv[1]);
	free(b.buf);
}
END_TEST

START_TEST(size_limit)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_stream_buf b = { 0 };
	static char big[20000];
	ssize_t n;
	int sv[2];

	memset(big, 'a', sizeof(big));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(cir_stream_send(sv[0], big, sizeof(big), "x", &err), 0);
	/* at most 16 KiB: reads until the buffer would have to grow past it */
	do
		n = cir_stream_recv(sv[1], &b, 1000, 16384, "api", &err);
	while (n > 0);
	ck_assert_int_eq(n, -EFBIG);
	ck_assert_str_eq(err.msg, "api: answer too long");
	ck_assert_uint_le(b.len, 16383);
	close(sv[0]);
	close(sv[1]);
	free(b.buf);
}
END_TEST

START_TEST(send_to_closed_peer)
{
	struct cir_error err = CIR_ERROR_INIT;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	/* EPIPE, not SIGPIPE */
	ck_assert_int_eq(cir_stream_send(sv[0], "x", 1, "ovsdb", &err), -EPIPE);
	ck_assert_ptr_nonnull(strstr(err.msg, "ovsdb: send: "));
	close(sv[0]);
}
END_TEST

static Suite *stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, send_and_recv);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, send_to_closed_peer);
	suite_add_tcase(s, tc);
	return s;
}
CIR_UNIT_SUITE(stream_suite)
