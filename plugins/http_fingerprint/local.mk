plugins_LTLIBRARIES += plugins/http_fingerprint.la
plugins_http_fingerprint_la_SOURCES = plugins/http_fingerprint/http_fingerprint.c
plugins_http_fingerprint_la_CFLAGS = $(plugin_cflags)
plugins_http_fingerprint_la_LDFLAGS = $(plugin_ldflags)
