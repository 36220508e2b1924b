/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netconf_int.h - what netconf.c and member.c share, not part of the
 * library's API.
 */
#ifndef CIR_NETCONF_INT_H
#define CIR_NETCONF_INT_H

#include <stddef.h>

#include "error.h"

/* Copy src (NULL = "") into dst of size bytes; -EINVAL "<what> \"...\" is
 * too long" when it does not fit. */
int cir_netconf_copy_str(char *dst, size_t size, const char *src, const char *what,
			 struct cir_error *err);

#endif
