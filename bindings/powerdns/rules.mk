# bindings/powerdns: PowerDNS integration (see bindings/powerdns/README.md).
#
#   make test-powerdns    pytest suite against a real pdns_server (< 3 min)
#   make bench-powerdns   dnsperf comparison -> build/bench/powerdns.md
#
# The lua2 script needs no build; the helper .so shares one libaname context
# between the Lua states of one pdns process.

PDNS_DIR    = bindings/powerdns
PDNS_HELPER = $(B)/bindings/powerdns/libaname-pdns.so
PDNS_PY     = /usr/bin/python3

ALL_TARGETS     += $(PDNS_HELPER)
TEST_TARGETS    += test-powerdns
BENCH_TARGETS   += bench-powerdns
INSTALL_TARGETS += install-powerdns
TEST_DEPS       += deps/powerdns.txt
CLEAN_FILES     += $(PDNS_DIR)/tests/__pycache__ $(PDNS_DIR)/.pytest_cache

.PHONY: test-powerdns bench-powerdns install-powerdns

# rpath $ORIGIN/../.. finds build/libaname.so.0 from the build tree; once
# installed next to libaname it is found through the normal search path.
PDNS_HELPER_SRC = $(PDNS_DIR)/aname_pdns_shared.c $(PDNS_DIR)/aname_pdns_http.c
$(PDNS_HELPER): $(PDNS_HELPER_SRC) $(PDNS_DIR)/aname_pdns_http.h include/aname.h $(B)/libaname.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -Iinclude \
	    $(WARN) -pthread $(CFLAGS) -shared -Wl,--no-undefined -o $@ $(PDNS_HELPER_SRC) \
	    -L$(B) -laname -lmicrohttpd -Wl,-rpath,'$$ORIGIN/../..' $(LDFLAGS)

PDNS_TEST_INPUTS = $(PDNS_HELPER) $(B)/libaname.so $(B)/examples/aname-resolverd

test-powerdns: $(PDNS_TEST_INPUTS)
	cd $(PDNS_DIR) && ANAME_BUILD=$(abspath $(B)) $(PDNS_PY) -m pytest -p no:cacheprovider -q tests

bench-powerdns: $(PDNS_TEST_INPUTS)
	@mkdir -p $(B)/bench
	ANAME_BUILD=$(abspath $(B)) $(PDNS_PY) $(PDNS_DIR)/bench/bench_powerdns.py \
	    --out $(B)/bench/powerdns.md

# The helper is a plugin of the lua2 script, not a library anyone links:
# it has no SONAME and lives in a private directory, $(PDNS_HELPER_DIR).
# The installed script and example name that path.
PDNS_HELPER_DIR = $(LIBDIR)/libaname
PDNS_SHARE      = $(PREFIX)/share/libaname/powerdns
install-powerdns: $(PDNS_HELPER)
	install -d $(DESTDIR)$(PDNS_HELPER_DIR) $(DESTDIR)$(PDNS_SHARE)
	install -m 755 $(PDNS_HELPER) $(DESTDIR)$(PDNS_HELPER_DIR)/
	for f in aname-lua2.lua aname-lua2.conf.example; do \
	    sed -e 's|/usr/local/lib/libaname/libaname-pdns.so|$(PDNS_HELPER_DIR)/libaname-pdns.so|' \
	        -e 's|/usr/local/lib/libaname.so.0|$(LIBDIR)/libaname.so.0|' \
	        -e 's|/usr/local/share/libaname/powerdns/|$(PDNS_SHARE)/|' \
	        $(PDNS_DIR)/$$f > $(DESTDIR)$(PDNS_SHARE)/$$f || exit 1; \
	    chmod 644 $(DESTDIR)$(PDNS_SHARE)/$$f; \
	done
