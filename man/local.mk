dist_man_MANS += man/ttpd.8 man/ttpd.conf.5 man/ttpd-plugin.3
dist_man_MANS += man/ttpctl.8
