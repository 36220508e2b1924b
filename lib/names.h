/* SPDX-License-Identifier: Apache-2.0 */
/*
 * names.h - kernel interface names derived from Circuit's names.
 *
 * Every derived name fits IFNAMSIZ (15 bytes + NUL), is deterministic and
 * uses a hash where truncation could make two inputs collide.
 */
#ifndef CIR_NAMES_H
#define CIR_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* 64-bit FNV-1a over len bytes, continuing from h (start with CIR_FNV_INIT). */
#define CIR_FNV_INIT 0xcbf29ce484222325ULL
uint64_t cir_fnv1a(uint64_t h, const void *data, size_t len);

/* Bridge of a network: "c-<network>" when it fits, else
 * "c-<first 7>-<5 hex of hash(network)>" (15 bytes). */
void cir_name_bridge(const char *network, char out[16]);

/* The IFLA_IFALIAS Circuit gives a bridge it creates for network:
 * "circuit:<network>" (at most CIR_NAME_BRIDGE_ALIAS_MAX bytes with NUL).
 * A bridge without it, or with another, was not made for that network. */
#define CIR_NAME_BRIDGE_ALIAS_MAX 144
void cir_name_bridge_alias(const char *network, char out[CIR_NAME_BRIDGE_ALIAS_MAX]);

/* The IFLA_IFALIAS of a host veth that DEL detached and left to its
 * namespace's teardown: "circuit-released:<network>".  GC of that network
 * deletes such a leftover; nothing else carries that mark (a veth an ADD
 * is still making has no alias). */
void cir_name_released_alias(const char *network, char out[CIR_NAME_BRIDGE_ALIAS_MAX]);

/* Host end of a container's veth: "cv" + 13 hex of hash(containerid, ifname). */
void cir_name_host_veth(const char *containerid, const char *ifname, char out[16]);

/* The ifb that carries ifname's ingress shaping (lib/qos.c): "cq-<ifname>"
 * when that fits 15 bytes, else "cq_<first 6 of ifname><6 hex of
 * FNV-1a(ifname)>".  -EINVAL for an empty or over-long ifname. */
int cir_name_ifb(const char *ifname, char out[16], struct cir_error *err);

#endif
