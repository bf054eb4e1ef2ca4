# racewatch — plain Makefile.  `make`, `make test`, `make demo`; V=1 for the commands.
# Everything is built under build/; the tracer is build/racewatch.

CC      ?= cc
O       := build
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter
ifneq ($(CI)$(WERROR),)
WARN    += -Werror
endif

# Libraries: pkg-config where the Debian package ships a .pc file; libdwarf
# (20210528) and Zydis (4.0) do not, so they get their well-known paths.
PKGS        := libelf libunwind-ptrace
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
DWARF_CFLAGS = $(shell pkg-config --cflags libdwarf 2>/dev/null || echo -I/usr/include/libdwarf)
DWARF_LIBS   = $(shell pkg-config --libs libdwarf 2>/dev/null || echo -ldwarf)
ZYDIS_LIBS   = $(shell pkg-config --libs zydis 2>/dev/null || echo -lZydis)
CURSES_CFLAGS= $(shell pkg-config --cflags ncursesw 2>/dev/null)
CURSES_LIBS  = $(shell pkg-config --libs ncursesw 2>/dev/null)
CMOCKA_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Itracer -Itracer/arch/x86 -Iui -Iinclude \
             $(PKG_CFLAGS) $(DWARF_CFLAGS) $(CURSES_CFLAGS) $(EXTRA_CFLAGS)
LIBS       = $(PKG_LIBS) $(DWARF_LIBS) $(ZYDIS_LIBS) $(CURSES_LIBS) -lm $(EXTRA_LIBS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

ENGINE_SRC := $(filter-out tracer/main.c,$(wildcard tracer/*.c tracer/arch/x86/*.c))
UI_SRC     := $(wildcard ui/*.c)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(O)/%.o)
UI_OBJ     := $(UI_SRC:%.c=$(O)/%.o)
MAIN_OBJ   := $(O)/tracer/main.o
DEPFILES   := $(ENGINE_OBJ:.o=.d) $(UI_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/unit/%)

# Every samples/DIR/NAME.c is built twice, -O1 and -O2, with -g.
SAMPLE_SRC := $(wildcard samples/*/*.c)
SAMPLE_BIN := $(foreach s,$(SAMPLE_SRC),$(O)/$(s:.c=)-O1 $(O)/$(s:.c=)-O2)
SAMPLE_CFLAGS = -g -pthread -Wall -Wextra -Iinclude

.PHONY: all deps test unit integration demo clean asan samples
all: deps $(O)/racewatch samples

deps:
	$(Q)./scripts/deps.sh

$(O)/racewatch: $(MAIN_OBJ) $(O)/libracewatch.a $(UI_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(MAIN_OBJ) $(UI_OBJ) $(O)/libracewatch.a $(LIBS)

$(O)/libracewatch.a: $(ENGINE_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/tests/unit/%: tests/unit/%.c $(O)/libracewatch.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libracewatch.a $(LIBS) $(CMOCKA_LIBS)

samples: $(SAMPLE_BIN)

# A sample that is another one built with a -D (its race-free twin) includes it.
$(O)/samples/basic/six_globals_locked-O1 $(O)/samples/basic/six_globals_locked-O2: samples/basic/six_globals.c

# Samples also depend on the headers beside them (samples/DIR/*.h).
.SECONDEXPANSION:
$(O)/samples/%-O1: samples/%.c include/racewatch.h $$(wildcard $$(dir samples/%)*.h)
	@mkdir -p $(dir $@)
	@echo "  CC -O1  $<"
	$(Q)$(CC) -O1 $(SAMPLE_CFLAGS) -o $@ $<

$(O)/samples/%-O2: samples/%.c include/racewatch.h $$(wildcard $$(dir samples/%)*.h)
	@mkdir -p $(dir $@)
	@echo "  CC -O2  $<"
	$(Q)$(CC) -O2 $(SAMPLE_CFLAGS) -o $@ $<

unit: $(UNIT_BIN)

# The test command CI runs.  Dependencies, build, unit tests, integration
# tests; ends in one "N passed, N failed, N skipped" line.
test: all unit
	$(Q)O=$(O) ./tests/run.sh $(UNIT_BIN)

# The whole suite as on a machine whose debug registers never deliver:
# RACEWATCH_DEBUG=hw-silent arms perf and ptrace breakpoints where nothing
# touches them, so the probe says "no" for both and auto falls back to code.
.PHONY: test-blind
test-blind: all unit
	$(Q)RACEWATCH_DEBUG=hw-silent O=$(O) ./tests/run.sh $(UNIT_BIN)

# Every sample with a samples/DIR/NAME.expect under the tracer, one line each.
# SAMPLES=GLOB picks some (e.g. SAMPLES='marking/*').
.PHONY: samples-check
samples-check: all
	$(Q)O=$(O) ./tests/samples_check.sh $(if $(SAMPLES),'$(SAMPLES)')

# Run the tracer on the racy sample and show the report.
demo: all
	$(Q)./scripts/demo.sh $(O)

# The tracer itself under AddressSanitizer + UBSan (build-asan/racewatch and
# the unit tests), then the unit and integration tests against it; the
# samples are the plain ones of $(O)/samples.  Each sanitizer report is kept
# whole in build-asan/sanitizer.PID (stderr stays what the tests compare), and
# makes racewatch exit non-zero, so the test that ran it fails; the reports'
# SUMMARY lines are printed at the end.
ASAN_LOG = $(CURDIR)/build-asan/sanitizer
asan: all
	$(Q)$(MAKE) O=build-asan EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    EXTRA_LIBS="-fsanitize=address,undefined" build-asan/racewatch unit
	$(Q)rm -f $(ASAN_LOG).*
	$(Q)O=$(O) RW=build-asan/racewatch \
	    ASAN_OPTIONS=detect_leaks=1:log_path=$(ASAN_LOG) \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(ASAN_LOG) \
	    ./tests/run.sh build-asan/tests/unit/test_*; rc=$$?; \
	n=$$(ls $(ASAN_LOG).* 2>/dev/null | wc -l); \
	echo "sanitizer reports: $$n (build-asan/sanitizer.*)"; \
	[ $$n -eq 0 ] || grep -h '^SUMMARY' $(ASAN_LOG).* | sort | uniq -c | sort -rn; \
	[ $$rc -eq 0 ] && [ $$n -eq 0 ]

# Attach to and detach from a running sample STRESS_COUNT times and check it
# never noticed; prints the attach and detach times (make test runs 20).
STRESS_COUNT ?= 500
.PHONY: stress
stress: all
	$(Q)O=$(O) ./tests/stress.sh $(STRESS_COUNT)

# make install PREFIX=/usr/local DESTDIR=: the tracer, its man page and the
# header target programs include.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
INCLUDEDIR ?= $(PREFIX)/include

.PHONY: install
install: $(O)/racewatch
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(INCLUDEDIR)
	$(Q)install -m 755 $(O)/racewatch $(DESTDIR)$(BINDIR)/racewatch
	$(Q)install -m 644 racewatch.1 $(DESTDIR)$(MANDIR)/man1/racewatch.1
	$(Q)install -m 644 include/racewatch.h $(DESTDIR)$(INCLUDEDIR)/racewatch.h

# Overhead and detection against native, ThreadSanitizer, Helgrind and DRD,
# plus the raw cost of a watchpoint hit here: prints one table and writes
# bench/RESULTS.md (~15 min; QUICK=1 for a short run, see bench/run.sh).
.PHONY: bench
bench: all
	$(Q)O=$(O) ./bench/run.sh

clean:
	rm -rf build build-asan

-include $(DEPFILES)
