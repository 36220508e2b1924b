/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipam_int.h - shared by lib/ipam*.c only: a record and the store
 * operations GC and STATUS use besides ADD and DEL.
 *
 *   ipam_range.c   range sets and the round-robin walk (pure)
 *   ipam_record.c  a record: key, text form, recorded namespace
 *   ipam.c         a network's store; ADD, DEL, GET
 *   ipam_walk.c    GC, STATUS, listings, forgetting a network
 */
#ifndef CIR_IPAM_INT_H
#define CIR_IPAM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "ipam.h"

#define KEY_MAX (CIR_NAME_MAX + 1 + CIR_IPAM_IFNAME_MAX + 1)    /* cid@ifname\0 */
/* A record: "cid\nifname\n", one "cidr gateway\n" per range set, and
 * optionally "netns DEV:INO PATH\n" (the attachment's namespace). */
#define NETNS_PATH_MAX 200
#define IPAM_DIR "ipam"           /* <root>/ipam/<network>/ */
#define NETNS_LINE_MAX (6 + 42 + NETNS_PATH_MAX + 2)
#define RECORD_MAX (KEY_MAX + 1 + CIR_IPAM_MAX_SETS * (CIR_CIDR_STRLEN + CIR_IP_STRLEN + 1) + \
		    NETNS_LINE_MAX)

/* The namespace an allocation was made for, as recorded. */
struct cir_ipam_netns {
	bool known;
	unsigned long long dev, ino;
	char path[NETNS_PATH_MAX + 1];
};

/* ---- ipam_record.c */

/* Validate (cid, ifname) and build "cid@ifname" into key[KEY_MAX]. */
int cir_ipam_key(const char *cid, const char *ifname, char *key, struct cir_error *err);

/* h->netns identified now (at ADD); ns->known false when it cannot be. */
void cir_ipam_netns_identify(const struct cir_ipam *h, struct cir_ipam_netns *ns);

/* false only when the recorded namespace is proven gone. */
bool cir_ipam_netns_alive(const struct cir_ipam_netns *ns);

/* "cid@ifname" + addresses (+ namespace, ns may be NULL) -> the record. */
void cir_ipam_record_format(const char *key, const struct cir_ipam_result *res,
			    const struct cir_ipam_netns *ns, char *buf, size_t len);

/* Record -> key, addresses and (ns may be NULL) namespace; -EBADMSG. */
int cir_ipam_record_parse(const char *buf, char *key, struct cir_ipam_result *res,
			  struct cir_ipam_netns *ns);

/* Read and parse ids/<key>: 0, -ENOENT, -EBADMSG (garbled or misnamed). */
int cir_ipam_record_read(struct cir_ipam *h, const char *key, struct cir_ipam_result *res,
			 struct cir_error *err);

/* ---- ipam.c */

/* Is ips/<ip> a link of ids/<key>?  1 yes, 0 no or absent, -errno. */
int cir_ipam_owned_by(struct cir_ipam *h, const char *key, const struct cir_ip *ip);

/* Release key under the lock.  1 released, 0 nothing held. */
int cir_ipam_release_locked(struct cir_ipam *h, const char *key, struct cir_error *err);

/* First free candidate of set s after its cursor: 0 found, -ENOSPC none. */
int cir_ipam_find_free(struct cir_ipam *h, const struct cir_ipam_rangeset *set, size_t s,
		       struct cir_ip *out, struct cir_error *err);

#endif
