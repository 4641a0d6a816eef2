# distro/: what operators and packagers get from "make install" beyond the
# library itself (docs, systemd units), the checks on an installed tree,
# "make dist", and the Debian packaging in distro/deb/.
#
#   make install          also installs docs/RUNBOOK.md, docs/SECURITY.md
#                         and every examples/*/*.service
#   make check-install    stage an install, then: no RUNPATH in any ELF,
#                         every unit passes systemd-analyze verify
#   make dist             $(B)/libaname-$(VERSION).tar.gz from git HEAD
#   make distcheck        unpack it, make && make check in the copy
#   make deb              dpkg-buildpackage -us -uc -b from the tarball
#   make deb-smoke        install the .debs into a clean Debian 12 chroot,
#                         answer an ALIAS query against nsd there

DOCDIR     ?= $(DATADIR)/doc/libaname
# Debian (bookworm) keeps units in /lib/systemd/system; lintian rejects
# /usr/lib/systemd/system there.  Other prefixes get PREFIX/lib/systemd.
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)/systemd/system
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)

# Any examples/*/NAME.service is a unit for the program NAME: the updater's
# unit is picked up the day it lands.
UNIT_SRC   = $(wildcard examples/*/*.service)
UNIT_SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
                 -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g'

INSTALL_TARGETS += install-docs install-units

.PHONY: install-docs install-units uninstall-distro check-install dist distcheck \
        deb deb-smoke

install-docs:
	install -d $(DESTDIR)$(DOCDIR)
	install -m 644 docs/RUNBOOK.md docs/SECURITY.md README.md NEWS LICENSE \
	    $(DESTDIR)$(DOCDIR)/

install-units:
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNIT_SRC); do \
	    $(UNIT_SUBST) $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
	    mv $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp $(DESTDIR)$(UNITDIR)/$$(basename $$u) \
	    || exit 1; \
	done

# Called by the top Makefile's uninstall.
uninstall-distro:
	rm -rf $(DESTDIR)$(DOCDIR)
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNIT_SRC)))
	rm -f $(DESTDIR)$(MANDIR)/man3/aname_*.3

# An install as a package would do it (PREFIX=/usr), checked as installed.
CHECK_STAGE = $(CURDIR)/$(B)/stage-distro
check-install:
	rm -rf $(CHECK_STAGE)
	$(MAKE) install DESTDIR=$(CHECK_STAGE) PREFIX=/usr
	distro/check-installed.sh $(CHECK_STAGE) /lib/systemd/system $(notdir $(UNIT_SRC))

# promtool and the health/build-info/seconds conventions on the /metrics of
# every daemon, after a real ALIAS answer through nsd (distro/smoke.sh).
TEST_TARGETS += check-metrics check-install
TEST_DEPS    += deps/distro.txt
.PHONY: check-metrics
check-metrics: $(B)/examples/aname-server $(B)/examples/aname-resolverd \
		$(B)/examples/aname-resolve $(B)/$(SONAME)
	ANAME_SERVER=$(B)/examples/aname-server ANAME_RESOLVERD=$(B)/examples/aname-resolverd \
	ANAME_RESOLVE=$(B)/examples/aname-resolve \
	    distro/smoke.sh $(CURDIR)/tests/fixtures/zones $(B)/metrics

# ---------------------------------------------------------------- dist
# The release tarball is exactly the committed tree at HEAD (git archive):
# nothing generated, nothing uncommitted.  distcheck builds and tests the
# unpacked copy the way a packager would, with no network and no package
# installs: plain "make && make check".
DIST_NAME = libaname-$(VERSION)
DIST_TGZ  = $(B)/$(DIST_NAME).tar.gz

.PHONY: $(DIST_TGZ)
dist: $(DIST_TGZ)
$(DIST_TGZ):
	@mkdir -p $(@D)
	@git diff --quiet HEAD -- || echo "dist: note: uncommitted changes are not in the tarball"
	git archive --format=tar --prefix=$(DIST_NAME)/ HEAD | gzip -n -9 > $@.tmp
	mv $@.tmp $@
	@echo "dist: $@ ($$(du -k $@ | cut -f1) KiB, $$(tar tzf $@ | wc -l) entries)"

DISTCHECK_DIR = $(CURDIR)/$(B)/distcheck
distcheck: $(DIST_TGZ)
	rm -rf $(DISTCHECK_DIR) && mkdir -p $(DISTCHECK_DIR)
	tar xzf $(DIST_TGZ) -C $(DISTCHECK_DIR)
	@# The copy must not see this checkout's git or build directory.
	cd $(DISTCHECK_DIR)/$(DIST_NAME) && test ! -e .git && test ! -e build
	cd $(DISTCHECK_DIR)/$(DIST_NAME) && $(MAKE) -j2 && $(MAKE) check check-man
	rm -rf $(DISTCHECK_DIR)
	@echo "distcheck: ok, $(DIST_TGZ) builds and passes make check"
