# chatconform: builds bin/mockd and bin/chatconform; see README.md for the targets.
#
#   make            build both programs (objects under build/)
#   make run        run every suite against the bundled mockd, JUnit to reports/junit.xml
#   make test       everything CI checks: unit, integration, suites, mutation, sanitizers
#   make V=1        show full compiler command lines

PKGS     := libevent libcjson libcurl openssl libpcre2-8
TESTPKGS := criterion

# On a machine without every package (libraries, test peers), install them first (scripts/deps.sh).
HAVE_DEPS := $(shell scripts/deps.sh --check >/dev/null 2>&1 && echo yes)
ifneq ($(HAVE_DEPS),yes)
DEPS_STATUS := $(shell scripts/deps.sh 1>&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error scripts/deps.sh could not install the libraries chatconform needs (exit $(DEPS_STATUS)))
endif
endif

CC       ?= cc
BUILD    ?= build
BINDIR   ?= bin
OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wvla \
            -Wwrite-strings -Wformat-security -Wshadow -Wpointer-arith -Wno-unused-parameter
CPPFLAGS += -I. -D_GNU_SOURCE -DCHATCONFORM_VERSION='"$(VERSION)"'
CFLAGS   += -std=gnu11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lwslay -lpthread -lm
LDFLAGS  += $(SANFLAGS)
TESTLIBS := $(shell pkg-config --libs $(TESTPKGS))
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

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

$(BUILD)/%.o: %.c
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
sanitize:
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

BENCH_BIN := $(BUILD)/bench/loadgen $(BUILD)/bench/ref_server $(BUILD)/bench/lateness $(BUILD)/bench/paced_ref

# The store alone (time per insert, empty against full); then mockd against a bare evhttp server and nginx in
# the same run (scripts/deps.sh --bench installs nginx-light); the table and reports/bench.json give the ratios.
# Then paced streams at time scale 1: token lateness of mockd and of a bare epoll writer
# (reports/bench-paced.json). Last, mockd's throughput as its conversation store fills and evicts, first
# window against last (reports/bench-store.json). BENCH_QUICK=1 for a shorter run.
bench: all $(BENCH_BIN) $(BUILD)/bench/store_fill
	scripts/deps.sh --bench
	$(BUILD)/bench/store_fill
	BENCH_BUILD=$(BUILD)/bench bench/run.sh $(BINDIR)
	BENCH_BUILD=$(BUILD)/bench bench/paced.sh $(BINDIR)
	BENCH_BUILD=$(BUILD)/bench bench/store_fill.sh $(BINDIR)

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
FUZZ_TARGETS := ndjson sse json suite
FUZZ_FLAGS   := -std=gnu11 -O1 -g -fno-omit-frame-pointer $(WARN) -I. -D_GNU_SOURCE \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BIN     := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(BUILD)/fuzz/fuzz_ndjson: fuzz/fuzz_ndjson.c common/ndjson.c common/buf.c
$(BUILD)/fuzz/fuzz_sse: fuzz/fuzz_sse.c common/sse.c common/buf.c
$(BUILD)/fuzz/fuzz_json: fuzz/fuzz_json.c common/json.c common/utf8.c common/timeutil.c common/buf.c
# The loader reaches into most of the runner (matchers, sequences, WebSocket steps): take all of it.
$(BUILD)/fuzz/fuzz_suite: fuzz/fuzz_suite.c $(RUNNER_SRC) $(COMMON_SRC)
$(FUZZ_BIN): fuzz/fuzz.h $(wildcard common/*.h runner/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) $(shell pkg-config --cflags $(PKGS)) -o $@ $(filter %.c,$^) $(LDLIBS)

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
