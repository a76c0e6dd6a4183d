/*
 * script: the scripted LLM backend.
 *
 * Rules come from --scripts (a JSON file or a folder of them) and from POST /__admin/scripts.
 * For each chat request an API asks script_plan() what to answer: the first
 * rule that matches (API, model or preset, message) gives the text or tokens,
 * usage, timing and fault; without one, a deterministic generator answers
 * (same API, model, message and seed: same answer).  docs/mockd.md is the
 * reference for the rule format.
 */
#ifndef CC_MOCKD_SCRIPT_H
#define CC_MOCKD_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

#define SCRIPT_MAX_RULES 1000
#define SCRIPT_DEFAULT_MAX_BYTES (64u * 1024 * 1024) /* --max-rule-bytes: what all rules cost (an estimate of their memory) */
#define SCRIPT_MAX_RULE_BYTES (1024ull * 1024 * 1024) /* the largest --max-rule-bytes */
#define SCRIPT_MAX_REGEX 4096                          /* bytes of one rule's regex */
#define SCRIPT_REGEX_MATCH_LIMIT 100000u               /* backtracking steps of one search */

/* What loading or adding rules came to; 0 is OK. */
enum script_result {
	SCRIPT_OK = 0,
	SCRIPT_BAD = -1,         /* a problem in the rules: every one is in err */
	SCRIPT_FULL = -2,        /* good rules, but more than SCRIPT_MAX_RULES or --max-rule-bytes in all */
};

enum fault_type {
	FAULT_NONE,
	FAULT_HTTP_ERROR,        /* an error response instead of the stream */
	FAULT_ERROR_AFTER,       /* the API's error event after N tokens, then the end */
	FAULT_DISCONNECT_AFTER,  /* the connection closed after N tokens, no terminator */
	FAULT_RESET_AFTER,       /* a TCP reset after N tokens */
	FAULT_STALL_AFTER,       /* silence for ms after N tokens, then the rest */
	FAULT_MALFORMED_AFTER,   /* a frame that is not valid for the format after N tokens */
};

struct plan_answer; /* the immutable part of a plan, shared by reference (script.c) */

/*
 * One answer to one request.  text, tokens, the fault strings and body and extra are read-only and
 * may be shared with the rule and with other plans: they stay valid until plan_release, even when
 * the rule is deleted meanwhile.  A plan moves by copying the struct and zeroing the source; two
 * live copies of one plan would release its reference twice.
 */
struct reply_plan {
	char rule_id[64];        /* "" for the default generator */
	const char *text;        /* the whole reply: the concatenation of tokens[0..ntokens), never NULL */
	const char *const *tokens;
	size_t ntokens;          /* this plan's count: plan_truncate lowers it, the shared array stays */
	int prompt_tokens;
	int completion_tokens;
	int64_t first_token_ms;  /* unscaled; the stream code scales them */
	int64_t interval_ms;
	int64_t jitter_ms;
	bool unscaled;           /* the rule's delays are real time, whatever --time-scale says */
	enum fault_type fault;
	size_t fault_after;      /* tokens sent before the fault */
	int fault_status;        /* FAULT_HTTP_ERROR: the status */
	const cJSON *fault_body; /* FAULT_HTTP_ERROR: the body, or NULL for the API's own */
	const char *fault_code;  /* an error code for APIs that have codes, or NULL */
	const char *fault_message; /* or NULL for the API's own */
	int64_t fault_ms;        /* FAULT_STALL_AFTER */
	const cJSON *extra;      /* the rule as given (its API-specific members: sources, research...), or NULL */
	struct plan_answer *answer; /* one reference, dropped by plan_release; the pointers above point into it */
	char *cut_text;          /* plan_truncate's shorter text (owned), or NULL */
};

/*
 * Load path: a rules file, or a folder whose *.json files are read in name order
 * (each holds a rule, an array of rules, or {"rules": [...]}).  Every file is
 * checked and every problem listed in err, one "FILE:LINE:COLUMN: PATH: what"
 * line each; then nothing is loaded.  *files (may be NULL) gets the number read.
 */
int script_load(const char *path, unsigned *files, struct buf *err);
/* Add rules from the JSON text of a request (same three shapes), named "body" in problems; ids gets the new ids. */
int script_add_text(const char *text, size_t len, cJSON *ids, struct buf *err);
/* The same from a parsed document (problems then have a path but no line). */
int script_add(const cJSON *json, cJSON *ids, struct buf *err);
/* The cap on the JSON text of all rules in force (--max-rule-bytes). */
void script_set_max_bytes(size_t max);
/* {"count", "bytes", "max_bytes"}: script_usage for GET /__admin/health. */
cJSON *script_usage_json(void);
/* The rules in force, the bytes of their JSON text, and the cap. */
void script_usage(size_t *count, size_t *bytes, size_t *max_bytes);
/* Remove the rules added at run time. */
void script_clear_runtime(void);
/* Remove every rule and load --scripts again (the admin reset); NULL path: none. */
int script_reset(const char *path, struct buf *err);
/* Every rule, as JSON, in the order they are tried. */
cJSON *script_list(void);
/* Decide the answer to a message into out (plan_release it); consumes a matching "once" rule. */
void script_plan(const char *api, const char *model, const char *message, struct reply_plan *out);
/* What the plan's fault asks of a reply that has sent `sent` tokens (every API, HTTP or WebSocket). */
enum fault_step {
	FAULT_STEP_NONE,         /* no fault now: the next token, or the end */
	FAULT_STEP_ERROR,        /* the API's error event, then the end of the reply */
	FAULT_STEP_CUT,          /* close the connection without ending the reply */
	FAULT_STEP_RESET,        /* the same with a TCP reset */
	FAULT_STEP_STALL,        /* wait fault_ms (once), then go on */
	FAULT_STEP_MALFORMED,    /* one frame that breaks the format (once), then go on */
};

/* The fault due now; *served marks the once-only ones (stall, malformed) as done. */
enum fault_step plan_fault_at(const struct reply_plan *p, size_t sent, bool *served);
/* Keep only the first max tokens (max_tokens of a request); the shared answer is left as it is. */
void plan_truncate(struct reply_plan *p, size_t max);
/* Drop the plan's reference to its answer and free what it owns; a zeroed plan is fine. */
void plan_release(struct reply_plan *p);
/* Free every rule. */
void script_release(void);

#endif
