#include "runner/mockproc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_WAIT_MS 10000
#define STOP_WAIT_MS  5000
#define POLL_MS       20

/* The child the signal handler must stop; only one mockd runs per runner. */
static volatile pid_t running_pid = -1;
static char running_port_file[96];
static char running_dir[64];

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * SIGTERM, wait up to 5 s, SIGKILL; only async-signal-safe calls, the signal handler uses it too.
 * Returns the exit status when mockd exited by itself, -1 when it had to be killed or was gone.
 */
static int stop_pid(pid_t pid)
{
	int status;
	kill(pid, SIGTERM);
	for (long waited = 0; waited < STOP_WAIT_MS; waited += POLL_MS) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		sleep_ms(POLL_MS);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return -1;
}

void mockproc_kill_running(void)
{
	pid_t pid = running_pid;
	if (pid > 0) {
		running_pid = -1;
		stop_pid(pid);
	}
	/* Also when mockproc_stop was under way (it had cleared running_pid): the process ends next. */
	if (running_port_file[0])
		unlink(running_port_file);
	if (running_dir[0])
		rmdir(running_dir);
}

static void on_signal(int sig)
{
	mockproc_kill_running();
	/* Then die of the same signal, so the caller sees why. */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Install on_signal for sig unless the program handles, ignores (as under nohup) or blocks it already. */
static void handle_signal(int sig)
{
	struct sigaction sa, old;
	sigset_t blocked;
	if (sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
		return;
	/* A program that blocks it takes it itself (sigwait in a thread of its own). */
	if (pthread_sigmask(SIG_BLOCK, NULL, &blocked) == 0 && sigismember(&blocked, sig))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

int mockproc_default_path(char *out, size_t size)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	int w = snprintf(out, size, "%s/mockd", exe);
	return w < 0 || (size_t)w >= size ? -1 : 0;
}

/* Read "HOST:PORT\n" from the port file into base_url; 0 when it is complete. */
static int read_port_file(struct mockproc *m)
{
	char text[96];
	int fd = open(m->port_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	char *nl = strchr(text, '\n');
	if (!nl)
		return -1;   /* still being written */
	*nl = '\0';
	char *colon = strrchr(text, ':');
	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	snprintf(m->base_url, sizeof(m->base_url), "http://%s", text);
	return 0;
}

static void describe_exit(struct buf *err, const char *path, int status)
{
	if (WIFEXITED(status))
		buf_printf(err, "cannot start mockd (%s): it exited with status %d before listening "
			   "(its messages are on stderr above)", path, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		buf_printf(err, "cannot start mockd (%s): it was killed by signal %d before listening "
			   "(its messages are on stderr above)", path, WTERMSIG(status));
	else
		buf_printf(err, "cannot start mockd (%s): it stopped before listening", path);
}

int mockproc_start(struct mockproc *m, const char *path, const char *const *extra, size_t nextra,
		   struct buf *err)
{
	const char **argv = NULL;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	m->pid = -1;
	char dir[] = "/tmp/chatconform-mockd-XXXXXX";
	if (access(path, X_OK) != 0) {
		buf_printf(err, "cannot start mockd: %s: %s (build it with make, or give --mockd PATH)",
			   path, strerror(errno));
		goto out;
	}
	if (!mkdtemp(dir)) {
		buf_printf(err, "cannot create a temporary folder for mockd's port file: %s", strerror(errno));
		goto out;
	}
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	snprintf(m->port_file, sizeof(m->port_file), "%s/port", m->dir);
	argv = calloc(nextra + 12, sizeof(*argv));
	if (!argv) {
		buf_adds(err, "cannot start mockd: out of memory");
		goto out;
	}
	size_t a = 0;
	argv[a++] = path;
	argv[a++] = "--listen";
	argv[a++] = "127.0.0.1:0";
	argv[a++] = "--port-file";
	argv[a++] = m->port_file;
	argv[a++] = "--time-scale";
	argv[a++] = "0";
	argv[a++] = "--seed";
	argv[a++] = "1";
	argv[a++] = "--quiet";  /* its stderr is the runner's: a line a request would bury the case lines */
	for (size_t i = 0; i < nextra; i++)
		argv[a++] = extra[i];
	argv[a] = NULL;

	/* Record the child for the handler before it exists, so no signal can slip between. */
	snprintf(running_port_file, sizeof(running_port_file), "%s", m->port_file);
	snprintf(running_dir, sizeof(running_dir), "%s", m->dir);
	handle_signal(SIGINT);
	handle_signal(SIGTERM);
	handle_signal(SIGHUP);

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		buf_printf(err, "cannot start mockd: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Die with the runner even if it is killed with SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		/* The runner may block signals it takes with sigwait; mockd must get its SIGTERM. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/*
		 * A group of its own: a Ctrl-C in the terminal reaches the runner alone, which lets
		 * the cases in flight finish against a live mockd, then stops it.
		 */
		setpgid(0, 0);
		/* Its "listening on" line would interleave with the case lines: stdout is dropped, stderr kept;
		 * stdin too, since a background group must not read the terminal. */
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			close(devnull);
		}
		execv(path, (char *const *)argv);
		fprintf(stderr, "chatconform: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	m->pid = pid;
	running_pid = pid;
	for (long waited = 0;; waited += POLL_MS) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			m->pid = -1;
			running_pid = -1;
			describe_exit(err, path, status);
			goto out;
		}
		if (read_port_file(m) == 0)
			break;
		if (waited >= START_WAIT_MS) {
			buf_printf(err, "cannot start mockd (%s): no port in %s after %d s", path, m->port_file,
				   START_WAIT_MS / 1000);
			goto out;
		}
		sleep_ms(POLL_MS);
	}
	rc = 0;
out:
	free(argv);
	if (rc != 0)
		mockproc_stop(m);
	return rc;
}

int mockproc_check(struct mockproc *m, struct buf *err)
{
	int status;
	if (m->pid <= 0 || waitpid(m->pid, &status, WNOHANG) != m->pid)
		return 0;
	m->pid = -1;
	running_pid = -1;
	if (WIFSIGNALED(status))
		buf_printf(err, "mockd was killed by signal %d (%s) during the run", WTERMSIG(status),
			   strsignal(WTERMSIG(status)));
	else
		buf_printf(err, "mockd exited with status %d during the run", WEXITSTATUS(status));
	return -1;
}

int mockproc_stop(struct mockproc *m)
{
	int rc = 0;
	if (m->pid > 0) {
		running_pid = -1;
		rc = stop_pid(m->pid);
		m->pid = -1;
	}
	if (m->port_file[0])
		unlink(m->port_file);
	if (m->dir[0])
		rmdir(m->dir);
	m->port_file[0] = '\0';
	m->dir[0] = '\0';
	return rc;
}
