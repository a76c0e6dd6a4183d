/*
 * rx: the "regex" matcher's patterns (see rx.h for the table), on common/pattern.
 *
 * The compiled patterns are kept in a ktable (ktable.h): PCRE2 lets any number
 * of threads match one compiled pattern at once.  Match data is per search.
 */
#include "runner/rx.h"

#include <pthread.h>

#include "common/pattern.h"
#include "runner/ktable.h"

/* pattern_free as ktable's free function. */
static void code_free(void *code)
{
	pattern_free(code);
}

static struct ktable kept = KTABLE_INIT(RX_TABLE_MAX, code_free);

static pthread_once_t limits_once = PTHREAD_ONCE_INIT;
/* Shared read-only by every search; no compile limits: suite files are the user's own. */
static struct pattern_limits limits = {
	.match = RX_MATCH_LIMIT, .depth = RX_DEPTH_LIMIT, .heap_kib = RX_HEAP_LIMIT_KIB,
};
static int limits_ok;

static unsigned long compilations;    /* atomic */

static void limits_init(void)
{
	limits_ok = pattern_limits_init(&limits) == 0;
}

/* Compile pattern; NULL with "MESSAGE at offset N" in err. */
static struct pattern *compile(const char *pattern, struct buf *err)
{
	pthread_once(&limits_once, limits_init);
	if (!limits_ok) {
		buf_adds(err, "out of memory");
		return NULL;
	}
	__atomic_add_fetch(&compilations, 1, __ATOMIC_RELAXED);
	return pattern_compile(pattern, &limits, err);
}

/* Compile once and keep; see rx.h. */
int rx_register(const char *pattern, struct buf *err)
{
	if (ktable_get(&kept, pattern))
		return 0;
	struct pattern *re = compile(pattern, err);
	if (!re)
		return -1;
	ktable_put(&kept, pattern, re);   /* a full table keeps nothing: the search then compiles its own */
	return 0;
}

/* Search with the kept code, or code compiled for this search; see rx.h. */
enum rx_result rx_search(const char *pattern, const char *subject, size_t n, struct buf *err)
{
	struct pattern *own = NULL;
	const struct pattern *re = ktable_get(&kept, pattern);
	if (!re) {
		own = compile(pattern, err);
		if (!own)
			return RX_BAD_PATTERN;
		re = own;
	}
	enum pattern_result r = pattern_search(re, subject, n, &limits, err);
	pattern_free(own);
	return r == PATTERN_MATCH ? RX_MATCH : r == PATTERN_NOMATCH ? RX_NOMATCH : RX_ERROR;
}

/* The compile counter, for tests. */
unsigned long rx_compilations(void)
{
	return __atomic_load_n(&compilations, __ATOMIC_RELAXED);
}

/* Free the table of kept patterns. */
void rx_table_release(void)
{
	ktable_release(&kept);
}
