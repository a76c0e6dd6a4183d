/*
 * breaks: deliberate violations, one documented rule each.
 *
 * `mockd --break NAME` makes mockd break exactly one rule, so that `make
 * mutation` can prove every break makes at least one suite case fail.  The
 * whole catalog is the BREAKS table below; `mockd --list-breaks` prints it.
 * Breaks are never active unless asked for.
 */
#ifndef CC_MOCKD_BREAKS_H
#define CC_MOCKD_BREAKS_H

#include <stdbool.h>
#include <stdio.h>

/* X(ID, "name", "api", "the rule it breaks") */
#define BREAKS(X)                                                                                   \
	X(WIDGET_CONTENT_TYPE, "widget-content-type", "widget",                                     \
	  "the stream is sent as text/plain instead of application/x-ndjson")                       \
	X(WIDGET_NO_CACHE_HEADERS, "widget-no-cache-headers", "widget",                             \
	  "the stream has no Cache-Control: no-store, no-transform nor X-Accel-Buffering: no")     \
	X(WIDGET_NO_DONE, "widget-no-done", "widget", "the stream ends without its done line")       \
	X(WIDGET_NO_START, "widget-no-start", "widget", "the stream begins with a token, not start") \
	X(WIDGET_DONE_MISMATCH, "widget-done-mismatch", "widget",                                   \
	  "done.message leaves out the last token")                                                 \
	X(WIDGET_DONE_CONV, "widget-done-conv", "widget",                                           \
	  "done.conversationId differs from start.conversationId")                                  \
	X(WIDGET_CONV_UNSTABLE, "widget-conv-unstable", "widget",                                   \
	  "the same sessionId gets a new conversationId on every request")                          \
	X(WIDGET_CONV_SHARED, "widget-conv-shared", "widget",                                       \
	  "every sessionId shares one conversationId")                                              \
	X(WIDGET_RAW_LINE, "widget-raw-line", "widget",                                             \
	  "one token is sent as bare text instead of a JSON line")                                  \
	X(WIDGET_KEY_PRECEDENCE, "widget-key-precedence", "widget",                                 \
	  "x-widget-api-key is consulted when x-api-key is present but wrong")                      \
	X(WIDGET_ALT_HEADER, "widget-alt-header", "widget", "x-widget-api-key is not accepted")      \
	X(WIDGET_ANY_KEY, "widget-any-key", "widget", "any non-empty key is accepted")               \
	X(WIDGET_401_BODY, "widget-401-body", "widget",                                             \
	  "the 401 body is {\"error\":\"unauthorized\"} (wrong text)")                              \
	X(WIDGET_CHECK_ORDER, "widget-check-order", "widget",                                       \
	  "the body is validated before the key (a bad body without a key is 400)")                 \
	X(WIDGET_SESSION_129, "widget-session-129", "widget",                                       \
	  "a sessionId of 129 characters is accepted")                                              \
	X(WIDGET_SESSION_CHARSET, "widget-session-charset", "widget",                               \
	  "a sessionId with a space or slash is accepted")                                          \
	X(WIDGET_MESSAGE_4000, "widget-message-4000", "widget",                                     \
	  "a message of exactly 4000 characters is refused")                                        \
	X(WIDGET_MESSAGE_EMPTY, "widget-message-empty", "widget", "an empty message is accepted")    \
	X(WIDGET_MALFORMED_500, "widget-malformed-500", "widget",                                   \
	  "a body that is not JSON is answered 500 instead of 400")                                 \
	X(WIDGET_400_BODY, "widget-400-body", "widget",                                             \
	  "the 400 body says \"Bad request\" instead of \"Invalid request payload\"")               \
	X(WIDGET_RATE_OFF_BY_ONE, "widget-rate-off-by-one", "widget",                               \
	  "the rate limit lets 31 requests through a window of 30")                                 \
	X(WIDGET_RATE_REJECTED_FREE, "widget-rate-rejected-free", "widget",                         \
	  "rejected requests do not count toward the rate limit")                                   \
	X(WIDGET_429_BODY, "widget-429-body", "widget", "the 429 body is not {\"error\":\"Too many requests\"}") \
	X(WIDGET_NO_ALIAS, "widget-no-alias", "widget", "POST /chat is not served")                  \
	X(WIDGET_500_BODY, "widget-500-body", "widget",                                             \
	  "a failure before the stream answers 500 with an empty body")                             \
	X(WIDGET_ERROR_LINE, "widget-error-line", "widget",                                         \
	  "the mid-stream error line is {\"type\":\"error\",\"message\":...}")                      \
	X(WIDGET_AFTER_ERROR, "widget-after-error", "widget",                                       \
	  "the stream goes on with a done line after an error line")                                \
	X(DW_CONTENT_TYPE, "deepwiki-content-type", "deepwiki",                                     \
	  "the stream is sent as application/json instead of text/event-stream")                    \
	X(DW_NO_END, "deepwiki-no-end", "deepwiki", "the stream ends without its end event")          \
	X(DW_ORDER, "deepwiki-order", "deepwiki", "the first content event comes before start")       \
	X(DW_DATA_NOT_JSON, "deepwiki-data-not-json", "deepwiki",                                   \
	  "one content event's data is bare text, not JSON")                                        \
	X(DW_SOURCES_UNASKED, "deepwiki-sources-unasked", "deepwiki",                               \
	  "sources are sent when include_sources is false")                                         \
	X(DW_METADATA_UNASKED, "deepwiki-metadata-unasked", "deepwiki",                             \
	  "metadata is sent when include_metadata was not asked for")                               \
	X(DW_TOTAL_TOKENS, "deepwiki-total-tokens", "deepwiki",                                     \
	  "end.total_tokens is one more than metadata.tokens_used")                                 \
	X(DW_MAX_TOKENS, "deepwiki-max-tokens", "deepwiki", "max_tokens does not cut the reply")      \
	X(DW_AFTER_ERROR, "deepwiki-after-error", "deepwiki", "an end event follows the error event") \
	X(DW_TEMPERATURE, "deepwiki-temperature", "deepwiki",                                       \
	  "temperature 2.0 is refused (the range is taken as [0, 2))")                              \
	X(DW_MAX_TOKENS_4097, "deepwiki-max-tokens-4097", "deepwiki", "max_tokens 4097 is accepted") \
	X(DW_MODEL_ANY, "deepwiki-model-any", "deepwiki", "any model name is accepted")              \
	X(DW_AUTH_OPTIONAL, "deepwiki-auth-optional", "deepwiki",                                   \
	  "GET /chat/history answers without an Authorization header")                              \
	X(DW_FLAT_ERROR, "deepwiki-flat-error", "deepwiki",                                         \
	  "errors are {\"code\",\"message\"} without the \"error\" envelope")                        \
	X(DW_SCOPE, "deepwiki-scope", "deepwiki", "a key without the research scope can research")    \
	X(DW_QUOTA, "deepwiki-quota", "deepwiki", "a spent token quota is not enforced")              \
	X(DW_CHAT_LIMIT, "deepwiki-chat-limit", "deepwiki",                                         \
	  "the chat rate limit lets 101 requests through a window of 100")                          \
	X(DW_RETRY_AFTER, "deepwiki-retry-after", "deepwiki",                                       \
	  "Retry-After disagrees with details.retry_after")                                         \
	X(DW_COUNT_REJECTED, "deepwiki-count-rejected", "deepwiki",                                 \
	  "requests refused with 429 still count (current_usage passes the limit)")                 \
	X(DW_RESEARCH_MAX, "deepwiki-research-max", "deepwiki",                                     \
	  "research returns one source more than max_sources")                                      \
	X(DW_RESEARCH_RANGE, "deepwiki-research-range", "deepwiki",                                 \
	  "research publication dates ignore time_range")                                           \
	X(DW_RESEARCH_ANALYZED, "deepwiki-research-analyzed", "deepwiki",                           \
	  "sources_analyzed differs from the number of sources")                                    \
	X(DW_HAS_MORE, "deepwiki-has-more", "deepwiki", "has_more is true on the last page")          \
	X(DW_NEXT_OFFSET, "deepwiki-next-offset", "deepwiki", "next_offset is off by one")             \
	X(DW_HISTORY_ORDER, "deepwiki-history-order", "deepwiki", "history is newest first")          \
	X(DW_OTHER_USER, "deepwiki-other-user", "deepwiki",                                         \
	  "another user's conversation is visible in GET /chat/history")                            \
	X(DW_DELETE_COUNT, "deepwiki-delete-count", "deepwiki",                                     \
	  "DELETE /chat/history reports messages_deleted as 0")                                     \
	X(DW_DELETE_BEFORE, "deepwiki-delete-before", "deepwiki",                                   \
	  "DELETE with before_date deletes every message")                                          \
	X(DW_DATE_FILTER, "deepwiki-date-filter", "deepwiki", "start_date is ignored by GET /chat/history")

enum break_id {
#define BREAK_ENUM(id, name, api, rule) BRK_##id,
	BREAKS(BREAK_ENUM)
#undef BREAK_ENUM
	BRK_COUNT
};

/* True when the break is active. */
bool break_on(enum break_id id);
/* Activate the break called name; -1 when there is none. */
int breaks_enable(const char *name);
/* Print the catalog: name, API, rule; one per line. */
void breaks_list(FILE *out);
/* The names of the active breaks as a JSON array (for /__admin/health). */
struct cJSON *breaks_active_json(void);

#endif
