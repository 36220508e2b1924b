/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nft_int.h - shared by lib/nft*.c only: the libnftables context and the
 * command builder the table's users run their transactions with.
 *
 *   nft.c          the library (dlopen), names, CIDRs, errors, contexts,
 *                  one transaction, the table's removal once empty
 *   nft_masq.c     masquerade and hairpin owner chains
 *   nft_portmap.c  published ports (DNAT maps, hairpin and localhost sets)
 *   nft_overlay.c  a cluster network's guard ("bridge circuit" table)
 */
#ifndef CIR_NFT_INT_H
#define CIR_NFT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"
#include "error.h"
#include "nft.h"

struct nft_ctx;

#define TBL CIR_NFT_FAMILY " " CIR_NFT_TABLE
/* Every owner rule ends so: it counts masqueraded connections (nat chains
 * see the first packet of each) and pins the anchor counter. */
#define MASQ_STMT "counter name \"" CIR_NFT_ANCHOR "\" masquerade"
#define IFNAME_MAX 15

void cir_nft_ctx_free(struct nft_ctx *ctx);
CIR_DEFINE_CLEANUP(struct nft_ctx, cir_nft_ctx_free)
#define _cleanup_nft_ctx_ _cleanup_(cir_nft_ctx_freep)

/* 1-max characters of [A-Za-z0-9_.-]. */
bool cir_nft_name_ok(const char *s, size_t max);

/* A chain named prefix + bridge ifname (checked) into buf. */
int cir_nft_bridge_chain(const char *prefix, const char *ifname, char *buf, size_t len,
			 struct cir_error *err);

/* A context with buffered output and errors (libnftables loaded first). */
int cir_nft_open(struct nft_ctx **out, const char *what, struct cir_error *err);

/* cmd as one transaction; *out (when not NULL) a copy of the output; err
 * "what: <libnftables' first error line>". */
int cir_nft_exec(struct nft_ctx *ctx, const char *cmd, char **out, const char *what,
		 struct cir_error *err);

/* cir_nft_exec() of a transaction creating the table, a nat chain and
 * masquerade rules: a missing kernel module said as such. */
int cir_nft_exec_create(struct nft_ctx *ctx, const char *cmd, const char *what,
			struct cir_error *err);

/* cmd with a formatted piece appended (cmd freed); NULL on ENOMEM, and
 * NULL in gives NULL out. */
char *cir_nft_cmd_append(char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "add table" and "add counter" of the anchor: a new command's start. */
char *cir_nft_cmd_table(void);

/* How many times needle occurs in hay. */
size_t cir_nft_count_str(const char *hay, const char *needle);

/* Remove the table when no chain is left in it (EBUSY, ENOENT: success). */
int cir_nft_table_gc(struct nft_ctx *ctx, struct cir_error *err);

#endif
