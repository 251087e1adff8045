# Unit suites, one program per host module.
include tests/unit/config.mk
