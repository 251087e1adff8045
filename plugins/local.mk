# In-tree lifters. Every plugin .so lands in plugins/.libs/ so a built tree
# can run with plugins.dir = "../plugins/.libs" (conf/ttpd-dev.conf).
include plugins/rule_engine/local.mk
include plugins/email/local.mk
