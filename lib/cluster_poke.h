/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_poke.h - the member poke (spec/cluster.md "Members across
 * hosts"): circuit-ipam's ADD and DEL on a cluster network tell this
 * host's agent which network changed, by one datagram to a Unix socket
 * in the state directory, instead of writing the member key to etcd
 * themselves; the agent runs that network's members sync at once.
 *
 * The socket is STATE/cluster/agent.sock (cir_store_root(state_dir)),
 * AF_UNIX SOCK_DGRAM, mode 0600 (root only).  A datagram is a network
 * name and nothing else (no NUL, no newline); anything that is not a
 * valid name (cir_name_valid) is dropped by the receiver.
 */
#ifndef CIR_CLUSTER_POKE_H
#define CIR_CLUSTER_POKE_H

#include <stddef.h>

#include "cni.h"
#include "error.h"

#define CIR_CLUSTER_POKE_SOCK "agent.sock"

/*
 * Send network to the agent of the state at state_dir, never blocking
 * (MSG_DONTWAIT).  0 sent; -EAGAIN: its queue is full (the agent lives;
 * it reads the whole queue at once and, having read a full queue, syncs
 * every network: cir_cluster_poke_qlen); else -errno and nothing sent:
 * -ENOENT or -ECONNREFUSED (no agent listens), -ENAMETOOLONG (the path
 * does not fit sun_path), -EINVAL (bad name), then the caller writes the
 * key itself.
 */
int cir_cluster_poke_send(const char *state_dir, const char *network);

/*
 * The agent's end: bind the socket (a stale file replaced; the directory
 * STATE/cluster made if missing), mode 0600, non-blocking, close-on-exec.
 * The fd, or -errno with err set.
 */
int cir_cluster_poke_bind(const char *state_dir, struct cir_error *err);

/* Close fd and remove the socket file (fd < 0: nothing). */
void cir_cluster_poke_unbind(int fd, const char *state_dir);

/*
 * One datagram from fd into name: 1 a name read, -EBADMSG one that is no
 * valid name read and dropped, 0 nothing queued, other -errno on error.
 */
int cir_cluster_poke_recv(int fd, char name[CIR_CNI_NAME_MAX + 1]);

/*
 * The queue length of a datagram socket made now in this network
 * namespace (net.unix.max_dgram_qlen, 10 when unreadable): a sender gets
 * EAGAIN only when that many datagrams wait, so a reader that reads that
 * many in one go must assume it missed some.
 */
unsigned int cir_cluster_poke_qlen(void);

#endif
