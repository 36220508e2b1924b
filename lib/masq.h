/* SPDX-License-Identifier: Apache-2.0 */
/*
 * masq.h - reference-counted masquerade of a network's subnet.
 *
 * A network's masquerade (lib/nft.h, one chain per network) has several
 * users: each attachment made by circuit-bridge with "ipMasq", and the
 * network itself when the `circuit` CLI owns it (user CIR_MASQ_OWNER, from
 * `network create` to `network delete`).  Users are files under
 * <root>/masq/<network>/users/, changed under the directory's flock; the
 * chain goes when the last user does.  Adding a user re-asserts the chain
 * (idempotent), so a flushed ruleset heals on the next ADD.
 */
#ifndef CIR_MASQ_H
#define CIR_MASQ_H

#include <stdbool.h>

#include "error.h"

#define CIR_MASQ_OWNER "network"

/*
 * Register user (a store name: "cid:ifname" or CIR_MASQ_OWNER) and make sure
 * the chain for subnet exists: one CIDR, or a comma-separated list of them
 * (a dual-stack network: "10.254.1.0/24,fd00:1::/64"), every user of one
 * network naming the same list.  Without verify, a chain this store already
 * installed in this boot and network namespace is taken as present (no
 * libnftables round trip on every ADD); verify asks the kernel and re-adds
 * (restore, network create).  data_dir as for cir_store_open().
 */
int cir_masq_acquire(const char *data_dir, const char *network, const char *user,
		     const char *subnet, bool verify, struct cir_error *err);

/* Drop user (absent = success); remove the chain with the last user. */
int cir_masq_release(const char *data_dir, const char *network, const char *user,
		     struct cir_error *err);

/* Drop every user for which keep(user, arg) is false, then as release. */
int cir_masq_gc(const char *data_dir, const char *network,
		bool (*keep)(const char *user, void *arg), void *arg, struct cir_error *err);

/* Network `network` is being deleted: forget its users (<root>/masq/<network>)
 * in the open store st.  0 when there were none. */
struct cir_store;
int cir_masq_network_forget(const struct cir_store *st, const char *network,
			    struct cir_error *err);

#endif
