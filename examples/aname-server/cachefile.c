/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * --cache-file: load at start, save periodically and at shutdown.
 */
#include "cachefile.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct cachefile {
	const char *prog, *path;
	aname_ctx_t *ctx;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

static void save(struct cachefile *cf)
{
	int rc = aname_cache_save(cf->ctx, cf->path);
	if (rc != ANAME_OK)
		fprintf(stderr, "%s: --cache-file %s: cannot save: %s\n",
			cf->prog, cf->path, aname_strerror(rc));
}

static void *saver(void *arg)
{
	struct cachefile *cf = arg;
	pthread_mutex_lock(&cf->mu);
	while (!cf->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += CACHEFILE_PERIOD_S;
		while (!cf->stop &&
		       pthread_cond_timedwait(&cf->cv, &cf->mu, &until) !=
			       ETIMEDOUT) {
		}
		if (cf->stop)
			break;
		pthread_mutex_unlock(&cf->mu);
		save(cf);
		pthread_mutex_lock(&cf->mu);
	}
	pthread_mutex_unlock(&cf->mu);
	return NULL;
}

cachefile_t *cachefile_start(const char *prog, aname_ctx_t *ctx,
			     const char *path)
{
	if (!path)
		return NULL;
	size_t n = 0;
	int rc = aname_cache_load(ctx, path, &n);
	if (rc == ANAME_OK)
		fprintf(stderr, "%s: --cache-file %s: loaded %zu answers\n",
			prog, path, n);
	else
		fprintf(stderr, "%s: --cache-file %s: %s; starting with an "
				"empty cache\n",
			prog, path,
			rc == ANAME_EFILE ? "cannot be read (a first start?)"
					  : aname_strerror(rc));
	struct cachefile *cf = calloc(1, sizeof(*cf));
	if (!cf)
		return NULL;
	cf->prog = prog;
	cf->path = path;
	cf->ctx = ctx;
	pthread_mutex_init(&cf->mu, NULL);
	pthread_cond_init(&cf->cv, NULL);
	if (pthread_create(&cf->thread, NULL, saver, cf) != 0) {
		fprintf(stderr, "%s: --cache-file: cannot start the saver; "
				"saving only at shutdown\n", prog);
		cf->stop = -1;
	}
	return cf;
}

void cachefile_stop(cachefile_t *cf)
{
	if (!cf)
		return;
	if (cf->stop == 0) {
		pthread_mutex_lock(&cf->mu);
		cf->stop = 1;
		pthread_cond_signal(&cf->cv);
		pthread_mutex_unlock(&cf->mu);
		pthread_join(cf->thread, NULL);
	}
	save(cf);
	pthread_mutex_destroy(&cf->mu);
	pthread_cond_destroy(&cf->cv);
	free(cf);
}
