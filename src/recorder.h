/* recorder.h: continuous recording to spikes/synapses/links/commands.csv. */
#ifndef SB_RECORDER_H
#define SB_RECORDER_H

#include "csvlog.h"

struct recorder;

struct recorder *recorder_open(const char *dir, char **cause);
void recorder_row(struct recorder *r, const struct csv_row *row);
/* Write buffered rows of every file; 0 or -1 with *cause. */
int recorder_flush(struct recorder *r, char **cause);
void recorder_close(struct recorder *r);
const char *recorder_dir(const struct recorder *r);
uint64_t recorder_rows(const struct recorder *r);

#endif
