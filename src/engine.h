/*
 * engine.h: moves events from backends to their consumers: synapse routing
 * and rules, the in-memory history, the CSV recorder and the views. Paces
 * simulators in real time (a thread each) or faster than real time
 * (lock-step with the engine).
 */
#ifndef SB_ENGINE_H
#define SB_ENGINE_H

#include <signal.h>

#include <stdarg.h>

#include "session.h"

struct sb_reply;
struct history_names;

/* Start what p registered (real-time pacing threads, hardware streams). */
/* Declare the streams a site publishes to its transports (no events). */
void engine_declare_streams(struct site *site);
int engine_start_site_plugin(struct sb_plugin *p, char **cause);
int engine_clock_pending(struct session *s);
/* Backends' own time, and their stamps as session time (see session.h). */
int64_t engine_backend_now(struct session *s);
int64_t engine_backend_to_session(struct session *s, int64_t t_us);
void engine_stop_population(struct population *pop);
/* Drain every ring and dispatch; returns events handled. */
size_t engine_drain(struct session *s);
/* Fast mode: run every simulator and device up to session time until. */
void engine_run_fast(struct session *s, int64_t until_us);
struct pollfd;
/* The wake-up fds of the populations' event rings, for poll(). */
size_t engine_poll_fds(struct session *s, struct pollfd *pfd, size_t max);
/*
 * How long the loop may sleep in poll(), in microseconds: tick_us, or
 * ENGINE_DEVICE_WAIT_US while an operation is pending at a device (its
 * completion is seen within that, not at the next tick).
 */
int64_t engine_wait_us(struct session *s, int64_t tick_us);
#define ENGINE_QUIT_FLUSH_US 5000000	/* at quit, wait this long at most */
/* At quit: let relay queues drain for at most timeout_us; -1 and a gap
 * in the logs for what could not be delivered. */
int engine_flush_links(struct session *s, struct sb_plugin *owner,
    int64_t timeout_us, const char *when);
/* Real time: handle events and devices due now; flush logs when due. */
void engine_tick(struct session *s);
/* Stimulate a unit through its backend. */
int engine_stimulate(struct session *s, const struct unit_ref *u,
    double amplitude, enum sb_stim_unit unit, uint32_t width_us,
    char **cause);
/* History + recorder (+ views) for one event. */
void engine_record_event(struct session *s, const struct sb_event *ev);
/* The audit log: commands.csv and history. */
void engine_audit(struct session *s, const char *site, const char *user,
    const char *command, const char *status, const char *message);
/*
 * Record a link health row (links.csv, history); device is set for a device
 * link's row, whose figures fill the last columns; site_row for another
 * site's row (session_link_row), whose retransmits and queue are empty.
 */
void engine_link_row(struct session *s, struct site *site, int device,
    int site_row, const struct sb_link_health *h);
/* Is ev's site served by a transport (events of other sites come by it)? */
struct transport *engine_site_transport(struct site *site);
/* Route a spike of pop; via is the site whose transport delivered it. */
void engine_route_spike(struct session *s, struct population *pop,
    const struct sb_event *ev, struct site *via);
/* Flush recordings (at least once a second, and on exit). */
void engine_flush(struct session *s);
void engine_vreply(struct sb_reply *r, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Names for CSV rows. */
void engine_history_names(struct session *s, struct history_names *n);
/*
 * Start or stop recording to a directory. In real time record stop does
 * not wait for the disk: the recording's writer writes its last rows and
 * ends by itself; the log says when, and says it if any are missing (the
 * exit status then says so too). Under --fast it waits.
 */
int engine_record_start(struct session *s, const char *dir, char **cause);
void engine_record_stop(struct session *s);
/* Wait for stopped recordings to write their last rows (or a give-up). */
void engine_record_wait(struct session *s);
/* Recordings stopped and still writing their last rows: their dirs. */
size_t engine_record_closing(struct session *s, const char **dirs, size_t n);
/*
 * At quit: from now on a signal (SIGINT, SIGTERM, SIGHUP: the program's
 * handler sets engine_gave_up once engine_give_up_armed is set) ends every
 * wait for the disk (the last flush, the closing of recordings, in
 * engine_shutdown too), and the recording says it is incomplete. Process
 * wide, so that the handler reaches them while the session is freed.
 */
extern volatile sig_atomic_t engine_give_up_armed, engine_gave_up;
void engine_give_up_on(struct session *s);
/* Stop every thread and free the session. */
void engine_shutdown(struct session *s);

#endif
