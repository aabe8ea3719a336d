## Session files and examples, installed under $(pkgdatadir)/sessions.
hybrid3sitedir = $(pkgdatadir)/sessions/hybrid-3site
dist_hybrid3site_DATA = share/sessions/hybrid-3site/one-machine.conf \
	share/sessions/hybrid-3site/padova.conf \
	share/sessions/hybrid-3site/southampton.conf \
	share/sessions/hybrid-3site/zurich.conf \
	share/sessions/hybrid-3site/tokens.example

rampdir = $(pkgdatadir)/sessions/ramp
dist_ramp_DATA = share/sessions/ramp/node.conf \
	share/sessions/ramp/connectivity.txt \
	share/sessions/ramp/padova.conf

arc1dir = $(pkgdatadir)/sessions/arc1
dist_arc1_DATA = share/sessions/arc1/one-machine.conf

intandir = $(pkgdatadir)/sessions/intan
dist_intan_DATA = share/sessions/intan/padova.conf

openephysdir = $(pkgdatadir)/sessions/openephys
dist_openephys_DATA = share/sessions/openephys/padova.conf
