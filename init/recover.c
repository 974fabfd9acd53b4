/* Recovery after a takeover: the `on-failure` policy.
 *
 * A crashed systemd's state is gone, and a systemd started without
 * --deserialize boots fresh: it finds services' cgroups populated, logs
 * "Found left-over process ... Ignoring." and starts second copies. So
 * `restart` first stops every left-over process (SIGTERM, stop-timeout,
 * SIGKILL; a state machine driven by rescue mode's main loop, which reaps
 * and serves meanwhile), except in the cgroups the operator keeps (containers), PID 1's
 * own scope and initshim's own processes; then it execs systemd fresh. */
#include "adopt.h"
#include "common/cgroup.h"
#include "common/log.h"
#include "pid1.h"
#include "control/protocol.h"
#include "common/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PF_KTHREAD 0x00200000UL
#define RESTARTS_FILE RUN_DIR "/restarts"
#define RESTARTS_MAX 64

static bool spared(pid_t pid, long ppid, const pid_t *spare, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (spare[i] > 0 && (pid == spare[i] || ppid == spare[i]))
                        return true;
        return false;
}

struct sweep_ctx {
        int sig;
        const struct config *c;
        const pid_t *spare;
        size_t n_spare;
        bool log_each;
        unsigned alive;
};

static int sweep_one(long pid, int skip_fd, void *data) {
        struct sweep_ctx *w = data;
        char state, cg[256];
        long ppid;
        unsigned long flags;
        (void) skip_fd;

        if (pid == 1 || pid == getpid())
                return 0;
        if (read_proc_stat(pid, &state, &ppid, &flags) < 0)
                return 0;
        if ((flags & PF_KTHREAD) || state == 'Z' || state == 'X' || spared((pid_t) pid, ppid, w->spare, w->n_spare))
                return 0;
        if (cgroup_of((pid_t) pid, cg, sizeof cg) == 0 && (cgroup_is_kept(cg, w->c->keep_cgroups) || adopt_spares(cg)))
                return 0;
        w->alive++;
        if (w->sig == 0)
                return 0;
        if (w->log_each)
                log_info("stopping left-over pid %ld in %s", pid, cg[0] ? cg : "?");
        (void) kill((pid_t) pid, w->sig);
        if (w->sig == SIGTERM)
                (void) kill((pid_t) pid, SIGCONT);
        return 0;
}

/* Signal every left-over process; returns how many are still alive. */
static unsigned sweep(int sig, const struct config *c, const pid_t *spare, size_t n_spare, bool log_each) {
        struct sweep_ctx w = { sig, c, spare, n_spare, log_each, 0 };
        (void) foreach_number("/proc", sweep_one, &w);
        return w.alive;
}

/* One step of the stop: signal on entering a phase, then count what is
 * left. Zombies and vanished processes are gone for this purpose (sweep_one
 * skips them): a left-over whose parent is outside our PID namespace (one
 * entered with nsenter) stays a zombie until that parent reaps it, and must
 * not hold the stop for its whole timeout. */
void leftover_stop_begin(struct leftover_stop *s, const struct config *c, const pid_t *spare, size_t n_spare) {
        unsigned n = sweep(SIGTERM, c, spare, n_spare, true);

        log_notice("stopping %u left-over processes (SIGTERM, up to %llu ms), keeping cgroups: init.scope %s", n,
                   (unsigned long long) c->stop_timeout_ms, c->keep_cgroups);
        s->phase = n == 0 ? LEFTOVER_STOP_DONE : LEFTOVER_STOP_TERM;
        s->deadline_ms = now_ms() + c->stop_timeout_ms;
        s->next_check_ms = 0;
}

bool leftover_stop_step(struct leftover_stop *s, const struct config *c, const pid_t *spare, size_t n_spare) {
        uint64_t now = now_ms();
        unsigned alive;

        if (s->phase == LEFTOVER_STOP_IDLE || s->phase == LEFTOVER_STOP_DONE)
                return s->phase == LEFTOVER_STOP_DONE;
        if (now < s->next_check_ms)
                return false;
        s->next_check_ms = now + LEFTOVER_CHECK_MS;
        alive = sweep(0, c, spare, n_spare, false);
        if (alive == 0) {
                s->phase = LEFTOVER_STOP_DONE;
                return true;
        }
        if (now < s->deadline_ms)
                return false;
        if (s->phase == LEFTOVER_STOP_TERM) {
                log_warning("%u left-over processes ignored SIGTERM: killed", sweep(SIGKILL, c, spare, n_spare, false));
                s->phase = LEFTOVER_STOP_KILL;
                s->deadline_ms = now + LEFTOVER_KILL_WAIT_MS;
                return false;
        }
        log_warning("%u left-over processes would not die (D state?); going on", alive);
        s->phase = LEFTOVER_STOP_DONE;
        return true;
}

int leftover_stop_timeout_ms(const struct leftover_stop *s) {
        uint64_t now;

        if (s->phase != LEFTOVER_STOP_TERM && s->phase != LEFTOVER_STOP_KILL)
                return -1;
        now = now_ms();
        return s->next_check_ms > now ? (int) (s->next_check_ms - now) : 0;
}

bool ratelimit_allow(uint64_t *stamps, size_t *n, size_t max, uint64_t now, uint64_t interval, unsigned limit) {
        size_t k = 0;

        /* Keep only the stamps inside the window. */
        for (size_t i = 0; i < *n; i++)
                if (stamps[i] + interval > now)
                        stamps[k++] = stamps[i];
        *n = k;
        if (k >= limit)
                return false;
        if (k == max) {
                memmove(stamps, stamps + 1, (max - 1) * sizeof *stamps);
                k--;
        }
        stamps[k++] = now;
        *n = k;
        return true;
}

/* The window survives the execs between rescue mode and systemd: /run. */
bool restart_allowed(const struct config *c) {
        static char text[RESTARTS_MAX * 24];
        uint64_t stamps[RESTARTS_MAX];
        size_t n = 0, len = 0;
        bool ok;

        if (read_file(RESTARTS_FILE, text, sizeof text) > 0)
                for (char *p = text; *p && n < RESTARTS_MAX; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
                        stamps[n++] = strtoull(p, NULL, 10);
        ok = ratelimit_allow(stamps, &n, RESTARTS_MAX, now_ms(), c->restart_interval_ms, c->restart_limit);
        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(text + len, sizeof text - len, "%llu\n", (unsigned long long) stamps[i]);
        (void) write_file_atomic(RESTARTS_FILE, text, len, 0600);
        return ok;
}
