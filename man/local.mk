dist_man_MANS += man/ttpd.8 man/ttpd.conf.5
