/*
 * harness: start a real mockd on a free loopback port and talk to it with libcurl.
 *
 * The binaries are found in $CHATCONFORM_BIN (make sets it), else bin/.
 */
#ifndef CC_TESTS_HARNESS_H
#define CC_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

struct mockd_proc {
	pid_t pid;
	int port;
	char base[64];           /* "http://127.0.0.1:PORT" */
	char port_file[64];
};

/* Start mockd with --listen 127.0.0.1:0 --quiet plus args (NULL-terminated); asserts on failure. */
void mockd_start(struct mockd_proc *m, const char *const *args);
/* The same without --quiet, its stderr (the access log) written to err_path. */
void mockd_start_logged(struct mockd_proc *m, const char *const *args, const char *err_path);
/* Send SIGTERM and wait (up to 10 s); returns the exit status, or -1 when it had to be killed. */
int mockd_stop(struct mockd_proc *m);
/* The path of a program in the binaries folder. */
const char *bin_path(const char *name, char *out, size_t size);

/* Make a fresh folder /tmp/PREFIX-XXXXXX, the work folder of this test process; asserts on failure. */
void workdir_make(const char *prefix);
/* Remove the work folder and all in it (a warning when it cannot). */
void workdir_remove(void);
/* The path of name in the work folder, in one of 16 static buffers used in turn. */
const char *workdir_path(const char *name);
/* Run a shell command line (printf-style), stdout and stderr to out_name and err_name in the work folder;
 * its exit status, or -1 when it did not exit. */
int workdir_sh(const char *out_name, const char *err_name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The whole file at path, NUL-terminated, at most max bytes of it; asserts when it cannot be opened. Free it. */
char *slurp_file(const char *path, size_t max);
/*
 * Run the suites in tests/data/suites/NAME against a mockd the runner starts,
 * with extra options, in the work folder (made first); assert that the run
 * exits want_exit and return its JSON report (cJSON_Delete it).
 */
struct cJSON *run_suite_report(const char *name, const char *extra, int want_exit);

#define MAX_CHUNKS 4096

struct http_result {
	int curl_code;           /* CURLE_OK when the transfer completed */
	long status;
	struct buf headers;
	struct buf body;
	size_t nchunks;
	double chunk_ms[MAX_CHUNKS];  /* when each piece of the body arrived, since the start */
};

/* One request; headers is NULL-terminated "Name: value" strings. Call http_result_release after. */
void http_call(const char *method, const char *url, const char *const *headers, const char *body,
	       size_t body_len, struct http_result *out);
void http_result_release(struct http_result *r);
/* Trust only path's certificates for https in the http_call that follow (NULL: the system's). */
void http_set_cacert(const char *path);
/* The value of a response header (case-insensitive), copied into out; false when absent. */
bool http_header(const struct http_result *r, const char *name, char *out, size_t size);

/* A process's resident memory in KiB (VmRSS of /proc/PID/status), 0 when it cannot be read. */
long proc_rss_kb(pid_t pid);
/*
 * What a memory bound of kb allows in this build: kb, or four times kb when the
 * programs are built with AddressSanitizer (make sanitize sets CHATCONFORM_ASAN),
 * whose redzones and quarantine of freed memory multiply what a process holds.
 * The bounds themselves are checked by the plain build.
 */
long rss_allowance_kb(long kb);

#endif
