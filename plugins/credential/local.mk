plugins_LTLIBRARIES += plugins/credential.la
plugins_credential_la_SOURCES = plugins/credential/credential.c
plugins_credential_la_CFLAGS = $(plugin_cflags)
plugins_credential_la_LDFLAGS = $(plugin_ldflags)
