/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Version and ABI numbers of libaname.  Hand-edited; the Makefile reads them,
 * so this file is the single source of truth for the release and the soname.
 */
#ifndef ANAME_VERSION_H
#define ANAME_VERSION_H

#define ANAME_VERSION_MAJOR 0
#define ANAME_VERSION_MINOR 1
#define ANAME_VERSION_PATCH 0
#define ANAME_VERSION_STR   "0.1.0"
#define ANAME_VERSION_HEX                                                     \
	((ANAME_VERSION_MAJOR << 16) | (ANAME_VERSION_MINOR << 8) |           \
	 (ANAME_VERSION_PATCH))

/* Bump ANAME_ABI (and with it the soname libaname.so.N) on any incompatible
 * change to aname.h.  It moves independently of the release number. */
#define ANAME_ABI 0

#endif /* ANAME_VERSION_H */
