# The manual pages: lint, and cross-checks against the code and conf/.
TESTS += tests/man/check-man.sh
EXTRA_DIST += tests/man/check-man.sh
TESTS += tests/man/check-quickstart.sh
EXTRA_DIST += tests/man/check-quickstart.sh
