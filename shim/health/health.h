/* Health of PID 1, judged by the guard (docs/recovery.md).
 * Checks produce samples; health_decide() turns them into levels, history
 * and at most one action. Pure logic here; collecting the samples and
 * carrying out actions is the guard's. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"

enum health_level { HEALTH_OK, HEALTH_DEGRADED, HEALTH_FAILED };

enum health_check_id { CHECK_LIVENESS, CHECK_ZOMBIES, CHECK_MEMORY, CHECK_UPGRADE, _CHECK_MAX };

struct health_check {
        enum health_level level;
        char reason[160];
        uint64_t since_ms;
};

#define HEALTH_ZOMBIES_TRACKED 4096
#define HEALTH_HISTORY 16

enum health_action {
        HEALTH_ACTION_NONE,
        HEALTH_ACTION_REEXEC,   /* state-preserving: SIGTERM to PID 1 */
        HEALTH_ACTION_TAKEOVER, /* PID 1 is unresponsive and a re-exec did not help */
};

struct health {
        struct health_check checks[_CHECK_MAX];
        unsigned ping_failures;          /* in a row */
        unsigned long pings;             /* answered or not, since start */
        uint64_t pid1_exec_ms;           /* when PID 1 last exec'd (grace for the socket) */
        bool ping_answered_since_exec;
        /* Zombies seen at the last scan and since when (sorted by pid). */
        pid_t zombie_pid[HEALTH_ZOMBIES_TRACKED];
        uint64_t zombie_since[HEALTH_ZOMBIES_TRACKED];
        size_t n_zombies;
        unsigned old_zombies;
        /* Escalation. */
        uint64_t reexec_sent_ms;         /* 0: none pending */
        uint64_t last_auto_reexec_ms;
        char action_reason[192];
        /* What changed, newest last. */
        struct {
                uint64_t ms;
                char text[176];
        } history[HEALTH_HISTORY];
        size_t hist_n;
};

const char *health_level_to_string(enum health_level l);
void health_init(struct health *h, uint64_t now);
/* PID 1 exec'd (re-exec, switch, takeover): a new process image to judge. */
void health_pid1_exec(struct health *h, uint64_t now);

/* Feeding samples. Each sets the check's level and reason (and logs a
 * change into the history). */
void health_ping_result(struct health *h, const struct config *c, int r, uint64_t rtt_us, const char *error,
                        uint64_t now);
/* Current zombie children of PID 1 (any order). */
void health_zombies(struct health *h, const struct config *c, const pid_t *pids, size_t n, uint64_t now);
void health_memory(struct health *h, const struct config *c, uint64_t rss_bytes, uint64_t now);
void health_upgrade(struct health *h, const struct config *c, bool exe_deleted, bool exe_differs,
                    const char *exe, uint64_t now);

/* What to do now. REEXEC is asked at most once per reexec-timeout and
 * (automatically for memory/upgrade/slow) at most once an hour; TAKEOVER
 * comes only after a REEXEC that did not make PID 1 answer in time. */
enum health_action health_decide(struct health *h, const struct config *c, uint64_t now);
/* The guard did it. */
void health_reexec_sent(struct health *h, uint64_t now);

/* Text for status (a "check-NAME: level: reason" line each, then history). */
size_t health_format(const struct health *h, char *buf, size_t n, uint64_t now);
