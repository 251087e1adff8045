plugins_LTLIBRARIES += plugins/canary.la
plugins_canary_la_SOURCES = plugins/canary/canary.c
plugins_canary_la_CFLAGS = $(plugin_cflags)
plugins_canary_la_LDFLAGS = $(plugin_ldflags)
