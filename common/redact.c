#include "common/redact.h"

#include <string.h>
#include <strings.h>

#include "common/utf8.h"

int redact_is_secret_name(const char *name, size_t len)
{
	static const char *const exact[] = {
		"authorization", "proxy-authorization", "x-api-key", "x-widget-api-key",
		"key", "token", "apikey", "api_key", "access_token",
	};
	static const char *const suffixes[] = { "-key", "_key", "-token", "_token" };
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i]) == len && strncasecmp(name, exact[i], len) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && strncasecmp(name + len - sl, suffixes[i], sl) == 0)
			return 1;
	}
	return 0;
}

/* Append the shown part of a secret of n bytes: 4 characters, only when that leaves most of it hidden. */
static void redact_bytes(struct buf *out, const char *v, size_t n)
{
	if (n > 8)
		buf_add(out, v, utf8_truncate(v, n, 4));
	buf_adds(out, "…(redacted)");
}

void redact_value(struct buf *out, const char *value)
{
	/* "Bearer abc...": keep the scheme, which is not a secret and helps reading. */
	const char *sp = strchr(value, ' ');
	if (sp && sp != value && sp - value < 16) {
		buf_add(out, value, (size_t)(sp - value) + 1);
		value = sp + 1;
	}
	redact_bytes(out, value, strlen(value));
}

void redact_url(struct buf *out, const char *url)
{
	const char *q = strchr(url, '?');
	if (!q) {
		buf_adds(out, url);
		return;
	}
	buf_add(out, url, (size_t)(q - url) + 1);
	const char *p = q + 1;
	const char *end = p + strcspn(p, "#");
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (eq && redact_is_secret_name(p, (size_t)(eq - p))) {
			buf_add(out, p, (size_t)(eq - p) + 1);
			redact_bytes(out, eq + 1, (size_t)(stop - eq - 1));
		} else {
			buf_add(out, p, (size_t)(stop - p));
		}
		if (amp)
			buf_addc(out, '&');
		p = amp ? amp + 1 : end;
	}
	buf_adds(out, end);
}
