plugins_LTLIBRARIES += plugins/rule_engine.la
plugins_rule_engine_la_SOURCES = plugins/rule_engine/rule_engine.c \
	plugins/rule_engine/prefilter.c plugins/rule_engine/prefilter.h \
	plugins/rule_engine/pattern_split.c plugins/rule_engine/pattern_split.h
plugins_rule_engine_la_CFLAGS = $(plugin_cflags) $(PCRE2_CFLAGS)
plugins_rule_engine_la_LDFLAGS = $(plugin_ldflags)
plugins_rule_engine_la_LIBADD = $(PCRE2_LIBS)
