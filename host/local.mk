# The daemon. Modules live in a convenience library so tests can link them.
noinst_LTLIBRARIES += host/libttpdhost.la
host_libttpdhost_la_SOURCES = \
	host/attack.c host/attack.h \
	host/bus.c host/bus.h \
	host/config.c host/conf.h \
	host/daemon.c host/daemon.h \
	host/dispatch.c host/plugin.h \
	host/event.c host/event.h \
	host/hostapi.c host/hostapi.h \
	host/json.c host/json.h \
	host/loader.c host/loader.h \
	host/log.c host/log.h \
	host/pipeline.c host/pipeline.h \
	host/reload.c host/reload.h \
	host/rules.c host/rules.h \
	host/startup.c host/startup.h \
	host/store.c host/store.h \
	host/tag.c host/tag.h \
	host/xmalloc.c host/xmalloc.h
host_libttpdhost_la_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) \
	$(JANSSON_CFLAGS) $(SQLITE_CFLAGS) $(YAML_CFLAGS) $(NATS_CFLAGS)
host_libttpdhost_la_LIBADD = $(LIBCONFIG_LIBS) $(JANSSON_LIBS) \
	$(SQLITE_LIBS) $(YAML_LIBS) $(NATS_LIBS)

# Crash attribution and the forked plugin probe of ttpd -t; the
# conformance checker for plugin authors, installed with the SDK.
host_libttpdhost_la_SOURCES += host/crash.c host/crash.h \
	host/probe.c host/probe.h
bin_PROGRAMS += host/ttpd-plugin-check
host_ttpd_plugin_check_SOURCES = host/plugincheck.c
host_ttpd_plugin_check_LDADD = host/libttpdhost.la

sbin_PROGRAMS += host/ttpd
host_ttpd_SOURCES = host/ttpd.c
host_ttpd_CPPFLAGS = $(AM_CPPFLAGS) -DTTPD_SYSCONFDIR='"$(sysconfdir)"' \
	-DTTPD_PLUGINSDIR='"$(pluginsdir)"'
host_ttpd_LDADD = host/libttpdhost.la

# The operator's tool, installed next to ttpd.
sbin_PROGRAMS += host/ttpctl
host_ttpctl_SOURCES = host/ttpctl.c
host_ttpctl_CPPFLAGS = $(AM_CPPFLAGS) -DTTPD_SYSCONFDIR='"$(sysconfdir)"'
host_ttpctl_LDADD = host/libttpdhost.la
