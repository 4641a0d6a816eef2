# Benchmarks: included by the top Makefile (see bench/README.md).
#
#   make bench            every benchmark (these first, then other components'
#                         BENCH_TARGETS), then BENCHMARKS.md is assembled
#   make bench-hit        cache hit vs cached ub_resolve vs a bare hash table
#   make bench-miss       distinct cold targets: aname_resolve vs ub_resolve_async
#   make bench-coalesce   10 000 concurrent requests on one cold target
#   make bench-memory     bytes per cached target at 10 k, 100 k, 1 M entries
#   make bench-deadline   callback time - deadline against a black hole
#   make bench-report     assemble BENCHMARKS.md from $(B)/bench/*.md only
#
# Not part of "make test": benchmarks take minutes and need a quiet machine.

ABENCH_DIR     = $(B)/bench
ABENCH_PARTS   = hit miss coalesce memory deadline startup
ABENCH_COMMON  = bench/util.c bench/nsd.c bench/setup.c
# -O2 always: a benchmark of an unoptimised build measures nothing useful.
ABENCH_CFLAGS  = -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Ibench $(WARN) -pthread
# Linked against the shared library, as hosts use it; rpath keeps the
# binaries runnable from any directory without LD_LIBRARY_PATH.
ABENCH_LIBS    = -L$(B) -laname -lunbound -pthread -Wl,-rpath,'$$ORIGIN/..'


BENCH_TARGETS += $(patsubst %,bench-%,$(ABENCH_PARTS)) bench-assemble

.PHONY: bench-deps bench-report bench-assemble $(patsubst %,bench-%,$(ABENCH_PARTS))

$(ABENCH_DIR)/bench_%: bench/bench_%.c $(ABENCH_COMMON) bench/bench.h include/aname.h $(B)/libaname.so
	@mkdir -p $(@D)
	$(CC) $(ABENCH_CFLAGS) -o $@ $< $(ABENCH_COMMON) $(ABENCH_LIBS)

bench-deps:
	@scripts/deps.sh deps/core.txt deps/bench.txt

# One rule per part, so each runs alone; ABENCH_DIR tells the program where
# to write its <part>.md and <part>.goals.  A part with a bench/<part>.gp
# gets a PNG plot when gnuplot is there (deps/bench.txt installs it); a
# missing gnuplot only loses the picture, never the numbers.
$(patsubst %,bench-%,$(ABENCH_PARTS)): bench-%: bench-deps $(ABENCH_DIR)/bench_%
	@mkdir -p $(ABENCH_DIR)
	@cut -d' ' -f1-3 /proc/loadavg > $(ABENCH_DIR)/$*.load
	@{ git rev-parse --short HEAD 2>/dev/null || echo unknown; } > $(ABENCH_DIR)/$*.commit; \
	if [ -n "$$(git status --porcelain -- lib include 2>/dev/null)" ]; then \
	    echo "+uncommitted lib/include" >> $(ABENCH_DIR)/$*.commit; fi
	@start=$$(date +%s.%N); \
	echo "BENCH_DIR=$(ABENCH_DIR) $(ABENCH_DIR)/bench_$*"; \
	BENCH_DIR=$(ABENCH_DIR) $(ABENCH_DIR)/bench_$* || exit 1; \
	echo "$$start $$(date +%s.%N)" > $(ABENCH_DIR)/$*.time
	@if [ -f bench/$*.gp ]; then \
	    if command -v gnuplot >/dev/null; then \
	        gnuplot -e "dir='$(ABENCH_DIR)'" bench/$*.gp && echo "plot: $(ABENCH_DIR)/$*.png"; \
	    else echo "bench: gnuplot not found, no $*.png"; fi; fi

# bench-assemble runs after every other benchmark target, including those
# that components included after this file append to BENCH_TARGETS: the
# second expansion reads BENCH_TARGETS once the whole Makefile is parsed.
.SECONDEXPANSION:
bench-assemble: $$(filter-out bench-assemble,$$(BENCH_TARGETS))
	bench/assemble.sh $(ABENCH_DIR) BENCHMARKS.md

bench-report:
	bench/assemble.sh $(ABENCH_DIR) BENCHMARKS.md

# Release 0.1.0's library against this tree's, alternately in one session
# (bench/compare.py): every library figure both have, and a failure when
# one got more than 5 % worse.  Not part of "make bench" (about 10 minutes
# more); its section joins BENCHMARKS.md at the next bench-report.
BENCH_COMPARE_REV ?= d487b06
BENCH_COMPARE_ROUNDS ?= 2
.PHONY: bench-compare
bench-compare: bench-deps $(patsubst %,$(ABENCH_DIR)/bench_%,hit miss coalesce memory deadline)
	bench/compare.py $(B) $(BENCH_COMPARE_REV) $(BENCH_COMPARE_ROUNDS)

# This tree's library against other builds on the hit path, in one process
# (bench/bench_ab.c, bench/ab.sh): AB="REV_OR_LIB ..." (nothing: against
# itself, the harness's own noise).  For a change worth a few per cent,
# which bench-hit's run-to-run spread hides.  Not part of "make bench".
AB ?=
.PHONY: bench-ab
bench-ab: bench-deps $(ABENCH_DIR)/bench_ab $(B)/libaname.so
	bench/ab.sh $(B) $(AB)

# No -laname: bench_ab dlmopen()s each build it compares.
$(ABENCH_DIR)/bench_ab: bench/bench_ab.c bench/hit_set.h bench/util.c bench/nsd.c bench/bench.h include/aname.h
	@mkdir -p $(@D)
	$(CC) $(ABENCH_CFLAGS) -o $@ bench/bench_ab.c bench/util.c bench/nsd.c -ldl -pthread
$(ABENCH_DIR)/bench_hit: bench/hit_set.h

# The host benchmarks again inside the Debian 13 chroot (Knot 3.4,
# PowerDNS 4.9; scripts/debian-chroot.sh builds into build/trixie).  Their
# sections are copied here with "Debian 13" in the heading and join
# BENCHMARKS.md at the next bench-report.
.PHONY: bench-debian13
bench-debian13:
	scripts/debian-chroot.sh bench-knot bench-powerdns
	@mkdir -p $(ABENCH_DIR)
	@for p in knot knot-scale powerdns; do \
	    f=build/trixie/bench/$$p.md; \
	    [ -f "$$f" ] || { echo "bench-debian13: no $$f" >&2; exit 1; }; \
	    sed '1s/^\(#*\) */\1 Debian 13: /' "$$f" > $(ABENCH_DIR)/$$p-debian13.md; \
	    echo "bench-debian13: $(ABENCH_DIR)/$$p-debian13.md"; \
	done

# make test builds (does not run) this folder's benchmark programs, so a
# change that breaks one is caught by CI, not by the next make bench.
TEST_TARGETS += check-bench-build
.PHONY: check-bench-build
check-bench-build: $(patsubst %,$(ABENCH_DIR)/bench_%,$(ABENCH_PARTS) ab) \
		   $(patsubst %,$(B)/bench/bench_%,$(FBENCH_PARTS)) $(RBENCH)
	@echo "check-bench-build: $(words $^) benchmark programs build"
