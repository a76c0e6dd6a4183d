#include "mockd/lifecycle.h"

#include <stdlib.h>

#include "common/log.h"
#include "mockd/apis/apis.h"
#include "mockd/clock.h"
#include "mockd/journal.h"
#include "mockd/keys.h"
#include "mockd/mockd.h"
#include "mockd/ratelimit.h"
#include "mockd/reply.h"
#include "mockd/script.h"
#include "mockd/store.h"
#include "mockd/stream.h"
#include "mockd/ws.h"

static const struct lifecycle *table[LIFECYCLE_MAX];
static size_t ntable;
static bool shut_down;

void lifecycle_register(const struct lifecycle *m)
{
	if (ntable == LIFECYCLE_MAX) {
		log_error("too many lifecycle entries (more than %d)", LIFECYCLE_MAX);
		abort(); /* a programming error, found at start-up */
	}
	table[ntable++] = m;
}

void lifecycle_register_all(const struct lifecycle *listeners)
{
	lifecycle_register(&accesslog_lifecycle);  /* released last: what the others log at exit is written */
	lifecycle_register(&store_lifecycle);
	lifecycle_register(&ratelimit_lifecycle);
	lifecycle_register(&clock_lifecycle);
	lifecycle_register(&journal_lifecycle);
	lifecycle_register(&keys_lifecycle);
	lifecycle_register(&rand_lifecycle);
	lifecycle_register(&apis_lifecycle);
	lifecycle_register(&script_lifecycle);
	if (listeners)
		lifecycle_register(listeners);
	lifecycle_register(&reply_lifecycle);
	lifecycle_register(&stream_lifecycle);
	lifecycle_register(&ws_lifecycle);
}

int lifecycle_reset(struct buf *err)
{
	int rc = 0;
	for (size_t i = 0; i < ntable; i++) {
		if (!table[i]->reset)
			continue;
		/* The first failure is the one reported; the modules after it are reset still. */
		struct buf ignored;
		buf_init(&ignored, 4096);
		if (table[i]->reset(rc == 0 ? err : &ignored) < 0)
			rc = -1;
		buf_release(&ignored);
	}
	return rc;
}

void lifecycle_shutdown(void)
{
	if (shut_down)
		return;
	shut_down = true;
	for (size_t i = 0; i < ntable; i++)
		if (table[i]->shutdown)
			table[i]->shutdown();
}

void lifecycle_release(void)
{
	while (ntable > 0) {
		const struct lifecycle *m = table[--ntable];
		if (m->release)
			m->release();
	}
	shut_down = false;
}

/* ---- the entries ---------------------------------------------------------------------------- */

/* The state modules reset with a void function; the table's reset can fail. */
#define RESET_HOOK(fn)                            \
	static int fn##_hook(struct buf *err)     \
	{                                         \
		fn();                             \
		return 0;                         \
	}

RESET_HOOK(store_reset)
RESET_HOOK(ratelimit_reset)
RESET_HOOK(clock_reset)
RESET_HOOK(journal_reset)
RESET_HOOK(keys_reset_usage)

static int rand_reset(struct buf *err)
{
	mockd_rand_seed(mockd_cfg.seed);
	return 0;
}

static int apis_reset(struct buf *err)
{
	for (const struct api *const *a = all_apis; *a; a++)
		if ((*a)->reset)
			(*a)->reset();
	return 0;
}

/* The rules added at run time go, and --scripts is read again (it may have been edited meanwhile). */
static int scripts_reset(struct buf *err)
{
	return script_reset(mockd_cfg.scripts_dir, err);
}

/* A stream cut by shutdown ends with its API's error event, so a client can tell it from a whole answer. */
static void streams_shutdown(void)
{
	stream_abort_all(REPLY_SHUTDOWN_CODE, REPLY_SHUTDOWN_MESSAGE);
}

static void ws_shutdown(void)
{
	ws_close_all(1001, "mockd is shutting down");
}

const struct lifecycle store_lifecycle = { "store", store_reset_hook, NULL, store_reset };
const struct lifecycle ratelimit_lifecycle = { "rate limits", ratelimit_reset_hook, NULL, ratelimit_reset };
const struct lifecycle clock_lifecycle = { "clock", clock_reset_hook, NULL, NULL };
const struct lifecycle journal_lifecycle = { "journal", journal_reset_hook, NULL, journal_release };
const struct lifecycle keys_lifecycle = { "keys", keys_reset_usage_hook, NULL, keys_release };
const struct lifecycle rand_lifecycle = { "random", rand_reset, NULL, NULL };
const struct lifecycle apis_lifecycle = { "apis", apis_reset, NULL, NULL };
const struct lifecycle script_lifecycle = { "scripts", scripts_reset, NULL, script_release };
const struct lifecycle reply_lifecycle = { "replies", NULL, NULL, reply_release_all };
const struct lifecycle stream_lifecycle = { "HTTP streams", NULL, streams_shutdown, stream_end_all };
const struct lifecycle ws_lifecycle = { "WebSockets", NULL, ws_shutdown, ws_free_all };
