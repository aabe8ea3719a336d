/*
 * csvlog.h: synbridge's CSV logs (RFC 4180, DESIGN.md schema), written with
 * libcsv's quoting, and read back with libcsv.
 *
 * Times are seconds of session time with microsecond precision.
 * Rows are built in memory and reach the file only whole, so a file cut by
 * kill -9 still parses: it ends at the last flushed row.
 */
#ifndef SB_CSVLOG_H
#define SB_CSVLOG_H

#include <stddef.h>
#include <stdint.h>

enum csv_kind { CSV_SPIKES, CSV_SYNAPSES, CSV_LINKS, CSV_COMMANDS,
	CSV_LATENCY, CSV_KINDS };

/* "spikes", "synapses", "links", "commands", "latency" */
extern const char *const csv_kind_names[CSV_KINDS];
/* Header line of each kind, without the line end. */
extern const char *const csv_kind_headers[CSV_KINDS];
/* Look a kind up by name; -1 if unknown. */
int csv_kind_from_name(const char *name);

struct csv_spike_row {
	int64_t t_us;
	const char *site, *population;
	uint32_t unit;
};

/*
 * NaN amplitude/G, 0 width/count and -1 weights are written as empty
 * fields. Weights are 0-255, from G before and after with the synapse's
 * limits (or the weight a synaptic event carried).
 */
struct csv_synapse_row {
	int64_t t_us;
	const char *synapse, *pre, *post, *event;
	double amplitude_v;
	uint32_t width_us, count;
	double g_before_us, g_after_us;
	int weight_before, weight_after;
};

/* A count that does not apply, written as an empty field. */
#define CSV_NO_COUNT UINT64_MAX

/*
 * NaN figures and CSV_NO_COUNT counts are written as empty fields. The
 * last five are a device link's (records per second in and out, malformed
 * and out-of-range counts, age of the last record heard); a relay row
 * fills age_s only.
 */
struct csv_link_row {
	int64_t t_us;
	const char *link, *state;
	double rtt_ms, jitter_ms, offset_ms, uncertainty_ms, loss_pct;
	uint64_t retransmits, queue;
	double events_per_s;
	double in_per_s, out_per_s;
	uint64_t malformed, out_of_range;
	double age_s;
};

struct csv_command_row {
	int64_t t_us;
	const char *site, *user, *command, *status, *message;
};

/*
 * The loop's latency over one second on one path: kind spike, arrival,
 * command, overhead or remote (see latency.h), n samples.
 */
struct csv_latency_row {
	int64_t t_us;
	const char *kind, *path;
	uint64_t n;
	double p50_ms, p99_ms, max_ms;
};

/* One row of any kind (the reader hands these out). */
struct csv_row {
	enum csv_kind kind;
	union {
		struct csv_spike_row spike;
		struct csv_synapse_row synapse;
		struct csv_link_row link;
		struct csv_command_row command;
		struct csv_latency_row latency;
	} u;
};

/*
 * Rows waiting in memory for a file that cannot be written (a full disk,
 * or one that takes no writes for a long time) are bounded, per file: this
 * much being added, and as much again being written. Beyond, rows are
 * counted and the next successful write reports how many were not
 * recorded.
 */
#define CSV_MAX_PENDING (64u << 20)

/* A CSV file being written: rows buffer in memory until flushed. */
struct csv_file;

/* Open (append if it exists with the right header, else create). */
struct csv_file *csv_file_open(const char *path, enum csv_kind kind,
    char **cause);
/*
 * The same, but a new file's header waits in memory with the rows, for a
 * writer thread (recorder.c): opening does not wait for a slow disk to
 * take a write.
 */
struct csv_file *csv_file_open_buffered(const char *path, enum csv_kind kind,
    char **cause);
void csv_file_row(struct csv_file *f, const struct csv_row *row);
/* Write buffered whole rows now; 0 or -1 with *cause. */
int csv_file_flush(struct csv_file *f, char **cause);
/*
 * csv_file_flush in two steps, for a writer thread (recorder.c): hand the
 * buffered rows over (returns whether any wait to be written), then write
 * them from another thread while new rows are added; the caller keeps the
 * two from running at once on the same file.
 */
int csv_file_handoff(struct csv_file *f);
int csv_file_write_out(struct csv_file *f, char **cause);
/* Rows added and not handed over yet (csv_file_handoff's side). */
int csv_file_buffered(const struct csv_file *f);
/* Rows refused for want of room, as reported by csv_file_write_out. */
uint64_t csv_file_lost(const struct csv_file *f);
/* Flush and close; NULL is fine. */
void csv_file_close(struct csv_file *f);
const char *csv_file_path(const struct csv_file *f);
uint64_t csv_file_rows(const struct csv_file *f);

/*
 * Read a synbridge CSV file of the given kind. fn is called once per row
 * (strings valid only during the call); a non-zero return stops reading.
 * On malformed input returns -1 with *cause = "file:line:column: what".
 */
typedef int (*csv_row_fn)(void *ctx, const struct csv_row *row);
int csv_read_file(const char *path, enum csv_kind kind, csv_row_fn fn,
    void *ctx, char **cause);

#endif
