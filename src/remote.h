/*
 * remote.h: what arrives through a transport (events of other sites, gaps,
 * remote commands and their results, clock offsets) and remote commands
 * sent from this console.
 */
#ifndef SB_REMOTE_H
#define SB_REMOTE_H

#include "session.h"

struct cmdq_item;

void remote_deliver(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n);
void remote_gap(struct sb_plugin *p, const char *site, const char *stream,
    uint64_t first_seq, uint64_t last_seq, const char *why);
/*
 * Site `from` asks this one to run line. It runs once the line that says
 * so is on disk (at most once, across restarts), written by a thread of
 * its own so that a slow disk holds up no engine work; the engine runs
 * what is written in remote_run_recorded.
 */
void remote_command(struct sb_plugin *p, const char *from, uint64_t id,
    const char *line);
void remote_run_recorded(struct session *s);
/* Are commands of other sites waiting for their note on disk? */
int remote_notes_pending(struct session *s);
/* At quit, before the links' last flush: answer what has not run. */
void remote_quit(struct session *s);
void remote_result(struct sb_plugin *p, uint64_t id, int status,
    const char *text);
void remote_clock_update(struct sb_plugin *p, int64_t offset_us,
    int64_t uncertainty_us);

/* Send line to site target through the current site's relay; item waits. */
int remote_send(struct session *s, const char *target, const char *line,
    struct cmdq_item *item, char **cause);
/* Fail remote commands whose answer is overdue. */
void remote_expire(struct session *s);
void remote_free_all(struct session *s);

#endif
