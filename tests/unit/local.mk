# Unit suites, one program per host module.
include tests/unit/core.mk
