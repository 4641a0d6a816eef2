# bench-recovery: the resilience issue's fault figures (slow upstream,
# outage recovery, canary, watchdog time-to-fresh, TCP-forcing upstream);
# see bench/bench_recovery.c.  Links the test support code (nsd, the
# fault proxy, the ptrace freezer).
VBENCH = $(B)/bench/bench_recovery
BENCH_TARGETS += bench-recovery
.PHONY: bench-recovery

$(VBENCH): bench/bench_recovery.c bench/util.c bench/bench.h $(wildcard tests/support/*.c) $(B)/libaname.so
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Ibench -Itests -Wall -Wextra -Werror \
	    -Wno-format-truncation -pthread -o $@ bench/bench_recovery.c bench/util.c \
	    $(wildcard tests/support/*.c) -L$(B) -laname -lunbound -lldns -pthread -Wl,-rpath,'$$ORIGIN/..'

bench-recovery: $(VBENCH)
	BENCH_DIR=$(B)/bench $(VBENCH)
