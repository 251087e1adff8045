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
