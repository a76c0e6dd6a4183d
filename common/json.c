#include "json.h"

#include "utf8.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Unescape one reference token of a pointer (~1 is '/', ~0 is '~') into out; false when malformed. */
static bool pointer_token(const char *p, size_t n, char *out)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '~') {
			out[j++] = p[i];
			continue;
		}
		if (i + 1 >= n || (p[i + 1] != '0' && p[i + 1] != '1'))
			return false;
		out[j++] = p[i + 1] == '0' ? '~' : '/';
		i++;
	}
	out[j] = '\0';
	return true;
}

/* A decimal array index with no leading zeros; -1 when p is not one. */
static long pointer_index(const char *p)
{
	if (!*p || (p[0] == '0' && p[1]) || strlen(p) > 9)
		return -1;
	long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

cJSON *json_pointer(const cJSON *root, const char *ptr)
{
	const cJSON *cur = root;
	if (!cur || !ptr)
		return NULL;
	if (!*ptr)
		return (cJSON *)cur;
	if (*ptr != '/')
		return NULL;
	size_t cap = strlen(ptr) + 1;
	char *tok = malloc(cap);
	if (!tok)
		return NULL;
	const char *p = ptr;
	while (cur && *p == '/') {
		p++;
		size_t n = strcspn(p, "/");
		if (!pointer_token(p, n, tok)) {
			cur = NULL;
			break;
		}
		if (cJSON_IsObject(cur)) {
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		} else if (cJSON_IsArray(cur)) {
			long i = pointer_index(tok);
			cur = i < 0 ? NULL : cJSON_GetArrayItem(cur, (int)i);
		} else {
			cur = NULL;
		}
		p += n;
	}
	free(tok);
	return (cJSON *)cur;
}

const char *json_type_name(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "object";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNull(v))
		return "null";
	return "invalid";
}

bool json_is_integer(const cJSON *v)
{
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	return isfinite(d) && d == floor(d) && fabs(d) < 9.2e18;
}

char *json_print_capped(const cJSON *v, size_t max)
{
	char *s = v ? cJSON_PrintUnformatted(v) : NULL;
	if (!s)
		return strdup(v ? "(unprintable)" : "(none)");
	size_t n = strlen(s);
	if (n <= max || max < 4)
		return s;
	char *out = malloc(max + 1);
	if (!out) {
		cJSON_free(s);
		return NULL;
	}
	memcpy(out, s, max - 3);
	memcpy(out + max - 3, "...", 4);
	cJSON_free(s);
	return out;
}

cJSON *json_parse_exact(const char *p, size_t n)
{
	/* JSON exchanged between systems is UTF-8 (RFC 8259 8.1); cJSON would take any bytes. */
	if (!utf8_valid(p, n))
		return NULL;
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (!v)
		return NULL;
	/* cJSON stops at the end of the first value: only whitespace may follow. */
	for (const char *q = end; q && q < p + n; q++) {
		if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
			cJSON_Delete(v);
			return NULL;
		}
	}
	return v;
}

const char *json_get_string(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

size_t json_text_find_nul(const char *p, size_t n)
{
	/* A backslash escapes the next character, so "\\u0000" is a backslash then "u0000". */
	for (size_t i = 0; i + 5 < n; i++) {
		if (p[i] != '\\')
			continue;
		if (p[i + 1] == 'u' && p[i + 2] == '0' && p[i + 3] == '0' && p[i + 4] == '0' && p[i + 5] == '0')
			return i;
		i++;
	}
	return n;
}

bool json_text_has_nul(const char *p, size_t n)
{
	return json_text_find_nul(p, n) < n;
}

bool json_text_has_control(const char *p, size_t n)
{
	bool in_string = false, escaped = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 && (in_string || (c != '\t' && c != '\n' && c != '\r')))
			return true;
		if (escaped)
			escaped = false;
		else if (in_string && c == '\\')
			escaped = true;
		else if (c == '"')
			in_string = !in_string;
	}
	return false;
}
