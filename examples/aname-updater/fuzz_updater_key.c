/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target "updater_key": the BIND key-file parser of aname-updater
 * (key.c), which reads a file an operator points --key at.  Any input must
 * either parse into a key whose fields hold the documented invariants, or
 * fail with a non-empty message and leave the output key untouched.  A key
 * that parses must parse again, identically, from its own rendering.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	upd_key_t key, again;
	char err[300];
	memset(&key, 0xA5, sizeof(key));
	upd_key_t before = key;
	err[0] = '\0';
	int rc = upd_key_parse((const char *)data, size, &key, err, sizeof(err));
	if (rc != 0) {
		check(rc == -1);
		check(err[0] != '\0' && memchr(err, '\0', sizeof(err)));
		check(memcmp(&key, &before, sizeof(key)) == 0);
		return 0;
	}
	size_t nl = strnlen(key.name, sizeof(key.name));
	check(nl > 0 && nl < sizeof(key.name) && key.name[nl - 1] == '.');
	check(strnlen(key.algorithm, sizeof(key.algorithm)) <
	      sizeof(key.algorithm));
	check(strncmp(key.algorithm, "hmac-", 5) == 0);
	size_t sl = strnlen(key.secret, sizeof(key.secret));
	check(sl > 0 && sl < sizeof(key.secret) && sl % 4 == 0);
	/* Round trip through the canonical form. */
	char text[1500];
	char alg[64];
	snprintf(alg, sizeof(alg), "%s", key.algorithm);
	size_t al = strlen(alg);
	if (al && alg[al - 1] == '.')
		alg[al - 1] = '\0';
	int n = snprintf(text, sizeof(text),
			 "key \"%s\" { algorithm %s; secret \"%s\"; };\n",
			 key.name, alg, key.secret);
	check(n > 0 && (size_t)n < sizeof(text));
	check(upd_key_parse(text, (size_t)n, &again, err, sizeof(err)) == 0);
	check(!strcmp(again.name, key.name) &&
	      !strcmp(again.algorithm, key.algorithm) &&
	      !strcmp(again.secret, key.secret));
	return 0;
}
