# libaname: plain GNU make.
#
#   make              library (shared + static), examples, plugins
#   make test         install missing test packages (as root), run everything
#   make check        core Criterion suite only
#   make check-asan   core suite under ASan + UBSan
#   make check-tsan   threaded tests under TSan
#   make check-valgrind  core suite under valgrind memcheck
#   make check-abi    fail if the .so exports anything but aname_*
#   make check-shim   the resolver thread stuck in a syscall (LD_PRELOAD)
#   make check-roots  root canary in a network namespace (root or userns)
#   make demo         offline demo: nsd on loopback + the CLI
#   make bench        benchmarks (see BENCHMARKS.md)
#   make install      PREFIX=/usr/local DESTDIR=
#
# Components (examples, bindings, bench, fuzz) each add their rules in a
# rules.mk next to their sources; see the "Components" section below.

VERSION := $(shell sed -n 's/^\#define ANAME_VERSION_STR *"\(.*\)"/\1/p' include/aname_version.h)
ABI     := $(shell sed -n 's/^\#define ANAME_ABI *\([0-9]*\)/\1/p' include/aname_version.h)

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
# Warnings are errors only when asked (CI runs "make WERROR=1"): a package
# build with a newer compiler must not fail on a new warning.
WERROR  ?=
WERROR_FLAG = $(if $(filter 1,$(WERROR)),-Werror)
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wwrite-strings \
           -Wmissing-prototypes -Wpointer-arith -Wformat=2 $(WERROR_FLAG)
# Required flags live apart from CFLAGS so that "make CFLAGS=..." keeps them.
ANAME_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden \
               -Iinclude -Ilib $(WARN) -pthread
DEP_LIBS = -lunbound -levent -lldns -pthread

B        = build
SONAME   = libaname.so.$(ABI)
SHLIB    = $(B)/libaname.so.$(VERSION)
STLIB    = $(B)/libaname.a

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(patsubst lib/%.c,$(B)/lib/%.o,$(LIB_SRC))
LIB_HDR  = $(wildcard lib/*.h) include/aname.h include/aname_version.h

# Components append to these.
ALL_TARGETS     = $(SHLIB) $(B)/libaname.so $(STLIB)
TEST_TARGETS    = check check-abi check-shim check-roots
BENCH_TARGETS   =
INSTALL_TARGETS =
CLEAN_FILES     =
TEST_DEPS       = deps/core.txt deps/test.txt

.PHONY: all test check check-asan check-tsan check-valgrind check-abi check-shim check-roots deps \
        test-deps install install-check uninstall clean bench demo examples
all: real-all

# ---------------------------------------------------------------- library
$(B)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ANAME_CFLAGS) $(CFLAGS) -c -o $@ $<

# The version script lists the header's ANAME_API functions by name: a
# glob such as aname_* would also export internal aname__* functions.
$(B)/aname.map: include/aname.h scripts/abi.sh
	@mkdir -p $(@D)
	scripts/abi.sh map include/aname.h > $@

$(SHLIB): $(LIB_OBJ) $(B)/aname.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(B)/aname.map \
	    -Wl,--no-undefined -o $@ $(LIB_OBJ) $(LDFLAGS) $(DEP_LIBS)

$(B)/$(SONAME): $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $@
$(B)/libaname.so: $(B)/$(SONAME)
	ln -sf $(SONAME) $@

$(STLIB): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

# Rewritten on every use: it records PREFIX, which may differ between runs.
$(B)/libaname.pc: pkgconfig/libaname.pc.in include/aname_version.h FORCE
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@ABI@|$(ABI)|' $< > $@

# check-abi must be able to fail: a library built with a deliberately
# leaked internal function (and an old-style aname_* glob map) is
# checked first and must be refused.
check-abi: $(SHLIB)
	@mkdir -p $(B)/abi-leak
	@printf 'int aname__leaked(void);\nint aname__leaked(void) { return 1; }\n' > $(B)/abi-leak/leak.c
	@printf 'ANAME_0 { global: aname_*; local: *; };\n' > $(B)/abi-leak/glob.map
	@$(CC) -shared -fPIC -o $(B)/abi-leak/libleak.so $(B)/abi-leak/leak.c $(LIB_OBJ) \
	    -Wl,--version-script=$(B)/abi-leak/glob.map $(DEP_LIBS)
	@if scripts/abi.sh check $(B)/abi-leak/libleak.so include/aname.h >/dev/null; then \
	    echo "check-abi: FAILED, a leaked aname__leaked was not caught"; exit 1; fi
	@echo "check-abi: a deliberate leak (aname__leaked) is refused"
	@printf '__thread int aname__ie __attribute__((tls_model("initial-exec")));\nint *aname__ie_at(void);\nint *aname__ie_at(void) { return &aname__ie; }\n' > $(B)/abi-leak/ie.c
	@$(CC) -shared -fPIC -fvisibility=hidden -o $(B)/abi-leak/libie.so $(B)/abi-leak/ie.c $(LIB_OBJ) \
	    -Wl,--version-script=$(B)/aname.map $(DEP_LIBS)
	@if scripts/abi.sh check $(B)/abi-leak/libie.so include/aname.h >/dev/null; then \
	    echo "check-abi: FAILED, initial-exec TLS was not caught"; exit 1; fi
	@echo "check-abi: a deliberate initial-exec TLS variable is refused"
	@scripts/abi.sh check $(SHLIB) include/aname.h

# ---------------------------------------------------------------- tests
# Unit and integration tests link the static archive so they can reach the
# internal aname__* functions; check-abi covers the shared object.
TEST_SRC     = $(wildcard tests/test_*.c)
SUPPORT_SRC  = $(wildcard tests/support/*.c) tests/helpers.c
# The part of tests/support that needs only libc and ldns (loopback
# servers, ptrace freeze, utilities): what component tests, shell
# harnesses and the corpus generator link without the library.  The rest
# (cachestress.c, hammer.c) drives the library itself.
SERVER_SUPPORT_SRC = tests/support/blackhole.c tests/support/freeze.c \
                     tests/support/nsd.c tests/support/proxy.c tests/support/util.c
TEST_CFLAGS  = -std=c11 -D_GNU_SOURCE -Iinclude -Ilib -Itests -Wall -Wextra $(WERROR_FLAG) -Wno-format-truncation -g -pthread
TEST_LIBS    = -lcriterion -lunbound -levent -lldns -pthread

$(B)/tests/run: $(TEST_SRC) $(SUPPORT_SRC) $(wildcard tests/support/*.h) tests/helpers.h $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(CFLAGS) -o $@ $(TEST_SRC) $(SUPPORT_SRC) $(STLIB) $(TEST_LIBS)

# Criterion runs 2 workers: the machines have 2 cores and the integration
# tests start real servers.
CRITERION_ARGS ?= -j2
check: $(B)/tests/run
	$(B)/tests/run $(CRITERION_ARGS)

SAN_CFLAGS = -O1 -g -fno-omit-frame-pointer
check-asan:
	$(MAKE) B=build-asan CFLAGS="$(SAN_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/tests/run
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    build-asan/tests/run $(CRITERION_ARGS)

# TSan: Criterion itself cannot start under ThreadSanitizer here (its
# arena allocator, Criterion issue #274), so the threaded paths are
# exercised by the standalone programs in tests/tsan (tests/fuzz/rules.mk).
check-tsan: check-tsan-programs

# valgrind: Criterion's shared-memory process arenas crash under valgrind,
# so memcheck runs a standalone tour of the library (tests/standalone)
# against nsd and a black hole, in event-loop and thread mode.
$(B)/tests/memcheck: tests/standalone/memcheck.c $(SUPPORT_SRC) $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O1 -o $@ tests/standalone/memcheck.c \
	    $(filter tests/support/%,$(SUPPORT_SRC)) $(STLIB) -lunbound -levent -lldns -pthread

check-valgrind: $(B)/tests/memcheck
	valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	    --show-leak-kinds=definite $(B)/tests/memcheck

# A resolver thread stuck in a syscall for real: an LD_PRELOAD shim makes
# its first connect/send to nsd's port sleep (tests/shim).
$(B)/tests/stallshim.so: tests/shim/stallshim.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR_FLAG) -O1 -g -shared -fPIC \
	    -o $@ tests/shim/stallshim.c -ldl -pthread
$(B)/tests/shim_stall: tests/shim/shim_stall.c $(SUPPORT_SRC) $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O1 -o $@ tests/shim/shim_stall.c \
	    $(filter tests/support/%,$(SUPPORT_SRC)) $(STLIB) -lunbound -levent -lldns -ldl -pthread

check-shim: $(B)/tests/stallshim.so $(B)/tests/shim_stall
	LD_PRELOAD=$(CURDIR)/$(B)/tests/stallshim.so $(B)/tests/shim_stall

# The root canary (full recursion) against nsd on the root servers'
# addresses, in a network namespace the script creates (tests/netns).
$(B)/tests/roots_canary: tests/netns/roots_canary.c $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O1 -o $@ tests/netns/roots_canary.c $(STLIB) \
	    -lunbound -levent -lldns -pthread

check-roots: $(B)/tests/roots_canary
	tests/netns/roots.sh $(B)/tests/roots_canary

deps:
	@scripts/deps.sh deps/core.txt
test-deps:
	@scripts/deps.sh $(TEST_DEPS)

# The whole suite: every component's tests, after installing what they need.
test: test-deps
	$(MAKE) all
	$(MAKE) $(TEST_TARGETS)

# ---------------------------------------------------------------- components
# Each rules.mk may append to ALL_TARGETS, TEST_TARGETS, BENCH_TARGETS,
# INSTALL_TARGETS, CLEAN_FILES and TEST_DEPS, and define its own rules.
COMPONENT_MK := $(sort $(wildcard examples/*/rules.mk bindings/*/rules.mk bench/*.mk tests/fuzz/rules.mk \
                 man/rules.mk distro/rules.mk))
include $(COMPONENT_MK)

real-all: $(ALL_TARGETS)
examples: $(filter $(B)/examples/%,$(ALL_TARGETS))

bench: all
	@if [ -z "$(BENCH_TARGETS)" ]; then echo "no benchmarks defined"; exit 1; fi
	$(MAKE) $(BENCH_TARGETS)

# ---------------------------------------------------------------- install
install: $(SHLIB) $(STLIB) $(B)/libaname.pc $(INSTALL_TARGETS)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 644 include/aname.h include/aname_version.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libaname.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(B)/libaname.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 644 man/libaname.3 $(DESTDIR)$(MANDIR)/man3/
	@# Build-tree binaries find build/libaname.so through an rpath; an
	@# installed one uses the system search path (distro/strip-runpath.sh).
	distro/strip-runpath.sh $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)

# An outside program built with pkg-config against a staged install.
STAGE = $(CURDIR)/$(B)/stage
install-check:
	rm -rf $(STAGE)
	$(MAKE) install DESTDIR=$(STAGE) PREFIX=/usr/local
	PKG_CONFIG_PATH=$(STAGE)/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(STAGE) \
	    sh -c '$(CC) -o $(B)/consumer tests/install/consumer.c $$(pkg-config --cflags --libs libaname)'
	LD_LIBRARY_PATH=$(STAGE)/usr/local/lib $(B)/consumer
	@readelf -d $(STAGE)/usr/local/lib/libaname.so | grep -q 'SONAME.*libaname.so.$(ABI)'
	$(MAKE) uninstall DESTDIR=$(STAGE) PREFIX=/usr/local
	@left=$$(find $(STAGE) -type f -o -type l); \
	if [ -n "$$left" ]; then echo "install-check: uninstall left: $$left"; exit 1; fi
	@echo "install-check: ok (soname libaname.so.$(ABI); uninstall removes everything)"

uninstall: uninstall-distro
	rm -f $(DESTDIR)$(BINDIR)/aname-resolve $(DESTDIR)$(MANDIR)/man1/aname-resolve.1
	rm -f $(DESTDIR)$(SBINDIR)/aname-updater $(DESTDIR)$(MANDIR)/man8/aname-updater.8
	rm -f $(DESTDIR)$(SBINDIR)/aname-server $(DESTDIR)$(SBINDIR)/aname-resolverd \
	      $(DESTDIR)$(MANDIR)/man8/aname-server.8 $(DESTDIR)$(MANDIR)/man8/aname-resolverd.8 \
	      $(DESTDIR)$(LIBDIR)/libaname/libaname-pdns.so
	rmdir $(DESTDIR)$(LIBDIR)/libaname 2>/dev/null || true
	$(if $(KNOT_MODDIR),rm -f $(DESTDIR)$(KNOT_MODDIR)/mod_aname.so)
	rm -rf $(DESTDIR)$(DATADIR)/libaname
	rm -f $(DESTDIR)$(INCLUDEDIR)/aname.h $(DESTDIR)$(INCLUDEDIR)/aname_version.h \
	      $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libaname.so $(DESTDIR)$(LIBDIR)/libaname.a \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/libaname.pc $(DESTDIR)$(MANDIR)/man3/libaname.3

FORCE:

clean:
	rm -rf build build-asan build-tsan $(CLEAN_FILES)
