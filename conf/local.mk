# Sample configuration, sample events and the default rule pack.
EXTRA_DIST += conf/ttpd.conf conf/ttpd-dev.conf conf/sample-events.jsonl

# The rule pack is a directory of YAML files; ship all of them.
dist-hook: dist-rule-pack
dist-rule-pack:
	$(MKDIR_P) $(distdir)/conf/rules
	for f in $(srcdir)/conf/rules/*.yaml $(srcdir)/conf/rules/README \
	    $(srcdir)/conf/rules/VERSION $(srcdir)/conf/rules/MANIFEST; do \
		if test -f "$$f"; then cp -p "$$f" $(distdir)/conf/rules/; fi; \
	done
.PHONY: dist-rule-pack

# make install: the rule pack under $(pkgdatadir)/rules, and the sample
# ttpd.conf as $(sysconfdir)/ttpd/ttpd.conf (never overwriting an existing
# one) with its paths pointing at this installation.
rulepackdir = $(pkgdatadir)/rules
installed_conf_sed = $(SED) \
	-e 's|"/var/lib/ttpd/ttpd.db"|"$(localstatedir)/lib/ttpd/ttpd.db"|' \
	-e 's|"/var/lib/ttpd/stats.json"|"$(localstatedir)/lib/ttpd/stats.json"|' \
	-e 's|"/etc/ttpd/rules"|"$(rulepackdir)"|' \
	-e 's|"/usr/lib/ttpd/plugins"|"$(pluginsdir)"|' \
	$(srcdir)/conf/ttpd.conf

install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(rulepackdir)' '$(DESTDIR)$(sysconfdir)/ttpd'
	for f in $(srcdir)/conf/rules/*.yaml $(srcdir)/conf/rules/VERSION \
	    $(srcdir)/conf/rules/MANIFEST; do \
		$(INSTALL_DATA) "$$f" '$(DESTDIR)$(rulepackdir)/' || exit 1; \
	done
	$(installed_conf_sed) > ttpd.conf.installed
	if test -f '$(DESTDIR)$(sysconfdir)/ttpd/ttpd.conf'; then \
		echo "keeping existing $(DESTDIR)$(sysconfdir)/ttpd/ttpd.conf"; \
	else \
		$(INSTALL_DATA) ttpd.conf.installed \
		    '$(DESTDIR)$(sysconfdir)/ttpd/ttpd.conf'; \
	fi
	rm -f ttpd.conf.installed

# An edited ttpd.conf is the operator's: only the untouched sample goes.
uninstall-local:
	rm -f '$(DESTDIR)$(rulepackdir)'/*.yaml \
	    '$(DESTDIR)$(rulepackdir)/VERSION' \
	    '$(DESTDIR)$(rulepackdir)/MANIFEST'
	-rmdir '$(DESTDIR)$(rulepackdir)'
	$(installed_conf_sed) > ttpd.conf.installed
	if cmp -s ttpd.conf.installed '$(DESTDIR)$(sysconfdir)/ttpd/ttpd.conf'; \
	then rm -f '$(DESTDIR)$(sysconfdir)/ttpd/ttpd.conf'; fi
	rm -f ttpd.conf.installed

# The systemd unit with this build's paths, installed as documentation
# (see the comment at its top for where it goes).
unitdocdir = $(docdir)
unitdoc_DATA = conf/ttpd.service
EXTRA_DIST += conf/ttpd.service.in
CLEANFILES += conf/ttpd.service
conf/ttpd.service: $(srcdir)/conf/ttpd.service.in Makefile
	$(MKDIR_P) conf
	$(SED) -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    -e 's|@localstatedir[@]|$(localstatedir)|g' \
	    $(srcdir)/conf/ttpd.service.in > $@.tmp && mv $@.tmp $@
