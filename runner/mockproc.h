/*
 * mockproc: start the bundled mockd for --target mock, and make sure it stops.
 *
 * mockd is started on 127.0.0.1 port 0 with --port-file; we poll the file
 * until it names the port.  Stopping is SIGTERM, up to 5 s of grace, then
 * SIGKILL.  mockd runs in a process group of its own, so a Ctrl-C in the
 * terminal reaches the runner alone.  For SIGINT, SIGTERM and SIGHUP that the
 * program neither handles, ignores nor blocks (to take it with sigwait),
 * mockproc_start installs a handler that stops mockd and dies of the signal; a
 * program that takes them itself calls mockproc_kill_running when it must end
 * at once.  Either way mockd never outlives the run (and PR_SET_PDEATHSIG
 * covers a runner killed with SIGKILL).
 */
#ifndef CC_RUNNER_MOCKPROC_H
#define CC_RUNNER_MOCKPROC_H

#include <sys/types.h>

#include "common/buf.h"

struct mockproc {
	pid_t pid;              /* -1 when not running */
	char dir[64];           /* private temp folder holding the port file */
	char port_file[96];
	char base_url[128];     /* "http://127.0.0.1:PORT" once started */
};

/* The default mockd: "mockd" next to the running executable. Writes the path to out; 0, or -1. */
int mockproc_default_path(char *out, size_t size);
/*
 * Start path with the standard arguments and extra ones; wait up to 10 s for
 * its port.  0 with m->base_url set, or -1 with the reason in err (mockd is not
 * left running).
 */
int mockproc_start(struct mockproc *m, const char *path, const char *const *extra, size_t nextra,
		   struct buf *err);
/* 0 while mockd runs; -1 with how it ended in err when it has exited on its own. */
int mockproc_check(struct mockproc *m, struct buf *err);
/* Stop the mockd that runs, if any, and remove its port file; async-signal-safe, for a handler. */
void mockproc_kill_running(void);
/* Stop mockd (SIGTERM, 5 s, SIGKILL), remove the port file; its exit status, -1 if killed. Safe twice. */
int mockproc_stop(struct mockproc *m);

#endif
