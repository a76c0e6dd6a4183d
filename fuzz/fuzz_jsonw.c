/*
 * fuzz_jsonw: common/jsonw.c against cJSON_PrintUnformatted, byte for byte.
 *
 * The first 8 bytes are an int64 (little-endian), the 9th a control byte; the
 * rest, cut at its NULs, is up to MAX_STRINGS C strings (cJSON's strings are C
 * strings too).  Checked, each against cJSON printing the same values:
 *   - jsonw_string of the first string;
 *   - jsonw_event with the second and third strings as type and member name
 *     and the first as the value (the token events), and jsonw_form_event
 *     with a form of the same type and name, twice (made, then reused);
 *   - jsonw_object of all the strings as key/value pairs;
 *   - jsonw_int of the int64, and of it shifted right by the control byte so
 *     that every magnitude is reached, not mostly the huge ones;
 *   - the buffer's maximum: after a prefix, with a maximum short of the event
 *     by an amount the control byte picks, BUF_TOO_BIG and the prefix intact;
 *     with exactly enough, the whole event.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/jsonw.h"
#include "fuzz/fuzz.h"

#define MAX_STRINGS 8
#define OUT_MAX (64u * 1024 * 1024)

/* jsonw's text in b against cJSON's for v (taken); b is emptied. */
static void same(struct buf *b, cJSON *v, const char *what)
{
	char *want = cJSON_PrintUnformatted(v);
	FUZZ_CHECK(want != NULL, "cJSON could not print the %s", what);
	size_t want_len = strlen(want), at = 0;
	while (at < b->len && at < want_len && b->data[at] == want[at])
		at++;
	size_t from = at > 20 ? at - 20 : 0;
	FUZZ_CHECK(at == b->len && at == want_len,
		   "%s: lengths %zu (jsonw) and %zu (cJSON), first difference at byte %zu\n  got  ...%.40s\n  want ...%.40s",
		   what, b->len, want_len, at, buf_str(b) + from, want + from);
	cJSON_free(want);
	cJSON_Delete(v);
	buf_reset(b);
}

static void check_int(struct buf *b, int64_t v)
{
	FUZZ_CHECK(jsonw_int(b, v) == BUF_OK, "jsonw_int(%lld) failed", (long long)v);
	same(b, cJSON_CreateNumber((double)v), "int");
}

/* The event in a buffer whose maximum is short by `short_by` bytes (0: just enough), after a prefix. */
static void check_limit(const char *type, const char *key, const char *value, size_t prefix_len,
			size_t short_by)
{
	static const char prefix[] = "data: {}\n\n";
	struct buf full, b;
	buf_init(&full, OUT_MAX);
	buf_add(&full, prefix, prefix_len);
	FUZZ_CHECK(jsonw_event(&full, type, key, value) == BUF_OK, "the event does not fit %u bytes", OUT_MAX);
	if (short_by > full.len - prefix_len)
		short_by = full.len - prefix_len;
	buf_init(&b, full.len - short_by);
	buf_add(&b, prefix, prefix_len);
	enum buf_result r = jsonw_event(&b, type, key, value);
	if (short_by) {
		FUZZ_CHECK(r == BUF_TOO_BIG, "result %d with a maximum %zu bytes short", (int)r, short_by);
		FUZZ_CHECK(b.len == prefix_len && memcmp(buf_str(&b), prefix, prefix_len) == 0 &&
				   buf_str(&b)[prefix_len] == '\0',
			   "a failed event left %zu bytes, not the prefix's %zu", b.len, prefix_len);
	} else {
		FUZZ_CHECK(r == BUF_OK, "result %d with a maximum just big enough", (int)r);
		FUZZ_CHECK(b.len == full.len && memcmp(b.data, full.data, full.len) == 0,
			   "the event differs in a buffer just big enough");
	}
	buf_release(&b);
	buf_release(&full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	uint64_t u = 0;
	for (int i = 7; i >= 0; i--)
		u = u << 8 | data[i];
	int64_t v = (int64_t)u;
	uint8_t control = data[8];

	/* The rest as C strings: NUL-terminated copy, cut at each NUL. */
	size_t n = size - 9;
	char *text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, data + 9, n);
	text[n] = '\0';
	const char *s[MAX_STRINGS];
	size_t ns = 0;
	for (size_t at = 0; ns < MAX_STRINGS;) {
		s[ns++] = text + at;
		at += strlen(text + at) + 1;
		if (at > n)
			break;
	}
	const char *type = ns > 1 ? s[1] : "token";
	const char *key = ns > 2 ? s[2] : "token";

	struct buf b;
	buf_init(&b, OUT_MAX);

	FUZZ_CHECK(jsonw_string(&b, s[0]) == BUF_OK, "jsonw_string failed");
	same(&b, cJSON_CreateString(s[0]), "string");

	FUZZ_CHECK(jsonw_event(&b, type, key, s[0]) == BUF_OK, "jsonw_event failed");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, key, s[0]);
	same(&b, o, "event");

	/* The same event through a form (made on its first use, then reused): the same bytes. */
	struct jsonw_form form = JSONW_FORM(type, key);
	for (int i = 0; i < 2; i++) {
		FUZZ_CHECK(jsonw_form_event(&b, &form, s[0]) == BUF_OK, "jsonw_form_event failed");
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", type);
		cJSON_AddStringToObject(o, key, s[0]);
		same(&b, o, "form event");
	}

	/* All the strings as pairs; an odd last one gets "" for its value. */
	const char *kv[MAX_STRINGS + 1];
	memcpy(kv, s, ns * sizeof(*s));
	kv[ns] = "";
	size_t npairs = (ns + 1) / 2;
	FUZZ_CHECK(jsonw_object(&b, kv, npairs) == BUF_OK, "jsonw_object failed");
	o = cJSON_CreateObject();
	for (size_t i = 0; i < npairs; i++)
		cJSON_AddStringToObject(o, kv[2 * i], kv[2 * i + 1]);
	same(&b, o, "object");

	check_int(&b, v);
	check_int(&b, v >> (control % 64));
	check_int(&b, (int64_t)(u >> (control % 64)));

	check_limit(type, key, s[0], control % 11, control / 11 % 12);

	buf_release(&b);
	free(text);
	return 0;
}
