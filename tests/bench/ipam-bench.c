// SPDX-License-Identifier: Apache-2.0
/*
 * ipam-bench.c - cost of one IPAM ADD and one DEL (library calls, no
 * fork/exec) as the number of allocations in a network grows.
 *
 *   cc -std=gnu11 -D_GNU_SOURCE -O2 -Wno-unused-parameter -Ilib tests/bench/ipam-bench.c \
 *      build/libcircuit.a $(pkg-config --libs libnl-3.0) -o build/bin/ipam-bench
 *   build/bin/ipam-bench [state-dir] [sizes...]     (default sizes: 10 1000 10000)
 *
 * For each size N the network is filled to N allocations, then 200
 * alloc/release pairs are timed; the mean ADD and DEL in microseconds are
 * printed.  Flat numbers across sizes are the point.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ipam.h"

#define ROUNDS 200

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int run(const char *dir, int n)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_store st = CIR_STORE_INIT;
	struct cir_ipam h = CIR_IPAM_INIT;
	struct cir_ipam_config cfg;
	struct cir_ipam_result res;
	struct cir_cidr subnet;
	double add = 0, del = 0, t;
	char cid[64], net[32];

	snprintf(net, sizeof(net), "bench%d", n);
	if (cir_cidr_parse_subnet("10.128.0.0/14", &subnet, &err) < 0 ||
	    cir_store_open(&st, dir, &err) < 0 || cir_ipam_open(&h, &st, net, &err) < 0)
		goto fail;
	cir_ipam_config_from_subnet(&cfg, &subnet);
	for (int i = 0; i < n; i++) {
		snprintf(cid, sizeof(cid), "fill-%d", i);
		if (cir_ipam_alloc(&h, &cfg, cid, "eth0", NULL, 0, &res, &err) < 0)
			goto fail;
	}
	for (int i = 0; i < ROUNDS; i++) {
		snprintf(cid, sizeof(cid), "probe-%d", i);
		t = now_us();
		if (cir_ipam_alloc(&h, &cfg, cid, "eth0", NULL, 0, &res, &err) < 0)
			goto fail;
		add += now_us() - t;
		t = now_us();
		if (cir_ipam_release(&h, cid, "eth0", &err) != 1)
			goto fail;
		del += now_us() - t;
	}
	printf("%6d allocations: ADD %6.1f us  DEL %6.1f us\n", n, add / ROUNDS, del / ROUNDS);
	cir_ipam_close(&h);
	cir_store_close(&st);
	return 0;
fail:
	fprintf(stderr, "ipam-bench: %s\n", err.msg);
	cir_ipam_close(&h);
	cir_store_close(&st);
	return 1;
}

int main(int argc, char **argv)
{
	static const int def[] = { 10, 1000, 10000 };
	char dir[PATH_MAX];
	int rc = 0;

	if (argc > 1) {
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	} else {
		snprintf(dir, sizeof(dir), "/var/tmp/cir-ipam-bench-XXXXXX");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			return 1;
		}
	}
	if (argc > 2) {
		for (int i = 2; i < argc && !rc; i++)
			rc = run(dir, atoi(argv[i]));
	} else {
		for (size_t i = 0; i < sizeof(def) / sizeof(def[0]) && !rc; i++)
			rc = run(dir, def[i]);
	}
	if (argc <= 1)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
