/* SPDX-License-Identifier: Apache-2.0 */
/*
 * haproxy_int.h - shared by lib/haproxy*.c only: what the HAProxy backend's
 * modules use of each other.  Called with lb/lock held, like every backend
 * operation (lib/lbbackend.h).
 *
 *   haproxy.c        the backend operations (cir_lb_haproxy_ops)
 *   haproxy_conf.c   the generated configuration: lb/haproxy.d/ and the
 *                    names and addresses HAProxy is given
 *   haproxy_api.c    the runtime API client (lb/haproxy.sock)
 *   haproxy_proc.c   the process: start (seamless reload), stop
 */
#ifndef CIR_HAPROXY_INT_H
#define CIR_HAPROXY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lbbackend.h"

#define CFG_DIR "haproxy.d"
#define CFG_GLOBAL "00-global.cfg"
#define SOCK_NAME "haproxy.sock"
#define PID_NAME "haproxy.pid"
#define LOG_NAME "haproxy.log"

/* A growing text (a configuration file, a command line); oom latched. */
struct cir_hap_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Service names, from the files of lb/haproxy.d. */
struct cir_hap_names {
	char (*v)[CIR_NAME_MAX + 1];
	size_t n, cap;
};

/* ---- haproxy_conf.c */

/* The server name of target address a: "t_" + address + "_" + port. */
void cir_hap_srv_name(const struct cir_lb_addr *a, char *buf, size_t len);
/* "ipv4@10.0.0.1:80" / "ipv6@fd00::1:80". */
void cir_hap_addr(const struct cir_lb_addr *a, char *buf, size_t len);
/* HAProxy's balance algorithm for an IPVS scheduler name, NULL if none. */
const char *cir_hap_balance(const char *sched);

void cir_hap_printf(struct cir_hap_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cir_hap_buf_free(struct cir_hap_buf *b);
/* The server line's options of t in s (weight, checks). */
void cir_hap_server_opts(struct cir_hap_buf *b, const struct cir_lb_service *s,
			 const struct cir_lb_target *t);

/* lb/haproxy.d: an fd. */
int cir_hap_cfg_dir(struct cir_lb_db *db, bool create, struct cir_error *err);
/* The global file and s's file (s may be NULL) as the record says: 1 when
 * either changed. */
int cir_hap_cfg_write(struct cir_lb_db *db, const struct cir_lb_service *s, struct cir_error *err);
/* The services with a file in lb/haproxy.d (none when it is absent). */
int cir_hap_cfg_list(struct cir_lb_db *db, struct cir_hap_names *cn, struct cir_error *err);
void cir_hap_names_free(struct cir_hap_names *cn);
/* Remove service name's file; 0 when there is none. */
int cir_hap_cfg_remove(struct cir_lb_db *db, const char *name, struct cir_error *err);

/* ---- haproxy_api.c */

/* Send one command, the whole answer into *out (malloc'd, NUL terminated). */
int cir_hap_api_cmd(struct cir_lb_db *db, const char *cmd, char **out, struct cir_error *err);
/* A command whose success is an empty answer or one starting with one of
 * oks (NULL-terminated, may be NULL); anything else is -EIO with its
 * first line. */
int cir_hap_api_do(struct cir_lb_db *db, const char *cmd, const char *const *oks,
		   struct cir_error *err);
/* Does a haproxy answer on lb/haproxy.sock? */
bool cir_hap_running(struct cir_lb_db *db);

/* ---- haproxy_proc.c */

/* Start haproxy on the generated configuration, taking over a running
 * one's sockets (-x, -sf).  1 started, 0 when db may not spawn. */
int cir_hap_start(struct cir_lb_db *db, struct cir_error *err);
/* Stop every haproxy on this store's configuration, then remove its
 * socket, pid file, log and global file: the number of processes. */
int cir_hap_stop(struct cir_lb_db *db, struct cir_error *err);

#endif
