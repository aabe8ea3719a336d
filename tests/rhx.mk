## rhx-emu: the Intan RHX software as a client sees it over TCP (command
## port, spike and waveform data ports, RHS stimulation, fault modes), on
## loopback, written from the protocol facts only; and its self-test.
check_PROGRAMS += tests/rhx-emu
tests_rhx_emu_SOURCES = tests/rhx-emu.c tests/emu-util.c tests/emu-util.h
tests_rhx_emu_LDADD = -lm

TESTS += tests/rhx-emu-selftest.sh
EXTRA_DIST += tests/rhx-emu-selftest.sh tests/rhx-client.py
