#include "control/metrics.h"
#include "guard/switch.h"
#include "common/log.h"
#include "common/proc.h"
#include "versions/compat.h"
#include "versions/preflight.h"
#include "control/status.h"
#include "common/util.h"
#include "config/vstate.h"
#include "guard/watch.h"
#include "versions/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The new manager binds its bus socket a few hundred ms after the exec:
 * the prober waits for that (inotify) and pings at once. A probe that ends
 * without an answer is started again after these. */
#define VERIFY_PROBE_FIRST_MS 20
#define VERIFY_PROBE_MS 500

/* ROLLBACK: the failed target is asked to re-execute into the previous
 * binary; ROLLBACK_VERIFY: that happened, the previous version must answer
 * (within switch-grace too) before the request is answered. */
enum phase { IDLE, PREFLIGHT, EXEC, VERIFY, ROLLBACK, ROLLBACK_VERIFY };

static const struct config *cfg;
static struct tracer *tracer;
static struct ctl_server *server;
static enum phase phase;
static char target[CONFIG_PATH_MAX], target_version[128], previous[256], failure[256];
static uint64_t verify_since, verify_deadline, next_probe;
static unsigned probe_step;
/* The candidate's preflight runs in a worker: the guard keeps handling
 * ptrace stops meanwhile (a crash then is taken over at once). */
static struct worker preflight_worker = WORKER_INIT;
/* The target as stat() saw it before its preflight; a pass remembered for
 * exactly that file skips the worker (cached_pass). */
static struct preflight_id target_id;
static bool target_id_valid, cached_pass;

void switch_init(const struct config *c, struct tracer *t, struct ctl_server *s) {
        cfg = c;
        tracer = t;
        server = s;
        vstate_set_dirs(c->state_dir, VSTATE_DIR_VOLATILE);
}

bool switch_pending(void) {
        return phase != IDLE;
}

/* The outcome for status (last-switch:), rescue mode's included: the
 * reply without its "ok" line, on one line. */
static void record(const char *reply) {
        char line[320];
        size_t i;

        metrics_count_switch(reply);
        if (strncmp(reply, "ok\n", 3) == 0)
                reply += 3;
        snprintf(line, sizeof line, "%s -> %s: %s", previous, target, reply);
        for (i = 0; line[i]; i++)
                if (line[i] == '\n')
                        line[i] = ' ';
        while (i > 0 && line[i - 1] == ' ')
                line[--i] = '\0';
        (void) write_file_atomic(LAST_SWITCH_FILE, line, i, 0644);
}

static void answer(const char *fmt, const char *a, const char *b) {
        static char text[PROTO_REPLY_MAX];
        snprintf(text, sizeof text, fmt, a, b);
        record(text);
        (void) ctl_server_answer(server, text);
        phase = IDLE;
}

static bool tracer_ready(char *text, size_t n) {
        if (tracer_is_steady(tracer))
                return true;
        snprintf(text, n, "error: cannot switch: the guard is %s PID 1; nothing changed\n",
                 tracer->state == TRACER_DETACHED ? "not tracing" : tracer_state_to_string(tracer->state));
        return false;
}

/* A pass remembered for this very file (preflight.h): no `--version` to
 * run. The cgroup check depends on the mounts, not the file: made again. */
static bool preflight_cached(void) {
        struct stat st;
        char why[256];

        target_id_valid = stat(target, &st) == 0;
        if (!target_id_valid)
                return false;
        preflight_id_of(&st, target, &target_id);
        if (!preflight_cache_get(&target_id, target_version, sizeof target_version))
                return false;
        return compat_check_cgroup(target_version, why, sizeof why) == 0;
}

/* Remember a pass, if the file is still the one stat() saw before it. */
static void remember_pass(void) {
        struct preflight_id now;
        struct stat st;

        if (!target_id_valid || stat(target, &st) < 0)
                return;
        preflight_id_of(&st, target, &now);
        if (preflight_id_equal(&now, &target_id))
                preflight_cache_put(&target_id, target_version);
}

bool switch_begin(const char *arg, char *text, size_t n) {
        const struct version *v = config_find_version(cfg, arg);
        const char *path = v ? v->path : arg[0] == '/' ? arg : NULL;
        int r;

        if (!path) {
                snprintf(text, n, "error: unknown version '%s'\n", arg);
                return false;
        }
        if (!tracer_ready(text, n))
                return false;
        (void) copy_string(target, sizeof target, path);
        cached_pass = preflight_cached();
        r = cached_pass ? 0 : worker_start(&preflight_worker, preflight_work, target, PREFLIGHT_WORKER_MS);
        if (r < 0) {
                snprintf(text, n, "error: cannot check %s now: %s; nothing changed\n", path, strerror(-r));
                return false;
        }
        phase = PREFLIGHT;
        return true;
}

/* Answer a switch that never started: nothing to record. */
static void refuse(const char *text) {
        (void) ctl_server_answer(server, text);
        phase = IDLE;
}

/* Is the target the very file PID 1 runs? */
static bool pid1_runs_target(void) {
        struct stat a, b;

        return stat(target, &a) == 0 && stat("/proc/1/exe", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The preflight passed: switch. */
static void switch_start(void) {
        static char text[PROTO_REPLY_MAX];
        char bad[160];
        size_t l;

        if (!tracer_ready(text, sizeof text)) {
                refuse(text);
                return;
        }
        read_exe(1, previous, sizeof previous);
        l = strlen(previous);
        if (l > 10 && strcmp(previous + l - 10, " (deleted)") == 0)
                previous[l - 10] = '\0';
        if (vstate_is_bad(target, bad, sizeof bad))
                log_warning("switch: %s was marked bad (%s); trying it on request", target, bad);
        /* If this goes wrong, rescue mode's restart must come back to what runs now. */
        (void) vstate_set_last_good(previous);
        /* The same binary: systemd's own re-exec does it all (the tracer
         * only sees its exec event); another: the tracer makes the re-exec
         * land in the target. */
        if (pid1_runs_target())
                log_notice("switch: PID 1 runs %s already: asking it to re-execute itself (SIGTERM)", target);
        int r = tracer_switch(tracer, target, cfg->reexec_timeout_ms);
        if (r < 0) {
                snprintf(text, sizeof text, "error: cannot switch: %s\n", strerror(-r));
                refuse(text);
                return;
        }
        phase = EXEC;
}

static void preflight_finished(void) {
        static char text[PROTO_REPLY_MAX];
        char why[256];
        int r = preflight_result(preflight_worker.result, preflight_worker.timed_out, target_version,
                                 sizeof target_version, why, sizeof why);

        worker_done(&preflight_worker);
        if (r < 0) {
                log_warning("switch: refusing %s: %s", target, why);
                snprintf(text, sizeof text, "error: refused: %s; nothing changed\n", why);
                refuse(text);
                return;
        }
        remember_pass();
        switch_start();
}

int switch_fd(void) {
        return worker_fd(&preflight_worker);
}

bool switch_child_exited(pid_t pid) {
        return worker_child_exited(&preflight_worker, pid);
}

static void fail_and_roll_back(const char *why) {
        (void) copy_string(failure, sizeof failure, why);
        (void) vstate_mark_bad(target, why);
        log_error("switch: %s failed: %s; switching back to %s", target, why, previous);
        if (tracer_is_steady(tracer) && tracer_switch(tracer, previous, cfg->reexec_timeout_ms) == 0) {
                phase = ROLLBACK;
                return;
        }
        /* It cannot even re-exec: take it over; rescue mode restarts `previous`. */
        (void) tracer_takeover(tracer, failure);
        answer("error: %s; PID 1 could not switch back and was taken over (on-failure policy follows)\n", failure,
               "");
}

static void start_verify(enum phase p) {
        phase = p;
        verify_since = now_ms();
        verify_deadline = verify_since + cfg->switch_grace_ms;
        next_probe = 0;
        probe_step = 0;
}

/* The tracer could not land PID 1's re-exec in the target. */
static void not_switched(int err) {
        char exe[256];

        if (err == -ETIMEDOUT) {
                answer("error: PID 1 did not re-execute within the re-exec timeout (%s); nothing changed\n", target,
                       "");
                return;
        }
        read_exe(1, exe, sizeof exe);
        log_error("switch: PID 1 could not execute %s (%s); it runs %s, state kept", target, strerror(-err), exe);
        answer("error: PID 1 could not execute %s (%s); rolled back: it runs the binary its own re-exec loaded, "
               "state kept\n", target, strerror(-err));
}

void switch_on_tracer_event(int ev) {
        if (phase == IDLE)
                return;
        if (ev == TRACER_EVENT_TAKEN) {
                if (phase == VERIFY || phase == ROLLBACK || phase == ROLLBACK_VERIFY)
                        answer("error: %s failed after the switch (%s); rescue mode took over and its on-failure "
                               "policy brings back the last good version\n",
                               target, tracer->last_takeover);
                else if (phase != PREFLIGHT)
                        phase = IDLE; /* PREFLIGHT: answered when it finishes */
                return;
        }
        if (ev != TRACER_EVENT_SWITCHED)
                return;
        if (phase == EXEC) {
                if (tracer->switch_result < 0) {
                        not_switched(tracer->switch_result);
                        return;
                }
                start_verify(VERIFY);
                return;
        }
        if (phase == ROLLBACK) {
                if (tracer->switch_result < 0) {
                        (void) tracer_takeover(tracer, failure);
                        answer("error: %s; switching back failed too, PID 1 taken over\n", failure, "");
                } else {
                        log_notice("switch: PID 1 runs %s again, state kept; waiting for it to answer", previous);
                        start_verify(ROLLBACK_VERIFY);
                }
        }
}

static void probe_when_due(uint64_t now) {
        if (now >= next_probe) {
                watch_probe_when_listening();
                uint64_t step = (uint64_t) VERIFY_PROBE_FIRST_MS << (probe_step < 5 ? probe_step++ : 5);
                next_probe = now + (step < VERIFY_PROBE_MS ? step : VERIFY_PROBE_MS);
        }
}

/* Back in the previous binary: answered once it answers a Ping. */
static void rollback_verify(uint64_t now) {
        if (watch_last_answer_ms() > verify_since) {
                log_notice("switch: PID 1 runs %s again and answers", previous);
                answer("error: %s; rolled back to %s with state kept\n", failure, previous);
                return;
        }
        if (now >= verify_deadline) {
                log_error("switch: PID 1 runs %s again but has not answered within switch-grace", previous);
                answer("error: %s; rolled back to %s with state kept, but it has not answered since (the liveness "
                       "checks follow)\n", failure, previous);
                return;
        }
        probe_when_due(now);
}

void switch_run(void) {
        uint64_t now = now_ms();

        switch_on_tracer_event(tracer_take_report(tracer)); /* a switch the tracer's deadline ended */
        if (phase == PREFLIGHT) {
                if (cached_pass) {
                        cached_pass = false;
                        log_info("switch: %s passed preflight before and has not changed since (%s)", target,
                                 target_version);
                        switch_start();
                } else if (worker_poll(&preflight_worker))
                        preflight_finished();
                return;
        }
        if (phase == VERIFY && tracer->state == TRACER_CRASH_FOLLOW) {
                /* Crashed within the grace period: mark it now, before rescue mode
                 * picks what to restart. */
                (void) vstate_mark_bad(target, "crashed right after a switch");
                (void) copy_string(failure, sizeof failure, "crashed right after the switch");
                return;
        }
        if (phase == ROLLBACK_VERIFY) {
                rollback_verify(now);
                return;
        }
        if (phase != VERIFY)
                return;
        if (watch_last_answer_ms() > verify_since) {
                static char text[PROTO_REPLY_MAX];
                (void) vstate_set_last_good(target);
                vstate_clear_bad(target);
                log_notice("switch: PID 1 runs %s (%s) and answers", target, target_version);
                snprintf(text, sizeof text, "ok\nswitched to %s (%s), state kept\n", target, target_version);
                record(text);
                (void) ctl_server_answer(server, text);
                phase = IDLE;
                return;
        }
        if (now >= verify_deadline) {
                char why[128];
                snprintf(why, sizeof why, "no answer to Ping within %llu s after the switch",
                         (unsigned long long) (cfg->switch_grace_ms / 1000));
                fail_and_roll_back(why);
                return;
        }
        probe_when_due(now);
}

int switch_timeout_ms(void) {
        if (phase == PREFLIGHT)
                return cached_pass ? 0 : worker_timeout_ms(&preflight_worker);
        if (phase != VERIFY && phase != ROLLBACK_VERIFY)
                return -1;
        uint64_t now = now_ms(), next = next_probe < verify_deadline ? next_probe : verify_deadline;
        return next > now ? (int) (next - now) : 0;
}
