#include "runner/url.h"

#include <string.h>

void url_encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_addc(out, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_add(out, e, 3);
		}
	}
}

/* Append one "name=value" pair; -1 when the value is not a scalar. */
static int add_param(struct buf *out, const char *name, const cJSON *v, int *first, struct buf *err)
{
	char *printed = NULL;
	const char *s;
	if (cJSON_IsString(v)) {
		s = v->valuestring;
	} else if (cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v)) {
		printed = cJSON_PrintUnformatted(v);
		if (!printed) {
			buf_adds(err, "out of memory");
			return -1;
		}
		s = printed;
	} else {
		buf_printf(err, "query parameter \"%s\" must be a string, a number, a boolean or an array of them",
			   name);
		return -1;
	}
	buf_addc(out, *first ? '?' : '&');
	*first = 0;
	url_encode(out, name, strlen(name));
	buf_addc(out, '=');
	url_encode(out, s, strlen(s));
	cJSON_free(printed);
	return 0;
}

int url_build(struct buf *out, const char *base, const char *path, const cJSON *query, struct buf *err)
{
	size_t blen = strlen(base);
	while (blen && base[blen - 1] == '/')
		blen--;
	buf_add(out, base, blen);
	if (path[0] != '/')
		buf_addc(out, '/');
	buf_adds(out, path);
	if (!query)
		return 0;
	if (!cJSON_IsObject(query)) {
		buf_adds(err, "query must be an object");
		return -1;
	}
	int first = strchr(path, '?') == NULL;
	const cJSON *p;
	cJSON_ArrayForEach(p, query) {
		if (cJSON_IsArray(p)) {
			const cJSON *item;
			cJSON_ArrayForEach(item, p)
				if (cJSON_IsArray(item) || add_param(out, p->string, item, &first, err) != 0)
					goto bad_item;
			continue;
		}
		if (add_param(out, p->string, p, &first, err) != 0)
			return -1;
	}
	return 0;
bad_item:
	if (!err->len)
		buf_printf(err, "query parameter \"%s\" holds an array inside an array", p->string);
	return -1;
}
