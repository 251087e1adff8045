# Benchmarks: built and run by `make bench`, never by `make check`.
EXTRA_PROGRAMS = bench/bench_replay
bench_bench_replay_SOURCES = bench/bench_replay.c
bench_bench_replay_LDADD = host/libttpdhost.la
CLEANFILES += $(EXTRA_PROGRAMS)

bench: $(EXTRA_PROGRAMS) host/ttpd $(plugins_LTLIBRARIES)
	@for b in $(EXTRA_PROGRAMS); do \
		echo "== $$b"; \
		TTPD_BUILDDIR='$(abs_top_builddir)' \
		TTPD_SHARED_DIR='$(TTPD_SHARED_DIR)' ./$$b || exit 1; \
	done
.PHONY: bench

# The rule_engine lifter alone, through the host (JIT and prefilter on/off).
EXTRA_PROGRAMS += bench/bench_rule_engine
bench_bench_rule_engine_SOURCES = bench/bench_rule_engine.c
bench_bench_rule_engine_LDADD = host/libttpdhost.la
