// SPDX-License-Identifier: Apache-2.0
/*
 * cni-bench.c - time CNI ADD and DEL the way a runtime sees them: one
 * fork+exec of the plugin per call, stdin in, result out (cir_cni_exec).
 *
 *   cni-bench CNI_PATH NETNS_DIR N CONF PREFIX [CONF PREFIX ...]
 *
 * For each variant (a config file and a container prefix) runs ADD for
 * containers PREFIX0..PREFIX<N-1> (netns NETNS_DIR/PREFIXi, which must
 * exist), then DEL for all of them, and prints one line per variant:
 *   add_median_ms add_mean_ms del_median_ms del_mean_ms
 * With CNI_BENCH_RAW=FILE it also writes every call to FILE, one line per
 * (variant, i): "variant i add_ms del_ms".  ADD i ran with i attachments of
 * that variant present, DEL i with N - i: the scale bench plots these.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cni.h"
#include "json.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void stats(double *v, int n, double *median, double *mean)
{
	double s = 0;

	qsort(v, n, sizeof(*v), cmp_d);
	for (int i = 0; i < n; i++)
		s += v[i];
	*mean = s / n;
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct variant {
	const char *prefix;
	char *conf;
	long len;
	struct cir_json *doc;
	const char *type;
	double *add, *del;
};

static int load(struct variant *v, const char *file, const char *prefix, int n)
{
	struct cir_error err = CIR_ERROR_INIT;
	FILE *f = fopen(file, "re");

	if (!f || fseek(f, 0, SEEK_END) < 0 || (v->len = ftell(f)) < 0) {
		perror(file);
		return -1;
	}
	rewind(f);
	v->conf = calloc(1, v->len + 1);
	if (!v->conf || fread(v->conf, 1, v->len, f) != (size_t)v->len) {
		perror(file);
		return -1;
	}
	fclose(f);
	if (cir_json_parse(v->conf, v->len, &v->doc, &err) < 0 ||
	    cir_json_str(cir_json_root(v->doc), "type", &v->type, &err) <= 0) {
		fprintf(stderr, "cni-bench: %s: %s\n", file, err.msg[0] ? err.msg : "no type");
		return -1;
	}
	v->prefix = prefix;
	v->add = calloc(n, sizeof(double));
	v->del = calloc(n, sizeof(double));
	return 0;
}

static int run(struct variant *v, const char *cni_path, const char *nsdir, int i, bool del)
{
	struct cir_error err = CIR_ERROR_INIT;
	struct cir_cni_exec_env e = { 0 };
	struct cir_cni_result res;
	char cid[64], ns[512];
	double t0;

	snprintf(cid, sizeof(cid), "%s%d", v->prefix, i);
	snprintf(ns, sizeof(ns), "%s/%s%d", nsdir, v->prefix, i);
	e.containerid = cid;
	e.netns = ns;
	e.ifname = "eth0";
	e.path = cni_path;
	t0 = now_ms();
	if (cir_cni_exec(v->type, cni_path, del ? CIR_CNI_CMD_DEL : CIR_CNI_CMD_ADD, &e, v->conf,
			 v->len, del ? NULL : &res, NULL, &err) < 0) {
		fprintf(stderr, "cni-bench: %s %s %s: %s\n", v->type, del ? "DEL" : "ADD", cid,
			err.msg);
		return -1;
	}
	(del ? v->del : v->add)[i] = now_ms() - t0;
	return 0;
}

/* cni-bench CNI_PATH NETNS_DIR N CONF PREFIX [CONF PREFIX ...]
 * Calls alternate between the variants so that machine noise hits all of
 * them alike; one output line per variant, in argument order. */
int main(int argc, char **argv)
{
	struct variant v[8];
	int n, nv;

	if (argc < 6 || (argc - 4) % 2 || (argc - 4) / 2 > 8) {
		fprintf(stderr, "usage: cni-bench CNI_PATH NETNS_DIR N CONF PREFIX [CONF PREFIX ...]\n");
		return 2;
	}
	n = atoi(argv[3]);
	nv = (argc - 4) / 2;
	for (int k = 0; k < nv; k++)
		if (load(&v[k], argv[4 + 2 * k], argv[5 + 2 * k], n) < 0)
			return 1;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++)
			for (int k = 0; k < nv; k++)
				if (run(&v[k], argv[1], argv[2], i, pass) < 0)
					return 1;
	if (getenv("CNI_BENCH_RAW")) {
		FILE *raw = fopen(getenv("CNI_BENCH_RAW"), "we");

		if (!raw) {
			perror(getenv("CNI_BENCH_RAW"));
			return 1;
		}
		for (int k = 0; k < nv; k++)
			for (int i = 0; i < n; i++)
				fprintf(raw, "%d %d %.3f %.3f\n", k, i, v[k].add[i], v[k].del[i]);
		fclose(raw);
	}
	for (int k = 0; k < nv; k++) {
		double am, aa, dm, da;

		stats(v[k].add, n, &am, &aa);
		stats(v[k].del, n, &dm, &da);
		printf("%.3f %.3f %.3f %.3f\n", am, aa, dm, da);
		cir_json_free(v[k].doc);
		free(v[k].conf);
		free(v[k].add);
		free(v[k].del);
	}
	return 0;
}
