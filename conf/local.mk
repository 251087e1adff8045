# Sample configuration and the default rule pack.
EXTRA_DIST += conf/ttpd.conf conf/ttpd-dev.conf conf/sample-events.jsonl $(srcdir)/conf/rules/*.yaml
