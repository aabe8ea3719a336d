## RAMP UDP link (2020 UDPmod packets): emulated peers of the original link,
## written from the protocol facts only, and their self-test on loopback.
check_PROGRAMS += tests/ramp-peer
tests_ramp_peer_SOURCES = tests/ramp-peer.c
TESTS += tests/ramp-peer-selftest.sh
EXTRA_DIST += tests/ramp-peer-selftest.sh
