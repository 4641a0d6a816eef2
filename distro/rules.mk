# distro/: what operators and packagers get from "make install" beyond the
# library itself (docs, systemd units), the checks on an installed tree,
# "make dist", and the Debian packaging in distro/deb/.
#
#   make install          also installs docs/RUNBOOK.md, docs/SECURITY.md,
#                         NEWS and every examples/*/*.service
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
	install -m 644 docs/RUNBOOK.md docs/SECURITY.md NEWS \
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
	@# A package build runs make and make check: they must never install
	@# packages.  apt-get and dpkg are stubs here that leave a mark.
	mkdir -p $(DISTCHECK_DIR)/no-install
	for t in apt-get apt dpkg; do \
	    printf '#!/bin/sh\necho "$$0 $$*" >> %s/installed\nexit 1\n' $(DISTCHECK_DIR) \
	        > $(DISTCHECK_DIR)/no-install/$$t; chmod +x $(DISTCHECK_DIR)/no-install/$$t; done
	cd $(DISTCHECK_DIR)/$(DIST_NAME) && PATH=$(DISTCHECK_DIR)/no-install:$$PATH \
	    sh -c '$(MAKE) -j2 && $(MAKE) check check-man'
	@if [ -e $(DISTCHECK_DIR)/installed ]; then \
	    echo "distcheck: make or make check tried to install packages:"; \
	    cat $(DISTCHECK_DIR)/installed; exit 1; fi
	rm -rf $(DISTCHECK_DIR)
	@echo "distcheck: ok, $(DIST_TGZ) builds and passes make check"

# ---------------------------------------------------------------- Debian
# The .debs are built from the dist tarball, not from this checkout, so
# they prove the tarball is complete.  distro/deb becomes debian/ (as Knot
# ships distro/pkg/deb).  A clean PATH keeps pybuild on Debian's python3
# when a pyenv or venv python3 comes first here.
DEB_DIR   = $(CURDIR)/$(B)/deb
DEB_PATH  = /usr/sbin:/usr/bin:/sbin:/bin

deb: $(DIST_TGZ)
	@up=$$(dpkg-parsechangelog -l distro/deb/changelog -S Version | cut -d- -f1); \
	if [ "$$up" != "$(VERSION)" ]; then \
	    echo "deb: distro/deb/changelog says $$up, aname_version.h says $(VERSION)"; exit 1; fi
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	cp $(DIST_TGZ) $(DEB_DIR)/libaname_$(VERSION).orig.tar.gz
	tar xzf $(DIST_TGZ) -C $(DEB_DIR)
	cp -r $(DEB_DIR)/$(DIST_NAME)/distro/deb $(DEB_DIR)/$(DIST_NAME)/debian
	cd $(DEB_DIR)/$(DIST_NAME) && env PATH=$(DEB_PATH) dpkg-buildpackage -us -uc -b -j2 \
	    > $(DEB_DIR)/build.log 2>&1 || { tail -40 $(DEB_DIR)/build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb
	@# lintian: any error fails; warnings are printed.
	env PATH=$(DEB_PATH) lintian --fail-on error $(DEB_DIR)/libaname_*_*.changes
	@# The packaged files themselves: no RUNPATH, units verify.
	rm -rf $(DEB_DIR)/root && mkdir -p $(DEB_DIR)/root
	for d in $(DEB_DIR)/*.deb; do case $$d in *-dbgsym_*) ;; *) dpkg-deb -x $$d $(DEB_DIR)/root;; esac; done
	distro/check-installed.sh $(DEB_DIR)/root /lib/systemd/system $(notdir $(UNIT_SRC))
	@echo "deb: ok, packages in $(DEB_DIR)"

deb-smoke: deb
	distro/deb-smoke.sh $(DEB_DIR) $(CURDIR)/$(B)/deb-chroot

# CI: what a packager would try, beyond make test (which already runs
# check-man, check-metrics and check-install).  .ci/run calls it.
.PHONY: ci-release
ci-release:
	$(MAKE) distcheck
	$(MAKE) deb-smoke
