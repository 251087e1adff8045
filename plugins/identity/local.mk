plugins_LTLIBRARIES += plugins/identity.la
plugins_identity_la_SOURCES = plugins/identity/identity.c
plugins_identity_la_CFLAGS = $(plugin_cflags)
plugins_identity_la_LDFLAGS = $(plugin_ldflags)
