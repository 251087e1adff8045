plugins_LTLIBRARIES += plugins/ipv6_leak.la
plugins_ipv6_leak_la_SOURCES = plugins/ipv6_leak/ipv6_leak.c
plugins_ipv6_leak_la_CFLAGS = $(plugin_cflags)
plugins_ipv6_leak_la_LDFLAGS = $(plugin_ldflags)
