plugins_LTLIBRARIES += plugins/behavioral.la
plugins_behavioral_la_SOURCES = plugins/behavioral/behavioral.c
plugins_behavioral_la_CFLAGS = $(plugin_cflags) $(PCRE2_CFLAGS)
plugins_behavioral_la_LDFLAGS = $(plugin_ldflags)
plugins_behavioral_la_LIBADD = $(PCRE2_LIBS) -lm
