# mod-aname: knotd query module (see bindings/knot/README.md).
#
#   make                         builds $(B)/bindings/knot/mod_aname.so
#   make test-knot               integration tests: nsd + knotd + kdig, and
#                                the hosts' own ALIAS cases (test_hosts.sh)
#   make bench-knot              dnsperf benchmark -> $(B)/bench/knot.md
#
# The module links libaname statically (PIC objects) so knotd needs no
# LD_LIBRARY_PATH; only knotd_mod_api is exported.

KNOT_MOD      = $(B)/bindings/knot/mod_aname.so
KNOT_MOD_SRC  = bindings/knot/mod_aname.c bindings/knot/alias.c \
                bindings/knot/shared.c bindings/knot/preload.c
KNOT_MOD_OBJ  = $(patsubst bindings/knot/%.c,$(B)/bindings/knot/%.o,$(KNOT_MOD_SRC))
KNOT_MOD_HDR  = $(wildcard bindings/knot/*.h) include/aname.h
KNOT_CFLAGS   = $(shell pkg-config --cflags libknot 2>/dev/null)
KNOT_TOOLS    = $(B)/bindings/knot/rrsig_check $(B)/bindings/knot/blackhole

# Without libknot-dev the module cannot be built; say so instead of breaking
# "make" for everyone.  test-knot still requires it and fails loudly.
ifneq ($(wildcard /usr/include/knot/module.h),)
ALL_TARGETS  += $(KNOT_MOD)
else
$(warning mod-aname not built: /usr/include/knot/module.h missing, install deps/knot.txt)
endif
TEST_TARGETS  += test-knot
BENCH_TARGETS += bench-knot
TEST_DEPS     += deps/knot.txt

.PHONY: test-knot bench-knot

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

# test_knot.sh: the module's own behaviour; test_scale.sh: 5 000 zone-file
# ALIAS owners answering within 3 s of load; test_hosts.sh: Knot's and
# PowerDNS's ALIAS test cases, adapted (see the README's differences table).
test-knot: $(KNOT_MOD) $(KNOT_TOOLS)
	sh bindings/knot/tests/test_knot.sh $(B)
	sh bindings/knot/tests/test_hosts.sh $(B)
	sh bindings/knot/tests/test_scale.sh $(B)

bench-knot: $(KNOT_MOD) $(KNOT_TOOLS)
	sh bindings/knot/tests/bench_knot.sh $(B)
