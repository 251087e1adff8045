# The SDK: the one public header, its pkg-config file and the conformance
# checker (host/local.mk builds ttpd-plugin-check into bindir).
ttpdincludedir = $(includedir)/ttpd
ttpdinclude_HEADERS = sdk/ttpd/lifter.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = sdk/ttpd-sdk.pc
EXTRA_DIST += sdk/ttpd-sdk.pc.in

# `make install-sdk`: only what a plugin author needs (header, .pc,
# ttpd-plugin-check, the example), e.g. for a -dev package or a staged
# DESTDIR.
install-sdk: install-ttpdincludeHEADERS install-pkgconfigDATA \
    host/ttpd-plugin-check$(EXEEXT)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(LIBTOOL) $(AM_LIBTOOLFLAGS) $(LIBTOOLFLAGS) --mode=install \
	    $(INSTALL_PROGRAM) host/ttpd-plugin-check$(EXEEXT) \
	    '$(DESTDIR)$(bindir)/ttpd-plugin-check$(EXEEXT)'
.PHONY: install-sdk

# The example lifter, installed with the SDK so that a third party without
# the source tree can copy it and build it with its own Makefile
# (pkg-config --variable=exampledir ttpd-sdk).  sdk/test-example.sh does
# exactly that from a staged `make install-sdk`.
sdkexampledir = $(pkgdatadir)/sdk-example
dist_sdkexample_DATA = sdk/example/Makefile sdk/example/README \
	sdk/example/dlexec.c
sdkexamplerulesdir = $(sdkexampledir)/rules
dist_sdkexamplerules_DATA = sdk/example/rules/XD0001.yaml \
	sdk/example/rules/XD0002.yaml
sdkexampleeventsdir = $(sdkexampledir)/events
dist_sdkexampleevents_DATA = sdk/example/events/sessions.jsonl
sdkexampleexpecteddir = $(sdkexampledir)/expected
dist_sdkexampleexpected_DATA = sdk/example/expected/sessions.jsonl
install-sdk-example: install-dist_sdkexampleDATA \
    install-dist_sdkexamplerulesDATA install-dist_sdkexampleeventsDATA \
    install-dist_sdkexampleexpectedDATA
install-sdk: install-sdk-example
.PHONY: install-sdk-example

EXTRA_DIST += sdk/test-example.sh
TESTS += sdk/test-example.sh

# Its manual, and the suites that keep it honest: the conformance checker
# against misbehaving fixtures (tests/checker) and ABI compatibility
# (tests/abi).
dist_man_MANS += man/ttpd-plugin-check.1
include tests/checker/local.mk
include tests/abi/local.mk
