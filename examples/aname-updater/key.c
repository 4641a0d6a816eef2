/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * BIND key-file parser.  A tiny tokenizer (words, quoted strings, "{",
 * "}", ";", comments skipped) and a grammar of exactly
 *
 *     key NAME { algorithm ALG ; secret "B64" ; } ;
 *
 * where the two inner statements come in any order, once each.  The parser
 * writes into a scratch key and copies it out only on success, so a bad
 * file changes nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "key.h"

enum tok_kind { T_EOF, T_WORD, T_STRING, T_PUNCT, T_ERROR };

typedef struct {
	const char *p, *end;
	int line;
	char text[1024];
	enum tok_kind kind;
} lexer_t;

static void fail(char *err, size_t errlen, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(char *err, size_t errlen, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "line %d: %s", line, msg);
}

/* Skip whitespace and the three comment styles named.conf accepts. */
static int skip_space(lexer_t *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)c)) {
			lx->p++;
		} else if (c == '#' || (c == '/' && lx->p + 1 < lx->end &&
					lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			lx->p += 2;
			for (;;) {
				if (lx->p + 1 >= lx->end)
					return -1;
				if (lx->p[0] == '*' && lx->p[1] == '/')
					break;
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			lx->p += 2;
		} else {
			break;
		}
	}
	return 0;
}

static enum tok_kind next(lexer_t *lx)
{
	size_t n = 0;
	lx->text[0] = '\0';
	if (skip_space(lx) != 0) {
		snprintf(lx->text, sizeof(lx->text), "unterminated comment");
		return lx->kind = T_ERROR;
	}
	if (lx->p >= lx->end)
		return lx->kind = T_EOF;
	char c = *lx->p;
	if (c == '{' || c == '}' || c == ';') {
		lx->text[0] = c;
		lx->text[1] = '\0';
		lx->p++;
		return lx->kind = T_PUNCT;
	}
	if (c == '"') {
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"') {
			if (*lx->p == '\n' || *lx->p == '\0' ||
			    n + 1 >= sizeof(lx->text)) {
				snprintf(lx->text, sizeof(lx->text),
					 "unterminated or over-long string");
				return lx->kind = T_ERROR;
			}
			lx->text[n++] = *lx->p++;
		}
		if (lx->p >= lx->end) {
			snprintf(lx->text, sizeof(lx->text),
				 "unterminated string");
			return lx->kind = T_ERROR;
		}
		lx->p++;
		lx->text[n] = '\0';
		return lx->kind = T_STRING;
	}
	while (lx->p < lx->end &&
	       (isalnum((unsigned char)*lx->p) || strchr("._-+/=", *lx->p))) {
		if (n + 1 >= sizeof(lx->text)) {
			snprintf(lx->text, sizeof(lx->text), "over-long word");
			return lx->kind = T_ERROR;
		}
		lx->text[n++] = *lx->p++;
	}
	if (n == 0) {
		snprintf(lx->text, sizeof(lx->text),
			 "unexpected character 0x%02x",
			 (unsigned)(unsigned char)c);
		return lx->kind = T_ERROR;
	}
	lx->text[n] = '\0';
	return lx->kind = T_WORD;
}

static const struct {
	const char *bind, *ldns;
} algorithms[] = {
	{ "hmac-md5", "hmac-md5.sig-alg.reg.int." },
	{ "hmac-md5.sig-alg.reg.int", "hmac-md5.sig-alg.reg.int." },
	{ "hmac-sha1", "hmac-sha1." },
	{ "hmac-sha224", "hmac-sha224." },
	{ "hmac-sha256", "hmac-sha256." },
	{ "hmac-sha384", "hmac-sha384." },
	{ "hmac-sha512", "hmac-sha512." },
};

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64: groups of four, '=' padding only at the end.  Returns the
 * decoded length, or -1. */
static int b64_len(const char *s)
{
	size_t n = strlen(s), pad = 0;
	if (n == 0 || n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=') {
			if (i < n - 2)
				return -1;
			pad++;
		} else if (pad || b64_value(s[i]) < 0) {
			return -1;
		}
	}
	return (int)(n / 4 * 3 - pad);
}

/* A key name: a domain name of words; stored lower case and absolute. */
static int set_name(upd_key_t *k, const char *text)
{
	size_t n = strlen(text);
	if (n == 0 || n > 253 || strstr(text, ".."))
		return -1;
	if (text[0] == '.' && n > 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return -1;
		k->name[i] = (char)tolower(c);
	}
	k->name[n] = '\0';
	if (k->name[n - 1] != '.')
		strcat(k->name, ".");
	return 0;
}

static int expect(lexer_t *lx, const char *punct, char *err, size_t errlen)
{
	if (next(lx) != T_PUNCT || strcmp(lx->text, punct) != 0) {
		fail(err, errlen, lx->line, "expected '%s' before '%s'", punct,
		     lx->kind == T_EOF ? "end of file" : lx->text);
		return -1;
	}
	return 0;
}

int upd_key_parse(const char *text, size_t len, upd_key_t *key, char *err,
		  size_t errlen)
{
	lexer_t lx = { .p = text, .end = text + len, .line = 1 };
	upd_key_t k;
	memset(&k, 0, sizeof(k));
	int have_alg = 0, have_secret = 0;

	if (len > UPD_KEY_FILE_MAX) {
		snprintf(err, errlen, "key file over %d bytes", UPD_KEY_FILE_MAX);
		return -1;
	}
	if (next(&lx) != T_WORD || strcasecmp(lx.text, "key") != 0) {
		fail(err, errlen, lx.line, "expected 'key \"name\" { ... };'");
		return -1;
	}
	if (next(&lx) != T_WORD && lx.kind != T_STRING) {
		fail(err, errlen, lx.line, "expected the key name");
		return -1;
	}
	if (set_name(&k, lx.text) != 0) {
		fail(err, errlen, lx.line, "'%s' is not a valid key name",
		     lx.text);
		return -1;
	}
	if (expect(&lx, "{", err, errlen) != 0)
		return -1;
	for (;;) {
		if (next(&lx) == T_PUNCT && !strcmp(lx.text, "}"))
			break;
		if (lx.kind != T_WORD) {
			fail(err, errlen, lx.line, "%s",
			     lx.kind == T_ERROR ? lx.text :
			     lx.kind == T_EOF  ? "missing '}'" :
						 "expected 'algorithm' or 'secret'");
			return -1;
		}
		int is_alg = !strcasecmp(lx.text, "algorithm");
		if (!is_alg && strcasecmp(lx.text, "secret") != 0) {
			fail(err, errlen, lx.line, "unknown statement '%s'",
			     lx.text);
			return -1;
		}
		if ((is_alg && have_alg) || (!is_alg && have_secret)) {
			fail(err, errlen, lx.line, "'%s' given twice",
			     is_alg ? "algorithm" : "secret");
			return -1;
		}
		next(&lx);
		if (lx.kind != T_WORD && lx.kind != T_STRING) {
			fail(err, errlen, lx.line, "'%s' needs a value",
			     is_alg ? "algorithm" : "secret");
			return -1;
		}
		if (is_alg) {
			size_t i, n = sizeof(algorithms) / sizeof(algorithms[0]);
			for (i = 0; i < n; i++)
				if (!strcasecmp(lx.text, algorithms[i].bind))
					break;
			if (i == n) {
				fail(err, errlen, lx.line,
				     "unsupported algorithm '%s' (use "
				     "hmac-sha256, or hmac-sha1/-sha224/"
				     "-sha384/-sha512/-md5)",
				     lx.text);
				return -1;
			}
			snprintf(k.algorithm, sizeof(k.algorithm), "%s",
				 algorithms[i].ldns);
			have_alg = 1;
		} else {
			int n = b64_len(lx.text);
			if (n < 1 || n > 512 ||
			    strlen(lx.text) >= sizeof(k.secret)) {
				fail(err, errlen, lx.line,
				     "the secret is not base64 of 1 to 512 "
				     "octets");
				return -1;
			}
			snprintf(k.secret, sizeof(k.secret), "%s", lx.text);
			have_secret = 1;
		}
		if (expect(&lx, ";", err, errlen) != 0)
			return -1;
	}
	if (expect(&lx, ";", err, errlen) != 0)
		return -1;
	if (next(&lx) != T_EOF) {
		fail(err, errlen, lx.line,
		     "only one key statement is allowed, found '%s'", lx.text);
		return -1;
	}
	if (!have_alg || !have_secret) {
		snprintf(err, errlen, "key '%s' has no %s", k.name,
			 have_alg ? "secret" : "algorithm");
		return -1;
	}
	*key = k;
	return 0;
}

int upd_key_load(const char *path, upd_key_t *key, char *err, size_t errlen)
{
	static char buf[UPD_KEY_FILE_MAX + 1];
	char e[300];
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	if (upd_key_parse(buf, n, key, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "%s: %s", path, e);
		return -1;
	}
	return 0;
}
