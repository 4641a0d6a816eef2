# bench-resilience: the issue-3 figures (stale latency, backoff, flood,
# watchdog).  Kept apart from bench/rules.mk because it links the test
# support code (nsd, fault proxy) and the static library's test hook.
RBENCH = $(B)/bench/bench_resilience
BENCH_TARGETS += bench-resilience
.PHONY: bench-resilience

$(RBENCH): bench/bench_resilience.c bench/util.c bench/bench.h $(SERVER_SUPPORT_SRC) $(STLIB)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Ilib -Ibench -Itests -Wall -Wextra -Werror \
	    -Wno-format-truncation -pthread -o $@ bench/bench_resilience.c bench/util.c \
	    $(SERVER_SUPPORT_SRC) $(STLIB) -lunbound -levent -lldns -pthread

bench-resilience: $(RBENCH)
	BENCH_DIR=$(B)/bench $(RBENCH)
