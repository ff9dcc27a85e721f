# birdfeed — one plain Makefile.
#   make                      build build/birdfeed and build/birdfeed-fcgi
#   make test                 install missing Debian packages, then run every test
#   make SANITIZER=address,undefined test
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
#   make deps                 install the Debian packages birdfeed needs
# CI=true (or WERROR=1) turns warnings into errors.

CC       ?= cc
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SHAREDIR ?= $(PREFIX)/share/birdfeed
OPT      ?= -O2
SANITIZER ?=

BUILD := build$(if $(SANITIZER),-san)

WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2 \
        -Wno-format-nonliteral
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARN += -Werror
endif

CPPFLAGS += -DBIRDFEED_VERSION=\"0.1.0\" -D_GNU_SOURCE -Ilib -I/usr/include/postgresql -I/usr/include/libxml2
# Unit tests of fcgi/ include its headers too (after lib/: no name is in both).
$(BUILD)/tests/unit/%.o: CPPFLAGS += -Ifcgi
CFLAGS   += -std=c11 $(OPT) -g -pthread $(WARN) -MMD -MP
LDFLAGS  += -pthread
LDLIBS   += -lfcgi -lhiredis -ljson-c -lsqlite3 -lpq -licuuc -lcrypto -lxml2 -lcurl -lwebsockets -lm

ifneq ($(SANITIZER),)
CFLAGS  += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZER)
endif

LIB_SRC   := $(wildcard lib/*.c)
FCGI_SRC  := $(wildcard fcgi/*.c)
CLI_SRC   := $(wildcard cli/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
FCGI_OBJ := $(FCGI_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)

LIBA := $(BUILD)/libbirdfeed.a
# The responder's modules without main(), for unit tests of fcgi/.
FCGI_LIBA := $(BUILD)/libbirdfeed-fcgi.a
PROGS := $(BUILD)/birdfeed $(BUILD)/birdfeed-fcgi

.SECONDARY:
.PHONY: all test unit integration deps install uninstall clean bench fuzz fuzz-smoke test-faults test-valgrind run run-hosts
all: $(PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(FCGI_LIBA): $(filter-out $(BUILD)/fcgi/main.o,$(FCGI_OBJ))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/birdfeed: $(CLI_OBJ) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBA) $(LDLIBS)

$(BUILD)/birdfeed-fcgi: $(FCGI_OBJ) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $(FCGI_OBJ) $(LIBA) $(LDLIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(FCGI_LIBA) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(FCGI_LIBA) $(LIBA) $(LDLIBS)

# Unit tests of cli/ modules link those objects too.
$(BUILD)/tests/unit/test_cli: $(BUILD)/cli/cli.o

$(BUILD)/tests/bench/%: $(BUILD)/tests/bench/%.o $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

deps:
	@sh deploy/install-deps.sh

# make run: Redis, responders, nginx and a synthetic feed on loopback, from run/
# (deploy/run.sh; BIRDFEED_PORT, BIRDFEED_RATE override). Ctrl-C stops it all.
run:
	@bash deploy/run.sh

# make run-hosts: a three-host deployment on this machine (127.0.0.2/.3/.4:
# nginx + responders, Redis master + replicas + Sentinels, PostgreSQL,
# archivers), to try failovers (deploy/three-hosts.sh). Ctrl-C stops it all.
run-hosts:
	@bash deploy/three-hosts.sh

# Tests see the binaries through BIRDFEED_BUILD.
export BIRDFEED_BUILD := $(abspath $(BUILD))

test: deps
	@$(MAKE) --no-print-directory $(PROGS) $(UNIT_BIN) $(BENCH_BIN)
	@TESTS="$(TESTS)" bash tests/run-all.sh $(UNIT_BIN)

# tests/layers.sh: no include cycle among the modules of lib/, fcgi/, cli/.
unit: $(UNIT_BIN)
	@sh tests/layers.sh
	@sh tests/run-unit.sh $(UNIT_BIN)

integration: $(PROGS) $(BENCH_BIN)
	@sh tests/run-integration.sh $(TESTS)

# Every unit-test binary under valgrind memcheck (no sanitizer build: they don't mix).
test-valgrind: $(UNIT_BIN)
	@sh tests/run-valgrind.sh $(UNIT_BIN)

# The fault suite (tests/faults/*.sh): real processes killed, restarted, starved.
FAULT_TESTS := $(filter-out tests/faults/lib.sh,$(wildcard tests/faults/*.sh))
test-faults: $(PROGS)
	@sh tests/run-integration.sh $(FAULT_TESTS)

bench: deps $(PROGS) $(BENCH_BIN)
	@sh tests/bench/run.sh

install: $(PROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	cp -R sql deploy $(DESTDIR)$(SHAREDIR)/
	install -m 0644 README.md $(DESTDIR)$(SHAREDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/birdfeed $(DESTDIR)$(BINDIR)/birdfeed-fcgi
	rm -rf $(DESTDIR)$(SHAREDIR)

# make fuzz: build each tests/fuzz/fuzz_NAME.c with clang's libFuzzer and run it for
# FUZZ_SECONDS on a scratch corpus seeded from tests/fuzz/corpus/NAME/ (not part of make test).
# make fuzz-smoke: the same, FUZZ_SMOKE_SECONDS (10) per target, for CI. FUZZ_TARGETS=NAME… picks targets.
# A crash leaves its input in build-fuzz/crash-* (rerun: build-fuzz/fuzz_NAME build-fuzz/crash-…).
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_CC ?= clang
FUZZ_SRC := $(if $(FUZZ_TARGETS),$(FUZZ_TARGETS:%=tests/fuzz/fuzz_%.c),$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_FLAGS := -std=c11 -g -O1 -pthread -MMD -MP
# The library is archived so each target links only what it uses.
build-fuzz/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
build-fuzz/libbirdfeed.a: $(LIB_SRC:lib/%.c=build-fuzz/lib/%.o)
	rm -f $@ && ar rcs $@ $^
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libbirdfeed.a
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libbirdfeed.a $(LDLIBS)
fuzz: $(FUZZ_BIN)
	@set -e; for bin in $(FUZZ_BIN); do \
	    name=$$(basename $$bin); corpus=$${name#fuzz_}; dict=tests/fuzz/$$corpus.dict; \
	    mkdir -p build-fuzz/corpus/$$corpus; \
	    echo "fuzz: running $$name for $(FUZZ_SECONDS) s"; \
	    $$bin -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 -artifact_prefix=build-fuzz/ \
	        $$([ -f $$dict ] && echo -dict=$$dict) build-fuzz/corpus/$$corpus tests/fuzz/corpus/$$corpus; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

clean:
	rm -rf build build-san build-fuzz

-include $(shell find build build-san build-fuzz -name '*.d' 2>/dev/null)

# archive: the sql/ migrations, embedded into libbirdfeed.a (see lib/store.h).
SQL_SRC := $(sort $(wildcard sql/sqlite/*.sql)) $(sort $(wildcard sql/postgres/*.sql))
$(BUILD)/gen/sql_migrations.c: $(SQL_SRC) sql/embed.sh
	@mkdir -p $(@D)
	sh sql/embed.sh $(SQL_SRC) > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/sql_migrations.o: $(BUILD)/gen/sql_migrations.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
$(LIBA): $(BUILD)/gen/sql_migrations.o
build-fuzz/gen/sql_migrations.o: $(BUILD)/gen/sql_migrations.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -c -o $@ $<
build-fuzz/libbirdfeed.a: build-fuzz/gen/sql_migrations.o
