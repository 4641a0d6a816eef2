# examples/minimal: the README's API sketch as a complete program, built
# against the shared library and run against nsd by test-minimal.

MINIMAL = $(B)/examples/minimal

ALL_TARGETS  += $(MINIMAL)
TEST_TARGETS += test-minimal

$(MINIMAL): examples/minimal/minimal.c include/aname.h include/aname_version.h $(B)/libaname.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -Iinclude $(WARN) $(CFLAGS) \
	    -o $@ $< $(LDFLAGS) -L$(B) -laname

.PHONY: test-minimal
test-minimal: $(MINIMAL) $(NSD_HARNESS)
	LD_LIBRARY_PATH=$(B) examples/minimal/test.sh $(MINIMAL) $(NSD_HARNESS)
