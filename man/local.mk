## Manual pages.
dist_man_MANS += man/synbridge.1 man/synbridge.conf.5 \
	man/synbridge-plugins.7
