/*
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * \file fuzz_check.h
 * \brief Invariant checks for the fuzz targets.
 *
 * A broken invariant must look like a crash to libFuzzer so that it saves
 * the input: print what was expected and abort().
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                               \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: invariant broken: %s: ",    \
				__FILE__, __LINE__, #cond);                 \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
			abort();                                            \
		}                                                           \
	} while (0)

#endif /* FUZZ_CHECK_H */
