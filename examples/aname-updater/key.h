/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * TSIG keys in the BIND format that tsig-keygen writes and nsupdate -k,
 * knsupdate and named.conf read:
 *
 *     key "name" { algorithm hmac-sha256; secret "base64"; };
 */
#ifndef UPD_KEY_H
#define UPD_KEY_H

#include <stddef.h>

/* A key file is small; anything larger is refused (a bound, not a guess:
 * tsig-keygen's output for hmac-sha512 is under 200 bytes). */
#define UPD_KEY_FILE_MAX 65536

typedef struct upd_key {
	char name[256];      /* absolute, lower case, e.g. "upd.key." */
	char algorithm[64];  /* ldns's name, e.g. "hmac-sha256." */
	char secret[1024];   /* base64, as ldns_pkt_tsig_sign() wants it */
} upd_key_t;

/**
 * Parse \a text (\a len bytes, need not be NUL-terminated).  Exactly one
 * key statement; comments (#, //, C-style) and whitespace anywhere between
 * tokens.  Known algorithms: hmac-md5, hmac-sha1, hmac-sha224,
 * hmac-sha256, hmac-sha384, hmac-sha512.  The secret must be valid base64
 * of 1 to 512 octets.
 * \return 0, or -1 with a sentence in \a err (never both a key and an error).
 */
int upd_key_parse(const char *text, size_t len, upd_key_t *key, char *err,
		  size_t errlen);

/** Read and parse \a path; -1 with the error (file name included). */
int upd_key_load(const char *path, upd_key_t *key, char *err, size_t errlen);

#endif
