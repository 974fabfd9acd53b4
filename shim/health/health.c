#include "health/health.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTO_REEXEC_MIN_INTERVAL_MS (3600ULL * 1000)
/* /run/systemd/private appears early in systemd's start-up; a PID 1 that
 * has not created it after this long is not starting, it is stuck. */
#define SOCKET_GRACE_MS (5ULL * 60 * 1000)

static const char *const check_names[_CHECK_MAX] = {
        [CHECK_LIVENESS] = "liveness",
        [CHECK_ZOMBIES] = "zombies",
        [CHECK_MEMORY] = "memory",
        [CHECK_UPGRADE] = "upgrade",
};

const char *health_level_to_string(enum health_level l) {
        return l == HEALTH_OK ? "ok" : l == HEALTH_DEGRADED ? "degraded" : "failed";
}

static void remember(struct health *h, uint64_t now, const char *text) {
        if (h->hist_n == HEALTH_HISTORY) {
                memmove(h->history, h->history + 1, sizeof h->history[0] * (HEALTH_HISTORY - 1));
                h->hist_n--;
        }
        h->history[h->hist_n].ms = now;
        (void) copy_string(h->history[h->hist_n].text, sizeof h->history[0].text, text);
        h->hist_n++;
}

static void set_check(struct health *h, enum health_check_id id, enum health_level level, const char *reason,
                      uint64_t now) {
        struct health_check *c = &h->checks[id];
        bool changed = c->level != level;

        (void) copy_string(c->reason, sizeof c->reason, reason);
        if (!changed)
                return;
        c->level = level;
        c->since_ms = now;
        char text[176];
        snprintf(text, sizeof text, "%s %s: %s", check_names[id], health_level_to_string(level), reason);
        remember(h, now, text);
        log_msg(level == HEALTH_OK ? LOG_INFO : level == HEALTH_DEGRADED ? LOG_WARNING : LOG_ERR, "health: %s", text);
}

void health_init(struct health *h, uint64_t now) {
        memset(h, 0, sizeof *h);
        for (int i = 0; i < _CHECK_MAX; i++) {
                h->checks[i].since_ms = now;
                (void) copy_string(h->checks[i].reason, sizeof h->checks[i].reason, "not checked yet");
        }
        h->pid1_exec_ms = now;
}

void health_pid1_exec(struct health *h, uint64_t now) {
        h->pid1_exec_ms = now;
        h->ping_answered_since_exec = false;
        h->ping_failures = 0;
        /* A new image (a re-exec we asked for, or any other): judge it from
         * scratch, or the old verdict would ask for another re-exec. */
        if (h->reexec_sent_ms) {
                remember(h, now, "PID 1 re-executed");
                h->reexec_sent_ms = 0;
        }
        for (int i = 0; i < _CHECK_MAX; i++)
                if (h->checks[i].level == HEALTH_FAILED)
                        set_check(h, (enum health_check_id) i, HEALTH_DEGRADED, "re-checking after PID 1 exec'd", now);
}

void health_ping_result(struct health *h, const struct config *c, int r, uint64_t rtt_us, const char *error,
                        uint64_t now) {
        char reason[160];

        h->pings++;
        /* An ERROR reply still proves PID 1's event loop ran: alive. */
        if (r == -EREMOTEIO)
                r = 0;
        if (r == 0) {
                h->ping_failures = 0;
                h->ping_answered_since_exec = true;
                bool slow = rtt_us * 2 > c->liveness_timeout_ms * 1000;
                snprintf(reason, sizeof reason, "Ping answered in %llu.%03llu ms%s", (unsigned long long) (rtt_us / 1000),
                         (unsigned long long) (rtt_us % 1000), slow ? " (slow)" : "");
                set_check(h, CHECK_LIVENESS, slow ? HEALTH_DEGRADED : HEALTH_OK, reason, now);
                return;
        }
        /* No socket yet right after an exec is start-up, not a failure. */
        if ((r == -ENOENT || r == -ECONNREFUSED) && !h->ping_answered_since_exec &&
            now - h->pid1_exec_ms < SOCKET_GRACE_MS) {
                set_check(h, CHECK_LIVENESS, HEALTH_DEGRADED, "PID 1 does not listen on /run/systemd/private yet", now);
                return;
        }
        h->ping_failures++;
        snprintf(reason, sizeof reason, "Ping failed %u time%s in a row: %s", h->ping_failures,
                 h->ping_failures == 1 ? "" : "s", error && error[0] ? error : strerror(-r));
        set_check(h, CHECK_LIVENESS, h->ping_failures >= c->liveness_failures ? HEALTH_FAILED : HEALTH_DEGRADED,
                  reason, now);
}

void health_zombies(struct health *h, const struct config *c, const pid_t *pids, size_t n, uint64_t now) {
        static pid_t sorted[HEALTH_ZOMBIES_TRACKED];
        static uint64_t since[HEALTH_ZOMBIES_TRACKED];
        size_t k = 0, j = 0;
        unsigned old = 0;
        char reason[160];

        if (n > HEALTH_ZOMBIES_TRACKED)
                n = HEALTH_ZOMBIES_TRACKED;
        memcpy(sorted, pids, n * sizeof *pids);
        sort_pids(sorted, n);
        /* Merge with the previous scan: a zombie keeps its first-seen time. */
        for (size_t i = 0; i < n; i++) {
                while (j < h->n_zombies && h->zombie_pid[j] < sorted[i])
                        j++;
                since[k] = j < h->n_zombies && h->zombie_pid[j] == sorted[i] ? h->zombie_since[j] : now;
                if (c->zombie_age_ms && now - since[k] >= c->zombie_age_ms)
                        old++;
                k++;
        }
        memcpy(h->zombie_pid, sorted, k * sizeof *sorted);
        memcpy(h->zombie_since, since, k * sizeof *since);
        h->n_zombies = k;
        h->old_zombies = old;
        if (!c->zombie_age_ms) {
                set_check(h, CHECK_ZOMBIES, HEALTH_OK, "check disabled", now);
                return;
        }
        snprintf(reason, sizeof reason, "%zu zombie children of PID 1, %u older than %llu s", n, old,
                 (unsigned long long) (c->zombie_age_ms / 1000));
        set_check(h, CHECK_ZOMBIES, old == 0 ? HEALTH_OK : old >= c->zombie_limit ? HEALTH_FAILED : HEALTH_DEGRADED,
                  reason, now);
}

void health_memory(struct health *h, const struct config *c, uint64_t rss, uint64_t now) {
        char reason[160];

        if (!c->memory_limit) {
                set_check(h, CHECK_MEMORY, HEALTH_OK, "check disabled", now);
                return;
        }
        snprintf(reason, sizeof reason, "PID 1 resident memory %llu MiB, limit %llu MiB",
                 (unsigned long long) (rss >> 20), (unsigned long long) (c->memory_limit >> 20));
        set_check(h, CHECK_MEMORY, rss > c->memory_limit ? HEALTH_DEGRADED : HEALTH_OK, reason, now);
}

void health_upgrade(struct health *h, const struct config *c, bool deleted, bool differs, const char *exe,
                    uint64_t now) {
        char reason[160];
        (void) c;

        if (deleted)
                snprintf(reason, sizeof reason, "PID 1 runs a deleted binary (%s): an upgrade is pending", exe);
        else if (differs)
                snprintf(reason, sizeof reason, "%s is no longer the binary PID 1 runs: an upgrade is pending", exe);
        else
                snprintf(reason, sizeof reason, "PID 1 runs the current %s", exe);
        set_check(h, CHECK_UPGRADE, deleted || differs ? HEALTH_DEGRADED : HEALTH_OK, reason, now);
}

void health_reexec_sent(struct health *h, uint64_t now) {
        h->reexec_sent_ms = now;
        remember(h, now, h->action_reason);
}

enum health_action health_decide(struct health *h, const struct config *c, uint64_t now) {
        const struct health_check *lv = &h->checks[CHECK_LIVENESS], *zb = &h->checks[CHECK_ZOMBIES];
        bool unresponsive = lv->level == HEALTH_FAILED || zb->level == HEALTH_FAILED;

        if (unresponsive) {
                const char *why = lv->level == HEALTH_FAILED ? lv->reason : zb->reason;
                if (h->reexec_sent_ms == 0) {
                        snprintf(h->action_reason, sizeof h->action_reason,
                                 "unresponsive (%s): asking for a state-preserving re-exec", why);
                        return HEALTH_ACTION_REEXEC;
                }
                if (now - h->reexec_sent_ms >= c->reexec_timeout_ms) {
                        snprintf(h->action_reason, sizeof h->action_reason,
                                 "unresponsive: %s; a re-exec did not help within %llu s", why,
                                 (unsigned long long) (c->reexec_timeout_ms / 1000));
                        return HEALTH_ACTION_TAKEOVER;
                }
                return HEALTH_ACTION_NONE;
        }
        if (h->reexec_sent_ms && now - h->reexec_sent_ms >= c->reexec_timeout_ms) {
                /* Asked, not done, but PID 1 answers: do not take over a
                 * healthy PID 1. Note it and allow a later try. */
                remember(h, now, "re-exec asked for did not happen; PID 1 answers, leaving it");
                h->reexec_sent_ms = 0;
        }
        if (h->reexec_sent_ms)
                return HEALTH_ACTION_NONE;

        /* Sick but alive: a state-preserving re-exec, when enabled. */
        static const struct {
                enum health_check_id id;
                unsigned flag;
        } autos[] = {
                { CHECK_MEMORY, AUTO_REEXEC_MEMORY },
                { CHECK_UPGRADE, AUTO_REEXEC_UPGRADE },
                { CHECK_LIVENESS, AUTO_REEXEC_SLOW },
        };
        for (size_t i = 0; i < ELEMENTSOF(autos); i++) {
                const struct health_check *k = &h->checks[autos[i].id];
                if (k->level != HEALTH_DEGRADED || !(c->auto_reexec & autos[i].flag))
                        continue;
                if (autos[i].id == CHECK_LIVENESS && !h->ping_answered_since_exec)
                        continue; /* start-up, or failing: not "slow" */
                if (h->last_auto_reexec_ms && now - h->last_auto_reexec_ms < AUTO_REEXEC_MIN_INTERVAL_MS)
                        continue;
                h->last_auto_reexec_ms = now;
                snprintf(h->action_reason, sizeof h->action_reason, "%s: %s: state-preserving re-exec",
                         check_names[autos[i].id], k->reason);
                return HEALTH_ACTION_REEXEC;
        }
        return HEALTH_ACTION_NONE;
}

size_t health_format(const struct health *h, char *buf, size_t n, uint64_t now) {
        size_t len = 0;

        for (int i = 0; i < _CHECK_MAX && len < n; i++)
                len += (size_t) snprintf(buf + len, n - len, "check-%s: %s: %s\n", check_names[i],
                                         health_level_to_string(h->checks[i].level), h->checks[i].reason);
        if (len < n)
                len += (size_t) snprintf(buf + len, n - len, "pings: %lu\n", h->pings);
        for (size_t i = 0; i < h->hist_n && len < n; i++)
                len += (size_t) snprintf(buf + len, n - len, "history: %llus ago: %s\n",
                                         (unsigned long long) ((now - h->history[i].ms) / 1000), h->history[i].text);
        return len < n ? len : n - 1;
}
