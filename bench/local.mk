# Benchmarks: built and run by `make bench`, never by `make check`.
# Each is an EXTRA_PROGRAMS entry that prints its own figures.
EXTRA_PROGRAMS = bench/bench_replay
bench_bench_replay_SOURCES = bench/bench_replay.c
bench_bench_replay_LDADD = host/libttpdhost.la
CLEANFILES += $(EXTRA_PROGRAMS)

# Store insert throughput (host/store.c compiled in; see the file's header).
EXTRA_PROGRAMS += bench/bench_store
bench_bench_store_SOURCES = bench/bench_store.c host/log.c host/tag.c host/json.c \
	host/xmalloc.c
bench_bench_store_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(JANSSON_CFLAGS)
bench_bench_store_LDADD = $(SQLITE_LIBS) $(JANSSON_LIBS)

# JSON parse throughput: jv_parse against jansson's json_loadb, which the
# bench calls directly (hence jansson's flags).
EXTRA_PROGRAMS += bench/bench_json
bench_bench_json_SOURCES = bench/bench_json.c
bench_bench_json_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
bench_bench_json_LDADD = host/libttpdhost.la $(JANSSON_LIBS)

bench: $(EXTRA_PROGRAMS) host/ttpd $(plugins_LTLIBRARIES)
	@for b in $(EXTRA_PROGRAMS); do \
		echo "== $$b"; \
		TTPD_BUILDDIR='$(abs_top_builddir)' \
		TTPD_SRCDIR='$(abs_top_srcdir)' \
		TTPD_SHARED_DIR='$(TTPD_SHARED_DIR)' ./$$b || exit 1; \
	done
.PHONY: bench

# Build every benchmark without running it: tools/test-all does this so a
# benchmark that no longer links fails CI, not the next `make bench`.
bench-build: $(EXTRA_PROGRAMS)
.PHONY: bench-build

# The rule_engine lifter alone, through the host (JIT and prefilter on/off).
EXTRA_PROGRAMS += bench/bench_rule_engine
bench_bench_rule_engine_SOURCES = bench/bench_rule_engine.c
bench_bench_rule_engine_LDADD = host/libttpdhost.la

# ttpd end to end on NATS (core and JetStream) with the raw ceilings of
# the same run; starts its own nats-server on a free loopback port.
EXTRA_PROGRAMS += bench/bench_bus
bench_bench_bus_SOURCES = bench/bench_bus.c
bench_bench_bus_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(NATS_CFLAGS)
bench_bench_bus_LDADD = host/libttpdhost.la $(SQLITE_LIBS) $(NATS_LIBS)
