/*
 * Unit tests for report/common's report files: where a report goes for each
 * kind of path (a new name, a regular file, a symbolic link, a FIFO, a socket,
 * "-", a folder), that nothing else is ever replaced, and that no temporary
 * file is left behind; and report_mark_not_run.
 *
 * Each test works in a fresh folder under /tmp; a FIFO's or socket's reader
 * is a child process that copies what it gets into a file.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "runner/report/common.h"
#include "tests/unit/unit.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cc-rfile-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

/* The path of name in the test's folder, in one of 8 static buffers used in turn. */
static const char *at(const char *name)
{
	static char paths[8][256];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL, "cannot open %s", path);
	fputs(text, f);
	fclose(f);
}

static char *read_text(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL, "cannot open %s", path);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* How many entries the test's folder holds (a temporary file left behind shows here). */
static int entries(void)
{
	DIR *d = opendir(dir);
	cr_assert(d != NULL);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* What path is (S_IFREG, S_IFLNK, S_IFIFO...), without following a link; 0 when it is not there. */
static int file_type(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? (int)(st.st_mode & S_IFMT) : 0;
}

/* Open path, write text, commit; what report_file_commit returned (err is reset first). */
static int write_report(const char *path, const char *text, struct buf *err)
{
	struct report_file rf;
	struct buf b;
	int rc = -1;
	buf_reset(err);
	buf_init(&b, 1 << 16);
	buf_adds(&b, text);
	if (report_file_open(&rf, path, err) == 0 && report_file_flush(&rf, &b, err) == 0)
		rc = report_file_commit(&rf, err);
	report_file_abort(&rf);
	buf_release(&b);
	return rc;
}

TestSuite(report_file, .init = make_dir, .fini = remove_dir, .timeout = 20);

Test(report_file, a_new_name_is_created_with_the_umask)
{
	struct buf err;
	struct stat st;
	buf_init(&err, 4096);
	mode_t old = umask(027);
	cr_assert(eq(int, write_report(at("new.xml"), "<a/>\n", &err), 0), "%s", buf_str(&err));
	umask(old);
	cr_expect(eq(str, read_text(at("new.xml")), STR("<a/>\n")));
	cr_assert(eq(int, stat(at("new.xml"), &st), 0));
	cr_expect(eq(int, (int)(st.st_mode & 0777), 0640));
	cr_expect(eq(int, entries(), 1), "a temporary file was left behind");
	buf_release(&err);
}

Test(report_file, a_regular_file_is_replaced_and_keeps_its_mode)
{
	struct buf err;
	struct stat before, after;
	buf_init(&err, 4096);
	write_text(at("r.json"), "old\n");
	cr_assert(eq(int, chmod(at("r.json"), 0604), 0));
	cr_assert(eq(int, stat(at("r.json"), &before), 0));
	cr_assert(eq(int, write_report(at("r.json"), "new\n", &err), 0), "%s", buf_str(&err));
	cr_assert(eq(int, stat(at("r.json"), &after), 0));
	cr_expect(eq(str, read_text(at("r.json")), STR("new\n")));
	cr_expect(before.st_ino != after.st_ino, "the file was rewritten in place, not replaced");
	cr_expect(eq(int, (int)(after.st_mode & 07777), 0604));
	cr_expect(eq(int, entries(), 1));
	buf_release(&err);
}

Test(report_file, a_symlink_stays_and_its_target_gets_the_report)
{
	struct buf err;
	buf_init(&err, 4096);
	/* A relative link in one folder to a file in another: resolved from the link's folder. */
	cr_assert(eq(int, mkdir(at("links"), 0755), 0));
	cr_assert(eq(int, mkdir(at("real"), 0755), 0));
	write_text(at("real/target.xml"), "old\n");
	cr_assert(eq(int, symlink("../real/target.xml", at("links/junit.xml")), 0));
	cr_assert(eq(int, write_report(at("links/junit.xml"), "<testsuites/>\n", &err), 0), "%s", buf_str(&err));
	cr_expect(eq(int, file_type(at("links/junit.xml")), S_IFLNK), "the symbolic link was replaced");
	cr_expect(eq(str, read_text(at("real/target.xml")), STR("<testsuites/>\n")));

	/* A chain of two links, and a link to a name that does not exist yet (created, link kept). */
	cr_assert(eq(int, symlink("links/junit.xml", at("chain.xml")), 0));
	cr_assert(eq(int, write_report(at("chain.xml"), "two\n", &err), 0), "%s", buf_str(&err));
	cr_expect(eq(str, read_text(at("real/target.xml")), STR("two\n")));
	cr_assert(eq(int, symlink("real/later.json", at("dangling.json")), 0));
	cr_assert(eq(int, write_report(at("dangling.json"), "{}\n", &err), 0), "%s", buf_str(&err));
	cr_expect(eq(str, read_text(at("real/later.json")), STR("{}\n")));
	cr_expect(eq(int, file_type(at("dangling.json")), S_IFLNK));
	cr_expect(eq(int, entries(), 4), "a temporary file was left behind (beside links, real, chain, dangling)");
	buf_release(&err);
}

Test(report_file, a_symlink_loop_is_an_error)
{
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, symlink("b", at("a")), 0));
	cr_assert(eq(int, symlink("a", at("b")), 0));
	cr_expect(eq(int, write_report(at("a"), "x", &err), -1));
	assert_contains(buf_str(&err), "too many symbolic links");
	cr_expect(eq(int, entries(), 2));
	buf_release(&err);
}

/* Fork a reader that copies the FIFO at path into out; its pid. */
static pid_t fifo_reader(const char *path, const char *out)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int in = open(path, O_RDONLY), to = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		char chunk[4096];
		ssize_t n;
		while (in >= 0 && to >= 0 && (n = read(in, chunk, sizeof(chunk))) > 0)
			if (write(to, chunk, (size_t)n) != n)
				_exit(1);
		_exit(in >= 0 && to >= 0 ? 0 : 1);
	}
	return pid;
}

Test(report_file, a_fifo_is_written_in_place)
{
	struct buf err;
	int status;
	buf_init(&err, 4096);
	cr_assert(eq(int, mkfifo(at("fifo.xml"), 0600), 0));
	pid_t reader = fifo_reader(at("fifo.xml"), at("got.txt"));
	cr_assert(eq(int, write_report(at("fifo.xml"), "<testsuites/>\n", &err), 0), "%s", buf_str(&err));
	cr_assert(eq(int, (int)waitpid(reader, &status, 0), (int)reader));
	cr_expect(eq(int, status, 0), "the reader failed");
	cr_expect(eq(str, read_text(at("got.txt")), STR("<testsuites/>\n")));
	cr_expect(eq(int, file_type(at("fifo.xml")), S_IFIFO), "the FIFO was replaced");
	cr_expect(eq(int, entries(), 2));
	buf_release(&err);
}

Test(report_file, a_symlink_to_a_fifo_writes_the_fifo)
{
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, mkfifo(at("fifo"), 0600), 0));
	cr_assert(eq(int, symlink("fifo", at("link")), 0));
	pid_t reader = fifo_reader(at("fifo"), at("got.txt"));
	cr_assert(eq(int, write_report(at("link"), "via link\n", &err), 0), "%s", buf_str(&err));
	cr_assert(eq(int, (int)waitpid(reader, NULL, 0), (int)reader));
	cr_expect(eq(str, read_text(at("got.txt")), STR("via link\n")));
	cr_expect(eq(int, file_type(at("fifo")), S_IFIFO));
	cr_expect(eq(int, file_type(at("link")), S_IFLNK));
	buf_release(&err);
}

Test(report_file, a_socket_is_connected_to)
{
	struct buf err;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	buf_init(&err, 4096);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", at("report.sock"));
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(ls >= 0);
	cr_assert(eq(int, bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, listen(ls, 1), 0));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int c = accept(ls, NULL, NULL), to = open(at("got.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		char chunk[4096];
		ssize_t n;
		while (c >= 0 && to >= 0 && (n = read(c, chunk, sizeof(chunk))) > 0)
			if (write(to, chunk, (size_t)n) != n)
				_exit(1);
		_exit(0);
	}
	close(ls);
	cr_assert(eq(int, write_report(at("report.sock"), "over a socket\n", &err), 0), "%s", buf_str(&err));
	cr_assert(eq(int, (int)waitpid(pid, NULL, 0), (int)pid));
	cr_expect(eq(str, read_text(at("got.txt")), STR("over a socket\n")));
	cr_expect(eq(int, file_type(at("report.sock")), S_IFSOCK));
	buf_release(&err);
}

Test(report_file, dash_is_stdout_and_stays_open)
{
	struct buf err;
	buf_init(&err, 4096);
	fflush(stdout);
	int fd = open(at("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	int saved = dup(STDOUT_FILENO);
	cr_assert(dup2(fd, STDOUT_FILENO) >= 0);
	close(fd);
	int rc = write_report("-", "to stdout\n", &err);
	int still_open = fputs("after\n", stdout) >= 0 && fflush(stdout) == 0;
	dup2(saved, STDOUT_FILENO);
	close(saved);
	cr_assert(eq(int, rc, 0), "%s", buf_str(&err));
	cr_expect(still_open, "stdout was closed by the report");
	cr_expect(eq(str, read_text(at("stdout.txt")), STR("to stdout\nafter\n")));
	cr_expect(access("-", F_OK) != 0, "a file named - was created");
	buf_release(&err);
}

Test(report_file, a_folder_or_a_missing_folder_is_an_error_and_leaves_nothing)
{
	struct buf err;
	buf_init(&err, 4096);
	cr_assert(eq(int, mkdir(at("sub"), 0755), 0));
	cr_expect(eq(int, write_report(at("sub"), "x", &err), -1));
	assert_contains(buf_str(&err), "it is a folder");
	cr_expect(eq(int, write_report(at("missing/r.xml"), "x", &err), -1));
	assert_contains(buf_str(&err), "No such file or directory");
	cr_expect(eq(int, entries(), 1));
	buf_release(&err);
}

Test(report_file, abort_removes_the_temporary_and_keeps_the_old_file)
{
	struct buf err;
	struct report_file rf;
	buf_init(&err, 4096);
	write_text(at("r.html"), "old\n");
	cr_assert(eq(int, report_file_open(&rf, at("r.html"), &err), 0), "%s", buf_str(&err));
	cr_expect(eq(int, entries(), 2), "the temporary file is beside the report");
	cr_assert(rf.tmp != NULL);
	assert_contains(rf.tmp, "r.html.tmp.");
	report_file_abort(&rf);
	report_file_abort(&rf);   /* twice is safe */
	cr_expect(eq(int, entries(), 1));
	cr_expect(eq(str, read_text(at("r.html")), STR("old\n")));
	buf_release(&err);
}

Test(report_file, unlink_temp_removes_the_file_being_written)
{
	struct buf err;
	struct report_file rf;
	buf_init(&err, 4096);
	cr_assert(eq(int, report_file_open(&rf, at("r.json"), &err), 0), "%s", buf_str(&err));
	report_file_unlink_temp();   /* what a signal path that ends the process calls */
	cr_expect(eq(int, entries(), 0));
	report_file_abort(&rf);
	report_file_unlink_temp();   /* nothing being written: nothing happens */
	buf_release(&err);
}

/* ---- cases that never ran ---------------------------------------------------------------- */

Test(report_file, mark_not_run_makes_errors_of_the_cases_never_started)
{
	static struct suite s = { .name = (char *)"widget" };
	static struct tcase c[3] = {
		{ .id = (char *)"a", .level = LEVEL_MUST, .suite = &s },
		{ .id = (char *)"b", .level = LEVEL_MUST, .suite = &s },
		{ .id = (char *)"c", .level = LEVEL_SHOULD, .suite = &s },
	};
	struct case_result cr[3];
	struct run_result rr = { .cases = cr, .ncases = 3, .started_at_ms = 1700000000000.0, .time_ms = 2500 };
	memset(cr, 0, sizeof(cr));
	for (int i = 0; i < 3; i++) {
		cr[i].tcase = &c[i];
		buf_init(&cr[i].diff, 4096);
		buf_init(&cr[i].transcript, 4096);
	}
	cr[0].started_at_ms = 1700000000100.0;   /* ran and passed */
	cr[0].time_ms = 12;
	cr[1].started_at_ms = 1700000000200.0;   /* ran and failed */
	cr[1].verdict = VERDICT_FAIL;
	cr[1].message = strdup("status: expected 200, got 500");
	cr_assert(eq(int, report_mark_not_run(&rr, "not run: the run was interrupted (SIGINT)"), 0));
	cr_expect(eq(int, (int)cr[0].verdict, (int)VERDICT_PASS));
	cr_expect(cr[0].message == NULL);
	cr_expect(eq(int, (int)cr[1].verdict, (int)VERDICT_FAIL));
	cr_expect(eq(str, cr[1].message, STR("status: expected 200, got 500")));
	cr_expect(eq(int, (int)cr[2].verdict, (int)VERDICT_ERROR));
	cr_expect(eq(str, cr[2].message, STR("not run: the run was interrupted (SIGINT)")));
	cr_expect(eq(dbl, cr[2].started_at_ms, 1700000002500.0), "a case not run starts when the run stopped");
	cr_expect(eq(int, (int)report_outcome(&cr[2], 0), (int)OUTCOME_ERROR));
	for (int i = 0; i < 3; i++) {
		free(cr[i].message);
		buf_release(&cr[i].diff);
		buf_release(&cr[i].transcript);
	}
}
