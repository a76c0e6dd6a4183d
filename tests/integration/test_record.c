/*
 * chatconform record: record what one mockd answers (scripted tokens, pacing, an
 * error mid-stream, a 500) and replay it on a second mockd started with the
 * recorded scripts; the two must answer the same streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "harness.h"

static struct mockd_proc source, replay;
static char dir[128];

static void stop_both(void)
{
	if (source.pid > 0)
		mockd_stop(&source);
	if (replay.pid > 0)
		mockd_stop(&replay);
}

static void post(struct mockd_proc *m, const char *path, const char *const *headers, const char *body,
		 struct http_result *r)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", m->base, path);
	http_call("POST", url, headers, body, strlen(body), r);
}

/* The events of a stream body without the fields that differ between two servers (ids, times). */
static void normalise(const char *body, struct buf *out)
{
	for (const char *p = body; *p;) {
		size_t n = strcspn(p, "\n");
		const char *line = p;
		if (!strncmp(line, "data: ", 6)) {
			line += 6;
			n -= 6;
		}
		cJSON *e = n ? json_parse_exact(line, n) : NULL;
		if (e) {
			static const char *const volatile_fields[] = { "conversationId", "conversation_id", "timestamp" };
			for (size_t i = 0; i < 3; i++)
				cJSON_DeleteItemFromObjectCaseSensitive(e, volatile_fields[i]);
			char *text = cJSON_PrintUnformatted(e);
			buf_printf(out, "%s\n", text);
			cJSON_free(text);
			cJSON_Delete(e);
		}
		p += n + (p[n] == '\n');
	}
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

TestSuite(record, .fini = stop_both, .timeout = 120);

Test(record, a_recording_replays_the_same_streams)
{
	const char *args[] = { "--time-scale", "1", NULL };
	mockd_start(&source, args);
	struct http_result r;
	post(&source, "/__admin/scripts", NULL,
	     "{\"rules\":["
	     "{\"api\":\"widget\",\"match\":{\"message\":\"record-widget\"},"
	     " \"reply\":{\"tokens\":[\"Hel\",\"lo\",\" wor\",\"ld\"]},\"timing\":{\"first_token_ms\":120,\"interval_ms\":40}},"
	     "{\"api\":\"widget\",\"match\":{\"message\":\"record-widget-error\"},"
	     " \"reply\":{\"tokens\":[\"a\",\" b\",\" c\"]},\"fault\":{\"type\":\"error_after\",\"tokens\":2}},"
	     "{\"api\":\"widget\",\"match\":{\"message\":\"record-widget-down\"},\"fault\":{\"type\":\"http_error\",\"status\":500}},"
	     "{\"api\":\"deepwiki\",\"match\":{\"message\":\"record-deepwiki\"},"
	     " \"reply\":{\"tokens\":[\"Deep\",\" answer\"]},\"timing\":{\"first_token_ms\":30,\"interval_ms\":30}}]}",
	     &r);
	cr_assert(eq(long, r.status, 201), "%s", buf_str(&r.body));
	http_result_release(&r);

	snprintf(dir, sizeof(dir), "/tmp/cc-record-%d", getpid());
	char exe[512], cmd[2048];
	bin_path("chatconform", exe, sizeof(exe));
	snprintf(cmd, sizeof(cmd), "rm -rf %s && NO_COLOR=1 %s record tests/data/suites/record --target %s --out %s -j 1 2>&1",
		 dir, exe, source.base, dir);
	FILE *p = popen(cmd, "r");
	static char out[1 << 15];
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	cr_assert(ok, "record failed:\n%s", out);
	cr_assert(strstr(out, "recorded 4 rules") != NULL, "%s", out);

	char path[256];
	snprintf(path, sizeof(path), "%s/widget.json", dir);
	const char *widget = read_all(path);
	cr_assert(widget != NULL, "no %s", path);
	cr_assert(strstr(widget, "widget-dev-key") == NULL, "a credential reached the script:\n%s", widget);
	cr_assert(strstr(widget, "\"error_after\"") != NULL, "%s", widget);
	cr_assert(strstr(widget, "\"http_error\"") != NULL, "%s", widget);
	snprintf(path, sizeof(path), "%s/deepwiki.json", dir);
	const char *deepwiki = read_all(path);
	cr_assert(deepwiki != NULL && strstr(deepwiki, "dw-dev-key") == NULL, "%s", deepwiki ? deepwiki : "");

	const char *replay_args[] = { "--time-scale", "1", "--scripts", dir, NULL };
	mockd_start(&replay, replay_args);

	static const struct {
		const char *path, *header, *body;
	} calls[] = {
		{ "/v1/chat/stream", "x-api-key: widget-dev-key-0123456789abcdef",
		  "{\"sessionId\":\"cmp\",\"message\":\"record-widget\"}" },
		{ "/v1/chat/stream", "x-api-key: widget-dev-key-0123456789abcdef",
		  "{\"sessionId\":\"cmp\",\"message\":\"record-widget-error\"}" },
		{ "/v1/chat/stream", "x-api-key: widget-dev-key-0123456789abcdef",
		  "{\"sessionId\":\"cmp\",\"message\":\"record-widget-down\"}" },
		{ "/chat/stream", "Authorization: Bearer dw-dev-key", "{\"message\":\"record-deepwiki\"}" },
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(*calls); i++) {
		const char *h[] = { calls[i].header, NULL };
		struct http_result a, b;
		post(&source, calls[i].path, h, calls[i].body, &a);
		post(&replay, calls[i].path, h, calls[i].body, &b);
		cr_expect(eq(long, a.status, b.status), "%s: status %ld vs %ld", calls[i].body, a.status, b.status);
		struct buf na, nb;
		buf_init(&na, 1 << 20);
		buf_init(&nb, 1 << 20);
		normalise(buf_str(&a.body), &na);
		normalise(buf_str(&b.body), &nb);
		cr_expect(eq(str, (char *)buf_str(&na), (char *)buf_str(&nb)), "%s: the replay differs", calls[i].body);
		if (i == 0)
			cr_expect(ge(sz, b.nchunks, 3), "the replayed stream is paced, not sent at once");
		buf_release(&na);
		buf_release(&nb);
		http_result_release(&a);
		http_result_release(&b);
	}
}
