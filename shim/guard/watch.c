#include "guard/watch.h"
#include "common/cgroup.h"
#include "health/dbusping.h"
#include "health/health.h"
#include "common/log.h"
#include "common/proc.h"
#include "control/status.h"
#include "common/util.h"
#include "config/vstate.h"
#include "control/protocol.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SCAN_INTERVAL_MAX_MS 5000
#define SCAN_INTERVAL_MIN_MS 250

struct probe_result {
        int r;
        uint64_t rtt_us;
        char error[128];
        char state[32]; /* Manager.SystemState, "" if not read */
};

static const struct config *cfg;
static struct tracer *tracer;
static struct health health;
static bool pid1_is_initshim;
static uint64_t next_scan_ms, next_ping_ms;
static pid_t prober;
static int prober_fd = -1;
static uint64_t prober_deadline_ms;
static uint64_t last_answer_ms;
static char system_state[32];

/* SystemState running or degraded: the default target was reached. Read by
 * the prober along with the Ping. */
static bool pid1_boot_finished(void) {
        return strcmp(system_state, "running") == 0 || strcmp(system_state, "degraded") == 0;
}

static uint64_t scan_interval(void) {
        uint64_t i = cfg->zombie_age_ms / 4;
        return i < SCAN_INTERVAL_MIN_MS ? SCAN_INTERVAL_MIN_MS : i > SCAN_INTERVAL_MAX_MS ? SCAN_INTERVAL_MAX_MS : i;
}

void watch_init(const struct config *c, struct tracer *t) {
        cfg = c;
        tracer = t;
        health_init(&health, now_ms());
        next_scan_ms = now_ms() + scan_interval();
        next_ping_ms = c->liveness_interval_ms ? now_ms() + c->liveness_interval_ms : 0;
}

void watch_pid1_exec(bool is_initshim) {
        pid1_is_initshim = is_initshim;
        health_pid1_exec(&health, now_ms());
        last_answer_ms = 0;
        system_state[0] = '\0';
}

int watch_fd(void) {
        return prober_fd;
}

int watch_timeout_ms(void) {
        uint64_t now = now_ms(), next = next_scan_ms;

        /* Rescue mode: nothing to judge; only a prober still out matters. */
        if (pid1_is_initshim)
                next = prober ? prober_deadline_ms : UINT64_MAX;
        if (next == UINT64_MAX)
                return -1;

        if (!pid1_is_initshim && next_ping_ms && next_ping_ms < next)
                next = next_ping_ms;
        if (prober && prober_deadline_ms < next)
                next = prober_deadline_ms;
        return next > now ? (int) (next - now) : 0;
}

static void start_probe(bool when_listening) {
        int p[2];

        if (prober || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                return;
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]), close(p[1]);
                return;
        }
        if (pid == 0) {
                struct probe_result res = { 0 };
                struct dbus_ping_result pr;
                int keep[1] = { p[1] };
                close_fds_from(3, keep, 1);
                res.r = when_listening ? dbus_ping_when_listening(DBUS_PING_DEFAULT_PATH, cfg->liveness_timeout_ms, &pr)
                                       : dbus_ping(DBUS_PING_DEFAULT_PATH, cfg->liveness_timeout_ms, &pr);
                res.rtt_us = pr.rtt_us;
                (void) copy_string(res.error, sizeof res.error, pr.error);
                /* Whether the boot reached its default target (boot counting). */
                if (res.r == 0)
                        (void) dbus_get_string_property(DBUS_PING_DEFAULT_PATH, cfg->liveness_timeout_ms,
                                                        DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState", res.state,
                                                        sizeof res.state, NULL);
                (void) !write(p[1], &res, sizeof res);
                _exit(0);
        }
        close(p[1]);
        prober = pid;
        prober_fd = p[0];
        /* dbus_ping bounds itself; this is for a prober that got stuck anyway. */
        prober_deadline_ms = now_ms() + cfg->liveness_timeout_ms + 2000;
}

static void end_probe(void) {
        if (prober_fd >= 0)
                close(prober_fd);
        prober_fd = -1;
}

void watch_probe_now(void) {
        start_probe(false);
}

void watch_probe_when_listening(void) {
        start_probe(true);
}

uint64_t watch_last_answer_ms(void) {
        return last_answer_ms;
}

bool watch_child_exited(pid_t pid, int wstatus) {
        (void) wstatus;
        if (pid != prober || pid <= 0)
                return false;
        prober = 0;
        return true;
}

static void read_probe(void) {
        struct probe_result res;
        ssize_t n = read(prober_fd, &res, sizeof res);

        if (n < 0 && errno == EAGAIN)
                return;
        end_probe();
        if (n != (ssize_t) sizeof res) {
                memset(&res, 0, sizeof res);
                res.r = -EIO;
                snprintf(res.error, sizeof res.error, "prober died");
        }
        res.error[sizeof res.error - 1] = '\0';
        res.state[sizeof res.state - 1] = '\0';
        if (res.r == 0 || res.r == -EREMOTEIO)
                last_answer_ms = now_ms();
        if (res.state[0])
                (void) copy_string(system_state, sizeof system_state, res.state);
        if (!pid1_is_initshim)
                health_ping_result(&health, cfg, res.r, res.rtt_us, res.error, now_ms());
}

static uint64_t pid1_rss(void) {
        char buf[4096];
        const char *v = read_proc_status_field(1, "VmRSS", buf, sizeof buf);

        return v ? strtoull(v, NULL, 10) * 1024 : 0;
}

/* An upgrade is pending when the file PID 1 was started from is no longer
 * the one it runs: deleted (replaced by rename), or its path now names
 * another file. Not when PID 1 runs another configured version than the
 * default: a boot fallback or a switch is deliberate, and a re-exec (which
 * starts systemd's own compiled-in path) would not change it anyway. */
static void check_upgrade(uint64_t now) {
        struct stat a, b;
        char exe[256];
        size_t l;
        bool deleted, differs = false;

        read_exe(1, exe, sizeof exe);
        l = strlen(exe);
        deleted = l > 10 && strcmp(exe + l - 10, " (deleted)") == 0;
        if (!deleted && exe[0] && stat(exe, &a) == 0 && stat("/proc/1/exe", &b) == 0)
                differs = a.st_dev != b.st_dev || a.st_ino != b.st_ino;
        health_upgrade(&health, cfg, deleted, differs, exe, now);
}

void watch_leave_pid1_cgroup(void) {
        static const char *const names[] = { "cgroup2", "name=systemd", "freezer" };
        static bool error_logged, v1_logged;
        char what[64] = "";
        unsigned moved;
        int r = cgroup_escape_pid1(&moved);

        if (r < 0 && !error_logged) {
                log_errno(r, LOG_WARNING, "guard: cannot leave PID 1's cgroup (freezing init.scope would freeze initshim)");
                error_logged = true;
        }
        if (!moved)
                return;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (moved & (1u << i))
                        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", what[0] ? ", " : "",
                                 names[i]);
        log_info("guard: moved itself and its children out of PID 1's cgroup into /initshim (%s)", what);
        if (!(moved & (1u << CGROUP_UNIFIED)) && !v1_logged) {
                log_notice("guard: cgroup v1 hierarchies: initshim keeps out of PID 1's name=systemd and "
                           "freezer cgroups; a v1 freezer on PID 1 is thawed at takeover");
                v1_logged = true;
        }
}

static void scan(uint64_t now) {
        static pid_t zombies[HEALTH_ZOMBIES_TRACKED];
        size_t n = list_zombie_children(1, zombies, ELEMENTSOF(zombies));

        /* systemd moves the root cgroup's processes into init.scope when it
         * starts, and a v1 name=systemd hierarchy only exists from then on:
         * step out again wherever we share PID 1's cgroup. */
        watch_leave_pid1_cgroup();

        health_zombies(&health, cfg, zombies, n, now);
        health_memory(&health, cfg, pid1_rss(), now);
        check_upgrade(now);
}

/* Boot counting (docs/versions.md): once the persistent state directory is
 * writable, count this boot against its version; once PID 1 is healthy,
 * clear the count. The stage is kept in /run so that a restarted guard does
 * not count twice. */
#define BOOT_STAGE_FILE RUN_DIR "/boot-stage"

static bool boot_healthy(void) {
        /* Answered Ping, and the manager says the boot is over. */
        return last_answer_ms != 0 && pid1_boot_finished();
}

static void boot_bookkeeping(void) {
        static int stage = -1;
        char path[256], buf[8];

        if (stage == 2 || !cfg->boot_tries)
                return;
        if (stage < 0)
                stage = read_file(BOOT_STAGE_FILE, buf, sizeof buf) > 0 ? atoi(buf) : 0;
        if (stage == 2 || read_file(BOOT_VERSION_FILE, path, sizeof path) <= 0)
                return;
        if (stage == 0) {
                if ((mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST) || access(cfg->state_dir, W_OK) < 0)
                        return; /* / still read-only: later */
                unsigned n = vstate_boot_failures(path) + 1;
                if (vstate_set_boot_failures(path, n) < 0)
                        return;
                log_info("boot: counting this boot of %s (%u without reaching healthy, until it does)", path, n);
                stage = 1;
        }
        if (stage == 1 && boot_healthy()) {
                (void) vstate_set_boot_failures(path, 0);
                log_info("boot: %s is healthy (answers, boot finished): its boot count is cleared", path);
                stage = 2;
        }
        snprintf(buf, sizeof buf, "%d", stage);
        (void) write_file_atomic(BOOT_STAGE_FILE, buf, strlen(buf), 0644);
}

static void take_over(const char *reason) {
        if (tracer_takeover(tracer, reason) < 0)
                log_crit("health: cannot take over (%s)", tracer->state == TRACER_DETACHED ? "PID 1 is not traced" : "busy");
        health.reexec_sent_ms = 0;
}

static void act(void) {
        /* A takeover under way is the tracer's business. */
        if (!tracer_is_steady(tracer) && tracer->state != TRACER_DETACHED)
                return;
        switch (health_decide(&health, cfg, now_ms())) {
        case HEALTH_ACTION_NONE:
                return;
        case HEALTH_ACTION_REEXEC:
                /* A frozen PID 1 cannot act on SIGTERM: waiting reexec-timeout
                 * for it would only prolong the outage. The takeover thaws it. */
                if (health.checks[CHECK_LIVENESS].level == HEALTH_FAILED && cgroup_is_frozen(1)) {
                        snprintf(health.action_reason, sizeof health.action_reason,
                                 "unresponsive (%s): PID 1's cgroup is frozen, a re-exec cannot happen",
                                 health.checks[CHECK_LIVENESS].reason);
                        log_crit("health: %s: taking over", health.action_reason);
                        take_over(health.action_reason);
                        return;
                }
                log_warning("health: %s", health.action_reason);
                /* systemd serializes its state and re-executes itself on SIGTERM. */
                if (kill(1, SIGTERM) < 0)
                        log_errno(-errno, LOG_ERR, "health: cannot signal PID 1");
                health_reexec_sent(&health, now_ms());
                return;
        case HEALTH_ACTION_TAKEOVER:
                log_crit("health: %s: taking over", health.action_reason);
                take_over(health.action_reason);
                return;
        }
}

void watch_run(bool fd_readable) {
        uint64_t now = now_ms();

        if (fd_readable && prober_fd >= 0)
                read_probe();
        if (prober && now >= prober_deadline_ms) {
                (void) kill(prober, SIGKILL);
                end_probe();
                if (!pid1_is_initshim)
                        health_ping_result(&health, cfg, -ETIMEDOUT, 0, "prober stuck", now);
                prober_deadline_ms = UINT64_MAX;
        }
        if (pid1_is_initshim) {
                /* Rescue mode: initshim is PID 1, nothing to judge. Re-arm the
                 * timers so that they start afresh when systemd is back. */
                next_scan_ms = now + scan_interval();
                if (next_ping_ms)
                        next_ping_ms = now + cfg->liveness_interval_ms;
                return;
        }
        if (now >= next_scan_ms) {
                scan(now);
                boot_bookkeeping();
                next_scan_ms = now + scan_interval();
        }
        if (next_ping_ms && now >= next_ping_ms) {
                start_probe(false);
                next_ping_ms = now + cfg->liveness_interval_ms;
        }
        act();
}

size_t watch_format(char *buf, size_t n) {
        if (pid1_is_initshim) {
                snprintf(buf, n, "check-*: not checked: PID 1 is initshim\n");
                return strlen(buf);
        }
        size_t l = (size_t) snprintf(buf, n, "pid1-state: %s\n", system_state[0] ? system_state : "unknown");
        if (l >= n)
                return n - 1;
        return l + health_format(&health, buf + l, n - l, now_ms());
}
