# examples/aname-updater: primary mode (issue 16).  The daemon, its tests
# against real primaries (Knot, BIND, PowerDNS) with an NSD secondary, the
# key-file fuzzer and the scale bench.
#
#   make test-updater     tests (also part of make test)
#   make test-updater-asan  the same with the daemon under ASan + UBSan
#   make bench-updater    scale and propagation measurements (docs/SCALING.md)
#   make fuzz-updater-key the BIND key-file parser under libFuzzer (clang,
#                         deps/hardening.txt; test-updater replays its corpus)

include examples/aname-server/shared.mk
AUPD_DIR  = examples/aname-updater
AUPD_OBJD = $(B)/examples/aname-updater.obj
AUPD_SRC  = updater.c poll.c reconcile.c targets.c owners.c dnsio.c key.c \
            state.c http.c
AUPD_OBJ  = $(patsubst %.c,$(AUPD_OBJD)/%.o,$(AUPD_SRC))
AUPD_HDR  = $(wildcard $(AUPD_DIR)/*.h) $(ASRV_HDR)
AUPD      = $(B)/examples/aname-updater
AUPD_FUZZ = build-fuzz/fuzz_updater_key

$(AUPD_OBJD)/%.o: $(AUPD_DIR)/%.c $(AUPD_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -Iinclude -I$(ASRV_DIR) \
	    $(WARN) -pthread $(CFLAGS) -c -o $@ $<

# From aname-server: common.o (option driver, --forward/--stub) and
# dnsloop.o's address parser, linked like aname-resolverd does.
$(AUPD): $(AUPD_OBJ) $(DNSLOOP_OBJ) $(STLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(AUPD_OBJ) $(DNSLOOP_OBJ) $(ASRV_LIBS)

.PHONY: test-updater test-updater-asan bench-updater fuzz-updater-key install-aname-updater
# The corpus replay (a second, ASan+UBSan, over every committed input)
# runs with the servers' tests.
test-updater: $(AUPD) $(AUPD_FUZZ)
	$(AUPD_FUZZ) -runs=0 $(AUPD_DIR)/tests/fuzz-corpus
	$(AUPD_DIR)/tests/run.sh $(AUPD)

# The same cases with the daemon under ASan + UBSan (leaks fail a --once
# run's status).  Not in make test: it doubles the time.
test-updater-asan:
	$(MAKE) B=build-asan CFLAGS="$(SAN_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/examples/aname-updater
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(AUPD_DIR)/tests/run.sh build-asan/examples/aname-updater

bench-updater: $(AUPD)
	$(AUPD_DIR)/bench.sh $(AUPD)

# The key-file parser under libFuzzer (pattern of tests/fuzz/rules.mk).
$(AUPD_FUZZ): $(AUPD_DIR)/fuzz_updater_key.c $(AUPD_DIR)/key.c $(AUPD_DIR)/key.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -I$(AUPD_DIR) $(WARN) $(FUZZ_CFLAGS) \
	    -fsanitize=fuzzer -o $@ $(AUPD_DIR)/fuzz_updater_key.c $(AUPD_DIR)/key.c
fuzz-updater-key: $(AUPD_FUZZ)
	mkdir -p $(AUPD_DIR)/tests/fuzz-corpus
	$(AUPD_FUZZ) -max_total_time=$(FUZZ_SMOKE_S) -max_len=4096 \
	    $(AUPD_DIR)/tests/fuzz-corpus

# The systemd unit is installed with the others by distro/rules.mk (every
# examples/*/*.service, paths filled in).
install-aname-updater: $(AUPD)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(AUPD) $(DESTDIR)$(SBINDIR)/
	install -m 644 $(AUPD_DIR)/aname-updater.8 $(DESTDIR)$(MANDIR)/man8/

ALL_TARGETS     += $(AUPD)
TEST_TARGETS    += test-updater
INSTALL_TARGETS += install-aname-updater
TEST_DEPS       += deps/updater.txt
