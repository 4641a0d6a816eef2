# examples/aname-server: authoritative DNS server answering ALIAS records,
# plus the DNS listener code (dnsloop, dnsmsg, common, httpd) it shares with
# examples/aname-resolverd.

include examples/aname-server/shared.mk
ASRV_OBJ    = $(patsubst %,$(ASRV_OBJDIR)/%.o,server zone answer)

$(B)/examples/aname-server: $(ASRV_OBJ) $(DNSLOOP_OBJ) $(STLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(ASRV_OBJ) $(DNSLOOP_OBJ) $(ASRV_LIBS)

# Integration tests: Criterion + tests/support (nsd, proxy, black hole).
ASRV_TEST_SRC = $(ASRV_DIR)/tests/test_server.c $(ASRV_DIR)/tests/dnsclient.c
$(B)/examples/test-aname-server: $(ASRV_TEST_SRC) $(ASRV_DIR)/tests/dnsclient.h \
		$(wildcard tests/support/*.c) $(wildcard tests/support/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -I$(ASRV_DIR)/tests $(CFLAGS) -o $@ $(ASRV_TEST_SRC) \
	    $(wildcard tests/support/*.c) -lcriterion -lldns -pthread

.PHONY: test-server bench-server install-aname-server
test-server: $(B)/examples/aname-server $(B)/examples/test-aname-server
	ANAME_SERVER=$(B)/examples/aname-server $(B)/examples/test-aname-server -j1

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
