# Variables shared by examples/aname-server/rules.mk and
# examples/aname-resolverd/rules.mk; either may be included first (the top
# Makefile sorts them), so both include this file.
ifndef ASRV_SHARED_MK
ASRV_SHARED_MK = 1

ASRV_DIR    = examples/aname-server
ASRV_OBJDIR = $(B)/examples/aname-server.obj
ASRV_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude -I$(ASRV_DIR) $(WARN) -pthread
ASRV_LIBS   = $(STLIB) -lmicrohttpd $(DEP_LIBS)
ASRV_HDR    = $(wildcard $(ASRV_DIR)/*.h) include/aname.h include/aname_version.h
SBINDIR    ?= $(PREFIX)/sbin

# The shared listener objects (also linked by aname-resolverd).
DNSLOOP_OBJ = $(patsubst %,$(ASRV_OBJDIR)/%.o,dnsloop dnsmsg common httpd targets_json cachefile)

$(ASRV_OBJDIR)/%.o: $(ASRV_DIR)/%.c $(ASRV_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ASRV_CFLAGS) $(CFLAGS) -c -o $@ $<

TEST_DEPS += deps/server.txt
endif
