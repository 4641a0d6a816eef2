# examples/aname-resolve: the command-line tool, its shell tests, the demo.
# Included by the top Makefile; paths are relative to the top directory.

ANAME_RESOLVE = $(B)/examples/aname-resolve
NSD_HARNESS   = $(B)/tests/nsd-harness

ALL_TARGETS     += $(ANAME_RESOLVE)
TEST_TARGETS    += test-cli
INSTALL_TARGETS += install-aname-resolve
TEST_DEPS       += deps/support.txt

# Linked against the shared library, like any user of the installed API:
# a function missing from the export list fails here at link time.  The
# run path finds build/libaname.so.N from build/examples/ and, once
# installed, $(PREFIX)/lib from $(PREFIX)/bin.
$(ANAME_RESOLVE): examples/aname-resolve/aname-resolve.c include/aname.h \
		  include/aname_version.h $(B)/libaname.so
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -Iinclude $(WARN) $(CFLAGS) \
	    -o $@ $< $(LDFLAGS) -L$(B) -laname \
	    -Wl,-rpath,'$$ORIGIN/..:$$ORIGIN/../lib'

# Shell-test helper: nsd and a black hole from tests/support, stopped when
# its stdin closes.
$(NSD_HARNESS): tests/support/harness/nsd-harness.c $(SERVER_SUPPORT_SRC) \
		$(wildcard tests/support/*.h)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Itests -Wall -Wextra -Werror -g -pthread \
	    -o $@ $< $(SERVER_SUPPORT_SRC) -lldns -pthread

.PHONY: test-cli install-aname-resolve
test-cli: $(ANAME_RESOLVE) $(NSD_HARNESS)
	examples/aname-resolve/test.sh $(ANAME_RESOLVE) $(NSD_HARNESS)

install-aname-resolve: $(ANAME_RESOLVE)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(ANAME_RESOLVE) $(DESTDIR)$(BINDIR)/aname-resolve
	install -m 644 examples/aname-resolve/aname-resolve.1 $(DESTDIR)$(MANDIR)/man1/

# The top Makefile declares demo .PHONY and leaves the recipe to us.
demo:
	scripts/demo.sh
