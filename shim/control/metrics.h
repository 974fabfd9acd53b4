/* Prometheus metrics (docs/metrics.md): the status data in the text
 * exposition format, for node_exporter's textfile collector and for
 * `initshimctl status --prometheus`. The guard counts takeovers and version
 * switches and keeps the counts in METRICS_STATE_FILE, so that they survive
 * a takeover, a guard restart and rescue mode (which reads them from there).
 * No allocation: fixed buffers only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/protocol.h"
#include "control/status.h"

#define METRICS_STATE_FILE RUN_DIR "/metrics.state"
/* How often the guard rewrites the file (node_exporter scrapes every 15-60 s). */
#define METRICS_INTERVAL_MS 15000
#define METRICS_ZOMBIES_TRACKED 1024

enum takeover_reason { TAKEOVER_CRASH, TAKEOVER_HEALTH, TAKEOVER_OPERATOR, TAKEOVER_SWITCH, TAKEOVER_OTHER, _TAKEOVER_MAX };
enum switch_outcome { SWITCH_OK, SWITCH_ROLLED_BACK, SWITCH_TAKEN_OVER, SWITCH_FAILED, _SWITCH_MAX };

struct metrics {
        unsigned long takeovers[_TAKEOVER_MAX];
        unsigned long switches[_SWITCH_MAX];
        uint64_t last_takeover_s;   /* Unix time of the last takeover, 0 if none */
        unsigned long ptrace_stops; /* over all guards since boot */
        uint64_t oldest_zombie_ms;  /* since the guard first saw PID 1's oldest zombie */
        uint64_t pid1_rss_bytes;    /* 0 if unknown */
};

/* Classify a tracer's takeover reason and a switch's reply. */
enum takeover_reason metrics_takeover_reason(const char *reason);
enum switch_outcome metrics_switch_outcome(const char *reply);

/* The state file: "key value" lines. Missing or bad lines leave zeros. */
int metrics_load(struct metrics *m, const char *path);
int metrics_save(const struct metrics *m, const char *path);

/* The guard's side: its counters, loaded at start, saved at each change. */
void metrics_guard_init(void);
void metrics_count_takeover(const char *reason, bool during_switch);
void metrics_count_switch(const char *reply);
/* Was anything counted since the last call? (Then the textfile is due now.) */
bool metrics_take_counted(void);
/* Refresh the guard's numbers (stops since this guard started, PID 1's
 * zombies now) and save them; m receives the result plus PID 1's RSS. */
void metrics_guard_update(struct metrics *m, unsigned long stops, const pid_t *zombies, size_t n, uint64_t now);

/* Anyone's side (rescue-mode PID 1, the guard answering a request): the
 * saved counters plus PID 1's RSS read now. */
void metrics_collect(struct metrics *m);
uint64_t metrics_read_rss(pid_t pid);

/* The text exposition format; returns the length written (truncated safely). */
size_t metrics_format(const struct status *s, const struct metrics *m, char *buf, size_t n);
/* Write text atomically (temporary file in the same directory, rename).
 * A path that was not configured is written only if its directory exists:
 * returns -ENOENT quietly otherwise. Logs a new error once. */
int metrics_write_file(const char *path, bool configured, const char *text, size_t len);
