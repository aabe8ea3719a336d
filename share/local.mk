## Session files and examples, installed under $(pkgdatadir).
