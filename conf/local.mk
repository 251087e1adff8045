# Sample configuration, sample events and the default rule pack.
EXTRA_DIST += conf/ttpd.conf conf/ttpd-dev.conf conf/sample-events.jsonl

# The rule pack is a directory of YAML files; ship all of them.
dist-hook: dist-rule-pack
dist-rule-pack:
	$(MKDIR_P) $(distdir)/conf/rules
	for f in $(srcdir)/conf/rules/*.yaml $(srcdir)/conf/rules/README; do \
		if test -f "$$f"; then cp -p "$$f" $(distdir)/conf/rules/; fi; \
	done
.PHONY: dist-rule-pack
