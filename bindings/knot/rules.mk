# mod-aname: knotd query module (see bindings/knot/README.md).
#
#   make                         builds $(B)/bindings/knot/mod_aname.so
#   make test-knot               integration tests: nsd + knotd + kdig, and
#                                the hosts' own ALIAS cases (test_hosts.sh)
#   make bench-knot              dnsperf benchmark -> $(B)/bench/knot.md, and
#                                bench-knot-scale -> $(B)/bench/knot-scale.md
#   make install                 also puts mod_aname.so into knotd's module dir
#
# The module links libaname statically (PIC objects) so knotd needs no
# LD_LIBRARY_PATH; only knotd_mod_api is exported.

KNOT_MOD      = $(B)/bindings/knot/mod_aname.so
KNOT_MOD_SRC  = bindings/knot/mod_aname.c bindings/knot/alias.c \
                bindings/knot/shared.c bindings/knot/preload.c \
                bindings/knot/logsink.c
KNOT_MOD_OBJ  = $(patsubst bindings/knot/%.c,$(B)/bindings/knot/%.o,$(KNOT_MOD_SRC))
KNOT_MOD_HDR  = $(wildcard bindings/knot/*.h) include/aname.h
KNOT_CFLAGS   = $(shell pkg-config --cflags libknot 2>/dev/null)
KNOT_TOOLS    = $(B)/bindings/knot/rrsig_check $(B)/bindings/knot/blackhole \
                $(B)/bindings/knot/sweep

# Without libknot-dev the module cannot be built; say so instead of breaking
# "make" for everyone.  test-knot still requires it and fails loudly.
ifneq ($(wildcard /usr/include/knot/module.h),)
ALL_TARGETS  += $(KNOT_MOD)
else
$(warning mod-aname not built: /usr/include/knot/module.h missing, install deps/knot.txt)
endif
INSTALL_TARGETS += install-knot
TEST_TARGETS  += test-knot
BENCH_TARGETS += bench-knot
TEST_DEPS     += deps/knot.txt

.PHONY: test-knot bench-knot bench-knot-scale install-knot

# knotd loads every module in its module directory without a "module:"
# section (a "file:" path is only needed elsewhere).  The directory is the
# one the installed knotd was built with: one per ABI series.
KNOT_MODDIR ?= $(shell pkg-config --variable=module_instdir knotd 2>/dev/null)
install-knot:
	@if [ -z "$(KNOT_MODDIR)" ] || [ ! -e $(KNOT_MOD) ]; then \
	    echo "install-knot: skipped (no knotd.pc from libknot-dev, or mod_aname.so not built)"; \
	else \
	    install -d $(DESTDIR)$(KNOT_MODDIR) && \
	    install -m 644 $(KNOT_MOD) $(DESTDIR)$(KNOT_MODDIR)/mod_aname.so && \
	    echo "install-knot: $(DESTDIR)$(KNOT_MODDIR)/mod_aname.so"; \
	fi

$(B)/bindings/knot/%.o: bindings/knot/%.c $(KNOT_MOD_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ANAME_CFLAGS) $(KNOT_CFLAGS) $(CFLAGS) -c -o $@ $<

$(KNOT_MOD): $(KNOT_MOD_OBJ) $(STLIB)
	$(CC) -shared -Wl,--exclude-libs,ALL -o $@ $(KNOT_MOD_OBJ) $(STLIB) \
	    $(LDFLAGS) -lzscanner $(DEP_LIBS)

$(B)/bindings/knot/rrsig_check: bindings/knot/tests/rrsig_check.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $< -lldns

$(B)/bindings/knot/blackhole: bindings/knot/tests/blackhole.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

$(B)/bindings/knot/sweep: bindings/knot/tests/sweep.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

# test_knot.sh: the module's own behaviour; test_scale.sh: 5 000 zone-file
# and secondary ALIAS owners all answering after load (bench_scale.sh times
# it against the 3 s goal); test_hosts.sh: Knot's and
# PowerDNS's ALIAS test cases, adapted (see the README's differences table).
test-knot: $(KNOT_MOD) $(KNOT_TOOLS)
	sh bindings/knot/tests/test_knot.sh $(B)
	sh bindings/knot/tests/test_hosts.sh $(B)
	HOSTS_DNSSEC=1 sh bindings/knot/tests/test_hosts.sh $(B)
	sh bindings/knot/tests/test_scale.sh $(B)

bench-knot: $(KNOT_MOD) $(KNOT_TOOLS)
	sh bindings/knot/tests/bench_knot.sh $(B)
	$(MAKE) bench-knot-scale

bench-knot-scale: $(KNOT_MOD) $(KNOT_TOOLS)
	sh bindings/knot/tests/bench_scale.sh $(B) $(B)/bench/knot-scale.md
