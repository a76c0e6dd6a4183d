/*
 * mockd over TLS (--tls-cert, --tls-key): every HTTP API with libcurl over
 * https, streams read to the end, scripted faults compared with the same
 * request over plain TCP; wss with an independent client (Debian's
 * python3-websockets, tests/integration/wss_client_check.py). The certificate
 * is made for the run by the openssl command, trusted only by these clients.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <curl/curl.h>

#include "harness.h"

static struct mockd_proc tls, plain;
static char https[64];

#define WIDGET_KEY "x-api-key: widget-dev-key-0123456789abcdef"
#define DW_KEY     "Authorization: Bearer dw-dev-key"
#define JSON       "Content-Type: application/json"

/*
 * Faults for the widget API, one trigger word each, in real time even at
 * --time-scale 0: the fault then fires from a timer, as in a real run. (Fired
 * from the request's own handler, a reset is a FIN then a RST over TCP and TLS
 * alike: evhttp_connection_free shuts the socket down for writing while the
 * bufferevent, busy in its callback, defers the close.)
 */
static const char rules[] =
	"[{\"api\":\"widget\",\"match\":{\"message\":{\"contains\":\"cutme\"}},\"reply\":{\"text\":\"one two three four\"},"
	"\"timing\":{\"first_token_ms\":0,\"interval_ms\":5,\"scaled\":false},"
	"\"fault\":{\"type\":\"disconnect_after\",\"tokens\":2}},"
	"{\"api\":\"widget\",\"match\":{\"message\":{\"contains\":\"resetme\"}},\"reply\":{\"text\":\"one two three four\"},"
	"\"timing\":{\"first_token_ms\":0,\"interval_ms\":5,\"scaled\":false},"
	"\"fault\":{\"type\":\"reset_after\",\"tokens\":2}},"
	"{\"api\":\"widget\",\"match\":{\"message\":{\"contains\":\"stallme\"}},\"reply\":{\"text\":\"one two three four\"},"
	"\"timing\":{\"first_token_ms\":0,\"interval_ms\":5,\"scaled\":false},"
	"\"fault\":{\"type\":\"stall_after\",\"tokens\":2,\"ms\":600}}]";

static void start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	workdir_make("cc-tlsmockd");
	mkdir(workdir_path("rules"), 0700);
	FILE *f = fopen(workdir_path("rules/faults.json"), "w");
	cr_assert(f != NULL);
	fputs(rules, f);
	fclose(f);
	int code = workdir_sh("openssl.out", "openssl.err",
			     "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 1 "
			     "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1",
			     workdir_path("key.pem"), workdir_path("cert.pem"));
	cr_assert(eq(int, code, 0), "the openssl command could not make a test certificate "
		  "(scripts/deps.sh installs openssl)");
	const char *targs[] = { "--time-scale", "0", "--scripts", workdir_path("rules"),
				"--tls-cert", workdir_path("cert.pem"), "--tls-key", workdir_path("key.pem"), NULL };
	mockd_start(&tls, targs);
	snprintf(https, sizeof(https), "https://127.0.0.1:%d", tls.port);
	const char *pargs[] = { "--time-scale", "0", "--scripts", workdir_path("rules"), NULL };
	mockd_start(&plain, pargs);
	http_set_cacert(workdir_path("cert.pem"));
}

static void stop(void)
{
	http_set_cacert(NULL);
	if (tls.pid > 0)
		cr_expect(eq(int, mockd_stop(&tls), 0), "the TLS mockd stops cleanly");
	if (plain.pid > 0)
		mockd_stop(&plain);
	workdir_remove();
	curl_global_cleanup();
}

TestSuite(tls_mockd, .init = start, .fini = stop, .timeout = 60);

static void post(const char *base, const char *path, const char *auth, const char *body, struct http_result *out)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", base, path);
	const char *headers[] = { auth, JSON, NULL };
	http_call("POST", url, auth ? headers : headers + 1, body, strlen(body), out);
}

Test(tls_mockd, widget_ndjson_stream_to_the_end)
{
	struct http_result r;
	post(https, "/chat", WIDGET_KEY, "{\"sessionId\":\"tls-1\",\"message\":\"hello over tls\"}", &r);
	cr_assert(eq(int, r.curl_code, CURLE_OK), "curl: %s", curl_easy_strerror(r.curl_code));
	cr_assert(eq(long, r.status, 200));
	const char *body = buf_str(&r.body);
	cr_expect(strncmp(body, "{\"type\":\"start\"", 15) == 0, "%s", body);
	cr_expect(strstr(body, "{\"type\":\"token\"") != NULL, "%s", body);
	size_t n = strlen(body);
	cr_expect(n > 2 && body[n - 1] == '\n' && strstr(body, "{\"type\":\"done\"") != NULL, "no done line: %s", body);
	http_result_release(&r);
}

Test(tls_mockd, deepwiki_sse_stream_and_history)
{
	struct http_result r;
	post(https, "/chat/stream", DW_KEY, "{\"message\":\"hello over tls\"}", &r);
	cr_assert(eq(int, r.curl_code, CURLE_OK), "curl: %s", curl_easy_strerror(r.curl_code));
	cr_assert(eq(long, r.status, 200));
	const char *body = buf_str(&r.body);
	cr_expect(strstr(body, "data: {\"type\":\"content\"") != NULL, "%s", body);
	cr_expect(strstr(body, "data: {\"type\":\"end\"") != NULL, "no end event: %s", body);
	char limit[32];
	cr_expect(http_header(&r, "X-RateLimit-Limit", limit, sizeof(limit)));
	http_result_release(&r);

	char url[128];
	snprintf(url, sizeof(url), "%s/chat/history?user_id=user_dev&limit=5", https);
	const char *headers[] = { DW_KEY, NULL };
	http_call("GET", url, headers, NULL, 0, &r);
	cr_expect(eq(int, r.curl_code, CURLE_OK));
	cr_expect(eq(long, r.status, 200), "%s", buf_str(&r.body));
	cr_expect(strstr(buf_str(&r.body), "\"pagination\"") != NULL);
	http_result_release(&r);
}

Test(tls_mockd, botchat_reply_and_stream)
{
	struct http_result r;
	post(https, "/api/chat", NULL, "{\"message\":\"hello over tls\"}", &r);
	cr_expect(eq(int, r.curl_code, CURLE_OK));
	cr_expect(eq(long, r.status, 200));
	cr_expect(strstr(buf_str(&r.body), "\"success\":true") != NULL, "%s", buf_str(&r.body));
	http_result_release(&r);
	post(https, "/api/chat/stream", NULL, "{\"message\":\"hello over tls\"}", &r);
	cr_expect(eq(int, r.curl_code, CURLE_OK));
	cr_expect(strstr(buf_str(&r.body), "\"type\":\"end\"") != NULL, "%s", buf_str(&r.body));
	http_result_release(&r);
}

/* The same faulty request over TLS and over TCP: the same transfer result, the same bytes before the fault. */
static void same_as_tcp(const char *message, int expected)
{
	char body[128];
	snprintf(body, sizeof(body), "{\"sessionId\":\"tls-f\",\"message\":\"%s\"}", message);
	struct http_result over_tls, over_tcp;
	post(https, "/chat", WIDGET_KEY, body, &over_tls);
	post(plain.base, "/chat", WIDGET_KEY, body, &over_tcp);
	if (expected >= 0)
		cr_expect(eq(int, over_tcp.curl_code, expected), "over TCP: %s", curl_easy_strerror(over_tcp.curl_code));
	else
		cr_expect(over_tcp.curl_code != CURLE_OK, "over TCP the transfer completed");
	cr_expect(eq(int, over_tls.curl_code, over_tcp.curl_code), "over TLS: %s, over TCP: %s",
		  curl_easy_strerror(over_tls.curl_code), curl_easy_strerror(over_tcp.curl_code));
	/* The conversation ids differ: compare the token lines. */
	const char *a = strstr(buf_str(&over_tls.body), "\n"), *b = strstr(buf_str(&over_tcp.body), "\n");
	cr_expect(a && b && strcmp(a, b) == 0, "over TLS:\n%s\nover TCP:\n%s", buf_str(&over_tls.body),
		  buf_str(&over_tcp.body));
	cr_expect(strstr(buf_str(&over_tls.body), "\"token\":\" two\"") != NULL, "%s", buf_str(&over_tls.body));
	cr_expect(strstr(buf_str(&over_tls.body), "\"done\"") == NULL);
	http_result_release(&over_tls);
	http_result_release(&over_tcp);
}

Test(tls_mockd, a_cut_is_a_cut)
{
	same_as_tcp("cutme", CURLE_PARTIAL_FILE);
}

Test(tls_mockd, a_reset_is_a_reset)
{
	same_as_tcp("resetme", CURLE_RECV_ERROR);
}

Test(tls_mockd, a_stall_is_silence_then_the_rest)
{
	struct http_result r;
	post(https, "/chat", WIDGET_KEY, "{\"sessionId\":\"tls-s\",\"message\":\"stallme\"}", &r);
	cr_assert(eq(int, r.curl_code, CURLE_OK), "curl: %s", curl_easy_strerror(r.curl_code));
	cr_expect(strstr(buf_str(&r.body), "\"done\"") != NULL, "%s", buf_str(&r.body));
	double gap = 0;
	for (size_t i = 1; i < r.nchunks; i++)
		if (r.chunk_ms[i] - r.chunk_ms[i - 1] > gap)
			gap = r.chunk_ms[i] - r.chunk_ms[i - 1];
	cr_expect(gap >= 500 && gap < 3000, "the longest silence was %.0f ms, not the 600 ms stall", gap);
	http_result_release(&r);
}

Test(tls_mockd, plain_http_on_a_tls_port_is_not_served)
{
	char url[96];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/__admin/health", tls.port);
	struct http_result r;
	http_call("GET", url, NULL, NULL, 0, &r);
	cr_expect(r.curl_code != CURLE_OK || r.status != 200);
	http_result_release(&r);
	/* ... and the TLS mockd goes on serving. */
	snprintf(url, sizeof(url), "%s/__admin/health", https);
	http_call("GET", url, NULL, NULL, 0, &r);
	cr_expect(eq(long, r.status, 200));
	http_result_release(&r);
}

Test(tls_mockd, wss_with_an_independent_client)
{
	cr_assert(access("/usr/bin/python3", X_OK) == 0, "no /usr/bin/python3 (scripts/deps.sh installs python3-websockets)");
	int code = workdir_sh("wss.out", "wss.err", "/usr/bin/python3 tests/integration/wss_client_check.py '%s' 127.0.0.1:%d",
			      workdir_path("cert.pem"), tls.port);
	char *out = slurp_file(workdir_path("wss.out"), 1u << 16), *err = slurp_file(workdir_path("wss.err"), 1u << 16);
	cr_expect(eq(int, code, 0), "the independent client found problems:\n%s%s", out, err);
	cr_expect(strstr(out, "ok ") != NULL, "no check ran:\n%s%s", out, err);
	free(out);
	free(err);
}
