# examples/aname-server: authoritative DNS server answering ALIAS records,
# plus the DNS listener code (dnsloop, dnsmsg, common, httpd) it shares with
# examples/aname-resolverd.

include examples/aname-server/shared.mk
ASRV_OBJ    = $(patsubst %,$(ASRV_OBJDIR)/%.o,server zone answer)

$(B)/examples/aname-server: $(ASRV_OBJ) $(DNSLOOP_OBJ) $(STLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(ASRV_OBJ) $(DNSLOOP_OBJ) $(ASRV_LIBS)

# Integration tests: Criterion + tests/support (nsd, proxy, black hole).
ASRV_TEST_SRC = $(wildcard $(ASRV_DIR)/tests/*.c)
$(B)/examples/test-aname-server: $(ASRV_TEST_SRC) $(wildcard $(ASRV_DIR)/tests/*.h) \
		$(SERVER_SUPPORT_SRC) $(wildcard tests/support/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -I$(ASRV_DIR)/tests $(CFLAGS) -o $@ $(ASRV_TEST_SRC) \
	    $(SERVER_SUPPORT_SRC) -lcriterion -lldns -pthread

.PHONY: test-server bench-server install-aname-server
# test_dnssec.c also drives aname-resolverd and aname-resolve (--trust-anchor).
test-server: $(B)/examples/aname-server $(B)/examples/test-aname-server \
		$(B)/examples/aname-resolverd $(B)/examples/aname-resolve
	ANAME_SERVER=$(B)/examples/aname-server ANAME_RESOLVERD=$(B)/examples/aname-resolverd \
	ANAME_RESOLVE=$(B)/examples/aname-resolve $(B)/examples/test-aname-server -j1

bench-server: $(B)/examples/aname-server
	$(ASRV_DIR)/bench.sh $(B)

install-aname-server: $(B)/examples/aname-server
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/examples/aname-server $(DESTDIR)$(SBINDIR)/
	install -m 644 $(ASRV_DIR)/aname-server.8 $(DESTDIR)$(MANDIR)/man8/

ALL_TARGETS     += $(B)/examples/aname-server
TEST_TARGETS    += test-server
BENCH_TARGETS   += bench-server
INSTALL_TARGETS += install-aname-server

# The TCP bounds and the connection limit with the server under ASan +
# UBSan (issue 14: a use-after-free there went unseen in a plain build).
# Shares build-asan/ and its flags with `make check-asan`.
.PHONY: test-server-asan
ASRV_SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ANAME_TEST_ASAN=1
test-server-asan: $(B)/examples/test-aname-server $(B)/examples/test-aname-resolverd
	$(MAKE) B=build-asan CFLAGS="$(SAN_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/examples/aname-server \
	    build-asan/examples/aname-resolverd
	$(ASRV_SAN_ENV) ANAME_SERVER=build-asan/examples/aname-server \
	    $(B)/examples/test-aname-server -j1 --filter 'limits/*'
	$(ASRV_SAN_ENV) ANAME_RESOLVERD=build-asan/examples/aname-resolverd \
	    $(B)/examples/test-aname-resolverd -j1 --filter 'resolverd/tcp_*'

TEST_TARGETS    += test-server-asan

# Fuzz target for the zone-driven answer paths (tests/fuzz/fuzz_server_answer.c):
# ALIAS chains through our zones, SVCB/HTTPS and ALIAS-type additional data.
# Built with tests/fuzz/rules.mk's instrumented objects (build-fuzz/), whose
# variables are defined after this file, hence the literal paths.
#   make fuzz-server [FUZZ_SERVER_S=60]   seeds: this directory's test zones
FUZZ_SERVER_S ?= 60
ASRV_FUZZ_OBJ = build-fuzz/srv/zone.o build-fuzz/srv/dnsmsg.o build-fuzz/srv/answer.o
build-fuzz/fuzz_server_answer: tests/fuzz/fuzz_server_answer.c tests/fuzz/fuzz_check.h \
		$(ASRV_FUZZ_OBJ) build-fuzz/libaname-fuzz.a
	$(FUZZ_CC) $(FUZZ_HCFLAGS) -I$(ASRV_DIR) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -o $@ $< $(ASRV_FUZZ_OBJ) build-fuzz/libaname-fuzz.a $(FUZZ_LIBS)

.PHONY: fuzz-server
fuzz-server: build-fuzz/fuzz_server_answer
	mkdir -p build-fuzz/corpus-server_answer
	for z in $(ASRV_DIR)/tests/zones/*.zone $(ASRV_DIR)/tests/zones/interop/*.zone; do \
	    cp $$z build-fuzz/corpus-server_answer/$$(basename $$z); done
	LSAN_OPTIONS=suppressions=$(CURDIR)/$(ASRV_DIR)/tests/fuzz-lsan.supp \
	build-fuzz/fuzz_server_answer -close_fd_mask=2 -max_total_time=$(FUZZ_SERVER_S) \
	    -dict=tests/fuzz/zone.dict build-fuzz/corpus-server_answer
