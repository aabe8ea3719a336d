/*
 * bench-mqtt.h: the peer of the relay benchmark. A mosquitto broker
 * started on loopback with a throw-away TLS certificate carries the same
 * events in the same batches (the relay's wire format, one batch per MQTT
 * message, QoS 1) from a libmosquitto publisher to a libmosquitto
 * subscriber, measured the way bench-relay measures synbridge-relay.
 * Without libmosquitto at build time or the mosquitto program at run
 * time, start says why and the figures are skipped.
 */
#ifndef BENCH_MQTT_H
#define BENCH_MQTT_H

#include <stdint.h>

#include "bench-util.h"

/*
 * Start the broker with the PEM certificate and key of certdir
 * (cert.pem, key.pem); 0, or -1 with *why (what to install or what
 * failed). *version names the broker.
 */
int	bench_mqtt_start(const char *, const char **, char **);
/* n events in batches of batch, as fast as they go (topic per name). */
int	bench_mqtt_throughput(const char *, uint32_t, uint32_t,
	    struct bench_tp *);
/*
 * 100 events every 1 ms for seconds s: latency of each. With handover 0
 * an event's latency is taken in the subscriber's callback, in
 * libmosquitto's network thread; with 1 the callback hands the events to
 * the thread that sends (under a lock, with a signal) and the latency is
 * taken when that thread wakes and takes them, as a synbridge transport
 * hands events to the console's engine and bench-relay measures the
 * relay (its harness thread takes them from the transport's poll).
 */
int	bench_mqtt_latency(const char *, int, int, struct bench_lat *);
/* The same, sending as a pace says (per_send at most 100). */
int	bench_mqtt_latency_paced(const char *, int, int, struct bench_pace,
	    struct bench_lat *);
/* Stop the broker and remove its directory. */
int	bench_mqtt_port(void);
void	bench_mqtt_via(int);
void	bench_mqtt_stop(void);

#endif
