/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lb_cluster_int.h - what the files of cluster services' agent part share
 * (lb_cluster_sync.c: the copies of the services; lb_cluster_snat.c: this
 * host's source address on the cluster networks).  Not an API.
 */
#ifndef CIR_LB_CLUSTER_INT_H
#define CIR_LB_CLUSTER_INT_H

#include <stdbool.h>

#include "lb_cluster.h"
#include "lb_int.h"

#define SYNC_WARNED_MAX 64
/* Bridges whose source NAT this agent keeps in memory (what it last
 * wrote, so that an unchanged pass writes nothing). */
#define SNAT_BRIDGES_MAX 32

struct cir_lb_cluster_sync {
	struct cir_lb_db *db;
	void (*log)(void *arg, bool error, const char *msg);
	void *arg;
	char failing[CIR_ERROR_MSG_MAX];        /* etcd: the last problem */
	/* The source NAT written per bridge: its rule's inputs as text. */
	struct {
		char bridge[CIR_IFNAMSIZ];
		char *rule;
	} snat[SNAT_BRIDGES_MAX];
	/* The last problem said per service: one line per change. */
	struct {
		char name[CIR_NAME_MAX + 1];
		char msg[CIR_ERROR_MSG_MAX];
	} warned[SYNC_WARNED_MAX];
};

/* One line to the agent's log. */
void cir_lbc_say(struct cir_lb_cluster_sync *s, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Problem msg of key (a service's name, or "~net:NAME" for a network):
 * recorded; true when it differs from the last one (to be said). */
bool cir_lbc_warn_new(struct cir_lb_cluster_sync *s, const char *key, const char *msg);
/* Name is fine now: forget its problem; whether it had one. */
bool cir_lbc_service_ok(struct cir_lb_cluster_sync *s, const char *name);
/* This host's source address and rule on every cluster network a NAT'd
 * target of a cluster service sits on; gone where none is left. */
void cir_lbc_snat_sync(struct cir_lb_cluster_sync *s);

#endif
