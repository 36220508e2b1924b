// SPDX-License-Identifier: Apache-2.0
/*
 * nft-probe.c - test-only driver for lib/nft.c and lib/sysctl.c, compiled
 * by t-nft.sh against libcircuit.a.  One verb per run; prints results on
 * stdout, "error: <msg>" on stderr and exits with the errno on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "nft.h"
#include "sysctl.h"

static int fail(int r, const struct cir_error *err)
{
	fprintf(stderr, "error: %s (%s)\n", err->msg, strerrorname_np(-r));
	return -r & 0x7f;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Read a sysctl through an fd opened earlier (before a setns). */
static int read_fd(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

/* Before/after setns(@ns): a fresh open per read vs one fd kept across. */
static int netns_check(const char *ns, const char *path, struct cir_error *err)
{
	char before[64], after[64], kept[64], full[300];
	_cleanup_close_ int old = -1, nsfd = -1;
	int r;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	old = open(full, O_RDONLY | O_CLOEXEC);
	if (old < 0)
		return cir_err(err, errno, "open %s", full);
	r = cir_sysctl_read(path, before, sizeof(before), err);
	if (r < 0)
		return r;
	nsfd = open(ns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return cir_err(err, errno, "open %s", ns);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return cir_err(err, errno, "setns %s", ns);
	r = cir_sysctl_read(path, after, sizeof(after), err);
	if (r < 0)
		return r;
	r = read_fd(old, kept, sizeof(kept));
	if (r < 0)
		return cir_err(err, -r, "read kept fd");
	printf("before=%s after=%s kept_fd=%s\n", before, after, kept);
	return 0;
}

static int bench(const char *net, const char *cidr, int n, struct cir_error *err)
{
	double t_add = 0, t_exists = 0, t_del = 0, t0;
	int r;

	for (int i = 0; i < n; i++) {
		t0 = now_ms();
		r = cir_nft_masq_add(net, cidr, err);
		if (r < 0)
			return r;
		t_add += now_ms() - t0;
		t0 = now_ms();
		r = cir_nft_masq_exists(net, err);
		if (r < 0)
			return r;
		t_exists += now_ms() - t0;
		t0 = now_ms();
		r = cir_nft_masq_del(net, err);
		if (r < 0)
			return r;
		t_del += now_ms() - t0;
	}
	printf("add_ms=%.2f exists_ms=%.2f del_ms=%.2f n=%d\n", t_add / n, t_exists / n,
	       t_del / n, n);
	return 0;
}

int main(int argc, char **argv)
{
	struct cir_error err = CIR_ERROR_INIT;
	char buf[CIR_SYSCTL_VALUE_MAX + 1];
	const char *v;
	int r = -EINVAL;

	if (argc < 2) {
		fprintf(stderr, "usage: nft-probe VERB ARGS...\n");
		return 64;
	}
	v = argv[1];
	if (!strcmp(v, "masq-add") && argc >= 4) {
		r = cir_nft_masq_set(argv[2], (const char *const *)argv + 3, (size_t)(argc - 3), &err);
	} else if (!strcmp(v, "masq-del") && argc == 3) {
		r = cir_nft_masq_del(argv[2], &err);
	} else if (!strcmp(v, "masq-exists") && argc == 3) {
		r = cir_nft_masq_exists(argv[2], &err);
		if (r >= 0)
			printf("%s\n", r ? "yes" : "no");
	} else if (!strcmp(v, "hairpin-add") && argc == 3) {
		r = cir_nft_hairpin_add(argv[2], &err);
	} else if (!strcmp(v, "hairpin-del") && argc == 3) {
		r = cir_nft_hairpin_del(argv[2], &err);
	} else if (!strcmp(v, "hairpin-exists") && argc == 3) {
		r = cir_nft_hairpin_exists(argv[2], &err);
		if (r >= 0)
			printf("%s\n", r ? "yes" : "no");
	} else if (!strcmp(v, "sysctl-read") && argc == 3) {
		r = cir_sysctl_read(argv[2], buf, sizeof(buf), &err);
		if (r >= 0)
			printf("%s\n", buf);
	} else if (!strcmp(v, "sysctl-write") && argc == 4) {
		r = cir_sysctl_write(argv[2], argv[3], &err);
	} else if (!strcmp(v, "ip-forward") && argc == 2) {
		r = cir_sysctl_ip_forward_enable(&err);
		if (r >= 0)
			printf("%s\n", r ? "written" : "unchanged");
	} else if (!strcmp(v, "if-ensure") && argc == 6) {
		r = cir_sysctl_if_ensure(atoi(argv[2]), argv[3], argv[4], argv[5], &err);
		if (r >= 0)
			printf("%s\n", r ? "written" : "unchanged");
	} else if (!strcmp(v, "if-read") && argc == 5) {
		r = cir_sysctl_if_read(atoi(argv[2]), argv[3], argv[4], buf, sizeof(buf), &err);
		if (r >= 0)
			printf("%s\n", buf);
	} else if (!strcmp(v, "netns-check") && argc == 4) {
		r = netns_check(argv[2], argv[3], &err);
	} else if (!strcmp(v, "bench") && argc == 5) {
		r = bench(argv[2], argv[3], atoi(argv[4]), &err);
	} else {
		fprintf(stderr, "nft-probe: bad verb or arguments\n");
		return 64;
	}
	return r < 0 ? fail(r, &err) : 0;
}
