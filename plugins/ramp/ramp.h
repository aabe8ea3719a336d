/*
 * ramp.h: the RAMP UDP link of the 2020 experiment (arc1_pyqt UDPmod,
 * Serb et al., Sci Rep 10:2590), in both roles: the memristor node
 * (synbridge takes Southampton's place) and a neuron site (synbridge takes
 * Padova's or Zurich's place). Written from the protocol facts in
 * hardware/arc-one-and-ramp-udp.md sections 0.2 and 3; no upstream code.
 *
 * Facts marked "inferred" below are readings of the original code or of
 * the experiment that no source states; each is a named constant or a
 * small function so that it can be changed in one place.
 *
 * Threads: one sb-devlink thread per instance owns the UDP socket's life
 * (bind, receive, rebind after an error); the engine thread sends on the
 * same socket (non-blocking) from synaptic_input() and the spike tap. The
 * link thread never calls the host except emit(): log lines go through
 * sb-devlink's queue, 'S' datagrams for a neuron site through a queue of
 * our own, both handed over in the link's poll().
 */
#ifndef SB_RAMP_H
#define SB_RAMP_H

#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"
#include "sb-devlink.h"

/* Datagram: two big-endian 32-bit words, [sender:8|id:24] [aux:8|time:24]. */
#define RAMP_DATAGRAM 8
#define RAMP_SENDER_A 'A'	/* Zurich, silicon neurons ("axon") */
#define RAMP_SENDER_D 'D'	/* Padova, the culture ("dendrite") */
#define RAMP_SENDER_S 'S'	/* Southampton, the memristor node */
#define RAMP_SENDER_R 'R'	/* ready (aux 255, id 0, time 0) */
#define RAMP_READY_TEXT "RDY"	/* the 2016 versions' 3-byte ready datagram */
#define RAMP_AUX_PSP 0		/* 'D': post-synaptic potential, not a spike */
#define RAMP_AUX_STIMULATED 1	/* 'D': stimulus-evoked action potential */
#define RAMP_AUX_SPONTANEOUS 2	/* 'D': spontaneous action potential */
#define RAMP_AUX_READY 255

/* Fields are 24 bits wide; every receiver takes them in full. */
#define RAMP_FIELD_MASK 0xffffffU
/*
 * Quirk reproduced: the original node masked the id and the time of every
 * datagram it sent with 0x0FFFFF (20 bits, a literal with five F's), so
 * bits 20-23 of its output were always 0 and its clock wrapped every 2^20
 * ticks (52.4 s) on the wire. synbridge's node sends the same; set this to
 * RAMP_FIELD_MASK to send all 24 bits instead. Neuron sites send 24 bits.
 */
#define RAMP_NODE_SEND_MASK 0x0fffffU

/* Times are in ticks of 50 us ("tstep = 0.00005"). */
#define RAMP_TICK_US 50
/* The original node's clock wrapped by subtracting 10^12 above 10^12. */
#define RAMP_TABS_WRAP 1000000000000ULL

/*
 * Defaults. The node listens on 5005 (hard-coded in the original). The
 * original node's two partners were configured with ports 10000
 * ("presynaptic partner") and 25003 ("postsynaptic partner"); which lab
 * each was is inferred from its routing (weights for Padova's pre neurons
 * went to the presynaptic partner: Zurich), so a neuron site listens by
 * default on 10000 as 'A' (Zurich) and 25003 as 'D' (Padova).
 */
#define RAMP_NODE_PORT 5005
#define RAMP_A_PORT 10000	/* inferred: Zurich = presynaptic partner */
#define RAMP_D_PORT 25003	/* inferred: Padova = postsynaptic partner */
#define RAMP_A_UNITS 256
#define RAMP_D_UNITS 60

/*
 * Inferred: how a neuron site's 'D' time field counts. The facts say 'A'
 * times are intervals since Zurich's previous packet; for 'D' the node
 * added the time to the last spike of the neuron itself (or of its
 * presynaptic neurons), which reads as "since this unit's own previous
 * spike". 1: per unit (default); 0: since the sender's previous packet,
 * as 'A'.
 */
#define RAMP_D_INTERVAL_PER_UNIT 1

/* Limits. */
#define RAMP_NAME_LEN 64
#define RAMP_RECV_BATCH 256		/* datagrams read per wake-up */
#define RAMP_WORK_TIMEOUT_MS 200	/* longest wait in the link thread */
#define RAMP_SYN_QUEUE 16384		/* 'S' events waiting for poll() */
#define RAMP_TABS_HISTORY 1024		/* (arrival, t_abs) pairs kept */
#define RAMP_SOCKET_BUFFER (1 << 20)	/* SO_RCVBUF/SO_SNDBUF asked for */
#define RAMP_CONNECTIVITY_MAX (16U << 20)	/* bytes of a file */

/* One datagram, decoded. */
struct ramp_packet {
	uint8_t		 sender;
	uint32_t	 id;		/* 24 bits */
	uint8_t		 aux;
	uint32_t	 time;		/* 24 bits, ticks */
};

/* ramp-packet.c: the wire format and the time field. */
void	 ramp_packet_encode(const struct ramp_packet *, uint32_t,
	    uint8_t[RAMP_DATAGRAM]);
int	 ramp_packet_decode(const uint8_t *, size_t, struct ramp_packet *);
int	 ramp_packet_is_ready(const uint8_t *, size_t);
uint32_t ramp_ticks_between(int64_t, int64_t);
uint64_t ramp_tabs_advance(uint64_t, uint32_t);
const char *ramp_sender_text(uint8_t, char *, size_t);

/* Which senders a connectivity line applies to (the pre id's sender). */
enum ramp_direction {
	RAMP_DIR_BOTH = 0,	/* either, as the original's matrix */
	RAMP_DIR_D_TO_A = 1,	/* pre is a 'D' unit, post an 'A' unit */
	RAMP_DIR_A_TO_D = 2,	/* pre is an 'A' unit, post a 'D' unit */
};

/* One line of a connectivity file: pre, post, w, b[, d|a]. */
struct ramp_synapse {
	uint32_t		 pre, post;
	uint32_t		 w, b;		/* 1-based, as the ArC ONE */
	enum ramp_direction	 dir;		/* BOTH: none given */
	unsigned		 line;
};

/* ramp-conn.c: connectivity files. */
int	 ramp_conn_parse(const char *, const char *, size_t,
	    struct ramp_synapse **, size_t *, char **);
int	 ramp_conn_read(const char *, struct ramp_synapse **, size_t *,
	    char **);
int	 ramp_direction_parse(const char *, enum ramp_direction *);

/* Why a datagram was refused, each logged once. */
enum ramp_cause {
	RAMP_BAD_LENGTH,
	RAMP_BAD_SENDER,
	RAMP_BAD_S_AT_NODE,
	RAMP_BAD_AUX,
	RAMP_BAD_AT_NEURONS,
	RAMP_RANGE_A,
	RAMP_RANGE_D,
	RAMP_RANGE_S,
	RAMP_RANGE_TAP,
	RAMP_READY,
	RAMP_NOT_STARTED,
	RAMP_EMIT_FULL,
	RAMP_QUEUE_FULL,
	RAMP_SEND_FAILED,
	RAMP_NCAUSES
};

enum ramp_role { RAMP_ROLE_NODE, RAMP_ROLE_NEURONS };

struct ramp;

/* Node role: one population per partner lab. */
struct ramp_pop {
	struct ramp		*r;
	struct sb_neurons	 neurons;
	char			 name[RAMP_NAME_LEN];
	uint8_t			 sender;	/* 'A' or 'D' */
	uint32_t		 units;
	struct sockaddr_in	 partner;	/* where its 'S' go */
	char			 partner_text[96];
	pthread_mutex_t		 em_lock;	/* em vs stop() */
	struct sb_emitter	*em;		/* while started */
};

/* One (arrival, t_abs) pair: the node's clock after an 'A' datagram. */
struct ramp_tabs {
	int64_t			 t_us;		/* session time of arrival */
	uint64_t		 t_abs;		/* ticks */
};

/* One instance (shared by its registrations, freed with the last). */
/* Silence after which the link shows degraded (no datagram heard). */
#define RAMP_QUIET_MS 5000

struct ramp {
	int			 refs;		/* engine thread only */
	uint32_t		 quiet_ms;	/* quiet_ms=: degraded after */
	const struct sb_host_api *host;
	struct sb_plugin	*plugin;
	enum ramp_role		 role;
	char			 name[RAMP_NAME_LEN];	/* link name */
	char			 site[RAMP_NAME_LEN];
	struct sb_devlink	 link;
	int			 link_ready;

	/* the socket: opened by the link thread (or init), sent on by both */
	pthread_mutex_t		 fd_lock;
	int			 fd;
	struct sockaddr_in	 listen;
	char			 listen_text[96];

	/* session time = CLOCK_MONOTONIC + offset (kept by the engine) */
	int64_t			 clock_offset_us;

	/* what arrived, for the link pane (link thread writes) */
	uint64_t		 last_from;	/* ip << 16 | port, 0: none */
	uint64_t		 causes_seen;	/* bit per enum ramp_cause */
	uint64_t		 psps, ready;

	/* node role */
	struct ramp_pop		 pops[2];	/* [0] 'A', [1] 'D' */
	uint64_t		 t_abs;		/* ticks (link thread writes) */
	pthread_mutex_t		 tabs_lock;
	struct ramp_tabs	 tabs[RAMP_TABS_HISTORY];
	size_t			 ntabs, tabs_next;

	/* neurons role */
	char			 population[RAMP_NAME_LEN];
	uint8_t			 sender;
	uint32_t		 id_offset;
	uint32_t		 units;		/* 0: not given */
	struct sockaddr_in	 node;
	char			 node_text[96];
	char			 stream[2 * RAMP_NAME_LEN + 8];
	int64_t			 start_us;	/* intervals count from here */
	int64_t			 last_us;	/* the previous packet sent */
	int64_t			*unit_last_us;	/* each unit's previous spike */
	size_t			 nunit_last;
	pthread_mutex_t		 syn_lock;
	struct sb_event		*syn;		/* RAMP_SYN_QUEUE */
	size_t			 nsyn;
	struct sb_event		*syn_out;	/* poll()'s copy */
};

/* ramp-net.c: addresses, the socket, the link thread's receive loop. */
int	 ramp_addr_parse(const char *, const char *, int,
	    struct sockaddr_in *, char *, size_t, char **);
int	 ramp_open(struct ramp *, char **);
int	 ramp_send(struct ramp *, const struct sockaddr_in *,
	    const struct ramp_packet *, uint32_t);
void	 ramp_cause_once(struct ramp *, enum ramp_cause,
	    enum sb_log_level, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
int64_t	 ramp_session_now(struct ramp *);
/* One datagram that arrived at t_us (the link thread's receive path,
 * without the socket: tests/fuzz/ramp.c calls it). */
void	 ramp_datagram(struct ramp *, const uint8_t *, size_t, int64_t,
	    const struct sockaddr_in *);
const char *ramp_addr_text(const struct sockaddr_in *, char *, size_t);

extern const struct sb_devlink_ops ramp_link_ops;

/* ramp-node.c: the node role. */
void	 ramp_node_datagram(struct ramp *, const struct ramp_packet *,
	    int64_t, const struct sockaddr_in *);
void	 ramp_node_setup_pops(struct ramp *);
uint64_t ramp_node_tabs_at(struct ramp *, int64_t);

/* ramp-neurons.c: the neuron-site role. */
void	 ramp_neurons_datagram(struct ramp *, const struct ramp_packet *,
	    int64_t, const struct sockaddr_in *);
void	 ramp_neurons_tap(void *, const struct sb_event *, size_t);
void	 ramp_neurons_poll(struct ramp *);

/* plugin.c */
void	 ramp_unref(void *);

#endif
