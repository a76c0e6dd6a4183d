/*
 * mockd's WebSocket side against an independent client: Debian's python3-websockets,
 * run by /usr/bin/python3 (tests/integration/ws_client_check.py lists the checks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"

static struct mockd_proc mockd;

static void start(void)
{
	const char *args[] = { "--time-scale", "0", NULL };
	mockd_start(&mockd, args);
}

static void stop(void)
{
	if (mockd.pid > 0)
		cr_expect(eq(int, mockd_stop(&mockd), 0), "mockd stops cleanly after the WebSocket checks");
}

TestSuite(ws_interop, .init = start, .fini = stop, .timeout = 120);

Test(ws_interop, python_websockets_client_against_mockd)
{
	if (access("/usr/bin/python3", X_OK) != 0)
		cr_skip_test("no /usr/bin/python3 (scripts/deps.sh installs python3-websockets)");
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/integration/ws_client_check.py 127.0.0.1:%d 2>&1",
		 mockd.port);
	FILE *p = popen(cmd, "r");
	cr_assert(p != NULL);
	char out[16384];
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	cr_assert(eq(int, code, 0), "the independent client found problems:\n%s", out);
	cr_assert(strstr(out, "ok ") != NULL, "no check ran:\n%s", out);
}
