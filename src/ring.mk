## The SPSC event ring (backend thread -> engine) and the relay wire format.
src_libsbcore_la_SOURCES += src/ring.c src/ring.h
src_libsbcore_la_SOURCES += src/wire.c src/wire.h src/crc32c.c src/crc32c.h
