## The CSV layer: writer and kind tables, reader (libcsv), history.
src_libsbcore_la_SOURCES += \
	src/csvlog.c src/csvlog.h src/csvkind.h \
	src/csvread.c \
	src/history.c src/history.h
