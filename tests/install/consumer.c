/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * An outside program built against an installed libaname with pkg-config
 * (make install-check).  Hermetic: the answer comes from local data.
 */
#include <aname.h>
#include <stdio.h>

static void done(void *arg, int status, const aname_result_t *res)
{
	char text[256];
	*(int *)arg = status;
	if (status == ANAME_OK) {
		aname_synth_text(res, ANAME_RRTYPE_A, "alias.example.", 60,
				 text, sizeof(text));
		fputs(text, stdout);
	}
}

int main(void)
{
	aname_config_t *cfg = aname_config_new();
	aname_ctx_t *ctx = NULL;
	int status = 1;
	aname_config_add_local_zone(cfg, "pinned.example.", "static");
	aname_config_add_local_data(cfg, "t.pinned.example. 300 IN A 192.0.2.7");
	if (aname_ctx_new(&ctx, cfg) != ANAME_OK) {
		return 1;
	}
	aname_config_free(cfg);
	aname_resolve(ctx, "t.pinned.example.", ANAME_RRTYPE_A, 0, done,
		      &status, NULL);
	aname_wait(ctx, 2000);
	aname_ctx_free(ctx);
	printf("libaname %s: %s\n", aname_version(NULL), aname_strerror(status));
	return status == ANAME_OK ? 0 : 1;
}
