## The console: drawing unit tests, pty + libvterm screen tests, benchmark.
check_PROGRAMS += tests/test-tui-screen
tests_test_tui_screen_SOURCES = tests/test-tui-screen.c tests/test-tui-pty.c \
	tests/test-tui-pty.h
tests_test_tui_screen_CFLAGS = $(TEST_CFLAGS)
tests_test_tui_screen_LDADD = $(TEST_LIBS) -lvterm -lutil
TESTS += tests/test-tui-screen

check_PROGRAMS += tests/test-tui-keys
tests_test_tui_keys_SOURCES = tests/test-tui-keys.c tests/test-tui-pty.c \
	tests/test-tui-pty.h
tests_test_tui_keys_CFLAGS = $(TEST_CFLAGS)
tests_test_tui_keys_LDADD = $(TEST_LIBS) -lvterm -lutil
TESTS += tests/test-tui-keys
