# Unit suites, one program per host module.
include tests/unit/config.mk
include tests/unit/core.mk
include tests/unit/rules.mk
include tests/unit/store.mk
include tests/unit/rulepack.mk
include tests/unit/json.mk
include tests/unit/engine.mk
include tests/unit/canary.mk
include tests/unit/intel.mk
include tests/unit/behavioral.mk
include tests/unit/credential.mk
include tests/unit/identity.mk
include tests/unit/http_fingerprint.mk
include tests/unit/email.mk
include tests/unit/ops.mk
