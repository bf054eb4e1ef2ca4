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
# json-c reads (view) and writes (-o) the JSON lines reports.
PKGS        := libelf libunwind-ptrace json-c
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
DWARF_CFLAGS = $(shell pkg-config --cflags libdwarf 2>/dev/null || echo -I/usr/include/libdwarf)
DWARF_LIBS   = $(shell pkg-config --libs libdwarf 2>/dev/null || echo -ldwarf)
ZYDIS_LIBS   = $(shell pkg-config --libs zydis 2>/dev/null || echo -lZydis)
CURSES_CFLAGS= $(shell pkg-config --cflags ncursesw 2>/dev/null)
CURSES_LIBS  = $(shell pkg-config --libs ncursesw 2>/dev/null)
CMOCKA_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Itracer -Itracer/dwarf -Itracer/arm -Itracer/report -Itracer/arch/x86 -Iui -Iinclude \
             $(PKG_CFLAGS) $(DWARF_CFLAGS) $(CURSES_CFLAGS) $(EXTRA_CFLAGS)
LIBS       = $(PKG_LIBS) $(DWARF_LIBS) $(ZYDIS_LIBS) $(CURSES_LIBS) -lm $(EXTRA_LIBS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

ENGINE_SRC := $(filter-out tracer/main.c,$(wildcard tracer/*.c tracer/dwarf/*.c tracer/arm/*.c \
						 tracer/report/*.c tracer/arch/x86/*.c))
UI_SRC     := $(wildcard ui/*.c)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(O)/%.o)
UI_OBJ     := $(UI_SRC:%.c=$(O)/%.o)
MAIN_OBJ   := $(O)/tracer/main.o
DEPFILES   := $(ENGINE_OBJ:.o=.d) $(UI_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/unit/%)

# Every samples/DIR/NAME.c is built twice, -O1 and -O2, with -g.
# samples/shlib/lib*.c are shared libraries, not programs: built as
# $(O)/samples/shlib/lib*.so, which the programs beside them link or dlopen.
SHLIB_SRC  := $(wildcard samples/shlib/lib*.c)
SHLIB_BIN  := $(SHLIB_SRC:samples/shlib/%.c=$(O)/samples/shlib/%.so)
SAMPLE_SRC := $(filter-out $(SHLIB_SRC),$(wildcard samples/*/*.c))
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
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(filter %.o,$^) $(O)/libracewatch.a $(LIBS) $(CMOCKA_LIBS)

# Unit tests of ui/ code link its object files beside the engine.
$(O)/tests/unit/test_jsonread: $(O)/ui/jsonread.o

samples: $(SAMPLE_BIN) $(SHLIB_BIN)

$(O)/samples/shlib/%.so: samples/shlib/%.c include/racewatch.h
	@mkdir -p $(dir $@)
	@echo "  CC -so  $<"
	$(Q)$(CC) -O2 -g -fPIC -shared -fvisibility=hidden -pthread -Wall -Wextra -Iinclude -o $@ $<

# A sample that is another one built with a -D (its race-free twin) includes it.
$(O)/samples/basic/six_globals_locked-O1 $(O)/samples/basic/six_globals_locked-O2: samples/basic/six_globals.c
$(O)/samples/heap/heap_struct_locked-O1 $(O)/samples/heap/heap_struct_locked-O2: samples/heap/heap_struct.c
$(O)/samples/heap/heap_list_locked-O1 $(O)/samples/heap/heap_list_locked-O2: samples/heap/heap_list.c

# Samples also depend on the headers beside them (samples/DIR/*.h).
.SECONDEXPANSION:
# Programs in samples/shlib link libshared.so (found beside them at run time).
SHLIB_LINK = -L$(O)/samples/shlib -lshared -Wl,-rpath,'$$ORIGIN'
$(O)/samples/shlib/%-O1: samples/shlib/%.c $(SHLIB_BIN) $$(wildcard samples/shlib/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC -O1  $<"
	$(Q)$(CC) -O1 $(SAMPLE_CFLAGS) -o $@ $< $(SHLIB_LINK)

$(O)/samples/shlib/%-O2: samples/shlib/%.c $(SHLIB_BIN) $$(wildcard samples/shlib/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC -O2  $<"
	$(Q)$(CC) -O2 $(SAMPLE_CFLAGS) -o $@ $< $(SHLIB_LINK)

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

# libFuzzer harnesses, tests/fuzz/fuzz_*.c: the JSON lines reader behind
# view, the suppressions parser, watch expressions resolved through the
# ELF/DWARF index.  Built with clang, ASan and UBSan under build-fuzz/,
# seeded from the repository (tests/fuzz/seeds.sh), each run FUZZ_SECONDS
# (make fuzz FUZZ_SECONDS=3600 for a long run; FUZZ_JOBS=N to fork).
# Corpora and findings stay under build-fuzz/.
FUZZ_O       := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_O)/tests/fuzz/%)

.PHONY: fuzz fuzz-build
fuzz: fuzz-build
	$(Q)rm -rf $(FUZZ_O)/seeds && ./tests/fuzz/seeds.sh $(FUZZ_O)/seeds >/dev/null
	$(Q)for c in $(FUZZ_O)/seeds/*; do mkdir -p $(FUZZ_O)/tests/fuzz/corpus/$$(basename $$c) && \
	    cp $$c/* $(FUZZ_O)/tests/fuzz/corpus/$$(basename $$c)/; done
	$(Q)./tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-build:
	$(Q)$(MAKE) --no-print-directory O=$(FUZZ_O) CC=$(FUZZ_CC) CFLAGS="-O1 -g" \
	    EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_BIN)

$(O)/tests/fuzz/%: tests/fuzz/%.c $(O)/libracewatch.a $(UI_OBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $<"
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(UI_OBJ) $(O)/libracewatch.a $(LIBS)

# Attach to and detach from a running sample STRESS_COUNT times and check it
# never noticed; prints the attach and detach times (make test runs 20).
STRESS_COUNT ?= 500
.PHONY: stress
stress: all
	$(Q)O=$(O) ./tests/stress.sh $(STRESS_COUNT)

# make install PREFIX=/usr/local DESTDIR=: the tracer, its man page, the
# header target programs include and the JSON report's schema; make
# uninstall removes exactly those files (and the doc folder if left empty).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
INCLUDEDIR ?= $(PREFIX)/include
DOCDIR     ?= $(PREFIX)/share/doc/racewatch

.PHONY: install uninstall
install: $(O)/racewatch
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(DOCDIR)
	$(Q)install -m 755 $(O)/racewatch $(DESTDIR)$(BINDIR)/racewatch
	$(Q)install -m 644 racewatch.1 $(DESTDIR)$(MANDIR)/man1/racewatch.1
	$(Q)install -m 644 include/racewatch.h $(DESTDIR)$(INCLUDEDIR)/racewatch.h
	$(Q)install -m 644 doc/schema.md $(DESTDIR)$(DOCDIR)/schema.md

uninstall:
	@echo "  UNINSTALL $(DESTDIR)$(PREFIX)"
	$(Q)rm -f $(DESTDIR)$(BINDIR)/racewatch $(DESTDIR)$(MANDIR)/man1/racewatch.1 \
	    $(DESTDIR)$(INCLUDEDIR)/racewatch.h $(DESTDIR)$(DOCDIR)/schema.md
	$(Q)rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# bench/startup.sh's step-by-step cost of opening a module's symbols.
$(O)/bench/symopen: bench/symopen.c $(O)/libracewatch.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libracewatch.a $(LIBS)

# Overhead and detection against native, ThreadSanitizer, Helgrind and DRD,
# plus the raw cost of a watchpoint hit here and a real server
# (bench/real.sh, whose load generator and source entry `deps.sh bench`
# installs): prints one table and writes bench/RESULTS.md (~17 min, + ~3 min
# to fetch and build the server the first time; QUICK=1
# for a short run, see bench/run.sh).
.PHONY: bench
bench: all
	$(Q)./scripts/deps.sh bench
	$(Q)O=$(O) ./bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(DEPFILES)
