/*
 * The pieces of the HTML report that read other text: the failed step and its
 * curl reproducer from a transcript (runner/report/repro.c), and where a
 * section and a clause are in their document (runner/report/docmap.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/buf.h"
#include "runner/report/docmap.h"
#include "runner/report/repro.h"
#include "tests/unit/unit.h"

/* Two strings are equal; both are shown when not. */
#define expect_str(got, want) \
	cr_expect(strcmp((got), (want)) == 0, "got:\n%s\nwant:\n%s", (got), (want))

static const char transcript[] =
	"--- step 1 (admin)\n"
	"> POST http://127.0.0.1:9/__admin/clock/advance\n"
	"> Content-Type: application/json\n"
	">\n"
	"{\"seconds\":61}\n"
	"< HTTP/1.1 200 OK (headers +0.1 ms, end +0.1 ms)\n"
	"--- step 2, request 3/5\n"
	"> POST http://127.0.0.1:9/chat/research?key=abcd…(redacted)&x=1\n"
	"> Authorization: Bearer dw-r…(redacted)\n"
	"> X-Empty: \n"
	">\n"
	"{\"query\":\"it's\"}\n"
	"< HTTP/1.1 400 Bad Request (headers +0.1 ms, end +0.1 ms)\n"
	"<\n"
	"{\"code\":\"INVALID_REQUEST\"}\n";

Test(html_repro, the_last_step_is_the_failed_one_and_curl_sends_it_again)
{
	struct repro_step st;
	struct buf b;
	buf_init(&b, 1 << 16);
	repro_last_step(transcript, strlen(transcript), &st);
	cr_expect(eq(int, st.kind, REPRO_HTTP));
	cr_expect(eq(sz, st.step, 2));
	repro_endpoint(&b, &st);
	expect_str(buf_str(&b), "POST /chat/research");
	buf_reset(&b);
	cr_assert(eq(int, repro_curl(&b, &st), 0));
	expect_str(buf_str(&b),
		     "curl -i -N -X 'POST' 'http://127.0.0.1:9/chat/research?key=abcd…(redacted)&x=1' \\\n"
		     "  -H 'Authorization: Bearer dw-r…(redacted)' \\\n"
		     "  -H 'X-Empty;' \\\n"
		     "  --data-binary '{\"query\":\"it'\\''s\"}'\n");
	buf_release(&b);
}

Test(html_repro, a_websocket_step_has_an_endpoint_and_no_curl)
{
	static const char t[] = "--- step 1 (ws)\n> GET ws://127.0.0.1:9/ws/chat?token=dw-d…(redacted)\n";
	struct repro_step st;
	struct buf b;
	buf_init(&b, 1 << 16);
	repro_last_step(t, strlen(t), &st);
	cr_expect(eq(int, st.kind, REPRO_WS));
	repro_endpoint(&b, &st);
	expect_str(buf_str(&b), "WebSocket /ws/chat");
	cr_expect(eq(int, repro_curl(&b, &st), -1));
	repro_last_step("", 0, &st);
	cr_expect(eq(int, st.kind, REPRO_NONE));
	buf_release(&b);
}

Test(html_repro, step_labels_are_left_out)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	const char *d = "step 4: body /a: expected 1, got 2\nstep 2, request 1/50: status: expected 200, got 429\n"
			"stepping: not a label";
	repro_strip_labels(&b, d, strlen(d));
	expect_str(buf_str(&b), "body /a: expected 1, got 2\nstatus: expected 200, got 429\n"
					       "stepping: not a label");
	buf_release(&b);
}

Test(html_docmap, headings_outside_code_and_quoted_clauses)
{
	char path[] = "/tmp/cc-docmap-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	static const char doc[] = "# API\n\n## POST /chat\n\nSends a *message*.\n\n```\n# Stream\n```\n"
				  "### Stream\n\nEvents   arrive\nin order.\n";
	cr_assert(eq(sz, (size_t)write(fd, doc, strlen(doc)), strlen(doc)));
	close(fd);
	struct docmap d;
	cr_assert(eq(int, docmap_load(&d, path), 0));
	unlink(path);
	long chat = docmap_heading(&d, "POST /chat"), stream = docmap_heading(&d, "Stream");
	cr_expect(eq(long, chat, (long)(strstr(doc, "## POST") - doc)));
	cr_expect(eq(long, stream, (long)(strstr(doc, "### Stream") - doc)), "a '#' line in code is no heading");
	cr_expect(eq(long, docmap_heading(&d, "Nothing"), -1));
	cr_expect(eq(long, docmap_quote(&d, "Sends a message."), (long)(strstr(doc, "Sends") - doc)));
	cr_expect(eq(long, docmap_quote(&d, "Events arrive in order."), (long)(strstr(doc, "Events") - doc)));
	struct buf b;
	buf_init(&b, 1 << 16);
	docmap_parents(&d, stream, " > ", &b);
	expect_str(buf_str(&b), "API > POST /chat > ");
	buf_release(&b);
	docmap_release(&d);

	struct docmap none;
	cr_expect(eq(int, docmap_load(&none, "/nonexistent/doc.txt"), -1));
	cr_expect(eq(long, docmap_heading(&none, "x"), -1));
	cr_expect(eq(long, docmap_quote(&none, "x"), -1));
	docmap_release(&none);
}
