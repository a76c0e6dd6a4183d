#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

#include "common/timeutil.h"
#include <cjson/cJSON.h>

const char *bin_path(const char *name, char *out, size_t size)
{
	const char *dir = getenv("CHATCONFORM_BIN");
	snprintf(out, size, "%s/%s", dir && *dir ? dir : "bin", name);
	return out;
}

static char workdir[64];

/* Make a fresh folder /tmp/PREFIX-XXXXXX, the work folder of this test process; asserts on failure. */
void workdir_make(const char *prefix)
{
	snprintf(workdir, sizeof(workdir), "/tmp/%s-XXXXXX", prefix);
	cr_assert(mkdtemp(workdir) != NULL);
}

/* Remove the work folder and all in it (a warning when it cannot). */
void workdir_remove(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	if (workdir[0] && system(cmd) != 0)
		cr_log_warn("cannot remove %s", workdir);
}

/* The path of name in the work folder, in one of 16 static buffers used in turn. */
const char *workdir_path(const char *name)
{
	static char paths[16][256];
	static int next;
	char *p = paths[next++ % 16];
	snprintf(p, 256, "%s/%s", workdir, name);
	return p;
}

/* Run a shell command line (printf-style), stdout and stderr to out_name and err_name in the work folder. */
int workdir_sh(const char *out_name, const char *err_name, const char *fmt, ...)
{
	char line[8192], cmd[9000];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s >'%s' 2>'%s'", line, workdir_path(out_name), workdir_path(err_name));
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The whole file at path, NUL-terminated, at most max bytes of it; asserts when it cannot be opened. */
char *slurp_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL, "cannot open %s", path);
	struct buf b;
	buf_init(&b, max);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (!b.data)
		buf_adds(&b, "");
	return buf_detach(&b, NULL);
}

/* Tests read what they check from the API, not mockd's stderr: the access log is off unless asked for. */
void mockd_start(struct mockd_proc *m, const char *const *args)
{
	mockd_start_logged(m, args, NULL);
}

void mockd_start_logged(struct mockd_proc *m, const char *const *args, const char *err_path)
{
	char exe[512];
	bin_path("mockd", exe, sizeof(exe));
	snprintf(m->port_file, sizeof(m->port_file), "/tmp/cc-mockd-%d-%ld.port", getpid(), (long)time(NULL));
	unlink(m->port_file);
	const char *argv[64] = { exe, "--listen", "127.0.0.1:0", "--port-file", m->port_file };
	int argc = 5;
	if (!err_path)
		argv[argc++] = "--quiet";
	for (; args && *args && argc < 62; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	m->pid = fork();
	cr_assert(m->pid >= 0, "fork: %s", strerror(errno));
	if (m->pid == 0) {
		int fd = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		execv(exe, (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	/* The port file is complete once it holds a newline. */
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(m->port_file, "r");
		char line[128] = "";
		if (f) {
			bool done = fgets(line, sizeof(line), f) && strchr(line, '\n');
			fclose(f);
			char *colon = strrchr(line, ':');
			if (done && colon) {
				m->port = atoi(colon + 1);
				snprintf(m->base, sizeof(m->base), "http://127.0.0.1:%d", m->port);
				return;
			}
		}
		int st;
		if (waitpid(m->pid, &st, WNOHANG) == m->pid)
			cr_assert_fail("mockd exited before listening (status %d)", st);
		usleep(20 * 1000);
	}
	kill(m->pid, SIGKILL);
	cr_assert_fail("mockd did not write its port file within 10 s");
}

int mockd_stop(struct mockd_proc *m)
{
	int st = 0;
	if (m->pid <= 0)
		return -1;
	kill(m->pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
			m->pid = 0;
			unlink(m->port_file);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		usleep(20 * 1000);
	}
	kill(m->pid, SIGKILL);
	waitpid(m->pid, &st, 0);
	m->pid = 0;
	unlink(m->port_file);
	return -1;
}

struct call_ctx {
	struct http_result *r;
	int64_t start;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct call_ctx *ctx = arg;
	struct http_result *r = ctx->r;
	if (r->nchunks < MAX_CHUNKS)
		r->chunk_ms[r->nchunks++] = (double)(mono_ms() - ctx->start);
	return buf_add(&r->body, p, size * n) == BUF_OK ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_result *r = arg;
	return buf_add(&r->headers, p, size * n) == BUF_OK ? size * n : 0;
}

static const char *cacert;

void http_set_cacert(const char *path)
{
	cacert = path;
}

void http_call(const char *method, const char *url, const char *const *headers, const char *body,
	       size_t body_len, struct http_result *out)
{
	memset(out, 0, sizeof(*out));
	buf_init(&out->headers, 1u << 20);
	buf_init(&out->body, 1u << 26);
	CURL *c = curl_easy_init();
	cr_assert(c != NULL);
	struct curl_slist *hl = NULL;
	for (; headers && *headers; headers++)
		hl = curl_slist_append(hl, *headers);
	struct call_ctx ctx = { out, mono_ms() };
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	out->curl_code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
}

void http_result_release(struct http_result *r)
{
	buf_release(&r->headers);
	buf_release(&r->body);
}

bool http_header(const struct http_result *r, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	const char *p = buf_str(&r->headers);
	while (*p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)(len - (size_t)(v - p)), v);
			return true;
		}
		p += len + (eol ? 2 : 0);
	}
	return false;
}

long proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

long rss_allowance_kb(long kb)
{
	const char *asan = getenv("CHATCONFORM_ASAN");
	return asan && *asan && strcmp(asan, "0") != 0 ? 4 * kb : kb;
}

cJSON *run_suite_report(const char *name, const char *extra, int want_exit)
{
	enum { OUT_MAX = 16u << 20 };
	char cc[512], mockd[512];
	bin_path("chatconform", cc, sizeof(cc));
	bin_path("mockd", mockd, sizeof(mockd));
	int code = workdir_sh("run.out", "run.err", "%s run tests/data/suites/%s --mockd %s %s --json '%s'", cc, name,
			      mockd, extra, workdir_path("report.json"));
	char *out = slurp_file(workdir_path("run.out"), OUT_MAX);
	cr_assert(code == want_exit, "the run of %s must exit %d, not %d:\n%s", name, want_exit, code, out);
	free(out);
	char *text = slurp_file(workdir_path("report.json"), OUT_MAX);
	cJSON *doc = cJSON_Parse(text);
	free(text);
	cr_assert(doc != NULL, "the JSON report of %s is not JSON", name);
	return doc;
}
