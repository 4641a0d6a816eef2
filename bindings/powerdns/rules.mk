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
$(PDNS_HELPER): $(PDNS_DIR)/aname_pdns_shared.c include/aname.h $(B)/libaname.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -Iinclude \
	    $(WARN) -pthread $(CFLAGS) -shared -Wl,--no-undefined -o $@ $< \
	    -L$(B) -laname -Wl,-rpath,'$$ORIGIN/../..' $(LDFLAGS)

PDNS_TEST_INPUTS = $(PDNS_HELPER) $(B)/libaname.so $(B)/examples/aname-resolverd

test-powerdns: $(PDNS_TEST_INPUTS)
	cd $(PDNS_DIR) && ANAME_BUILD=$(abspath $(B)) $(PDNS_PY) -m pytest -p no:cacheprovider -q tests

bench-powerdns: $(PDNS_TEST_INPUTS)
	@mkdir -p $(B)/bench
	ANAME_BUILD=$(abspath $(B)) $(PDNS_PY) $(PDNS_DIR)/bench/bench_powerdns.py \
	    --out $(B)/bench/powerdns.md

install-powerdns: $(PDNS_HELPER)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PREFIX)/share/libaname/powerdns
	install -m 755 $(PDNS_HELPER) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(PDNS_DIR)/aname-lua2.lua $(PDNS_DIR)/aname-lua2.conf.example \
	    $(DESTDIR)$(PREFIX)/share/libaname/powerdns/
