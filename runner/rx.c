/*
 * rx: PCRE2 for the "regex" matcher (see rx.h for the dialect and the table).
 *
 * The compiled patterns are kept in a ktable (ktable.h): PCRE2 lets any number
 * of threads match one compiled pattern at once.  Match data is per search.
 */
#include "runner/rx.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <pthread.h>
#include <string.h>

#include "runner/ktable.h"

/*
 * UTF: patterns and subjects are UTF-8 (JSON strings).  MATCH_INVALID_UTF: a
 * target may still send bytes that are not, and they must not stop the search.
 * DOTALL and DOLLAR_ENDONLY: "." and "$" mean what they meant under POSIX
 * regexec without REG_NEWLINE, so the suites' patterns keep their meaning.
 * No UCP: \d is [0-9], as a conformance check of an id or a date expects.
 */
#define RX_COMPILE_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY)

/* pcre2_code_free as ktable's free function. */
static void code_free(void *code)
{
	pcre2_code_free(code);
}

static struct ktable kept = KTABLE_INIT(RX_TABLE_MAX, code_free);

static pthread_once_t context_once = PTHREAD_ONCE_INIT;
static pcre2_match_context *limits;   /* shared read-only by every search; NULL when it could not be made */

static unsigned long compilations;    /* atomic */

static void context_init(void)
{
	limits = pcre2_match_context_create(NULL);
	if (!limits)
		return;
	pcre2_set_match_limit(limits, RX_MATCH_LIMIT);
	pcre2_set_depth_limit(limits, RX_DEPTH_LIMIT);
	pcre2_set_heap_limit(limits, RX_HEAP_LIMIT_KIB);
}

/* Compile pattern; NULL with "MESSAGE at offset N" in err. */
static pcre2_code *compile(const char *pattern, struct buf *err)
{
	int code;
	PCRE2_SIZE offset;
	__atomic_add_fetch(&compilations, 1, __ATOMIC_RELAXED);
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, RX_COMPILE_OPTIONS, &code,
				       &offset, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "unknown error");
		buf_printf(err, "%s at offset %zu", (const char *)msg, (size_t)offset);
	}
	return re;
}

/* Compile once and keep; see rx.h. */
int rx_register(const char *pattern, struct buf *err)
{
	if (ktable_get(&kept, pattern))
		return 0;
	pcre2_code *re = compile(pattern, err);
	if (!re)
		return -1;
	ktable_put(&kept, pattern, re);   /* a full table keeps nothing: the search then compiles its own */
	return 0;
}

/* Search with the kept code, or code compiled for this search; see rx.h. */
enum rx_result rx_search(const char *pattern, const char *subject, size_t n, struct buf *err)
{
	pcre2_code *own = NULL;
	pcre2_match_data *md = NULL;
	enum rx_result r = RX_ERROR;

	pthread_once(&context_once, context_init);
	if (!limits) {
		buf_adds(err, "out of memory");
		goto out;
	}
	const pcre2_code *re = ktable_get(&kept, pattern);
	if (!re) {
		own = compile(pattern, err);
		if (!own) {
			r = RX_BAD_PATTERN;
			goto out;
		}
		re = own;
	}
	/* One pair is enough: only whether it matches is asked, and a short ovector still says so. */
	md = pcre2_match_data_create(1, NULL);
	if (!md) {
		buf_adds(err, "out of memory");
		goto out;
	}
	int rc = pcre2_match(re, (PCRE2_SPTR)subject, n, 0, 0, md, limits);
	if (rc >= 0) {
		r = RX_MATCH;
	} else if (rc == PCRE2_ERROR_NOMATCH) {
		r = RX_NOMATCH;
	} else if (rc == PCRE2_ERROR_MATCHLIMIT) {
		buf_printf(err, "match limit exceeded (more than %u backtracking steps; the pattern backtracks too much)",
			   RX_MATCH_LIMIT);
	} else if (rc == PCRE2_ERROR_DEPTHLIMIT) {
		buf_printf(err, "depth limit exceeded (more than %u nested backtracking points)", RX_DEPTH_LIMIT);
	} else if (rc == PCRE2_ERROR_HEAPLIMIT) {
		buf_printf(err, "heap limit exceeded (more than %u KiB of backtracking frames)", RX_HEAP_LIMIT_KIB);
	} else {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "unknown error");
		buf_printf(err, "the search failed: %s", (const char *)msg);
	}
out:
	pcre2_match_data_free(md);
	pcre2_code_free(own);
	return r;
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
