/*
 * CORS: the headers every answer carries, preflights, the WebSocket Origin
 * check (libcurl); then a real browser (Debian's chromium, headless) on a page
 * from another origin on loopback (tests/integration/page_server.py serving
 * browser_page.html) reading the widget NDJSON stream, a deepwiki SSE stream and
 * both WebSocket APIs, over http/ws and over https/wss with the test's own
 * certificate trusted for that run by its SPKI hash.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <curl/curl.h>

#include "harness.h"

#define CHROMIUM "/usr/bin/chromium"
#define PAGE_ORIGIN "http://localhost:5173"
#define WIDGET_KEY "x-api-key: widget-dev-key-0123456789abcdef"

static struct mockd_proc mockd;

static void start_default(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const char *args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, args);
}

static void stop(void)
{
	if (mockd.pid > 0)
		mockd_stop(&mockd);
	curl_global_cleanup();
}

static void call(const char *method, const char *path, const char *const *headers, const char *body,
		 struct http_result *out)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", mockd.base, path);
	http_call(method, url, headers, body, body ? strlen(body) : 0, out);
}

static void expect_header(const struct http_result *r, const char *name, const char *value)
{
	char got[512];
	cr_expect(http_header(r, name, got, sizeof(got)), "no %s header:\n%s", name, buf_str(&r->headers));
	if (http_header(r, name, got, sizeof(got)))
		cr_expect(strcmp(got, value) == 0, "%s: \"%s\", not \"%s\"", name, got, value);
}

static void expect_no_header(const struct http_result *r, const char *name)
{
	char got[512];
	cr_expect(http_header(r, name, got, sizeof(got)) == false, "%s: %s should not be there", name, got);
}

TestSuite(cors, .init = start_default, .fini = stop, .timeout = 30);

Test(cors, a_preflight_from_a_loopback_page)
{
	const char *h[] = { "Origin: " PAGE_ORIGIN, "Access-Control-Request-Method: POST",
			    "Access-Control-Request-Headers: content-type, x-api-key", NULL };
	struct http_result r;
	call("OPTIONS", "/chat", h, NULL, &r);
	cr_expect(eq(long, r.status, 204), "%s", buf_str(&r.body));
	expect_header(&r, "Access-Control-Allow-Origin", PAGE_ORIGIN);
	expect_header(&r, "Access-Control-Allow-Methods", "POST");
	expect_header(&r, "Access-Control-Allow-Headers", "content-type, x-api-key");
	expect_header(&r, "Access-Control-Max-Age", "600");
	expect_header(&r, "Vary", "Origin");
	http_result_release(&r);
	/* A path with several methods lists them all. */
	call("OPTIONS", "/chat/history", h, NULL, &r);
	expect_header(&r, "Access-Control-Allow-Methods", "GET, DELETE");
	http_result_release(&r);
}

Test(cors, a_preflight_from_a_foreign_page_is_refused)
{
	const char *h[] = { "Origin: https://elsewhere.example", "Access-Control-Request-Method: POST", NULL };
	struct http_result r;
	call("OPTIONS", "/chat", h, NULL, &r);
	cr_expect(eq(long, r.status, 403));
	expect_no_header(&r, "Access-Control-Allow-Origin");
	http_result_release(&r);
}

Test(cors, options_without_a_preflight_is_still_405)
{
	struct http_result r;
	call("OPTIONS", "/chat", NULL, NULL, &r);
	cr_expect(eq(long, r.status, 405));
	expect_header(&r, "Allow", "POST");
	expect_no_header(&r, "Access-Control-Allow-Origin");
	http_result_release(&r);
}

Test(cors, errors_and_streams_carry_the_headers)
{
	const char *no_key[] = { "Origin: " PAGE_ORIGIN, "Content-Type: application/json", NULL };
	struct http_result r;
	call("POST", "/chat", no_key, "{}", &r);
	cr_expect(eq(long, r.status, 401));
	expect_header(&r, "Access-Control-Allow-Origin", PAGE_ORIGIN);
	expect_header(&r, "Access-Control-Expose-Headers", "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
		      "X-RateLimit-Reset, WWW-Authenticate, Allow, X-Accel-Buffering");
	http_result_release(&r);
	const char *key[] = { "Origin: " PAGE_ORIGIN, "Content-Type: application/json", WIDGET_KEY, NULL };
	call("POST", "/chat", key, "{\"sessionId\":\"cors\",\"message\":\"hello\"}", &r);
	cr_expect(eq(long, r.status, 200));
	expect_header(&r, "Access-Control-Allow-Origin", PAGE_ORIGIN);
	cr_expect(strstr(buf_str(&r.body), "\"done\"") != NULL);
	http_result_release(&r);
	/* No Origin, no CORS headers: not a browser. */
	call("POST", "/chat", key + 1, "{\"sessionId\":\"cors\",\"message\":\"hello\"}", &r);
	expect_no_header(&r, "Access-Control-Allow-Origin");
	http_result_release(&r);
}

Test(cors, a_websocket_from_a_foreign_page_is_refused_before_the_upgrade)
{
	const char *h[] = { "Origin: https://elsewhere.example", "Upgrade: websocket", "Connection: Upgrade",
			    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", NULL };
	struct http_result r;
	call("GET", "/ws/chat?token=dw-dev-key", h, NULL, &r);
	cr_expect(eq(long, r.status, 403), "%s", buf_str(&r.body));
	http_result_release(&r);
}

/* Restart mockd with other CORS options. */
static void restart(const char *const *args)
{
	mockd_stop(&mockd);
	mockd_start(&mockd, args);
}

Test(cors, configured_origins_any_origin_and_off)
{
	const char *pre_page[] = { "Origin: " PAGE_ORIGIN, "Access-Control-Request-Method: POST", NULL };
	const char *pre_app[] = { "Origin: https://app.example", "Access-Control-Request-Method: POST", NULL };
	struct http_result r;

	const char *listed[] = { "--cors", "https://app.example", NULL };
	restart(listed);
	call("OPTIONS", "/api/chat", pre_app, NULL, &r);
	cr_expect(eq(long, r.status, 204));
	expect_header(&r, "Access-Control-Allow-Origin", "https://app.example");
	http_result_release(&r);
	call("OPTIONS", "/api/chat", pre_page, NULL, &r);
	cr_expect(eq(long, r.status, 403), "a list replaces the loopback default");
	http_result_release(&r);

	const char *any[] = { "--cors", "*", NULL };
	restart(any);
	call("OPTIONS", "/api/chat", pre_app, NULL, &r);
	cr_expect(eq(long, r.status, 204));
	expect_header(&r, "Access-Control-Allow-Origin", "*");
	http_result_release(&r);

	const char *off[] = { "--no-cors", NULL };
	restart(off);
	call("OPTIONS", "/api/chat", pre_page, NULL, &r);
	cr_expect(eq(long, r.status, 405));
	expect_no_header(&r, "Access-Control-Allow-Origin");
	http_result_release(&r);
}

Test(cors, bad_options_exit_2)
{
	char exe[512];
	bin_path("mockd", exe, sizeof(exe));
	const char *bad[] = { "--cors 'localhost:3000'", "--cors http://a.example/path", "--cors '*' --no-cors",
			      "--tls-cert /nonexistent" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "%s --listen 127.0.0.1:0 %s >/dev/null 2>&1", exe, bad[i]);
		int st = system(cmd);
		cr_expect(eq(int, WIFEXITED(st) ? WEXITSTATUS(st) : -1, 2), "mockd %s: status %d, not 2", bad[i], st);
	}
}

/* ---- a real browser ------------------------------------------------------------------------- */

static struct mockd_proc tls, refusing;
static pid_t page_server;
static int page_port;

static int read_port(const char *file)
{
	FILE *f = fopen(file, "r");
	int port = 0;
	if (f) {
		if (fscanf(f, "127.0.0.1:%d", &port) != 1)
			port = 0;
		fclose(f);
	}
	return port;
}

static void start_browser(void)
{
	cr_assert(access(CHROMIUM, X_OK) == 0,
		  "%s is missing: install Debian's chromium package (scripts/deps.sh installs it)", CHROMIUM);
	workdir_make("cc-browser");
	int code = workdir_sh("openssl.out", "openssl.err",
			     "(openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 1 "
			     "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null && "
			     "openssl x509 -pubkey -noout -in '%s' | openssl pkey -pubin -outform der | "
			     "openssl dgst -sha256 -binary | base64)",
			     workdir_path("key.pem"), workdir_path("cert.pem"), workdir_path("cert.pem"));
	cr_assert(eq(int, code, 0), "the openssl command could not make a test certificate");
	const char *plain_args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, plain_args);
	const char *tls_args[] = { "--time-scale", "0", "--tls-cert", workdir_path("cert.pem"),
				   "--tls-key", workdir_path("key.pem"), NULL };
	mockd_start(&tls, tls_args);
	const char *refusing_args[] = { "--time-scale", "0", "--cors", "https://app.example", NULL };
	mockd_start(&refusing, refusing_args);
	page_server = fork();
	cr_assert(page_server >= 0);
	if (page_server == 0) {
		execl("/usr/bin/python3", "python3", "tests/integration/page_server.py",
		      "tests/integration/browser_page.html", workdir_path("page.port"), (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250 && !(page_port = read_port(workdir_path("page.port"))); i++)
		usleep(20 * 1000);
	cr_assert(page_port > 0, "the page server did not start");
}

static void stop_browser(void)
{
	if (page_server > 0) {
		kill(page_server, SIGTERM);
		waitpid(page_server, NULL, 0);
	}
	mockd_stop(&tls);
	mockd_stop(&refusing);
	mockd_stop(&mockd);
	workdir_remove();
}

/* Load the page with query in chromium; the DOM it dumped. */
static char *browse(const char *query)
{
	char *spki = slurp_file(workdir_path("openssl.out"), 256);
	spki[strcspn(spki, "\n")] = '\0';
	int code = workdir_sh("dom.html", "chromium.err",
			      "timeout 40 " CHROMIUM " --headless --no-sandbox --disable-gpu --user-data-dir='%s' "
			      "--ignore-certificate-errors-spki-list='%s' "
			      "--dump-dom 'http://localhost:%d/page.html?%s'",
			      workdir_path("profile"), spki, page_port, query);
	free(spki);
	char *dom = slurp_file(workdir_path("dom.html"), 1u << 20);
	if (code != 0 || !strstr(dom, "all steps ran")) {
		char *err = slurp_file(workdir_path("chromium.err"), 1u << 16);
		cr_assert(false, "chromium exited %d before the page was done:\n%s\n%s", code, dom, err);
	}
	return dom;
}

TestSuite(browser, .init = start_browser, .fini = stop_browser, .timeout = 60);

Test(browser, a_page_on_another_origin_over_http_and_https)
{
	char query[128];
	snprintf(query, sizeof(query), "plain=127.0.0.1:%d&tls=127.0.0.1:%d", mockd.port, tls.port);
	char *dom = browse(query);
	static const char *const want[] = {
		"ws ndjson: 200 start done", "ws sse: 200 start end limit=100", "ws unauthorized: 401 Unauthorized",
		"ws deepwiki_ws: connection_info end", "ws threads_ws: message_received message",
		"wss ndjson: 200 start done", "wss sse: 200 start end limit=100", "wss unauthorized: 401 Unauthorized",
		"wss deepwiki_ws: connection_info end", "wss threads_ws: message_received message",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(dom, want[i]) != NULL, "no \"%s\" in the page:\n%s", want[i], dom);
	free(dom);
}

Test(browser, a_page_on_a_refused_origin_reads_nothing)
{
	char query[64];
	snprintf(query, sizeof(query), "plain=127.0.0.1:%d", refusing.port);
	char *dom = browse(query);
	static const char *const want[] = {
		"ws ndjson: failed TypeError", "ws sse: failed TypeError", "ws deepwiki_ws: error", "ws threads_ws: error",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(dom, want[i]) != NULL, "no \"%s\" in the page:\n%s", want[i], dom);
	free(dom);
}
