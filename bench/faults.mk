# bench-stall and bench-recovery: the lib v2 and resilience figures under
# real faults (see bench/bench_stall.c, bench/bench_recovery.c).  Both
# link the test support code (nsd, the fault proxy, the ptrace freezer)
# and the shared library.
FBENCH_PARTS = stall recovery
BENCH_TARGETS += $(patsubst %,bench-%,$(FBENCH_PARTS))
.PHONY: $(patsubst %,bench-%,$(FBENCH_PARTS))

$(patsubst %,$(B)/bench/bench_%,$(FBENCH_PARTS)): $(B)/bench/bench_%: bench/bench_%.c \
		bench/util.c bench/bench.h $(SERVER_SUPPORT_SRC) $(B)/libaname.so
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Ibench -Itests -Wall -Wextra -Werror \
	    -Wno-format-truncation -pthread -o $@ $< bench/util.c \
	    $(SERVER_SUPPORT_SRC) -L$(B) -laname -lunbound -levent -lldns -pthread -Wl,-rpath,'$$ORIGIN/..'

$(patsubst %,bench-%,$(FBENCH_PARTS)): bench-%: $(B)/bench/bench_%
	BENCH_DIR=$(B)/bench $(B)/bench/bench_$*
