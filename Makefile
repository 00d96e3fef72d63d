# recite — build, test, demo, bench, install.
#   make            library (static + shared) and the `recite` command, in build/
#   make demo       install Debian dependencies if missing, build, index a library made from
#                   texts Debian ships, check sample outputs, print the report
#   make test       every test: unit (cmocka), property, CLI, HTTP, HTML, Python, fuzz replays;
#                   the same again under ASan+UBSan and allocation failures (tests/alloc), beside
#                   the first (two groups on two cores); ThreadSanitizer; unit tests and the CLI
#                   under valgrind; a clang -Werror build
#   make bench      benchmarks against baselines (not a test; takes minutes)
#   make fuzz       every fuzz harness (fuzz/) under libFuzzer + ASan + UBSan, FUZZ_SECONDS each
#   make fuzz-ingest  the same for the document and archive readers (fuzz/fuzz_{archive,epub,pdf,html}.c)
#   make install PREFIX=/usr/local

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
WERROR  ?= 1

PKGS     := libxxhash libutf8proc libzstd jansson sqlite3 libsodium
# Compiled against, not linked: loaded by their soname the first time an input needs them
# (src/common/dl.c), so that a run of recite does not map their seventy shared objects first.
DL_PKGS  := libarchive libxml-2.0 poppler-glib libgit2
DEP_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DL_PKGS) 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lxxhash -lutf8proc -lzstd -ljansson -lsqlite3 -lsodium)
# The soname of library $(2) of package $(1) (the one its headers belong to), or $(3).
soname = $(or $(shell readelf -d $$(pkg-config --variable=libdir $(1) 2>/dev/null)/$(2) 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'),$(3))
SONAMES := -DRC_SONAME_ARCHIVE='"$(call soname,libarchive,libarchive.so,libarchive.so.13)"' \
           -DRC_SONAME_XML2='"$(call soname,libxml-2.0,libxml2.so,libxml2.so.2)"' \
           -DRC_SONAME_POPPLER='"$(call soname,poppler-glib,libpoppler-glib.so,libpoppler-glib.so.8)"' \
           -DRC_SONAME_GIT2='"$(call soname,libgit2,libgit2.so,libgit2.so.1.5)"' \
           -DRC_SONAME_CURL='"$(call soname,libcurl,libcurl.so,libcurl.so.4)"' \
           -DRC_SONAME_MHD='"$(call soname,libmicrohttpd,libmicrohttpd.so,libmicrohttpd.so.12)"'

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
           -Wformat=2
ifeq ($(WERROR),1)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS_ALL := -std=c17 $(OPT) $(WARN) -D_GNU_SOURCE -fPIC -Iinclude $(DEP_CFLAGS) $(SONAMES) \
              $(EXTRA_CFLAGS)
LDLIBS_ALL := $(DEP_LIBS) -lpthread -lm $(EXTRA_LDFLAGS)
# `recite serve` (src/serve) only: HTTP server and client, in the command, not the library:
# compiled against, and loaded when `recite serve` and its --proxy start (serve.h,
# serve_dl_load), so that the other commands do not map them.
CFLAGS_ALL += $(shell pkg-config --cflags libmicrohttpd libcurl 2>/dev/null)

# `--mpi` (src/cli/cli_mpi.c only, not the library): Open MPI, when pkg-config finds it.
MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null)
MPI_CFLAGS := $(if $(MPI_LIBS),$(shell pkg-config --cflags ompi-c) -DRECITE_WITH_MPI)

LIB_SRC := $(wildcard src/common/*.c src/text/*.c src/fingerprint/*.c src/index/*.c src/build/*.c \
                      src/match/*.c src/license/*.c src/cmi/*.c src/check/*.c src/policy/*.c \
                      src/catalog/*.c src/report/*.c)
CLI_SRC := $(wildcard src/cli/*.c src/serve/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HDRS    := $(wildcard include/*.h src/*/*.h)

.PHONY: all deps demo python test test-unit test-cli test-http test-html test-python test-san test-group-plain test-group-san test-valgrind test-clang test-install bench install \
        test-fuzz-ingest fuzz fuzz-ingest test-fuzz test-tsan test-alloc \
        clean format format-check

all: $(BUILD)/recite $(BUILD)/librecite.a $(BUILD)/librecite.so

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/librecite.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/librecite.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,librecite.so.0 -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/recite: $(CLI_OBJ) $(BUILD)/librecite.a
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/librecite.a $(LDLIBS_ALL) $(MPI_LIBS)

$(BUILD)/obj/src/cli/cli_mpi.o: src/cli/cli_mpi.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(MPI_CFLAGS) -c $< -o $@

# ---- tests ----

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test_util.h $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< $(BUILD)/librecite.a $(LDLIBS_ALL) $(TEST_LIBS) -lcmocka
# Fixtures of archives are written with libarchive's writer (fuzz/seeds_write.h): linked into
# the programs that write them (the library itself loads libarchive to read).
ARCHIVE_WRITER_LIBS := $(shell pkg-config --libs libarchive 2>/dev/null || echo -larchive)
$(BUILD)/tests/test_extract: TEST_LIBS = $(ARCHIVE_WRITER_LIBS)

# The SSE parser of recite serve is tested alone (it is in the command, not the library).
SERVE_UNIT_OBJ := $(BUILD)/obj/src/serve/serve_sse.o $(BUILD)/obj/src/serve/serve_util.o
$(BUILD)/tests/test_serve_sse: tests/unit/test_serve_sse.c tests/unit/test_util.h \
                               $(SERVE_UNIT_OBJ) $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< $(SERVE_UNIT_OBJ) $(BUILD)/librecite.a $(LDLIBS_ALL) -lcmocka

deps:
	@scripts/deps.sh

test: deps
	$(MAKE) format-check
	/usr/bin/python3 scripts/layers.py
	/usr/bin/python3 scripts/macro_args.py
	@f=$$(mktemp --suffix=.c) && printf 'int f(int a) { return RC_MIN(a++, 3); }\n' > $$f && \
	  if /usr/bin/python3 scripts/macro_args.py $$f >/dev/null; then rm -f $$f; \
	  echo "macro_args.py let a side effect through" >&2; exit 1; fi; rm -f $$f
	@# Two groups of tiers side by side (2 cores; each group's tiers one after another): the
	@# sanitizer build's (its output in build/test-san.log, shown when it ends) beside the
	@# plain build's, shown as it runs. They share no build directory.
	@mkdir -p build; $(MAKE) test-group-san > build/test-san.log 2>&1 & san=$$!; \
	  $(MAKE) test-group-plain; plain=$$?; wait $$san; san=$$?; \
	  echo "==== AddressSanitizer + UndefinedBehaviorSanitizer, allocation failures (exit $$san)"; \
	  cat build/test-san.log; [ $$plain -eq 0 ] && [ $$san -eq 0 ]
	@echo "all tests passed"

test-group-plain:
	$(MAKE) test-unit test-cli test-http test-html test-python test-fuzz-ingest test-fuzz
	$(MAKE) test-install
	$(MAKE) test-tsan
	$(MAKE) test-valgrind
	$(MAKE) test-clang

test-group-san:
	$(MAKE) test-san
	$(MAKE) test-alloc

test-unit: $(UNIT_BIN) $(BUILD)/recite
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

test-cli: $(BUILD)/recite
	tests/cli/run.sh $(BUILD)/recite
	tests/cli/crash.sh $(BUILD)/recite
	tests/cli/membudget.sh $(BUILD)/recite

# recite serve over loopback: endpoints, limits, sessions, the proxy against an upstream stub.
test-http: $(BUILD)/recite
	/usr/bin/python3 tests/http/run.py $(BUILD)/recite

# The HTML evidence report: checked by a parser against the JSON report; with --browser also
# loaded, and the demo's report rendered to PNG, by headless Chromium.
HTML_BROWSER ?= --browser
test-html: $(BUILD)/recite
	tests/html/run.sh $(BUILD)/recite $(HTML_BROWSER)

# The Python binding (python/): the extension module built in place against $(BUILD)/librecite.a
# with Debian's python3 (not whichever python3 is first on PATH), then its pytest tests, the
# examples and the README's Python example against the demo index.
PYTHON := /usr/bin/python3
python: $(BUILD)/librecite.a
	cd python && RECITE_LIB=$(abspath $(BUILD)/librecite.a) $(PYTHON) setup.py -q build_ext --inplace --force >/dev/null

test-python: python $(BUILD)/recite
	RECITE_BIN=$(abspath $(BUILD)/recite) PYTHONPATH=$(abspath python) PYTHONDONTWRITEBYTECODE=1 \
	  $(PYTHON) -m pytest -q -p no:cacheprovider python/tests

# The same tests, built with AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test-san:
	$(MAKE) BUILD=build/san OPT="-O1 -g" EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
	  HTML_BROWSER= test-unit test-cli test-http test-html test-fuzz-ingest test-fuzz

# Allocation failures (tests/alloc/): each operation with its n-th allocation failing, for every
# n, under ASan+UBSan. The hook is the test's: the linker routes the library's calls of these
# functions to it (--wrap), so nothing of it is in the library.
ALLOC_WRAP := malloc calloc realloc free strdup strndup aligned_alloc posix_memalign asprintf \
              vasprintf open_memstream fopen fdopen opendir fdopendir mmap ZSTD_createCCtx \
              ZSTD_createDCtx ZSTD_createCDict ZSTD_createDDict XXH3_createState json_loadb \
              json_loads json_load_file
ALLOC_SRC := $(wildcard tests/alloc/*.c)
$(BUILD)/alloc/test_alloc: $(ALLOC_SRC) $(wildcard tests/alloc/*.h) $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $(ALLOC_SRC) $(BUILD)/librecite.a $(LDLIBS_ALL) \
	  $(foreach f,$(ALLOC_WRAP),-Wl,--wrap=$(f))
test-alloc:
	$(MAKE) BUILD=build/san OPT="-O1 -g" EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
	  build/san/alloc/test_alloc
	build/san/alloc/test_alloc

# The document and archive readers on seeds, fixtures and their mutations (fuzz/ingest_*).
INGEST_FUZZ := archive epub pdf html
INGEST_FUZZ_BIN := $(INGEST_FUZZ:%=$(BUILD)/fuzz/ingest_%)
$(BUILD)/fuzz/ingest_%: fuzz/fuzz_%.c fuzz/ingest_replay.c fuzz/ingest_fuzz.h fuzz/seeds_write.h \
                        $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< fuzz/ingest_replay.c $(BUILD)/librecite.a $(LDLIBS_ALL) \
	  $(ARCHIVE_WRITER_LIBS)
test-fuzz-ingest: $(INGEST_FUZZ_BIN)
	tests/fuzz_ingest.sh $(BUILD)

# Threads sharing one index (tests/tsan/test_tsan.c), library and test under ThreadSanitizer.
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
test-tsan:
	$(MAKE) BUILD=build/tsan OPT="-O1 -g" EXTRA_CFLAGS="$(TSAN_FLAGS)" \
	  EXTRA_LDFLAGS="$(TSAN_FLAGS)" build/tsan/tsan/test_tsan build/tsan/tests/test_shards
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" build/tsan/tsan/test_tsan
	# Sharded builds (shards in threads, exchanges) and checks (shards verified in threads).
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" build/tsan/tests/test_shards

$(BUILD)/tsan/test_tsan: tests/tsan/test_tsan.c $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/librecite.a $(LDLIBS_ALL)

test-valgrind: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
	  RECITE_TEST_QUICK=1 valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --suppressions=tests/valgrind.supp $$t >/dev/null; done
	tests/cli/valgrind.sh $(BUILD)/recite

test-clang:
	@if command -v clang >/dev/null; then \
	  $(MAKE) BUILD=build/clang CC=clang all; \
	else echo "clang not installed: skipping the clang build" >&2; exit 1; fi
	$(MAKE) fuzz FUZZ_SECONDS=3 FUZZ_BUILD=build/fuzz-smoke

# The public header compiles alone; an installed library links through pkg-config, statically
# and shared, and runs.
test-install: all
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(CC) -std=c17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -x c include/recite.h; \
	$(MAKE) -s install PREFIX="$$tmp" >/dev/null; \
	printf '#include <recite.h>\n#include <string.h>\nint main(void) { return strcmp(recite_version(), RECITE_VERSION_STRING) != 0; }\n' > "$$tmp/t.c"; \
	export PKG_CONFIG_PATH="$$tmp/lib/pkgconfig"; \
	$(CC) -std=c17 -Wall -Werror $$(pkg-config --cflags recite) "$$tmp/t.c" -o "$$tmp/t-shared" $$(pkg-config --libs recite); \
	LD_LIBRARY_PATH="$$tmp/lib" "$$tmp/t-shared"; \
	$(CC) -std=c17 -Wall -Werror $$(pkg-config --cflags recite) "$$tmp/t.c" -o "$$tmp/t-static" "$$tmp/lib/librecite.a" $$(pkg-config --libs-only-l --static recite | sed 's/-lrecite//'); \
	"$$tmp/t-static"; \
	"$$tmp/bin/recite" --version >/dev/null; \
	echo "install: header, static and shared library, pkg-config and binary work"

# ---- fuzzing (fuzz/README.md) ----
# Each harness fuzz/fuzz_H.c is built twice: with fuzz/replay.c as main (any compiler, any
# sanitizer: `make test-fuzz` replays its seeds and fuzz/regress/H/ in every tier), and with
# clang's libFuzzer (`make fuzz`). The index loader's map is a malloc'd copy in both (--wrap).
FUZZ_HARNESSES := prose code stream jsonl policy key index catalog sse http
FUZZ_SRC := fuzz/fuzz_util.c
FUZZ_HDRS := $(wildcard fuzz/*.h)
FUZZ_LDFLAGS := -Wl,--wrap=mmap,--wrap=munmap,--wrap=madvise
FUZZ_BIN := $(FUZZ_HARNESSES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 60
# FUZZ_CPU_SECONDS > 0: runs of FUZZ_SECONDS repeat until each harness had this much CPU.
FUZZ_CPU_SECONDS ?= 0
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Harnesses of recite serve's parsers link its objects (FUZZ_EXTRA).
$(BUILD)/fuzz/fuzz_sse $(BUILD)/libfuzzer/fuzz_sse: FUZZ_EXTRA = $(SERVE_UNIT_OBJ)
$(BUILD)/fuzz/fuzz_sse $(BUILD)/libfuzzer/fuzz_sse: $(SERVE_UNIT_OBJ)
SERVE_OBJ := $(filter $(BUILD)/obj/src/serve/%,$(CLI_OBJ))
$(BUILD)/fuzz/fuzz_http $(BUILD)/libfuzzer/fuzz_http: FUZZ_EXTRA = $(SERVE_OBJ) \
  $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
$(BUILD)/fuzz/fuzz_http $(BUILD)/libfuzzer/fuzz_http: $(SERVE_OBJ)

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/replay.c $(FUZZ_SRC) $(FUZZ_HDRS) $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< fuzz/replay.c $(FUZZ_SRC) $(FUZZ_EXTRA) \
	  $(BUILD)/librecite.a $(LDLIBS_ALL) $(FUZZ_LDFLAGS)

# With libFuzzer: the library instrumented for coverage (fuzzer-no-link), harnesses linked
# with -fsanitize=fuzzer (BUILD=build/fuzz-lf, CC=clang; see the fuzz target).
$(BUILD)/libfuzzer/fuzz_%: fuzz/fuzz_%.c $(FUZZ_SRC) $(FUZZ_HDRS) $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DRECITE_LIBFUZZER -fsanitize=fuzzer -Isrc -o $@ $< $(FUZZ_SRC) \
	  $(FUZZ_EXTRA) $(BUILD)/librecite.a $(LDLIBS_ALL) $(FUZZ_LDFLAGS)

test-fuzz: $(FUZZ_BIN)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for h in $(FUZZ_HARNESSES); do \
	  $(BUILD)/fuzz/fuzz_$$h --seeds "$$tmp/$$h"; \
	  $(BUILD)/fuzz/fuzz_$$h "$$tmp/$$h" $$(ls -d fuzz/regress/$$h 2>/dev/null); \
	done

# FUZZ_BUILD: where the libFuzzer build, corpora, crashes and logs go.
FUZZ_BUILD ?= build/fuzz-lf
fuzz: deps $(FUZZ_BIN)
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
	  EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" EXTRA_LDFLAGS="$(FUZZ_SAN)" \
	  $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/libfuzzer/fuzz_%)
	FUZZ_CPU_SECONDS=$(FUZZ_CPU_SECONDS) fuzz/run.sh $(FUZZ_SECONDS) $(BUILD)/fuzz $(FUZZ_BUILD) \
	  $(FUZZ_HARNESSES)

# The document and archive readers under libFuzzer (their corpora are seeded by the replay
# builds, BUILD/fuzz/ingest_H --seeds).
fuzz-ingest: deps $(INGEST_FUZZ_BIN)
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
	  EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" EXTRA_LDFLAGS="$(FUZZ_SAN)" \
	  $(INGEST_FUZZ:%=$(FUZZ_BUILD)/libfuzzer/ingest_%)
	FUZZ_CPU_SECONDS=$(FUZZ_CPU_SECONDS) fuzz/run.sh $(FUZZ_SECONDS) $(BUILD)/fuzz $(FUZZ_BUILD) \
	  $(INGEST_FUZZ:%=ingest_%)
$(BUILD)/libfuzzer/ingest_%: fuzz/fuzz_%.c fuzz/ingest_fuzz.h fuzz/seeds_write.h $(BUILD)/librecite.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -Isrc -o $@ $< $(BUILD)/librecite.a $(LDLIBS_ALL) \
	  $(ARCHIVE_WRITER_LIBS)

demo: deps all python
	scripts/demo.sh $(BUILD)/recite

bench: deps all
	bench/run.sh $(BUILD)/recite

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/recite $(DESTDIR)$(PREFIX)/bin/recite
	install -m 644 include/recite.h $(DESTDIR)$(PREFIX)/include/recite.h
	install -m 644 $(BUILD)/librecite.a $(DESTDIR)$(PREFIX)/lib/librecite.a
	install -m 755 $(BUILD)/librecite.so $(DESTDIR)$(PREFIX)/lib/librecite.so.0
	ln -sf librecite.so.0 $(DESTDIR)$(PREFIX)/lib/librecite.so
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: recite\nDescription: recitation checker: finds reproduced spans of protected works\nVersion: %s\nRequires.private: %s\nLibs: -L$${libdir} -lrecite\nLibs.private: -lpthread -lm\nCflags: -I$${includedir}\n' \
	  '$(PREFIX)' "$$(sed -n 's/^#define RECITE_VERSION_STRING "\(.*\)"/\1/p' include/recite.h)" '$(PKGS)' \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/recite.pc

PY_SRC := $(wildcard python/src/*.c python/src/*.h)
INGEST_FUZZ_SRC := $(wildcard fuzz/fuzz_archive.c fuzz/fuzz_epub.c fuzz/fuzz_pdf.c fuzz/fuzz_html.c \
                              fuzz/ingest_*.[ch] fuzz/seeds_write.h)
FORMAT_SRC := $(LIB_SRC) $(CLI_SRC) $(HDRS) $(UNIT_SRC) $(PY_SRC) \
              $(sort $(INGEST_FUZZ_SRC) $(wildcard fuzz/*.c fuzz/*.h tests/tsan/*.c tests/cli/*.c \
                                                    tests/alloc/*.[ch]))
format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

clean:
	rm -rf python/build python/recite/*.so
	rm -rf build
