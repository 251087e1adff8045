# The SDK: the one public header and its pkg-config file.
ttpdincludedir = $(includedir)/ttpd
ttpdinclude_HEADERS = sdk/ttpd/lifter.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = sdk/ttpd-sdk.pc
EXTRA_DIST += sdk/ttpd-sdk.pc.in
