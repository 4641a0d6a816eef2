/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * --state-file: one line per zone after every pass, written to FILE.tmp
 * and renamed, so a reader (a monitoring check, a test) never sees half a
 * file.  Format, space-separated "key=value" after the zone name:
 *
 *   zone example.test. serial=7 state=ok owners=3 ok=3 failing=0
 *        pending=0 updates=5 pass_updates=0 races=0 errors=0 axfrs=2
 *        detail="..."
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "updater.h"

int upd_state_write(upd_app_t *app)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", app->state_file) >=
	    (int)sizeof(tmp))
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f) {
		upd_log("warning", NULL, "--state-file %s: cannot write",
			tmp);
		return -1;
	}
	fprintf(f, "# aname-updater state, %ld\n", (long)time(NULL));
	pthread_mutex_lock(&app->stats_lock);
	for (size_t i = 0; i < app->nzones; i++) {
		const upd_zone_t *z = &app->zones[i];
		fprintf(f,
			"zone %s serial=%u state=%s owners=%zu ok=%zu "
			"failing=%zu pending=%zu updates=%llu "
			"pass_updates=%llu races=%llu errors=%llu axfrs=%llu "
			"detail=\"%s\"\n",
			z->name, z->serial, upd_reason_name(z->reason),
			z->nowners, z->owners_ok, z->owners_failing,
			z->owners_pending, (unsigned long long)z->updates,
			(unsigned long long)z->pass_updates,
			(unsigned long long)z->races,
			(unsigned long long)z->update_errors,
			(unsigned long long)z->axfrs, z->detail);
	}
	pthread_mutex_unlock(&app->stats_lock);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, app->state_file) != 0) {
		upd_log("warning", NULL, "--state-file %s: cannot write",
			app->state_file);
		remove(tmp);
		return -1;
	}
	return 0;
}
