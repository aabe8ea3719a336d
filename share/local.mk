## Session files and examples, installed under $(pkgdatadir)/sessions.
hybrid3sitedir = $(pkgdatadir)/sessions/hybrid-3site
dist_hybrid3site_DATA = share/sessions/hybrid-3site/one-machine.conf
