## The ramp plugin end to end: the real console against the emulated peers
## of the RAMP UDP link (tests/ramp-peer, tests/ramp.mk) and against
## itself. The unit test is in plugins/ramp/local.mk.
ramp_plugin_tests = tests/ramp-node.sh tests/ramp-neurons.sh \
	tests/ramp-synbridge.sh tests/ramp-junk.sh
TESTS += $(ramp_plugin_tests)
EXTRA_DIST += $(ramp_plugin_tests) tests/ramp-common.sh
