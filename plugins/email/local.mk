plugins_LTLIBRARIES += plugins/email.la
plugins_email_la_SOURCES = plugins/email/email.c plugins/email/pyfold.c \
	plugins/email/pyfold.h plugins/email/sha256.c plugins/email/sha256.h \
	plugins/email/artifact.c plugins/email/artifact.h \
	plugins/email/mime.c plugins/email/mime.h
plugins_email_la_CFLAGS = $(plugin_cflags)
plugins_email_la_LDFLAGS = $(plugin_ldflags)
