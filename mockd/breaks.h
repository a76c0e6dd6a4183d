/*
 * breaks: deliberate violations, one documented rule each.
 *
 * `mockd --break NAME` makes mockd break exactly one rule, so that `make
 * mutation` can prove every break makes at least one suite case fail.  The
 * whole catalog is the BREAKS and HELD_BREAKS tables below; `mockd --list-breaks` prints it.
 * Breaks are never active unless asked for.
 */
#ifndef CC_MOCKD_BREAKS_H
#define CC_MOCKD_BREAKS_H

#include <stdbool.h>
#include <stdio.h>

/*
 * The held-stream breaks (issue 10): a paced reply kept back and sent in one
 * piece after its last token's time, so only a client that times the events
 * sees the fault.  Kept apart from BREAKS so that additions to either list
 * merge cleanly.
 */
#define HELD_BREAKS(X)                                                                              \
	X(WIDGET_HELD_STREAM, "widget-held-stream", "widget",                                       \
	  "the NDJSON stream is held back and sent in one piece at the end, not line by line")      \
	X(DW_HELD_STREAM, "deepwiki-held-stream", "deepwiki",                                       \
	  "the /chat/stream SSE events are held back and sent in one piece at the end")             \
	X(BC_HELD_STREAM, "botchat-held-stream", "botchat",                                         \
	  "the /api/chat/stream SSE events are held back and sent in one piece at the end")         \
	X(DWS_HELD_REPLY, "deepwiki-ws-held-reply", "deepwiki",                                     \
	  "a /ws/chat reply's frames are held back and all sent at once at the end")                \
	X(TH_HELD_REPLY, "threads-held-reply", "threads",                                           \
	  "a reply's message frames are held back and all sent at once at the end")

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
	X(DW_DATE_FILTER, "deepwiki-date-filter", "deepwiki", "start_date is ignored by GET /chat/history") \
	X(DWS_TOKEN_CODE, "deepwiki-ws-token-code", "deepwiki",                                     \
	  "an invalid token is closed with 1008 instead of 4000")                                   \
	X(DWS_CONV_CODE, "deepwiki-ws-conv-code", "deepwiki",                                       \
	  "an unknown conversation is closed with 4000 instead of 4003")                            \
	X(DWS_NO_INFO, "deepwiki-ws-no-info", "deepwiki", "no connection_info is sent on open")       \
	X(DWS_RELAY_SENDER, "deepwiki-ws-relay-sender", "deepwiki",                                 \
	  "user_message is relayed to the sender too")                                              \
	X(DWS_TYPING_SENDER, "deepwiki-ws-typing-sender", "deepwiki",                               \
	  "typing is relayed to the sender too")                                                    \
	X(DWS_LEFT_MEMBER, "deepwiki-ws-left-member", "deepwiki",                                   \
	  "leave_room does not leave: the member still gets the room's messages")                   \
	X(DWS_STOP_IGNORED, "deepwiki-ws-stop-ignored", "deepwiki", "stop_generation is ignored")     \
	X(DWS_INVALID_NO_CLOSE, "deepwiki-ws-invalid-no-close", "deepwiki",                         \
	  "an invalid message gets its error but the connection stays open")                       \
	X(DWS_INVALID_CODE, "deepwiki-ws-invalid-code", "deepwiki",                                 \
	  "an invalid message is closed with 1003 instead of 4002")                                 \
	X(DWS_RATE_LIMIT, "deepwiki-ws-rate-limit", "deepwiki",                                     \
	  "the WebSocket limit lets 1001 messages through a minute")                                \
	X(DWS_LEFT_STORED, "deepwiki-ws-left-stored", "deepwiki",                                   \
	  "an answer whose asker left is stored whole, as if it had been sent")                     \
	X(DW_STREAM_LEFT_STORED, "deepwiki-stream-left-stored", "deepwiki",                         \
	  "a /chat/stream answer whose client left is stored whole, as if it had been sent")        \
	X(DWS_NOT_STORED, "deepwiki-ws-not-stored", "deepwiki",                                     \
	  "WebSocket replies are not stored in the history")                                        \
	X(WS_BINARY, "ws-binary", "deepwiki", "binary messages are taken as text instead of closed with 1003")  \
	X(WS_SIZE, "ws-size", "deepwiki", "messages over 1 MiB are accepted (no close 1009)")         \
	X(WS_FRAGMENTS, "ws-fragments", "deepwiki",                                                 \
	  "a fragmented message is refused with 1002 instead of reassembled")                       \
	X(TH_KEY_ORDER, "threads-key-order", "threads",                                             \
	  "?token= is checked before ?key= (a wrong key with a valid token is let in)")             \
	X(TH_REFUSE_403, "threads-refuse-403", "threads", "a refused handshake answers 403, not 401")  \
	X(TH_ANY_UUID_KEY, "threads-any-uuid-key", "threads",                                       \
	  "any well-formed UUID is accepted as ?key= (a connection that works, as the first key's profile)") \
	X(TH_HISTORY_ORDER, "threads-history-order", "threads", "history is sent newest first")      \
	X(TH_NO_ACK, "threads-no-ack", "threads", "no message_received is sent")                      \
	X(TH_ERROR_TEXT, "threads-error-text", "threads",                                           \
	  "the missing thread error says \"Thread id is required\"")                                \
	X(TH_CLOSE_ON_ERROR, "threads-close-on-error", "threads", "the connection is closed after an error frame") \
	X(TH_REPLY_IDS, "threads-reply-ids", "threads", "each assistant frame has an id of its own")  \
	X(TH_OUT_OF_ORDER, "threads-out-of-order", "threads",                                       \
	  "a frame sent during a reply is answered before the reply ends")                          \
	X(TH_EMPTY_MARKER, "threads-empty-marker", "threads",                                       \
	  "history of an empty thread sends an end-of-history frame")                               \
	X(TH_USER_NOT_STORED, "threads-user-not-stored", "threads",                                 \
	  "the user's messages are missing from the history")                                       \
	X(TH_INVALID_UUID, "threads-invalid-uuid", "threads", "a thread_id that is not a UUID is accepted") \
	X(BC_FLAT_ERROR, "botchat-flat-error", "botchat", "failures put code and message at the top level, not in \"error\"") \
	X(BC_NO_SUCCESS, "botchat-no-success", "botchat", "successful answers have no \"success\": true") \
	X(BC_GROUP_IGNORED, "botchat-group-ignored", "botchat", "conversations are found by userId alone: another group reuses the same one") \
	X(BC_USAGE_SUM, "botchat-usage-sum", "botchat", "totalTokens is one more than the sum") \
	X(BC_CHANNEL_IGNORED, "botchat-channel-ignored", "botchat", "an unknown or disabled preset is answered instead of 503") \
	X(BC_RATE_LIMIT, "botchat-rate-limit", "botchat", "the rate limit lets 61 requests through a minute") \
	X(BC_NO_RETRY_AFTER, "botchat-no-retry-after", "botchat", "the 429 has no Retry-After header") \
	X(BC_STREAM_TEXT, "botchat-stream-text", "botchat", "the stream leaves out the first token of the answer /api/chat gives") \
	X(BC_END_NO_USAGE, "botchat-end-no-usage", "botchat", "the stream's end event has no usage") \
	X(BC_AFTER_ERROR, "botchat-after-error", "botchat", "an end event follows the error event") \
	X(BC_LIST_ORDER, "botchat-list-order", "botchat", "conversations are listed oldest first") \
	X(BC_TOTAL_PAGE, "botchat-total-page", "botchat", "total counts only the page, not all matches") \
	X(BC_COUNT_STALE, "botchat-count-stale", "botchat", "messageCount counts only the user's messages") \
	X(BC_LAST_MESSAGE, "botchat-last-message", "botchat", "lastMessage is the oldest message") \
	X(BC_DELETE_UNKNOWN, "botchat-delete-unknown", "botchat", "DELETE of an unknown conversation answers success") \
	X(BC_DELETE_KEEPS, "botchat-delete-keeps", "botchat", "DELETE answers success but keeps the conversation") \
	X(BC_CLEAR_DELETES, "botchat-clear-deletes", "botchat", "clear deletes the conversation") \
	X(WIDGET_RATE_SLIDING, "widget-rate-sliding", "widget", "the rate-limit window slides: it counts the requests of the last 60 s") \
	X(WIDGET_RATE_EXTENDS, "widget-rate-extends", "widget", "every request moves the rate-limit window's end to 60 s after it") \
	X(WIDGET_FAULT_RESETS, "widget-fault-resets", "widget", "a 500 or a mid-stream error forgets the sessionId's conversation") \
	X(WIDGET_UTF16_LENGTH, "widget-utf16-length", "widget", "message length is counted in UTF-16 units (an astral-plane character counts 2)") \
	X(DW_RATE_SLIDING, "deepwiki-rate-sliding", "deepwiki", "the HTTP rate-limit windows slide: they count the requests of the last 60 s") \
	X(DW_RATE_EXTENDS, "deepwiki-rate-extends", "deepwiki", "every counted HTTP request moves its window's end to 60 s after it") \
	X(DWS_RATE_SLIDING, "deepwiki-ws-rate-sliding", "deepwiki", "the WebSocket rate-limit window slides: it counts the messages of the last 60 s") \
	X(DWS_RATE_EXTENDS, "deepwiki-ws-rate-extends", "deepwiki", "every WebSocket message moves the window's end to 60 s after it") \
	X(DW_GENERATED_SHARED, "deepwiki-generated-shared", "deepwiki", "a generated conversation id comes from one counter for every key: another key's new chat is added to it") \
	X(DW_FAULT_RESETS, "deepwiki-fault-resets", "deepwiki", "a 500 or a mid-stream error deletes the conversation's stored messages") \
	X(DW_MESSAGE_TRIMMED, "deepwiki-message-trimmed", "deepwiki", "a message of only whitespace is refused as empty") \
	X(DW_END_DATE_MIDNIGHT, "deepwiki-end-date-midnight", "deepwiki", "a date-only end_date is taken as midnight at the start of that day") \
	X(TH_FAULT_LOSES, "threads-fault-loses", "threads", "a server error during a reply drops the thread's stored messages") \
	X(TH_REPLY_DIES, "threads-reply-dies", "threads",                                           \
	  "a reply ends with its client's connection and is never stored (it is a job: it should complete)") \
	X(TH_CHECK_ORDER, "threads-check-order", "threads", "content is checked before thread_id and agent_id") \
	X(TH_REFUSED_STORED, "threads-refused-stored", "threads", "a message refused for its agent_id is stored anyway") \
	X(TH_NUMBER_STRING, "threads-number-string", "threads", "a number as content is taken as its text (the message is answered)") \
	X(TH_UPPERCASE_UUID, "threads-uppercase-uuid", "threads", "an upper-case UUID thread_id is refused") \
	X(BC_RATE_SLIDING, "botchat-rate-sliding", "botchat", "the rate-limit window slides: it counts the requests of the last 60 s") \
	X(BC_RATE_EXTENDS, "botchat-rate-extends", "botchat", "every counted request moves the rate-limit window's end to 60 s after it") \
	X(BC_LIST_OTHER_USER, "botchat-list-other-user", "botchat", "a userId filter also lists the conversations of every userId that begins with it") \
	X(BC_FAULT_RESETS, "botchat-fault-resets", "botchat", "a model failure forgets the conversation: the next chat of the pair starts a new one") \
	X(BC_STREAM_LEFT_STORED, "botchat-stream-left-stored", "botchat",                           \
	  "an /api/chat/stream answer whose client left is stored whole, as if it had been sent")   \
	X(BC_CHAT_UNPLANNED, "botchat-chat-unplanned", "botchat",                                   \
	  "/api/chat answers at once, whatever its plan says (a model failure mid-answer is a 200)") \
	X(DW_RESEARCH_UNPLANNED, "deepwiki-research-unplanned", "deepwiki",                         \
	  "/chat/research answers at once, whatever its plan says (a failure mid-answer is a 200)")

enum break_id {
#define BREAK_ENUM(id, name, api, rule) BRK_##id,
	BREAKS(BREAK_ENUM)
	HELD_BREAKS(BREAK_ENUM)
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
