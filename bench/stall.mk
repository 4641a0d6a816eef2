# bench-stall: the lib v2 figures (a real worker stall; see
# bench/bench_stall.c).  Links the test support code for nsd and the
# ptrace freezer.
SBENCH = $(B)/bench/bench_stall
BENCH_TARGETS += bench-stall
.PHONY: bench-stall

$(SBENCH): bench/bench_stall.c bench/util.c bench/bench.h $(wildcard tests/support/*.c) $(B)/libaname.so
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Ibench -Itests -Wall -Wextra -Werror \
	    -Wno-format-truncation -pthread -o $@ bench/bench_stall.c bench/util.c \
	    $(wildcard tests/support/*.c) -L$(B) -laname -lunbound -lldns -pthread -Wl,-rpath,'$$ORIGIN/..'

bench-stall: $(SBENCH)
	BENCH_DIR=$(B)/bench $(SBENCH)
