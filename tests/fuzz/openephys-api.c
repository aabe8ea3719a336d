/*
 * openephys-api.c: fuzz target for what the Open Ephys GUI answers
 * (plugins/openephys/oe-api.c): GET /api/status, GET /api/processors
 * (the signal chain, searched for the Event Broadcaster, Network Events
 * and the acquisition board with their ports) and the Network Events
 * plugin's replies to a TTL.
 *
 * Input: an answer; each reader gets it. A refusal must say why; what is
 * taken must be what the plugin can use: a known mode, ports from 1 to
 * 65535 (0: not said), a TTL reply taken only when it answers this TTL.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "openephys.h"

/* Every reader on the answer. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_string(data, size), why[256];
	struct oe_processors pr;
	enum oe_mode mode = OE_MODE_UNKNOWN;
	int rc;

	why[0] = '\0';
	if (oe_api_mode(body, &mode, why, sizeof why) == 0)
		FUZZ_CHECK(mode == OE_MODE_IDLE || mode == OE_MODE_ACQUIRE ||
		    mode == OE_MODE_RECORD);
	else
		FUZZ_CHECK(why[0] != '\0');

	why[0] = '\0';
	if (oe_api_processors(body, &pr, why, sizeof why) == 0) {
		FUZZ_CHECK(pr.broadcaster_port <= 65535);
		FUZZ_CHECK(pr.network_events_port <= 65535);
		FUZZ_CHECK(pr.broadcaster || pr.broadcaster_port == 0);
		FUZZ_CHECK(pr.network_events || pr.network_events_port == 0);
	} else
		FUZZ_CHECK(why[0] != '\0');

	why[0] = '\0';
	rc = oe_api_ne_reply(body, 7, 1, why, sizeof why);
	if (rc == 0)
		FUZZ_CHECK(strncmp(body, "TTLHandled", 10) == 0);
	else
		FUZZ_CHECK(why[0] != '\0' && (rc == OE_NE_REPLY ||
		    rc == OE_NE_INVALID || rc == OE_NE_NOT_HANDLED));
	free(body);
	return 0;
}
