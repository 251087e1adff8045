# In-tree lifters. Every plugin .so lands in plugins/.libs/ so a built tree
# can run with plugins.dir = "../plugins/.libs" (conf/ttpd-dev.conf).
include plugins/rule_engine/local.mk
include plugins/canary/local.mk
include plugins/ipv6_leak/local.mk
include plugins/intel/local.mk
include plugins/behavioral/local.mk
include plugins/credential/local.mk
include plugins/identity/local.mk
include plugins/http_fingerprint/local.mk
include plugins/email/local.mk
EXTRA_DIST += plugins/common/pyvalue.h plugins/common/emit.h
