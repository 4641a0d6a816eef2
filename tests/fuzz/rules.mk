# tests/fuzz: libFuzzer targets for every input surface, the TSan programs
# (tests/tsan) and static analysis (cppcheck, clang-tidy).  See
# tests/fuzz/README.md and docs/SECURITY.md.
#
#   make fuzz               build the fuzzers into build-fuzz/
#   make fuzz-regress       replay regressions + seed corpora once each
#   make fuzz-smoke         fuzz-regress, then each target for FUZZ_SMOKE_S s
#   make fuzz-long          each target FUZZ_LONG_S s (2 at a time, nice 10)
#   make fuzz-corpus        regenerate the seed corpora (needs nsd)
#   make check-tsan-programs  tests/tsan under ThreadSanitizer
#   make cppcheck clang-tidy  static analysis of lib/, non-zero on findings
#   make ci-hardening       all of the above that CI runs

FUZZ_DIR     = tests/fuzz
FUZZ_B       = build-fuzz
FUZZ_CC     ?= clang
FUZZ_TARGETS = name zone answer query synth snapshot
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=undefined
# FUZZ_EXTRA: extra compiler flags (coverage builds, experiments).
FUZZ_EXTRA  ?=
FUZZ_CFLAGS  = -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(FUZZ_EXTRA)
FUZZ_LIBS    = -lunbound -levent -lldns -pthread
FUZZ_SMOKE_S ?= 20
FUZZ_LONG_S  ?= 1800
FUZZ_JOBS    ?= 2

FUZZ_LIB_OBJ = $(patsubst lib/%.c,$(FUZZ_B)/lib/%.o,$(LIB_SRC))
FUZZ_SRV_DIR = examples/aname-server
FUZZ_SRV_OBJ = $(FUZZ_B)/srv/zone.o $(FUZZ_B)/srv/dnsmsg.o $(FUZZ_B)/srv/answer.o
FUZZ_BINS    = $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_TARGETS))

# The library and the server sources, instrumented for coverage and
# sanitizers (own rules: the top Makefile's would build with gcc).
$(FUZZ_B)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ANAME_CFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/srv/%.o: $(FUZZ_SRV_DIR)/%.c $(wildcard $(FUZZ_SRV_DIR)/*.h) include/aname.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Iinclude -I$(FUZZ_SRV_DIR) $(WARN) \
	    -pthread $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/libaname-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

FUZZ_HCFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude -Ilib -I$(FUZZ_DIR) $(WARN) -pthread

$(FUZZ_B)/fuzz_name $(FUZZ_B)/fuzz_answer $(FUZZ_B)/fuzz_synth $(FUZZ_B)/fuzz_snapshot: \
$(FUZZ_B)/fuzz_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_DIR)/fuzz_check.h $(FUZZ_B)/libaname-fuzz.a
	$(FUZZ_CC) $(FUZZ_HCFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_B)/libaname-fuzz.a $(FUZZ_LIBS)

$(FUZZ_B)/fuzz_zone: $(FUZZ_DIR)/fuzz_zone.c $(FUZZ_DIR)/fuzz_check.h $(FUZZ_SRV_OBJ) $(FUZZ_B)/libaname-fuzz.a
	$(FUZZ_CC) $(FUZZ_HCFLAGS) -I$(FUZZ_SRV_DIR) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_B)/srv/zone.o $(FUZZ_B)/srv/dnsmsg.o \
	    $(FUZZ_B)/libaname-fuzz.a $(FUZZ_LIBS)

$(FUZZ_B)/fuzz_query: $(FUZZ_DIR)/fuzz_query.c $(FUZZ_DIR)/fuzz_check.h $(FUZZ_SRV_OBJ) $(FUZZ_B)/libaname-fuzz.a
	$(FUZZ_CC) $(FUZZ_HCFLAGS) -I$(FUZZ_SRV_DIR) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_SRV_OBJ) $(FUZZ_B)/libaname-fuzz.a $(FUZZ_LIBS)

# Seed corpus generator: plain build, real nsd through tests/support.
$(FUZZ_B)/gen_corpus: $(FUZZ_DIR)/gen_corpus.c $(SERVER_SUPPORT_SRC) $(wildcard tests/support/*.h)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Itests $(WARN) -g -o $@ $< \
	    $(SERVER_SUPPORT_SRC) -lunbound -levent -lldns -pthread

.PHONY: fuzz fuzz-regress fuzz-smoke fuzz-long fuzz-corpus ci-hardening
fuzz: $(FUZZ_BINS)

fuzz-corpus: $(FUZZ_B)/gen_corpus
	for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_DIR)/corpus/$$t; done
	$(FUZZ_B)/gen_corpus $(FUZZ_DIR)/corpus
	cp tests/fixtures/zones/*.zone $(FUZZ_SRV_DIR)/tests/zones/*.zone \
	    $(FUZZ_DIR)/corpus/zone/

fuzz-regress: $(FUZZ_BINS)
	FUZZ_B=$(FUZZ_B) $(FUZZ_DIR)/run.sh regress $(FUZZ_TARGETS)

# Both steps run even if the first fails, so one report shows everything.
fuzz-smoke: $(FUZZ_BINS)
	@rc=0; FUZZ_B=$(FUZZ_B) $(FUZZ_DIR)/run.sh regress $(FUZZ_TARGETS) || rc=1; \
	FUZZ_B=$(FUZZ_B) FUZZ_JOBS=$(FUZZ_JOBS) $(FUZZ_DIR)/run.sh fuzz $(FUZZ_SMOKE_S) \
	    $(FUZZ_TARGETS) || rc=1; exit $$rc

fuzz-long: $(FUZZ_BINS)
	FUZZ_B=$(FUZZ_B) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_NICE=10 $(FUZZ_DIR)/run.sh fuzz $(FUZZ_LONG_S) $(FUZZ_TARGETS)

# Every step runs; the summary line names the ones that failed.
ci-hardening:
	@failed=""; start=$$(date +%s); \
	for t in fuzz-smoke check-tsan-programs cppcheck clang-tidy; do \
		$(MAKE) --no-print-directory $$t || failed="$$failed $$t"; \
	done; \
	echo "ci-hardening: $$(( $$(date +%s) - start )) s, failed:$${failed:- none}"; \
	[ -z "$$failed" ]

CLEAN_FILES += $(FUZZ_B)
# clang, cppcheck, clang-tidy for ci-hardening (installed by make test-deps).
TEST_DEPS   += deps/hardening.txt

# ---------------------------------------------------------------- TSan
# Standalone programs (no Criterion: it cannot start under TSan here,
# Criterion issue #274) against the library compiled with -fsanitize=thread
# into build-tsan/ (the same objects "make check-tsan" builds).
TSAN_PROGS = tsan_thread tsan_loop tsan_free tsan_swap tsan_cache
TSAN_SAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=thread

# freeze.c and util.c: real stalls (tsan_swap stops the resolver thread, where libunbound runs);
# cachestress.c: lock-free cache readers against a writer (tsan_cache, which
# reads lib/'s private headers).
TSAN_SUPPORT = tests/tsan/tsan_util.c tests/support/freeze.c tests/support/util.c \
	tests/support/cachestress.c
$(B)/tsan/tsan_%: tests/tsan/tsan_%.c $(TSAN_SUPPORT) tests/tsan/tsan_util.h $(STLIB)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Iinclude -Ilib -Itests -Itests/tsan $(WARN) -pthread $(CFLAGS) \
	    -o $@ $< $(TSAN_SUPPORT) $(STLIB) $(LDFLAGS) $(DEP_LIBS)

.PHONY: check-tsan-programs
check-tsan-programs:
	$(MAKE) B=build-tsan CFLAGS="$(TSAN_SAN_CFLAGS)" LDFLAGS="-fsanitize=thread" \
	    $(patsubst %,build-tsan/tsan/%,$(TSAN_PROGS))
	tests/tsan/run.sh build-tsan/tsan

# ---------------------------------------------------------------- static analysis
# Both exit non-zero on any finding in lib/.  .clang-tidy (repository root)
# lists the checks and why each disabled one is off; cppcheck's one
# suppression is stylistic (variableScope: declaring buffers at the top of
# a function is the house style).
TIDY_FLAGS = -std=c11 -D_GNU_SOURCE -Iinclude -Ilib -pthread
.PHONY: cppcheck clang-tidy
cppcheck:
	cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE -Iinclude -Ilib \
	    --enable=warning,style,performance,portability --inline-suppr \
	    --suppress=variableScope lib/
	@echo "cppcheck: lib/ clean"

clang-tidy:
	@mkdir -p $(FUZZ_B)
	@printf '%s\n' $(LIB_SRC) | xargs -P2 -I{} clang-tidy --quiet {} -- $(TIDY_FLAGS) \
	    > $(FUZZ_B)/clang-tidy.log 2>&1; \
	grep -v 'warnings generated' $(FUZZ_B)/clang-tidy.log; \
	n=$$(grep -c 'error:' $(FUZZ_B)/clang-tidy.log); \
	if [ "$$n" -ne 0 ]; then echo "clang-tidy: $$n findings in lib/"; exit 1; fi; \
	echo "clang-tidy: lib/ clean ($(words $(LIB_SRC)) files)"

# ---------------------------------------------------------------- coverage
# Line coverage of each target's code from the seed corpus plus whatever
# fuzzing added in $(FUZZ_B)/work (no sanitizers: clang source coverage).
.PHONY: fuzz-coverage
fuzz-coverage:
	$(MAKE) FUZZ_B=$(FUZZ_B)/cov FUZZ_SAN= \
	    FUZZ_EXTRA="-O0 -fprofile-instr-generate -fcoverage-mapping" fuzz
	$(FUZZ_DIR)/coverage.sh $(FUZZ_B)/cov $(FUZZ_DIR)/corpus $(FUZZ_B)/work
