/*
 * exec: run the cases of a suite set against a target, in parallel.
 *
 * Each case gets its own variable scope (case over suite over run) and runs
 * its steps in order on one worker's HTTP client.  Request steps and ws
 * handshakes carry the headers of the run: the suite's default headers, then
 * the targets file's headers of the case's API, then --header, then the step's
 * own headers, each replacing a header of the same name (case-insensitive) of
 * the ones before; a step may remove one with null.  Admin steps get none.  Cases marked exclusive run
 * after every other case has finished, one at a time.  Every finished case is
 * printed as it finishes; the results are stored in suite order.
 */
#ifndef CC_RUNNER_EXEC_H
#define CC_RUNNER_EXEC_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "runner/http.h"
#include "runner/response.h"
#include "runner/result.h"
#include "runner/suite.h"
#include "runner/targets.h"

#define EXEC_MAX_TRANSCRIPT (256u << 10)   /* bytes of transcript kept per case */
#define EXEC_MAX_DIFF       (64u << 10)    /* bytes of differences kept per case */
#define EXEC_MAX_BODY       (64u << 20)    /* bytes of a request body built with body_repeat */
#define EXEC_MAX_RETRIES    5
#define EXEC_MAX_SHARDS     1000

struct exec_options {
	const char *target;              /* base URL of the API under test (NULL with targets) */
	const char *mock_url;            /* mockd's base URL (admin steps), or NULL for a real target */
	const char *admin_token;         /* sent to mockd's admin API as a bearer token, or NULL */
	const char *filter;              /* fnmatch pattern on case ids, or NULL */
	const char *const *tags;         /* run only cases with one of these tags */
	size_t ntags;
	const char *const *exclude_tags; /* never run cases with one of these tags */
	size_t nexclude;
	const char *const *vars;         /* "NAME=VALUE" overrides, for every suite */
	size_t nvars;
	const struct http_header_kv *headers; /* --header: on every request step and ws handshake; secret values */
	size_t nheaders;
	struct timeouts timeouts;        /* the run's defaults for every field */
	const struct targets *targets;   /* --targets: a URL and credentials per API, or NULL */
	unsigned shard_index;            /* run only the cases of shard shard_index (1-based) ... */
	unsigned shard_count;            /* ... of shard_count; 0 = every case */
	int retries;                     /* reruns of a failed case (0..EXEC_MAX_RETRIES) */
	int jobs;                        /* worker threads (>= 1) */
	int strict;                      /* SHOULD failures fail the run */
	int verbose;                     /* print the transcript of failures and errors */
	FILE *out;                       /* console; NULL = stdout */
	int colour;                      /* ANSI colours on the console */
	const char *ca_file;             /* --cacert: PEM certificates to trust for https:// and wss:// */
	/* Called after each request step's exchange (chatconform record); from worker threads. */
	void (*on_exchange)(void *arg, const struct tcase *c, const cJSON *request, const struct response *resp);
	void *on_exchange_arg;
};

/*
 * Run every selected case of set; fills rr (its target is left to the caller).
 * 0, or -1 when the run could not start (out of memory, no threads) with err.
 */
int exec_run(const struct suite_set *set, const struct exec_options *opt, struct run_result *rr,
	     struct buf *err);
/*
 * Make the workers take no further case; the cases in flight finish.  The
 * cases never taken keep started_at_ms 0.  Async-signal-safe; for the rest of
 * the process (every later exec_run starts no case).
 */
void exec_request_stop(void);
/* True when the filters and the shard of opt select the case (the others are not reported at all). */
int exec_selected(const struct tcase *c, const struct exec_options *opt);
/* The shard (1..n) a case id belongs to: 1 + FNV-1a 64 of the id, modulo n; the same on every machine. */
unsigned exec_shard_of(const char *id, unsigned n);
/* CLIENT_IP of the case numbered seq: an address in 198.18.0.0/15, distinct for 131070 consecutive seqs. */
void exec_client_ip(uint32_t base, uint64_t seq, char *out, size_t size);
/* A RUN_ID: 12 random lowercase letters and digits and a NUL. */
void exec_run_id(char out[13]);

#endif
