/*
 * The runner over TLS: https:// and wss:// against an independent TLS peer
 * (tests/integration/tls_server.py on Debian's python3-websockets) whose
 * certificate is made for the test; trusted only through --cacert.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"

static pid_t server;
static char dir[64], cert[96], key[96], portfile[96];
static int port;

static void start(void)
{
	if (access("/usr/bin/python3", X_OK) != 0)
		cr_skip_test("no /usr/bin/python3 (scripts/deps.sh installs python3-websockets)");
	snprintf(dir, sizeof(dir), "/tmp/cc-tls-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 1 "
		 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", key, cert);
	if (system(cmd) != 0)
		cr_skip_test("no openssl command to make a test certificate");
	server = fork();
	cr_assert(server >= 0);
	if (server == 0) {
		execl("/usr/bin/python3", "python3", "tests/integration/tls_server.py", cert, key, portfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250 && !port; i++) {
		FILE *f = fopen(portfile, "r");
		if (f) {
			if (fscanf(f, "127.0.0.1:%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (!port)
			usleep(20 * 1000);
	}
	cr_assert(port > 0, "the TLS peer did not start");
}

static void stop(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

static int run_runner(const char *extra, char *out, size_t size)
{
	char exe[512], cmd[1024];
	bin_path("chatconform", exe, sizeof(exe));
	snprintf(cmd, sizeof(cmd), "NO_COLOR=1 %s run tests/data/suites/tls --target https://127.0.0.1:%d "
		 "--junit %s/junit.xml %s 2>&1", exe, port, dir, extra);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TestSuite(tls_runner, .init = start, .fini = stop, .timeout = 60);

Test(tls_runner, https_and_wss_with_cacert)
{
	char out[8192], extra[160];
	snprintf(extra, sizeof(extra), "--cacert %s", cert);
	cr_assert(eq(int, run_runner(extra, out, sizeof(out)), 0), "%s", out);
	cr_assert(strstr(out, "2 passed, 0 failed") != NULL, "%s", out);
}

Test(tls_runner, an_untrusted_certificate_is_unreachable)
{
	char out[8192];
	cr_assert(eq(int, run_runner("", out, sizeof(out)), 3), "%s", out);
	cr_assert(strstr(out, "certificate") != NULL, "the reason names the certificate:\n%s", out);
}
