/*
 * mockd: a mock server for the four chat APIs chatconform checks.
 *
 * main() reads like a script: options, keys and scripts, the event base, the
 * HTTP server and its routes, the listeners, signals, the loop; then
 * everything is freed in reverse.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mockd/accesslog.h"
#include "mockd/admin.h"
#include "mockd/apis/apis.h"
#include "mockd/breaks.h"
#include "mockd/cors.h"
#include "mockd/guard.h"
#include "mockd/http.h"
#include "mockd/journal.h"
#include "mockd/keys.h"
#include "mockd/lifecycle.h"
#include "mockd/mockd.h"
#include "mockd/script.h"
#include "mockd/store.h"
#include "mockd/stream.h"
#include "mockd/tls.h"
#include "mockd/ws.h"

#define MAX_LISTENERS 8

static const char usage_text[] =
	"usage: mockd [options]\n"
	"\n"
	"A mock server for the chat APIs chatconform checks (deepwiki, threads, botchat, widget),\n"
	"answering with scripted LLM backends. See docs/mockd.md.\n"
	"\n"
	"options:\n"
	"  -l, --listen HOST:PORT   listen here (repeatable; port 0 picks a free port)\n"
	"                           default 127.0.0.1:8080\n"
	"      --port-file FILE     write the listening addresses there, one HOST:PORT a line\n"
	"      --api LIST           serve only these APIs (comma-separated; default all)\n"
	"      --keys FILE          API keys and per-API settings (default fixtures/keys.json)\n"
	"      --scripts PATH       load scripted LLM rules from a file, or from PATH/*.json\n"
	"      --max-rule-bytes N   cap what all rules cost, an estimate of their memory (default 64 MiB)\n"
	"      --max-store-bytes N  cap the conversations' memory (default 64 MiB, at least 8 MiB);\n"
	"                           past it the least recently updated are dropped. N takes K, M, G\n"
	"      --time-scale X       multiply every scripted delay by X (0 = no waiting; default 1)\n"
	"      --seed N             seed for ids, jitter and default answers (default 1)\n"
	"      --admin-token T      open /__admin/ on every listener, to callers bearing T\n"
	"      --idle-timeout S     close idle connections after S seconds (default 60)\n"
	"      --header-timeout S   close a connection whose request has not arrived whole S seconds\n"
	"                           after accept or after its first byte (default 5)\n"
	"      --journal N          keep the last N requests for GET /__admin/journal (default 1000;\n"
	"                           0 = off; at most 100000). Each costs about 5 KiB, 4 KiB of them\n"
	"                           the body's first bytes: N = 100000 is 525 MB at most\n"
	"      --tls-cert FILE      serve https and wss on every listener with this PEM certificate\n"
	"      --tls-key FILE       ... and this PEM private key (both or neither)\n"
	"      --cors ORIGIN        let pages on ORIGIN (http://host:port, or *) call mockd (repeatable);\n"
	"                           default: pages on loopback origins, on loopback listeners\n"
	"      --no-cors            no CORS headers, preflights 405, no WebSocket Origin check\n"
	"      --break NAME         violate one documented rule (repeatable; see --list-breaks)\n"
	"      --list-breaks        print the catalog of breaks and exit\n"
	"      --log text|json      log format on stderr (default text)\n"
	"  -q, --quiet              no access log (a line a request and a WebSocket message)\n"
	"  -h, --help               print this help and exit\n"
	"  -V, --version            print the version and exit\n";

static void usage(FILE *out)
{
	fputs(usage_text, out);
}

struct listener {
	char host[256];
	int port;
};

/* "HOST:PORT" or "[V6]:PORT" into l; -1 when it is neither. */
static int parse_listen(const char *arg, struct listener *l)
{
	const char *colon;
	size_t hlen;
	const char *host = arg;
	if (*arg == '[') {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':')
			return -1;
		host = arg + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - arg);
	}
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (hlen == 0 || hlen >= sizeof(l->host) || *end || colon[1] == '\0' || errno || port < 0 ||
	    port > 65535)
		return -1;
	memcpy(l->host, host, hlen);
	l->host[hlen] = '\0';
	l->port = (int)port;
	return 0;
}

/* "N", "NK", "NM" or "NG" (binary multiples, "KiB" and the like too) into *out; -1 when it is none. */
static int parse_bytes(const char *arg, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (end == arg || errno || *arg == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (shift && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (*end || v > (ULLONG_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

static int parse_apis(const char *list)
{
	unsigned bits = API_ADMIN;
	char *copy = strdup(list), *save = NULL;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const struct api *a = api_by_name(name);
		if (!a) {
			fprintf(stderr, "mockd: unknown API \"%s\" (known: deepwiki, threads, botchat, widget)\n",
				name);
			free(copy);
			return -1;
		}
		bits |= a->bit;
	}
	free(copy);
	mockd_cfg.apis = bits;
	return 0;
}

#ifdef CHATCONFORM_DATADIR
#define INSTALLED_KEYS CHATCONFORM_DATADIR "/fixtures/keys.json"   /* make install puts it there */
#endif

/*
 * The default keys file: ./fixtures/keys.json, else ../fixtures beside the
 * executable (bin/ of a checkout), else the installed one under the data
 * folder compiled in (PREFIX/share/chatconform); NULL when none is readable.
 */
static const char *default_keys_path(char *out, size_t size)
{
	if (access("fixtures/keys.json", R_OK) == 0)
		return "fixtures/keys.json";
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		int n2 = snprintf(out, size, "%.*s/../fixtures/keys.json", (int)(size > 64 ? size - 64 : 0), exe);
		if (n2 > 0 && (size_t)n2 < size && access(out, R_OK) == 0)
			return out;
	}
#ifdef INSTALLED_KEYS
	if (access(INSTALLED_KEYS, R_OK) == 0)
		return INSTALLED_KEYS;
#endif
	return NULL;
}

/* Each finished request goes to the journal and the access log. An http_observer_fn. */
static void observe_cb(const struct mreq *r, void *arg)
{
	admin_journal_cb(r, NULL);
	accesslog_request(r, NULL);
}

/* The listeners: an entry of the lifecycle table like the modules', made by main. */
static struct {
	struct evhttp *http;
	struct evhttp_bound_socket *bound[MAX_LISTENERS];
	int nbound;
} listening;

/* Stop accepting: the first step of a shutdown, so nothing new starts while the rest ends. */
static void listeners_shutdown(void)
{
	for (int i = 0; i < listening.nbound; i++)
		evhttp_del_accept_socket(listening.http, listening.bound[i]);
	listening.nbound = 0;
}

/* Free the server and the connections it still holds (after the streams and WebSockets let go of theirs). */
static void listeners_release(void)
{
	if (listening.http)
		evhttp_free(listening.http);
	listening.http = NULL;
	listening.nbound = 0;
}

static const struct lifecycle listeners_lifecycle = { "listeners", NULL, listeners_shutdown, listeners_release };

/*
 * After the shutdown steps the loop runs on until every WebSocket's peer has
 * answered its close frame, and for SHUTDOWN_STREAMS_MS at least when streams
 * were ended (their last chunks, which evhttp writes on a later turn, leave;
 * a stream's socket cannot be asked whether they have), checked every
 * SHUTDOWN_POLL_MS, SHUTDOWN_WAIT_MS at most.
 */
#define SHUTDOWN_POLL_MS    10
#define SHUTDOWN_STREAMS_MS 50
#define SHUTDOWN_WAIT_MS    500

struct stopping {
	struct event *poll;
	int64_t since_us;
	int64_t at_least_us;
};

static void settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stopping *st = arg;
	int64_t waited = mono_us() - st->since_us;
	if ((ws_count() == 0 && waited >= st->at_least_us) || waited >= SHUTDOWN_WAIT_MS * 1000)
		event_base_loopbreak(mockd_base);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct stopping *st = arg;
	if (st->poll) {
		event_base_loopbreak(mockd_base);  /* a second signal: at once */
		return;
	}
	log_info("%s received: closing listeners, ending %zu open streams and %zu WebSockets", strsignal((int)sig),
		 stream_count(), ws_count());
	st->at_least_us = stream_count() ? SHUTDOWN_STREAMS_MS * 1000 : 0;
	lifecycle_shutdown();
	st->since_us = mono_us();
	struct timeval every = { 0, SHUTDOWN_POLL_MS * 1000 };
	st->poll = event_new(mockd_base, -1, EV_PERSIST, settle_cb, st);
	if (!st->poll || event_add(st->poll, &every) < 0) {
		struct timeval grace = { 0, SHUTDOWN_WAIT_MS * 1000 };
		event_base_loopexit(mockd_base, &grace);
	}
}

/*
 * The longest accept queue the system allows: net.core.somaxconn (4096 on
 * Linux since 5.4), else 4096. libevent's own evhttp_bind_socket listens with
 * 128, and evconnlistener's -1 means 128 too: 10,000 clients connecting at once
 * then overflow the queue and wait on SYN retries (a connect p99 of 35 s).
 */
static int listen_backlog(void)
{
	int n = 0;
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n > 0 ? n : 4096;
}

/*
 * A listening socket on host:port as evhttp_bind_socket makes one (the first
 * address getaddrinfo gives, non-blocking, close-on-exec, SO_KEEPALIVE, which
 * accepted sockets inherit, SO_REUSEADDR), but with the given backlog; -1 with
 * errno set.
 */
static evutil_socket_t listen_socket(const char *host, int port, int backlog)
{
	struct evutil_addrinfo hints = { 0 }, *ai = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	char service[8];
	snprintf(service, sizeof(service), "%d", port);
	evutil_socket_t fd = -1;
	int err = evutil_getaddrinfo(host, service, &hints, &ai);
	if (err != 0) {
		log_error("cannot resolve %s: %s", host, evutil_gai_strerror(err));
		errno = EADDRNOTAVAIL;
		goto fail;
	}
	int one = 1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || evutil_make_socket_nonblocking(fd) < 0 || evutil_make_socket_closeonexec(fd) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	    evutil_make_listen_socket_reuseable(fd) < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, backlog) < 0)
		goto fail;
	evutil_freeaddrinfo(ai);
	return fd;
fail:
	err = errno;
	if (fd >= 0)
		evutil_closesocket(fd);
	if (ai)
		evutil_freeaddrinfo(ai);
	errno = err;
	return -1;
}

/* The address a bound socket actually got (port 0 becomes the chosen port). */
static int bound_port(struct evhttp_bound_socket *b)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Each line of text as one log record ("FILE:LINE:COLUMN: PATH: what" lines stay one a record). */
static void log_lines(enum log_level level, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");
		log_msg(level, "%.*s", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* "12 rules from fixtures/scripts (3 files), 9 keys from fixtures/keys.json": what the run starts with. */
static void log_loaded(unsigned nfiles)
{
	char rules[600] = "no rules", keys[600] = "no keys";
	size_t nrules, bytes, max;
	script_usage(&nrules, &bytes, &max);
	if (mockd_cfg.scripts_dir)
		snprintf(rules, sizeof(rules), "%zu rule%s from %.500s (%u file%s)", nrules, nrules == 1 ? "" : "s",
			 mockd_cfg.scripts_dir, nfiles, nfiles == 1 ? "" : "s");
	if (mockd_cfg.keys_path)
		snprintf(keys, sizeof(keys), "%zu key%s from %.500s", keys_count(), keys_count() == 1 ? "" : "s",
			 mockd_cfg.keys_path);
	log_info("%s, %s", rules, keys);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen",       required_argument, NULL, 'l' },
		{ "port-file",    required_argument, NULL, 'p' },
		{ "api",          required_argument, NULL, 'a' },
		{ "keys",         required_argument, NULL, 'k' },
		{ "scripts",      required_argument, NULL, 's' },
		{ "max-rule-bytes", required_argument, NULL, 'R' },
		{ "max-store-bytes", required_argument, NULL, 'M' },
		{ "time-scale",   required_argument, NULL, 't' },
		{ "seed",         required_argument, NULL, 'S' },
		{ "admin-token",  required_argument, NULL, 'T' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "header-timeout", required_argument, NULL, 'H' },
		{ "journal",      required_argument, NULL, 'j' },
		{ "tls-cert",     required_argument, NULL, 'C' },
		{ "tls-key",      required_argument, NULL, 'K' },
		{ "cors",         required_argument, NULL, 'c' },
		{ "no-cors",      no_argument,       NULL, 'N' },
		{ "break",        required_argument, NULL, 'b' },
		{ "list-breaks",  no_argument,       NULL, 'B' },
		{ "log",          required_argument, NULL, 'L' },
		{ "quiet",        no_argument,       NULL, 'q' },
		{ "help",         no_argument,       NULL, 'h' },
		{ "version",      no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct listener listeners[MAX_LISTENERS];
	int nlisteners = 0;
	const char *port_file = NULL;
	const char *tls_cert = NULL, *tls_key = NULL;
	bool cors_given = false, no_cors = false;
	long journal_n = JOURNAL_DEFAULT;
	enum log_format log_fmt = LOG_TEXT;
	bool quiet = false;
	int rc = 1, opt;
	char *end;
	struct buf err;
	buf_init(&err, 64 * 1024);
	log_setup("mockd", LOG_TEXT, LOG_INFO);

	while ((opt = getopt_long(argc, argv, "l:qhV", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (nlisteners == MAX_LISTENERS || parse_listen(optarg, &listeners[nlisteners]) < 0) {
				fprintf(stderr, "mockd: --listen: expected HOST:PORT (at most %d), got \"%s\"\n",
					MAX_LISTENERS, optarg);
				return 2;
			}
			nlisteners++;
			break;
		case 'p': port_file = optarg; break;
		case 'a':
			if (parse_apis(optarg) < 0)
				return 2;
			break;
		case 'k': mockd_cfg.keys_path = optarg; break;
		case 's': mockd_cfg.scripts_dir = optarg; break;
		case 'R': {
			unsigned long long v = 0;
			if (parse_bytes(optarg, &v) < 0 || v < 1 || v > SCRIPT_MAX_RULE_BYTES) {
				fprintf(stderr, "mockd: --max-rule-bytes: expected bytes from 1 to %llu, got \"%s\"\n",
					(unsigned long long)SCRIPT_MAX_RULE_BYTES, optarg);
				return 2;
			}
			script_set_max_bytes((size_t)v);
			break;
		}
		case 'M': {
			unsigned long long v = 0;
			if (parse_bytes(optarg, &v) < 0 || v < STORE_MIN_MAX_BYTES || v > STORE_MAX_MAX_BYTES) {
				fprintf(stderr, "mockd: --max-store-bytes: expected bytes from %llu (8M) to %llu (1024G), "
					"got \"%s\"\n", STORE_MIN_MAX_BYTES, STORE_MAX_MAX_BYTES, optarg);
				return 2;
			}
			store_set_max_bytes((size_t)v);
			break;
		}
		case 't':
			mockd_cfg.time_scale = strtod(optarg, &end);
			if (*end || end == optarg || !(mockd_cfg.time_scale >= 0) || mockd_cfg.time_scale > 1000) {
				fprintf(stderr, "mockd: --time-scale: expected a number from 0 to 1000, got \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'S':
			errno = 0;
			mockd_cfg.seed = strtoull(optarg, &end, 10);
			if (*end || end == optarg || errno) {
				fprintf(stderr, "mockd: --seed: expected a whole number, got \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'T':
			if (!*optarg) {
				fprintf(stderr, "mockd: --admin-token: the token cannot be empty\n");
				return 2;
			}
			mockd_cfg.admin_token = optarg;
			break;
		case 'i':
			mockd_cfg.idle_timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || mockd_cfg.idle_timeout_s < 1) {
				fprintf(stderr, "mockd: --idle-timeout: expected seconds >= 1, got \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'H':
			mockd_cfg.header_timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || mockd_cfg.header_timeout_s < 1 || mockd_cfg.header_timeout_s > 3600) {
				fprintf(stderr, "mockd: --header-timeout: expected seconds from 1 to 3600, got \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			errno = 0;
			journal_n = strtol(optarg, &end, 10);
			if (*end || end == optarg || errno || journal_n < 0 || journal_n > JOURNAL_MAX) {
				fprintf(stderr, "mockd: --journal: expected a number of requests from 0 to %d, got \"%s\"\n",
					JOURNAL_MAX, optarg);
				return 2;
			}
			break;
		case 'C': tls_cert = optarg; break;
		case 'K': tls_key = optarg; break;
		case 'c':
			if (cors_allow(optarg) < 0) {
				fprintf(stderr, "mockd: --cors: expected *, null or SCHEME://HOST[:PORT] (at most %d), "
					"got \"%s\"\n", CORS_MAX_ORIGINS, optarg);
				return 2;
			}
			cors_given = true;
			break;
		case 'N': no_cors = true; break;
		case 'b':
			if (breaks_enable(optarg) < 0) {
				fprintf(stderr, "mockd: --break: no break named \"%s\" (see mockd --list-breaks)\n",
					optarg);
				return 2;
			}
			break;
		case 'B': breaks_list(stdout); return 0;
		case 'L':
			if (strcmp(optarg, "text") == 0)
				log_fmt = LOG_TEXT;
			else if (strcmp(optarg, "json") == 0)
				log_fmt = LOG_JSON;
			else {
				fprintf(stderr, "mockd: --log: expected text or json, got \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("mockd %s\n", CHATCONFORM_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mockd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!tls_cert != !tls_key) {
		fprintf(stderr, "mockd: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (cors_given && no_cors) {
		fprintf(stderr, "mockd: --cors and --no-cors contradict each other\n");
		return 2;
	}
	if (no_cors)
		cors_off();
	log_setup("mockd", log_fmt, LOG_INFO);
	if (nlisteners == 0) {
		snprintf(listeners[0].host, sizeof(listeners[0].host), "127.0.0.1");
		listeners[0].port = 8080;
		nlisteners = 1;
	}
	mockd_rand_seed(mockd_cfg.seed);

	char keys_buf[PATH_MAX];
	if (!mockd_cfg.keys_path)
		mockd_cfg.keys_path = default_keys_path(keys_buf, sizeof(keys_buf));
	if (!mockd_cfg.keys_path)
#ifdef INSTALLED_KEYS
		log_warn("no keys file found (fixtures/keys.json here, beside mockd, nor " INSTALLED_KEYS
			 "): every authenticated endpoint answers 401");
#else
		log_warn("no keys file found (fixtures/keys.json): every authenticated endpoint answers 401");
#endif
	struct evhttp *http = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct stopping stopping = { 0 };
	/* The lifecycle table (mockd/lifecycle.h): reset, shutdown and exit walk it. */
	lifecycle_register_all(&listeners_lifecycle);
	/* Every problem of both files is listed before mockd gives up. */
	unsigned nfiles = 0;
	bool config_ok = !mockd_cfg.keys_path || keys_load(mockd_cfg.keys_path, &err) == 0;
	if (mockd_cfg.scripts_dir && script_load(mockd_cfg.scripts_dir, &nfiles, &err) != SCRIPT_OK)
		config_ok = false;
	if (!config_ok) {
		log_lines(LOG_ERROR, buf_str(&err));
		rc = 2;
		goto out;
	}
	log_loaded(nfiles);

	if (journal_init((size_t)journal_n) < 0) {
		log_error("cannot make room for a journal of %ld requests", journal_n);
		goto out;
	}

	signal(SIGPIPE, SIG_IGN);
	/*
	 * Precise timers: without the flag libevent reads CLOCK_MONOTONIC_COARSE (a
	 * tick of 4 ms here) and sleeps in whole milliseconds of epoll_wait, and
	 * every paced token would be late by up to that; with it, CLOCK_MONOTONIC
	 * and a timerfd, at the price of one timerfd_settime a loop turn.
	 *
	 * The epoll changelist: evhttp turns a connection's reading off and its
	 * writing on to answer, and back once the answer is written; without it
	 * each of the four is an epoll_ctl, with it the changes of one loop turn
	 * are one epoll_ctl (2 a small reply instead of 4). Its documented trap,
	 * descriptors cloned by dup(), is not mockd's: it never dups one.
	 */
	struct event_config *ecfg = event_config_new();
	if (ecfg) {
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		mockd_base = event_base_new_with_config(ecfg);
		event_config_free(ecfg);
	}
	if (!mockd_base) {
		log_error("cannot create the event base");
		goto out;
	}
	http = http_server_new(mockd_base, mockd_cfg.idle_timeout_s);
	if (!http) {
		log_error("cannot create the HTTP server");
		goto out;
	}
	listening.http = http;
	if (tls_cert && tls_setup(tls_cert, tls_key, &err) < 0) {
		log_error("%s", buf_str(&err));
		rc = 2;
		goto out;
	}
	if (guard_init(http, mockd_cfg.header_timeout_s, tls_enabled() ? tls_bufferevent_new : NULL, NULL) < 0) {
		log_error("cannot watch connections: out of memory");
		goto out;
	}
	apis_register(mockd_cfg.apis);
	http_observe(observe_cb, NULL);
	accesslog_init(log_fmt, !quiet);

	struct buf where;
	buf_init(&where, 4096);
	FILE *pf = NULL;
	if (port_file && !(pf = fopen(port_file, "w"))) {
		log_error("cannot write the port file %s: %s", port_file, strerror(errno));
		goto out;
	}
	int backlog = listen_backlog();
	for (int i = 0; i < nlisteners; i++) {
		evutil_socket_t fd = listen_socket(listeners[i].host, listeners[i].port, backlog);
		/*
		 * The bound socket owns fd from here (evhttp_del_accept_socket and
		 * evhttp_free close it). Should it fail, fd may or may not have been
		 * closed already, and mockd exits: it is left to the exit.
		 */
		struct evhttp_bound_socket *b = fd < 0 ? NULL : evhttp_accept_socket_with_handle(http, fd);
		if (!b) {
			log_error("cannot listen on %s:%d: %s", listeners[i].host, listeners[i].port,
				  strerror(errno));
			if (pf)
				fclose(pf);
			buf_release(&where);
			goto out;
		}
		listening.bound[listening.nbound++] = b;
		guard_listener(b);
		/* Accepted sockets inherit TCP_NODELAY on Linux: without it each event waits on Nagle. */
		int one = 1;
		setsockopt(evhttp_bound_socket_get_fd(b), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		int port = bound_port(b);
		bool v6 = strchr(listeners[i].host, ':') != NULL;
		buf_printf(&where, "%s%s://%s%s%s:%d", i ? ", " : "", tls_enabled() ? "https" : "http",
			   v6 ? "[" : "", listeners[i].host,
			   v6 ? "]" : "", port);
		if (pf)
			fprintf(pf, "%s%s%s:%d\n", v6 ? "[" : "", listeners[i].host, v6 ? "]" : "", port);
	}
	if (pf)
		fclose(pf);
	/* Printed after the port file is complete, so a caller may wait for either. */
	log_info("listening on %s (backlog %d)", buf_str(&where), backlog);
	log_flush();  /* now: callers wait for it */
	fflush(stderr);
	buf_release(&where);

	sigint = evsignal_new(mockd_base, SIGINT, signal_cb, &stopping);
	sigterm = evsignal_new(mockd_base, SIGTERM, signal_cb, &stopping);
	if (!sigint || !sigterm || event_add(sigint, NULL) < 0 || event_add(sigterm, NULL) < 0) {
		log_error("cannot install signal handlers");
		goto out;
	}
	event_base_dispatch(mockd_base);
	log_info("stopped");
	rc = 0;
out:
	lifecycle_release();
	if (stopping.poll)
		event_free(stopping.poll);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	guard_release();  /* after the listeners' release has freed evhttp and its connections */
	tls_release();
	if (mockd_base)
		event_base_free(mockd_base);
	buf_release(&err);
	return rc;
}
