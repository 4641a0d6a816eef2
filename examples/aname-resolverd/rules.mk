# examples/aname-resolverd: loopback responder for PowerDNS's resolver=,
# built on the listener code in examples/aname-server (DNSLOOP_OBJ).

include examples/aname-server/shared.mk
ARSV_DIR = examples/aname-resolverd

$(B)/examples/aname-resolverd.obj/resolverd.o: $(ARSV_DIR)/resolverd.c $(ASRV_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ASRV_CFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/examples/aname-resolverd: $(B)/examples/aname-resolverd.obj/resolverd.o \
		$(DNSLOOP_OBJ) $(STLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(DNSLOOP_OBJ) $(ASRV_LIBS)

ARSV_TEST_SRC = $(ARSV_DIR)/tests/test_resolverd.c $(ASRV_DIR)/tests/dnsclient.c \
		$(ASRV_DIR)/tests/wire.c $(ASRV_DIR)/tests/tcpload.c
$(B)/examples/test-aname-resolverd: $(ARSV_TEST_SRC) $(ASRV_DIR)/tests/dnsclient.h $(ASRV_DIR)/tests/wire.h $(ASRV_DIR)/tests/tcpload.h \
		$(SERVER_SUPPORT_SRC) $(wildcard tests/support/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -I$(ASRV_DIR)/tests $(CFLAGS) -o $@ $(ARSV_TEST_SRC) \
	    $(SERVER_SUPPORT_SRC) -lcriterion -lldns -pthread

.PHONY: test-resolverd install-aname-resolverd
test-resolverd: $(B)/examples/aname-resolverd $(B)/examples/test-aname-resolverd
	ANAME_RESOLVERD=$(B)/examples/aname-resolverd $(B)/examples/test-aname-resolverd -j1

install-aname-resolverd: $(B)/examples/aname-resolverd
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/examples/aname-resolverd $(DESTDIR)$(SBINDIR)/
	install -m 644 $(ARSV_DIR)/aname-resolverd.8 $(DESTDIR)$(MANDIR)/man8/

ALL_TARGETS     += $(B)/examples/aname-resolverd
TEST_TARGETS    += test-resolverd
INSTALL_TARGETS += install-aname-resolverd
