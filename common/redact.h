/*
 * redact: how chatconform shows a credential, wherever it shows one: the
 * runner's transcripts and reports, mockd's access log. Written once so that
 * both sides hide the same names the same way.
 */
#ifndef CC_REDACT_H
#define CC_REDACT_H

#include <stddef.h>

#include "common/buf.h"

/* True when a header or query parameter of this name carries a credential. */
int redact_is_secret_name(const char *name, size_t len);
/* Append value to out as a transcript shows a credential: the first 4 characters, then "…(redacted)". */
void redact_value(struct buf *out, const char *value);
/* Append url (or a path with its query) to out with the values of credential query parameters redacted. */
void redact_url(struct buf *out, const char *url);

#endif
