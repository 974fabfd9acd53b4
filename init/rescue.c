/* Rescue mode: initshim is PID 1 again, after systemd failed (or none could
 * be started). It keeps the machine alive: reaps every orphan, acts on the
 * signals systemd documents, serves the control FIFO, and waits for the
 * operator (or policy) to bring systemd back or shut down.
 * From here on we must not die: every error is logged and temporized. */
#include "adopt.h"
#include "control/server.h"
#include "guard/spawn.h"
#include "config/load.h"
#include "common/log.h"
#include "common/proc.h"
#include "pid1.h"
#include "watchdog.h"
#include "versions/preflight.h"
#include "control/protocol.h"
#include "control/status.h"
#include "common/util.h"
#include "common/version.h"
#include "control/verbs.h"
#include "config/vstate.h"
#include "versions/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 256

static const struct config *cfg;
static struct ctl_server server;
static uint64_t mode_since;
static char rescue_reason[256];
static pid_t rescue_cmd;
static int sfd = -1;
static pid_t guard_pid_seen;

/* The kernel's argv and environment, saved at boot, for a fresh systemd. */
static char boot_argv_buf[65536], boot_env_buf[65536];
static char *boot_argv[MAX_ARGS + 2], *boot_env[MAX_ARGS + 1];

static void load_list(const char *path, char *buf, size_t len, char **out, size_t max, size_t first) {
        ssize_t n = read_file(path, buf, len);
        size_t k = first;

        if (n > 0)
                for (char *p = buf; p < buf + n && k < max; p += strlen(p) + 1)
                        out[k++] = p;
        out[k] = NULL;
}

static void fill_status(struct status *s) {
        memset(s, 0, sizeof *s);
        s->mode = MODE_RESCUE;
        s->mode_since_ms = mode_since;
        s->now_ms = now_ms();
        read_exe(getpid(), s->pid1_exe, sizeof s->pid1_exe);
        snprintf(s->pid1_version, sizeof s->pid1_version, "initshim %s", initshim_build());
        (void) copy_string(s->last_takeover, sizeof s->last_takeover, rescue_reason);
        status_read_last_switch(s);
        s->zombies = count_zombie_children(getpid());
        guard_describe(s->guard, sizeof s->guard);
        status_read_versions(s);
        watchdog_describe(s->watchdog, sizeof s->watchdog);
}

static void write_status_file(void) {
        static char text[2048];
        static uint64_t last;
        struct status st;

        /* At most once a second: in an orphan storm every wake-up would
         * otherwise rescan /proc. */
        if (now_ms() - last < 1000)
                return;
        last = now_ms();
        fill_status(&st);
        size_t l = status_format_text(&st, text, sizeof text);
        (void) write_file_atomic(STATUS_FILE, text, l, 0644);
}

static void signal_guard(int sig) {
        int pid = guard_find();

        if (pid > 0 && kill(pid, sig) < 0)
                log_errno(-errno, LOG_WARNING, "cannot signal the guard");
}

static bool leave_child_exited(pid_t pid);

/* Reap every child that has exited, noting the guard, the control parser
 * and the rescue command among them. */
static void rescue_reap_children(void) {
        int st;
        pid_t pid;

        watchdog_feed(); /* here: also called while services are being stopped */
        /* Forever and promptly: orphans of the whole machine land here. */
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                if (ctl_server_child_exited(&server, pid, st) || verbs_child_exited(pid) ||
                    leave_child_exited(pid) || adopt_child_exited(pid))
                        continue;
                if (pid == guard_pid_seen) {
                        log_warning("guard (pid %d) exited; PID 1 is unguarded ('initshimctl guard start')", (int) pid);
                        guard_pid_seen = 0;
                        continue;
                }
                if (pid == rescue_cmd) {
                        log_notice("rescue command exited (%s %d)", WIFSIGNALED(st) ? "signal" : "status",
                                   WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                        rescue_cmd = 0;
                }
        }
}

static void start_rescue_command(void) {
        static char buf[CONFIG_CMD_MAX];
        static bool started;
        char *argv[32], *save = NULL;
        size_t n = 0;

        /* Once per rescue mode, and only when it holds. */
        if (!cfg->rescue_command[0] || started)
                return;
        started = true;
        (void) copy_string(buf, sizeof buf, cfg->rescue_command);
        for (char *w = strtok_r(buf, " \t", &save); w && n < ELEMENTSOF(argv) - 1; w = strtok_r(NULL, " \t", &save))
                argv[n++] = w;
        argv[n] = NULL;
        pid_t pid = fork();
        if (pid < 0) {
                log_errno(-errno, LOG_ERR, "cannot start the rescue command");
                return;
        }
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) setsid();
                int fd = open("/dev/console", O_RDWR | O_NOCTTY);
                if (fd >= 0) {
                        (void) ioctl(fd, TIOCSCTTY, 0);
                        (void) dup2(fd, 0), (void) dup2(fd, 1), (void) dup2(fd, 2);
                        if (fd > 2)
                                close(fd);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        rescue_cmd = pid;
        log_notice("started rescue command %s (pid %d)", argv[0], (int) pid);
}

/* Pick what to run: a version name, an absolute path, or (empty) the first
 * boot candidate that passes preflight. */
static int resolve_target(const char *arg, const char **path, char *version, size_t vlen, char *why, size_t whylen) {
        struct candidate cand[CONFIG_CANDIDATES_MAX];
        const struct version *v;

        if (arg && arg[0]) {
                if ((v = config_find_version(cfg, arg)))
                        *path = v->path;
                else if (arg[0] == '/')
                        *path = arg;
                else {
                        snprintf(why, whylen, "unknown version '%s'", arg);
                        return -ENOENT;
                }
                return preflight_run(*path, PREFLIGHT_TIMEOUT_MS, version, vlen, why, whylen);
        }
        /* After a failed switch: the version that ran well before it. */
        static char last_good[256];
        char bad[160];
        vstate_last_good(last_good, sizeof last_good);
        if (last_good[0] && !vstate_is_bad(last_good, NULL, 0) &&
            preflight_run(last_good, PREFLIGHT_TIMEOUT_MS, version, vlen, why, whylen) == 0) {
                *path = last_good;
                return 0;
        }
        size_t n = config_boot_candidates(cfg, cand, ELEMENTSOF(cand));
        for (size_t i = 0; i < n; i++) {
                if (vstate_is_bad(cand[i].path, bad, sizeof bad)) {
                        log_warning("not using %s (%s): marked bad: %s", cand[i].path, cand[i].why, bad);
                        continue;
                }
                if (preflight_run(cand[i].path, PREFLIGHT_TIMEOUT_MS, version, vlen, why, whylen) == 0) {
                        *path = cand[i].path;
                        return 0;
                }
                log_warning("not using %s (%s): %s", cand[i].path, cand[i].why, why);
        }
        snprintf(why, whylen, "no configured systemd passes preflight");
        return -ENOENT;
}

/* Hand PID 1 back to systemd, started fresh with the kernel's arguments;
 * the left-overs are stopped by then (leave_run). Returns only on failure,
 * with rescue mode intact. */
static void exec_systemd(const char *path) {
        static char *adopt_argv[8];
        char **argv = boot_argv;
        sigset_t none;

        if (adopted()) {
                if (adopt_exec_argv(path, adopt_argv, ELEMENTSOF(adopt_argv)) < 0)
                        return; /* adopted services run on: no fresh start beside them */
                argv = adopt_argv;
        }

        /* The parser exits once it has delivered the last answer (bounded). */
        ctl_server_stop(&server, 2000);
        signal_guard(SIGNAL_GUARD_RESUME);
        boot_argv[0] = (char *) path;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        watchdog_handover();
        execve(path, argv, boot_env);

        int r = -errno;
        adopt_abandon();
        watchdog_resume();
        sigset_t mask;
        pid1_signal_set(&mask);
        (void) sigprocmask(SIG_SETMASK, &mask, NULL);
        log_errno(r, LOG_ERR, "cannot execute %s, staying in rescue mode", path);
        signal_guard(SIGNAL_GUARD_YIELD);
        server.wanted = true;
        server.next_spawn_ms = 0;
}

/* Leaving rescue mode (`initshimctl exec`, SIGTERM, on-failure=restart),
 * without waiting in place: the candidate's preflight runs in a worker, the
 * left-overs' stop is a state machine, then the exec. The main loop reaps,
 * reads signals and serves all along. */
enum leave_phase { LEAVE_IDLE, LEAVE_PREFLIGHT, LEAVE_DISCOVER, LEAVE_STOPPING };
static struct {
        enum leave_phase phase;
        bool answer_owed; /* a client waits for the verdict */
        bool adopt;       /* on-failure=adopt: keep running services (adopt.h) */
        char arg[CONFIG_PATH_MAX], path[CONFIG_PATH_MAX], version[128];
        struct worker resolver;
        struct leftover_stop stop;
} leave = { .resolver = WORKER_INIT };

/* In the worker: "ok\nPATH\nVERSION" or "refused\nWHY". */
static size_t resolve_work(const void *arg, char *out, size_t n) {
        const char *path = NULL;
        char version[128], why[256];
        int l = resolve_target(arg, &path, version, sizeof version, why, sizeof why) < 0
                        ? snprintf(out, n, "refused\n%s", why)
                        : snprintf(out, n, "ok\n%s\n%s", path, version);

        return l < 0 ? 0 : (size_t) l < n ? (size_t) l : n - 1;
}

/* One preflight per candidate resolve_target may try, each bounded. */
static uint64_t resolve_timeout_ms(const char *arg) {
        struct candidate cand[CONFIG_CANDIDATES_MAX];
        size_t n = arg[0] ? 1 : config_boot_candidates(cfg, cand, ELEMENTSOF(cand)) + 1;

        return (uint64_t) n * PREFLIGHT_WORKER_MS + 1000;
}

static bool leave_child_exited(pid_t pid) {
        return worker_child_exited(&leave.resolver, pid);
}

static bool adopt_next; /* set by on-failure=adopt for the next leave_begin */

/* arg: a version, a path, or "" for the first candidate that passes. */
static int leave_begin(const char *arg, bool answer_owed) {
        int r;

        if (leave.phase != LEAVE_IDLE)
                return -EBUSY;
        leave.adopt = adopt_next; /* only the policy's own leaving adopts */
        adopt_next = false;
        (void) copy_string(leave.arg, sizeof leave.arg, arg ? arg : "");
        r = worker_start(&leave.resolver, resolve_work, leave.arg, resolve_timeout_ms(leave.arg));
        if (r < 0)
                return r;
        leave.phase = LEAVE_PREFLIGHT;
        leave.answer_owed = answer_owed;
        return 0;
}

static void leave_answer(const char *text) {
        if (leave.answer_owed)
                (void) ctl_server_answer(&server, text);
        leave.answer_owed = false;
}

static void leave_spare(pid_t spare[3]) {
        spare[0] = guard_find();
        spare[1] = server.parser;
        spare[2] = rescue_cmd;
}

/* Parse the worker's verdict into leave.path/version, or why. */
static int leave_verdict(char *why, size_t whylen) {
        char *res = leave.resolver.result, *nl;

        if (leave.resolver.timed_out) {
                snprintf(why, whylen, "preflight did not finish in time");
                return -ETIMEDOUT;
        }
        if (strncmp(res, "ok\n", 3) == 0 && (nl = strchr(res + 3, '\n'))) {
                *nl = '\0';
                (void) copy_string(leave.path, sizeof leave.path, res + 3);
                (void) copy_string(leave.version, sizeof leave.version, nl + 1);
                return 0;
        }
        (void) copy_string(why, whylen, strncmp(res, "refused\n", 8) == 0 ? res + 8 : "preflight failed");
        return -ENOEXEC;
}

static void leave_stop_begin(void) {
        pid_t spare[3];

        log_notice("leaving rescue mode: stopping left-over services%s, then executing %s (%s)",
                   adopted() ? " not adopted" : "", leave.path, leave.version);
        leave_spare(spare);
        leftover_stop_begin(&leave.stop, cfg, spare, ELEMENTSOF(spare));
        leave.phase = LEAVE_STOPPING;
}

static void leave_preflight_done(void) {
        static char text[PROTO_REPLY_MAX];
        char why[256];
        int r = leave_verdict(why, sizeof why);

        worker_done(&leave.resolver);
        if (r < 0) {
                log_error("cannot leave rescue mode: %s", why);
                snprintf(text, sizeof text, "error: refused: %s\n", why);
                leave_answer(text);
                leave.phase = LEAVE_IDLE;
                start_rescue_command(); /* rescue mode holds after all */
                return;
        }
        snprintf(text, sizeof text, "ok\nexecuting %s (%s), started fresh\n", leave.path, leave.version);
        leave_answer(text);
        if (leave.adopt && adopt_begin(leave.version) == 0) {
                leave.phase = LEAVE_DISCOVER; /* then leave_stop_begin */
                return;
        }
        leave_stop_begin();
}

/* Every loop: carry the leaving on by one step. */
static void leave_run(void) {
        pid_t spare[3];

        if (leave.phase == LEAVE_PREFLIGHT && worker_poll(&leave.resolver))
                leave_preflight_done();
        if (leave.phase == LEAVE_DISCOVER && adopt_poll())
                leave_stop_begin();
        if (leave.phase != LEAVE_STOPPING)
                return;
        leave_spare(spare);
        if (!leftover_stop_step(&leave.stop, cfg, spare, ELEMENTSOF(spare)))
                return;
        leave.phase = LEAVE_IDLE;
        leave.stop.phase = LEFTOVER_STOP_IDLE;
        /* What the last sweep saw as zombies among our children: reaped
         * here, not left to the new systemd. */
        rescue_reap_children();
        exec_systemd(leave.path);
}

static int leave_timeout_ms(void) {
        if (leave.phase == LEAVE_DISCOVER)
                return adopt_timeout_ms();
        return leave.phase == LEAVE_PREFLIGHT ? worker_timeout_ms(&leave.resolver) : leftover_stop_timeout_ms(&leave.stop);
}

static void do_action(enum pid1_action a) {
        if (a == ACTION_REEXEC) {
                int r = leave_begin("", false);
                if (r == -EBUSY)
                        log_notice("already leaving rescue mode");
                else if (r < 0)
                        log_errno(r, LOG_ERR, "cannot leave rescue mode now");
                return;
        }
        ctl_server_stop(&server, 2000);
        pid1_shutdown(a, cfg);
        /* Still here: reboot(2) failed. Keep serving. */
        server.wanted = true;
        server.next_spawn_ms = 0;
}

/* What an accepted request asks of PID 1 once its answer went out. */
static enum pid1_action pending_action = ACTION_IGNORE;

static enum verb_result exec_op(const char *arg, char *text, size_t n) {
        int r = leave_begin(arg, true);

        if (r == -EBUSY) {
                snprintf(text, n, "error: already leaving rescue mode\n");
                return VERB_ANSWERED;
        }
        if (r < 0) {
                snprintf(text, n, "error: cannot check %s now: %s\n", arg[0] ? arg : "systemd", strerror(-r));
                return VERB_ANSWERED;
        }
        /* Answered when the preflight is done (leave_run). */
        return VERB_LATER;
}

static void shutdown_op(enum verb v, char *text, size_t n) {
        pending_action = v == VERB_REBOOT ? ACTION_REBOOT : v == VERB_POWEROFF ? ACTION_POWEROFF : ACTION_HALT;
        snprintf(text, n, "ok\n%s\n", action_to_string(pending_action));
}

static void takeover_op(char *text, size_t n) {
        snprintf(text, n, "error: PID 1 is already initshim (rescue mode)\n");
}

static void guard_start_op(char *text, size_t n) {
        int g = guard_find();

        if (g > 0)
                snprintf(text, n, "ok\nguard already running (pid %d)\n", g);
        else if ((g = start_guard(cfg, false)) > 0) {
                guard_pid_seen = g;
                snprintf(text, n, "ok\nstarted a guard (pid %d)\n", g);
        } else
                snprintf(text, n, "error: cannot start a guard: %s\n", strerror(-g));
}

static void guard_stop_op(char *text, size_t n) {
        int g = guard_find();

        if (g > 0 && kill(g, SIGTERM) == 0)
                snprintf(text, n, "ok\nstopping the guard (pid %d)\n", g);
        else
                snprintf(text, n, "ok\nno guard running\n");
}

/* `upgrade`: the guard follows on SIGNAL_GUARD_UPGRADE, PID 1 re-executes
 * itself once the client has its answer (upgrade.c). */
static bool upgrade_pending;

static void upgrade_op(char *text, size_t n) {
        char why[192], build[INITSHIM_BUILD_MARKER_SIZE];

        if (leave.phase != LEAVE_IDLE || pending_action != ACTION_IGNORE || verbs_timeout_ms() >= 0)
                snprintf(text, n, "error: cannot upgrade now: busy (leaving rescue mode or answering)\n");
        else if (initshim_check_binary(initshim_installed_path(), build, sizeof build, why, sizeof why) < 0)
                snprintf(text, n, "error: cannot upgrade now: %s\n", why);
        else {
                upgrade_pending = true;
                snprintf(text, n, "ok\nupgrading PID 1 (rescue mode) and the guard from initshim %s to %s (%s)\n",
                         initshim_build(), build, initshim_installed_path());
        }
}

static void upgrade_now(void) {
        char why[192], build[INITSHIM_BUILD_MARKER_SIZE];

        upgrade_pending = false;
        /* Checked again: the file may have changed since the answer. */
        if (initshim_check_binary(initshim_installed_path(), build, sizeof build, why, sizeof why) < 0) {
                log_warning("rescue mode: not upgrading: %s", why);
                return;
        }
        signal_guard(SIGNAL_GUARD_UPGRADE);
        ctl_server_stop(&server, 2000);
        (void) pid1_upgrade_exec(rescue_reason, mode_since);
        server.wanted = true;
        server.next_spawn_ms = 0;
}

static int answer_op(const char *text) {
        return ctl_server_answer(&server, text);
}

static void after_answer_op(void) {
        enum pid1_action a = pending_action;

        pending_action = ACTION_IGNORE;
        if (a != ACTION_IGNORE)
                do_action(a);
        else if (upgrade_pending)
                upgrade_now();
}

/* The verbs as rescue-mode PID 1 carries them out. */
static const struct verb_ops rescue_verbs = {
        .fill_status = fill_status,
        .exec = exec_op,
        .shutdown = shutdown_op,
        .takeover = takeover_op,
        .guard_start = guard_start_op,
        .guard_stop = guard_stop_op,
        .upgrade = upgrade_op,
        .answer = answer_op,
        .after_answer = after_answer_op,
};

/* on-failure: what happens right after a takeover, without an operator. */
static void apply_policy(const char *reason) {
        if (strncmp(reason, "boot:", 5) == 0)
                return; /* nothing ran that could be restarted */
        switch (cfg->on_failure) {
        case ON_FAILURE_HOLD:
                log_notice("on-failure=hold: waiting for the operator (initshimctl exec, reboot)");
                return;
        case ON_FAILURE_REBOOT:
                log_notice("on-failure=reboot");
                do_action(ACTION_REBOOT);
                return;
        case ON_FAILURE_RESTART:
        case ON_FAILURE_ADOPT:
                if (!restart_allowed(cfg)) {
                        log_console(LOG_CRIT,
                                    "on-failure=restart: %u restarts within %llu s already; holding in rescue mode",
                                    cfg->restart_limit, (unsigned long long) (cfg->restart_interval_ms / 1000));
                        return;
                }
                adopt_next = cfg->on_failure == ON_FAILURE_ADOPT;
                log_notice("on-failure=%s: bringing up systemd again", adopt_next ? "adopt" : "restart");
                do_action(ACTION_REEXEC);
                return;
        }
}

static void handle_signal(const struct signalfd_siginfo *si) {
        int sig = (int) si->ssi_signo;
        enum pid1_action a = signal_action(sig);

        if (a == ACTION_CHILD)
                return; /* reaped on every loop */
        if (a == ACTION_IGNORE) {
                log_info("ignoring %s from pid %u", signal_name(sig), si->ssi_pid);
                return;
        }
        log_notice("%s from pid %u: %s", signal_name(sig), si->ssi_pid, action_to_string(a));
        do_action(a);
}

/* A clean process: nothing systemd left (fds, name, state) is ours. The
 * pending signals it drops are returned in discarded, to be logged later. */
static void become_rescue_pid1(sigset_t *discarded) {
        reset_inherited_state(discarded);
        /* Whatever systemd left open is not ours; our own log fd (when boot
         * fell through to here) is reopened below. */
        log_close();
        close_fds_from(3, NULL, 0);
        /* Exec'd through /proc/<guard>/fd/N, our comm would be "N". */
        (void) prctl(PR_SET_NAME, "initshim");
        log_open("initshim");
}

/* Say why we are here, where the operator and `initshimctl status` see it. */
static void announce(const char *reason, const sigset_t *discarded) {
        mode_since = now_ms();
        (void) copy_string(rescue_reason, sizeof rescue_reason, reason);
        log_console(LOG_CRIT, "rescue mode: %s", reason);
        log_discarded_signals(discarded);
        /* From here on as configured (boot left it on when it fell through). */
        log_set_console(cfg->console);
        (void) write_file_atomic(LAST_TAKEOVER_FILE, rescue_reason, strlen(rescue_reason), 0644);
}

/* Signals through a signalfd; retried until it works (EMFILE, ENOMEM). */
static void open_signalfd(void) {
        sigset_t mask;

        /* Ctrl-Alt-Del then arrives as SIGINT, as with systemd, instead of an
         * immediate hard reboot. EINVAL in a PID namespace: nothing to do. */
        if (reboot(RB_DISABLE_CAD) < 0 && errno != EINVAL)
                log_errno(-errno, LOG_WARNING, "cannot disable the kernel's Ctrl-Alt-Del");
        pid1_signal_set(&mask);
        (void) sigprocmask(SIG_SETMASK, &mask, NULL);
        while ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
                log_errno(-errno, LOG_CRIT, "signalfd failed, retrying");
                rescue_reap_children();
                (void) poll(NULL, 0, 1000);
        }
}

/* Take the control FIFO over from the guard. */
static void take_control(void) {
        if (ctl_setup_paths() < 0)
                log_error("control FIFO unavailable in rescue mode");
        signal_guard(SIGNAL_GUARD_YIELD);
        /* Our child (forked at boot, or by `guard start` below); its death is
         * noticed by the reaper. */
        int g = guard_find();
        guard_pid_seen = g > 0 ? g : 0;
        ctl_server_init(&server);
}

static void rescue_loop(void) __attribute__((noreturn));
/* The nearest of the parser's, the workers' and the stop's timers. */
static int loop_timeout_ms(void) {
        int t[5] = { 1000, ctl_server_timeout_ms(&server), verbs_timeout_ms(), leave_timeout_ms(),
                      watchdog_poll_timeout_ms() };

        for (size_t i = 1; i < ELEMENTSOF(t); i++)
                if (t[i] >= 0 && t[i] < t[0])
                        t[0] = t[i];
        return t[0];
}

static void rescue_loop(void) {
        for (;;) {
                /* Signals, requests, and the workers' pipes (versions, preflight). */
                struct pollfd p[5] = { { .fd = sfd, .events = POLLIN },
                                       { .fd = -1, .events = POLLIN },
                                       { .fd = verbs_fd(), .events = POLLIN },
                                       { .fd = worker_fd(&leave.resolver), .events = POLLIN },
                                       { .fd = adopt_fd(), .events = POLLIN } };

                rescue_reap_children();
                (void) ctl_server_start(&server);
                write_status_file();
                p[1].fd = server.req_fd;
                if (poll(p, ELEMENTSOF(p), loop_timeout_ms()) < 0 && errno != EINTR) {
                        log_errno(-errno, LOG_WARNING, "poll");
                        (void) poll(NULL, 0, 100);
                        continue;
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == sizeof si)
                                handle_signal(&si);
                }
                rescue_reap_children();
                verbs_run(&rescue_verbs);
                leave_run();
                if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
                        struct request req;
                        if (ctl_server_receive(&server, &req) == 0)
                                verbs_handle(&rescue_verbs, cfg, &req);
                }
        }
}

void rescue_main(const char *reason, const struct config *c, const struct rescue_handover *up) {
        static struct config own;
        sigset_t discarded;

        become_rescue_pid1(&discarded);
        if (!c) {
                load_config(&own);
                c = &own;
        }
        cfg = c;
        vstate_set_dirs(cfg->state_dir, VSTATE_DIR_VOLATILE);
        announce(reason, &discarded);
        restore_core_pattern();
        open_signalfd();
        load_list(BOOT_ARGV_FILE, boot_argv_buf, sizeof boot_argv_buf, boot_argv, MAX_ARGS + 1, 1);
        load_list(BOOT_ENV_FILE, boot_env_buf, sizeof boot_env_buf, boot_env, MAX_ARGS, 0);
        take_control();
        watchdog_takeover(cfg);
        /* The report before the build: `initshimctl upgrade` waits for the
         * build, then prints the report. */
        if (up)
                pid1_upgrade_report(up);
        initshim_publish_build(PID1_VERSION_FILE);
        log_notice("rescue mode: PID 1 runs initshim %s", initshim_build());
        if (up) {
                /* Same rescue mode, new binary: the policy ran, the rescue
                 * command was started by our previous self. */
                mode_since = up->mode_since_ms;
                rescue_loop();
        }
        apply_policy(reason);
        /* Rescue mode holds (no restart under way): an operator may need a shell. */
        if (leave.phase == LEAVE_IDLE)
                start_rescue_command();
        rescue_loop();
}
