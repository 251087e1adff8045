plugins_LTLIBRARIES += plugins/intel.la
plugins_intel_la_SOURCES = plugins/intel/intel.c
plugins_intel_la_CFLAGS = $(plugin_cflags)
plugins_intel_la_LDFLAGS = $(plugin_ldflags)
plugins_intel_la_LIBADD = -lm
