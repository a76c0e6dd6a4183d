# chatconform: builds bin/mockd and bin/chatconform; see README.md for the targets.
#
#   make            build both programs (objects under build/)
#   make run        run every suite against the bundled mockd, JUnit to reports/junit.xml
#   make test       everything CI checks: unit, integration, suites, mutation, sanitizers
#   make install    PREFIX=/usr/local DESTDIR= : programs, data, man pages, completions (uninstall too)
#   make V=1        show full compiler command lines; WERROR=0 to build without -Werror
#   make deps       install the Debian packages (scripts/deps.sh); run and test do it first

PKGS     := libevent libevent_openssl libcjson libcurl openssl libpcre2-8
TESTPKGS := criterion

CC       ?= cc
BUILD    ?= build
BINDIR   ?= bin
OPT      ?= -O2 -g
# Warnings are errors in development and CI builds; make install turns that off (a packager's newer
# compiler may warn about what ours does not), and WERROR=0 does for any target.
WERROR   ?= 1
WARN      = -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wmissing-prototypes -Wstrict-prototypes -Wvla \
            -Wwrite-strings -Wformat-security -Wshadow -Wpointer-arith -Wno-unused-parameter
CPPFLAGS += -I. -D_GNU_SOURCE -DCHATCONFORM_VERSION='"$(VERSION)"'
CFLAGS   += -std=gnu11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lwslay -lpthread -lm
LDFLAGS  += $(SANFLAGS)
TESTLIBS  = $(PKG_TESTLIBS)
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# pkg-config is asked when a recipe first needs its answer, once, not while make reads this file: so
# make help and make clean work without the libraries, and make run and make test ask after
# scripts/deps.sh has installed them.
PKG_CFLAGS   = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS     = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
PKG_TESTLIBS = $(eval PKG_TESTLIBS := $(shell pkg-config --libs $(TESTPKGS)))$(PKG_TESTLIBS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

COMMON_SRC := $(wildcard common/*.c)
MOCKD_SRC  := $(filter-out mockd/main.c,$(wildcard mockd/*.c mockd/apis/*.c))
RUNNER_SRC := $(filter-out runner/main.c,$(wildcard runner/*.c runner/report/*.c))
UNIT_SRC   := $(wildcard tests/unit/*.c)
INTEG_SRC  := $(wildcard tests/integration/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBCOMMON := $(BUILD)/libcommon.a
LIBMOCKD  := $(BUILD)/libmockd.a
LIBRUNNER := $(BUILD)/librunner.a
UNIT_BIN  := $(BUILD)/unit-tests
INTEG_BIN := $(BUILD)/integration-tests

.PHONY: all run test unit integration suites mutation sanitize check-sanitized check-includes bench fuzz clean help
all: $(BINDIR)/mockd $(BINDIR)/chatconform

help:
	@sed -n '1,8p' Makefile

# ---- packages ------------------------------------------------------------------------------

# make never installs on its own: make run and make test run scripts/deps.sh first (the README's two
# commands promise it), and make deps when asked. Every other target checks, and stops with one line
# that names what is missing and the command that installs it; help, clean and uninstall need nothing.
ifneq ($(filter run test,$(MAKECMDGOALS)),)
BUILD_DEPS := deps
TEST_DEPS  := deps
else
BUILD_DEPS := check-build-deps
TEST_DEPS  := check-deps
endif

# $(call need_packages,ARGS): nothing when scripts/deps.sh --check ARGS finds every package, else stop
# with its one line.
need_packages = $(eval missing_packages := $(shell scripts/deps.sh --check $(1)))$(if $(missing_packages),$(error $(missing_packages)))

.PHONY: deps check-build-deps check-deps
deps:
	scripts/deps.sh
check-build-deps:
	@:$(call need_packages,--build)
check-deps:
	@:$(call need_packages,)

# What compiles needs the libraries; the tests, their objects and make run need the test packages too.
$(call obj,$(UNIT_SRC) $(INTEG_SRC)) unit integration suites mutation run: | $(TEST_DEPS)

# ---- building ------------------------------------------------------------------------------

# Where make install puts the data (suites, fixtures, spec, schemas). It is compiled into the three
# files that look there when the repository's copy is absent; $(BUILD)/datadir changes only when
# DATADIR does, so that another PREFIX rebuilds them and the same one rebuilds nothing.
PREFIX  ?= /usr/local
DATADIR ?= $(PREFIX)/share/chatconform
DATADIR_OBJ := $(call obj,mockd/main.c runner/main.c runner/suite.c)
$(DATADIR_OBJ): CPPFLAGS += -DCHATCONFORM_DATADIR='"$(DATADIR)"'
$(DATADIR_OBJ): $(BUILD)/datadir
$(BUILD)/datadir: FORCE
	@mkdir -p $(BUILD)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
FORCE:

$(BUILD)/%.o: %.c | $(BUILD_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBMOCKD): $(call obj,$(MOCKD_SRC))
$(LIBRUNNER): $(call obj,$(RUNNER_SRC))
$(LIBCOMMON) $(LIBMOCKD) $(LIBRUNNER):
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BINDIR)/mockd: $(call obj,mockd/main.c) $(LIBMOCKD) $(LIBCOMMON)
$(BINDIR)/chatconform: $(call obj,runner/main.c) $(LIBRUNNER) $(LIBCOMMON)
$(BINDIR)/mockd $(BINDIR)/chatconform:
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT_BIN): $(call obj,$(UNIT_SRC)) $(LIBRUNNER) $(LIBMOCKD) $(LIBCOMMON)
$(INTEG_BIN): $(call obj,$(INTEG_SRC)) $(LIBRUNNER) $(LIBMOCKD) $(LIBCOMMON)
$(UNIT_BIN) $(INTEG_BIN):
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(TESTLIBS) $(LDLIBS)

# ---- running -------------------------------------------------------------------------------

# Every suite against a mockd started on a free port; the JUnit report is checked against the schema.
run: all
	$(BINDIR)/chatconform run --junit reports/junit.xml
	@scripts/check-junit.sh reports/junit.xml

# ---- installing ----------------------------------------------------------------------------

# make install [PREFIX=/usr/local] [DESTDIR=]: both programs to PREFIX/bin, the suites, fixtures (mockd's
# default keys), spec and schemas to DATADIR, man pages and bash completion. The programs look in DATADIR,
# compiled in: build with the PREFIX you install with. DESTDIR (for packagers) only moves where the
# files are written. An install build has no -Werror (a packager's newer compiler may warn where ours
# does not); WERROR=1 keeps it. make uninstall removes those files, with the same PREFIX and DESTDIR.
INSTALL    ?= install
MANDIR     ?= $(PREFIX)/share/man
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
DATA_DIRS  := suites fixtures spec schemas
MANPAGES   := man/mockd.1 man/chatconform.1
PROGRAMS   := mockd chatconform

.PHONY: install uninstall check-packaging
install: WERROR = 0
install: all
	$(INSTALL) -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(COMPDIR)"
	$(INSTALL) -m 755 $(addprefix $(BINDIR)/,$(PROGRAMS)) "$(DESTDIR)$(PREFIX)/bin/"
	find $(DATA_DIRS) -type f | while IFS= read -r f; do \
	    $(INSTALL) -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/$$f" || exit 1; done
	$(foreach m,$(MANPAGES),sed -e 's|^\.ds datadir .*|.ds datadir $(DATADIR)|' \
	    -e 's|^\.ds version .*|.ds version $(VERSION)|' $(m) >"$(DESTDIR)$(MANDIR)/man1/$(notdir $(m))" && \
	    chmod 644 "$(DESTDIR)$(MANDIR)/man1/$(notdir $(m))" && ) true
	$(INSTALL) -m 644 $(addprefix completions/,$(PROGRAMS)) "$(DESTDIR)$(COMPDIR)/"

# Only what install wrote: the folders above DATADIR (bin, man1, ...) stay, DATADIR goes when it is empty.
uninstall:
	rm -f $(foreach p,$(PROGRAMS),"$(DESTDIR)$(PREFIX)/bin/$(p)" "$(DESTDIR)$(COMPDIR)/$(p)") \
	    $(foreach m,$(MANPAGES),"$(DESTDIR)$(MANDIR)/man1/$(notdir $(m))")
	find $(DATA_DIRS) -type f | while IFS= read -r f; do rm -f "$(DESTDIR)$(DATADIR)/$$f"; done
	if [ -d "$(DESTDIR)$(DATADIR)" ]; then find "$(DESTDIR)$(DATADIR)" -depth -type d -empty -delete; fi

# make install into a temporary prefix, chatconform list and run from another folder, groff on the man
# pages, uninstall; and make help and make -n clean with apt-get and sudo that fail when called.
check-packaging: all
	tests/packaging.sh

test: check-packaging

# ---- tests ---------------------------------------------------------------------------------

unit: $(UNIT_BIN)
	$(UNIT_BIN) --jobs 2

integration: all $(INTEG_BIN)
	CHATCONFORM_BIN=$(abspath $(BINDIR)) $(INTEG_BIN) --jobs 1

suites: all
	$(BINDIR)/chatconform run --junit reports/junit.xml
	@scripts/check-junit.sh reports/junit.xml

mutation: all
	scripts/mutation.sh $(BINDIR)

# Unit and integration tests again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
# CHATCONFORM_ASAN tells the tests that bound memory to allow for ASan's redzones and quarantine; the
# quarantine of freed memory is kept at 32 MiB (256 by default), or a test that frees a 2 MB body a
# request measures ASan's quarantine instead of mockd.
sanitize:
	CHATCONFORM_ASAN=1 ASAN_OPTIONS="quarantine_size_mb=32:$${ASAN_OPTIONS:-}" \
	$(MAKE) BUILD=build/san BINDIR=build/san/bin OPT="-O1 -g" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	    check-sanitized

check-sanitized: all unit integration
	$(BINDIR)/chatconform run --mockd $(BINDIR)/mockd --junit $(BUILD)/junit.xml

# No include cycle among the modules of either program (mockd's HTTP core must not know its APIs).
check-includes:
	scripts/include-cycles.py runner common mockd

test: all check-includes unit integration suites mutation sanitize
	@echo "make test: all checks passed"

# ---- benchmarks and fuzzing (bench/README.md, fuzz/README.md; neither is part of make test) ----

BENCH_BIN := $(BUILD)/bench/loadgen $(BUILD)/bench/ref_server $(BUILD)/bench/lateness $(BUILD)/bench/paced_ref $(BUILD)/bench/hold

# The store alone (time per insert, empty against full); then mockd against a bare evhttp server and nginx in
# the same run (scripts/deps.sh --bench installs nginx-light; make bench stops when it is missing); the table and reports/bench.json give the ratios.
# Then paced streams at time scale 1: token lateness of mockd and of a bare epoll writer
# (reports/bench-paced.json); 10,000 of them at once: mockd's RSS, listen overflows and CPU per token
# against the bare writer's (reports/bench-hold.json). Last, mockd's throughput as its conversation store
# fills and evicts, first window against last (reports/bench-store.json). BENCH_QUICK=1 for a shorter run.
# Every scenario runs even when one before it had errors, so every ratio is printed; the exit status
# is then that of the worst (1: a measurement had errors, 2: a scenario could not run), and Ctrl-C stops all.
bench: all $(BENCH_BIN) $(BUILD)/bench/store_fill
	@:$(call need_packages,--bench)
	$(Q)rc=0; \
	for step in "$(BUILD)/bench/store_fill" "bench/run.sh $(BINDIR)" "bench/paced.sh $(BINDIR)" \
		    "bench/hold.sh $(BINDIR)" "bench/store_fill.sh $(BINDIR)"; do \
		echo "$$step"; \
		BENCH_BUILD=$(BUILD)/bench $$step; r=$$?; \
		if [ $$r -ge 128 ]; then exit $$r; fi; \
		if [ $$r -ne 0 ]; then echo "bench: $$step exited $$r" >&2; fi; \
		if [ $$r -gt $$rc ]; then rc=$$r; fi; \
	done; \
	exit $$rc

$(BENCH_BIN): $(BUILD)/bench/%: $(BUILD)/bench/%.o
# The store on its own, without HTTP: time per insert into an empty store and into a full one.
$(BUILD)/bench/store_fill: $(BUILD)/bench/store_fill.o $(LIBMOCKD) $(LIBCOMMON)
$(BENCH_BIN) $(BUILD)/bench/store_fill:
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer targets, built with clang and run FUZZ_SECONDS each on fuzz/corpus/<target> (new inputs go to build/),
# with fuzz/<target>.dict when there is one.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := ndjson sse json suite jsonw keys scripts targets response report mockd_http mockd_ws
FUZZ_FLAGS   := -std=gnu11 -O1 -g -fno-omit-frame-pointer $(WARN) -I. -D_GNU_SOURCE \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BIN     := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(BUILD)/fuzz/fuzz_ndjson: fuzz/fuzz_ndjson.c common/ndjson.c common/buf.c
$(BUILD)/fuzz/fuzz_sse: fuzz/fuzz_sse.c common/sse.c common/buf.c
$(BUILD)/fuzz/fuzz_json: fuzz/fuzz_json.c common/json.c common/utf8.c common/timeutil.c common/buf.c
$(BUILD)/fuzz/fuzz_jsonw: fuzz/fuzz_jsonw.c common/jsonw.c common/buf.c
# The loader reaches into most of the runner (matchers, sequences, WebSocket steps): take all of it.
$(BUILD)/fuzz/fuzz_suite: fuzz/fuzz_suite.c $(RUNNER_SRC) $(COMMON_SRC)
$(BUILD)/fuzz/fuzz_keys: fuzz/fuzz_keys.c mockd/keys.c $(COMMON_SRC)
$(BUILD)/fuzz/fuzz_scripts: fuzz/fuzz_scripts.c mockd/script.c mockd/keys.c mockd/mockd.c $(COMMON_SRC)
$(BUILD)/fuzz/fuzz_targets: fuzz/fuzz_targets.c runner/targets.c runner/vars.c runner/url.c $(COMMON_SRC)
$(BUILD)/fuzz/fuzz_response: fuzz/fuzz_response.c $(RUNNER_SRC) $(COMMON_SRC)
$(BUILD)/fuzz/fuzz_report: fuzz/fuzz_report.c $(RUNNER_SRC) $(COMMON_SRC)
# mockd in-process (fuzz/mockd_harness.c sets it up as main.c does), a client socket for each request.
$(BUILD)/fuzz/fuzz_mockd_http: fuzz/fuzz_mockd_http.c fuzz/mockd_harness.c $(MOCKD_SRC) $(COMMON_SRC)
$(BUILD)/fuzz/fuzz_mockd_ws: fuzz/fuzz_mockd_ws.c fuzz/mockd_harness.c $(MOCKD_SRC) $(COMMON_SRC)
$(BUILD)/fuzz/fuzz_mockd_http $(BUILD)/fuzz/fuzz_mockd_ws: FUZZ_FLAGS += -DCHATCONFORM_VERSION='"$(VERSION)"'
$(FUZZ_BIN): fuzz/fuzz.h fuzz/fuzz_file.h fuzz/mockd_harness.h \
	$(wildcard common/*.h runner/*.h runner/report/*.h mockd/*.h mockd/apis/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags $(PKGS)) -o $@ $(filter %.c,$^) $(LDLIBS)

$(FUZZ_BIN): | $(TEST_DEPS)

fuzz: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/corpus/$$t $(BUILD)/fuzz/crashes/$$t && \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s" && \
	    dict=; if [ -f fuzz/$$t.dict ]; then dict=-dict=fuzz/$$t.dict; fi; \
	    $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $$dict \
	        -artifact_prefix=$(BUILD)/fuzz/crashes/$$t/ $(BUILD)/fuzz/corpus/$$t fuzz/corpus/$$t \
	        2>$(BUILD)/fuzz/$$t.log || { tail -n 40 $(BUILD)/fuzz/$$t.log; exit 1; }; \
	    grep -E '^(stat::number_of_executed_units|Done)' $(BUILD)/fuzz/$$t.log; \
	done

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
