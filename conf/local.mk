# Sample configuration and the default rule pack.
EXTRA_DIST += conf/ttpd.conf conf/ttpd-dev.conf $(srcdir)/conf/rules/*.yaml
