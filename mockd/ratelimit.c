#include "mockd/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/strmap.h"
#include "common/timeutil.h"

/*
 * A client that sends from many addresses (X-Forwarded-For is the client's to
 * choose) could create windows without end: past this many, the expired ones are
 * swept, then the oldest open one is dropped (never all: that would reopen
 * every other client's window).
 */
#define RL_MAX_WINDOWS 100000

struct rl_window {
	char policy[48];
	int64_t start_ms;
	int64_t window_ms;
	int count;
	int limit;
	int64_t *times;          /* RL_SLIDING only: the counted requests, oldest first, at most limit */
	int ntimes;
};

static void window_free(struct rl_window *w)
{
	if (w)
		free(w->times);
	free(w);
}

/*
 * RL_SLIDING: forget the requests older than one window, and make the window
 * start at the oldest one left.  Only the newest `limit` requests are kept: that
 * is enough to tell whether the last window holds `limit` of them.
 */
static void slide(struct rl_window *w, const struct rl_policy *p, int64_t now_ms)
{
	int drop = 0;
	while (drop < w->ntimes && w->times[drop] + p->window_ms <= now_ms)
		drop++;
	memmove(w->times, w->times + drop, (size_t)(w->ntimes - drop) * sizeof(*w->times));
	w->ntimes -= drop;
	w->count = w->ntimes;
	w->start_ms = w->ntimes ? w->times[0] : now_ms;
}

static void slide_add(struct rl_window *w, const struct rl_policy *p, int64_t now_ms)
{
	if (!w->times) {
		w->times = calloc((size_t)p->limit + 1, sizeof(*w->times));
		if (!w->times)
			return;
	}
	if (w->ntimes >= p->limit) {
		memmove(w->times, w->times + 1, (size_t)(w->ntimes - 1) * sizeof(*w->times));
		w->ntimes--;
	}
	w->times[w->ntimes++] = now_ms;
	w->start_ms = w->times[0];
}

static struct strmap rl_windows;

static int sweep_expired(void *arg, const char *key, void *value)
{
	struct rl_window *w = value;
	int64_t now = *(const int64_t *)arg;
	if (now < w->start_ms + w->window_ms)
		return 0;
	window_free(w);
	return 1;
}

static int sweep_all(void *arg, const char *key, void *value)
{
	window_free(value);
	return 1;
}

struct oldest {
	const struct rl_window *w;
	char key[512];
};

static int find_oldest(void *arg, const char *key, void *value)
{
	struct oldest *o = arg;
	const struct rl_window *w = value;
	if (!o->w || w->start_ms < o->w->start_ms) {
		o->w = w;
		str_copy(o->key, sizeof(o->key), key);
	}
	return 0;
}

void ratelimit_hit(const struct rl_policy *p, const char *key, int64_t now_ms, struct rl_result *out)
{
	char mapkey[512];
	size_t n = str_copy(mapkey, sizeof(mapkey), p->name);
	if (n + 1 < sizeof(mapkey)) {
		mapkey[n] = '|';
		str_copy(mapkey + n + 1, sizeof(mapkey) - n - 1, key);
	}
	struct rl_window *w = strmap_get(&rl_windows, mapkey);
	if (w && p->kind == RL_SLIDING)
		slide(w, p, now_ms);
	if (w && now_ms >= w->start_ms + w->window_ms) {
		w->start_ms = now_ms;
		w->count = 0;
	}
	if (!w) {
		if (rl_windows.count >= RL_MAX_WINDOWS)
			strmap_each(&rl_windows, sweep_expired, &now_ms);
		if (rl_windows.count >= RL_MAX_WINDOWS) {
			/* O(N), paid only when the table is full of open windows: the oldest one goes. */
			struct oldest o = { NULL, "" };
			strmap_each(&rl_windows, find_oldest, &o);
			if (o.w)
				window_free(strmap_remove(&rl_windows, o.key));
		}
		w = calloc(1, sizeof(*w));
		if (w && strmap_put(&rl_windows, mapkey, w, NULL) < 0) {
			free(w);
			w = NULL;
		}
		if (!w) {
			/* Out of memory: fail open rather than refuse every client. */
			*out = (struct rl_result){ .allowed = true, .limit = p->limit,
						   .remaining = p->limit, .retry_after_s = 1,
						   .reset_at_ms = now_ms + p->window_ms };
			return;
		}
		str_copy(w->policy, sizeof(w->policy), p->name);
		w->start_ms = now_ms;
	}
	w->window_ms = p->window_ms;
	w->limit = p->limit;
	bool allowed = w->count < p->limit;
	if (allowed || p->count_rejected) {
		w->count++;
		if (p->kind == RL_SLIDING)
			slide_add(w, p, now_ms);
		else if (p->kind == RL_EXTENDING)
			w->start_ms = now_ms;
	}
	int64_t reset = w->start_ms + w->window_ms;
	int64_t left = reset - now_ms;
	out->allowed = allowed;
	out->limit = p->limit;
	out->used = w->count;
	out->remaining = w->count >= p->limit ? 0 : p->limit - w->count;
	out->reset_at_ms = reset;
	out->retry_after_s = (int)((left + 999) / 1000);
	if (out->retry_after_s < 1)
		out->retry_after_s = 1;
}

void ratelimit_reset(void)
{
	strmap_each(&rl_windows, sweep_all, NULL);
	strmap_release(&rl_windows);
}

struct snapshot_ctx {
	cJSON *list;
	int64_t now;
};

static int snapshot_one(void *arg, const char *key, void *value)
{
	struct snapshot_ctx *ctx = arg;
	struct rl_window *w = value;
	if (ctx->now >= w->start_ms + w->window_ms)
		return 0;
	const char *bar = strchr(key, '|');
	char when[40];
	iso8601_format(w->start_ms + w->window_ms, when, sizeof(when));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "policy", w->policy);
	cJSON_AddStringToObject(o, "key", bar ? bar + 1 : key);
	cJSON_AddNumberToObject(o, "used", w->count);
	cJSON_AddNumberToObject(o, "limit", w->limit);
	cJSON_AddStringToObject(o, "reset_at", when);
	cJSON_AddItemToArray(ctx->list, o);
	return 0;
}

cJSON *ratelimit_snapshot(int64_t now_ms)
{
	struct snapshot_ctx ctx = { cJSON_CreateArray(), now_ms };
	strmap_each(&rl_windows, snapshot_one, &ctx);
	return ctx.list;
}
