# man/: the man3 pages, one per public function, generated from the doc
# comments in include/aname.h by man/gen-man3.py (never hand-written, never
# committed), plus the hand-written overview man/libaname.3.
#
#   make                 generates $(B)/man/man3/*.3 when aname.h changes
#   make check-man       fails when an exported function has no page, and
#                        proves it can fail (a page removed, a function
#                        added without a doc comment)
#   make install         installs them under $(MANDIR)/man3

MAN3_DIR   = $(B)/man/man3
MAN3_STAMP = $(MAN3_DIR)/.generated
PYTHON3   ?= python3

ALL_TARGETS     += $(MAN3_STAMP)
TEST_TARGETS    += check-man
INSTALL_TARGETS += install-man3

# The generator rewrites the whole set, so a function removed from the
# header loses its page too.
$(MAN3_STAMP): include/aname.h include/aname_version.h man/gen-man3.py
	rm -rf $(MAN3_DIR)
	$(PYTHON3) man/gen-man3.py include/aname.h $(VERSION) $(MAN3_DIR)
	touch $@

.PHONY: check-man install-man3
check-man: $(MAN3_STAMP) $(SHLIB)
	man/check-man.sh $(SHLIB) $(MAN3_DIR)
	@# The check must be able to fail: a missing page ...
	@rm -rf $(B)/man/neg && mkdir -p $(B)/man/neg && cp $(MAN3_DIR)/*.3 $(B)/man/neg/ \
	    && rm $(B)/man/neg/aname_resolve.3
	@if man/check-man.sh $(SHLIB) $(B)/man/neg 2>/dev/null; then \
	    echo "check-man: FAILED, a missing aname_resolve.3 went unnoticed"; exit 1; fi
	@# ... and a public function added without a doc comment.
	@sed 's|^ANAME_API int aname_cancel(.*;$$|&\nANAME_API int aname_undocumented(void);|' \
	    include/aname.h > $(B)/man/neg/aname.h
	@if $(PYTHON3) man/gen-man3.py $(B)/man/neg/aname.h $(VERSION) $(B)/man/neg/out \
	    >/dev/null 2>&1; then \
	    echo "check-man: FAILED, an undocumented function got through"; exit 1; fi
	@rm -rf $(B)/man/neg
	@echo "check-man: ok, a missing page and an undocumented function both fail"

install-man3: $(MAN3_STAMP)
	install -d $(DESTDIR)$(MANDIR)/man3
	install -m 644 $(MAN3_DIR)/*.3 $(DESTDIR)$(MANDIR)/man3/
