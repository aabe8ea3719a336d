## The console: drawing unit tests, pty + libvterm screen tests, benchmark.
check_PROGRAMS += tests/test-tui-screen
tests_test_tui_screen_SOURCES = tests/test-tui-screen.c tests/test-tui-pty.c \
	tests/test-tui-pty.h
tests_test_tui_screen_CFLAGS = $(TEST_CFLAGS)
tests_test_tui_screen_LDADD = $(TEST_LIBS) $(VTERM_LIBS)
TESTS += tests/test-tui-screen

check_PROGRAMS += tests/test-tui-keys
tests_test_tui_keys_SOURCES = tests/test-tui-keys.c tests/test-tui-pty.c \
	tests/test-tui-pty.h
tests_test_tui_keys_CFLAGS = $(TEST_CFLAGS)
tests_test_tui_keys_LDADD = $(TEST_LIBS) $(VTERM_LIBS)
TESTS += tests/test-tui-keys

check_PROGRAMS += tests/test-tui-draw
tests_test_tui_draw_SOURCES = tests/test-tui-draw.c src/tui-raster.c \
	src/tui-glyph.c src/tui-layout.c src/tui-draw.c src/tui-log.c src/tui.h
tests_test_tui_draw_CFLAGS = $(TEST_CFLAGS) $(NCURSES_CFLAGS)
tests_test_tui_draw_LDADD = src/libsbcore.la $(TEST_LIBS) $(NCURSES_LIBS)
TESTS += tests/test-tui-draw

EXTRA_PROGRAMS += tests/bench/bench-tui
bench_programs += tests/bench/bench-tui
tests_bench_bench_tui_SOURCES = tests/bench/bench-tui.c src/tui-raster.c \
	src/tui-glyph.c src/tui-layout.c src/tui-draw.c src/tui-log.c src/tui.h
tests_bench_bench_tui_CFLAGS = $(AM_CFLAGS) $(NCURSES_CFLAGS)
tests_bench_bench_tui_LDADD = src/libsbcore.la $(NCURSES_LIBS)
