# Benchmarks: built with `make bench`, never run by `make check`.
# Benchmarks are EXTRA_PROGRAMS: built only by `make bench`. Later
# benchmarks append with `EXTRA_PROGRAMS += ...`.
EXTRA_PROGRAMS =
.PHONY: bench
bench: $(EXTRA_PROGRAMS)

# Store insert throughput (host/store.c compiled in; see the file's header).
EXTRA_PROGRAMS += bench/bench_store
bench_bench_store_SOURCES = bench/bench_store.c
bench_bench_store_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
bench_bench_store_LDADD = $(SQLITE_LIBS)
CLEANFILES += bench/bench_store$(EXEEXT)
