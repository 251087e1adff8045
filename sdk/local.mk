# The SDK: the one public header, its pkg-config file and the conformance
# checker (host/local.mk builds ttpd-plugin-check into bindir).
ttpdincludedir = $(includedir)/ttpd
ttpdinclude_HEADERS = sdk/ttpd/lifter.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = sdk/ttpd-sdk.pc
EXTRA_DIST += sdk/ttpd-sdk.pc.in

# `make install-sdk`: only what a plugin author needs (header, .pc,
# ttpd-plugin-check), e.g. for a -dev package or a staged DESTDIR.
install-sdk: install-ttpdincludeHEADERS install-pkgconfigDATA \
    host/ttpd-plugin-check$(EXEEXT)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(LIBTOOL) $(AM_LIBTOOLFLAGS) $(LIBTOOLFLAGS) --mode=install \
	    $(INSTALL_PROGRAM) host/ttpd-plugin-check$(EXEEXT) \
	    '$(DESTDIR)$(bindir)/ttpd-plugin-check$(EXEEXT)'
.PHONY: install-sdk

# The example lifter, built against an installed SDK by its own Makefile
# (sdk/test-example.sh does that from a staged `make install-sdk`).
sdk_example_files = \
	sdk/example/Makefile \
	sdk/example/README \
	sdk/example/dlexec.c \
	sdk/example/rules/XD0001.yaml \
	sdk/example/rules/XD0002.yaml \
	sdk/example/events/sessions.jsonl \
	sdk/example/expected/sessions.jsonl
EXTRA_DIST += $(sdk_example_files) sdk/test-example.sh
TESTS += sdk/test-example.sh
