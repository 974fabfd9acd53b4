#include "guard/spawn.h"
#include "control/server.h"
#include "guard/switch.h"
#include "guard/upgrade.h"
#include "common/version.h"
#include "ptrace/tracer.h"
#include "guard/watch.h"
#include "common/cgroup.h"
#include "common/log.h"
#include "common/proc.h"
#include "versions/compat.h"
#include "versions/preflight.h"
#include "control/protocol.h"
#include "control/status.h"
#include "control/metrics.h"
#include "common/util.h"
#include "control/verbs.h"
#include "versions/worker.h"
#include "versions/serialize.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


extern char **environ;

static struct ctl_server server;
static struct tracer tracer;
static const struct config *cfg;
static uint64_t mode_since;
static bool detached_on_request;

/* Started in the initramfs (rdinit=): until PID 1 switches root, the guard
 * only traces. proc_fd is a procfs held open through the switch-root, which
 * moves or deletes every path we had; own_cfg is the real root's config. */
static bool in_initrd;
static int proc_fd = -1;
static struct config own_cfg;
static void (*reload_config)(struct config *c);

/* What rescue-mode PID 1 shows about us: tracing or not, and why. */
static void publish_state(void) {
        static char last[160];
        char now[160];

        if (tracer.state != TRACER_DETACHED)
                snprintf(now, sizeof now, "%s PID 1\n", tracer_state_to_string(tracer.state));
        else
                snprintf(now, sizeof now, "NOT tracing PID 1: %s\n",
                         tracer.last_error[0] ? tracer.last_error : "detached");
        if (strcmp(now, last) == 0)
                return;
        if (write_file_atomic(GUARD_STATE_FILE, now, strlen(now), 0644) == 0)
                (void) copy_string(last, sizeof last, now);
}

/* PID 1's version, kept for the takeover log and status: asked once per
 * exec of PID 1, by a worker (`systemd --version` may hang). */
static struct worker pid1_version_worker = WORKER_INIT;
static char pid1_exe_asked[256];

/* PID 1 exec'd: a question about the previous binary no longer applies. */
static void forget_pid1_version(void) {
        tracer.pid1_version[0] = '\0';
        if (!pid1_version_worker.busy)
                return;
        if (pid1_version_worker.pid > 0)
                (void) kill(pid1_version_worker.pid, SIGKILL);
        worker_done(&pid1_version_worker);
}

static void learn_pid1_version(void) {
        struct preflight_id id;
        struct stat st;

        forget_pid1_version();
        read_exe(1, pid1_exe_asked, sizeof pid1_exe_asked);
        if (!pid1_exe_asked[0])
                return;
        /* A binary that passed preflight unchanged (a switch's target): its
         * version is known, nothing to run beside the starting manager. */
        if (stat("/proc/1/exe", &st) == 0) {
                preflight_id_of(&st, pid1_exe_asked, &id);
                if (preflight_cache_get(&id, tracer.pid1_version, sizeof tracer.pid1_version))
                        return;
        }
        if (worker_start(&pid1_version_worker, preflight_work, pid1_exe_asked, PREFLIGHT_WORKER_MS) < 0)
                log_warning("guard: cannot ask %s for its version now", pid1_exe_asked);
}

static void pid1_version_run(void) {
        char why[160];

        if (!worker_poll(&pid1_version_worker))
                return;
        if (preflight_result(pid1_version_worker.result, pid1_version_worker.timed_out, tracer.pid1_version,
                             sizeof tracer.pid1_version, why, sizeof why) < 0) {
                /* The reason as long as the buffer takes, the parenthesis kept. */
                snprintf(tracer.pid1_version, sizeof tracer.pid1_version, "unknown (%.*s)",
                         (int) (sizeof tracer.pid1_version - sizeof "unknown ()"), why);
        }
        worker_done(&pid1_version_worker);
}

static void describe_self(char *buf, size_t n) {
        if (tracer.state != TRACER_DETACHED)
                snprintf(buf, n, "running (pid %d), %s PID 1, %lu ptrace stops, %lu takeovers", (int) getpid(),
                         tracer_state_to_string(tracer.state), tracer.stops, tracer.takeovers);
        else
                snprintf(buf, n, "running (pid %d), NOT tracing PID 1: %s", (int) getpid(),
                         detached_on_request ? "detached on request"
                         : tracer.last_error[0] ? tracer.last_error : "not attached");
}

static void fill_status(struct status *s) {
        memset(s, 0, sizeof *s);
        s->mode = MODE_NORMAL;
        s->mode_since_ms = mode_since;
        s->now_ms = now_ms();
        read_exe(1, s->pid1_exe, sizeof s->pid1_exe);
        /* Learnt by a worker at PID 1's exec: never asked here. */
        if (pid1_version_worker.busy)
                (void) copy_string(s->pid1_version, sizeof s->pid1_version, "being checked");
        else
                (void) copy_string(s->pid1_version, sizeof s->pid1_version, tracer.pid1_version);
        if (tracer.last_takeover[0])
                (void) copy_string(s->last_takeover, sizeof s->last_takeover, tracer.last_takeover);
        else
                (void) read_first_line(LAST_TAKEOVER_FILE, s->last_takeover, sizeof s->last_takeover);
        status_read_last_switch(s);
        s->zombies = count_zombie_children(1);
        char us[32];
        if (read_file(RUN_DIR "/boot-exec-us", us, sizeof us) > 0)
                s->boot_exec_us = strtoull(us, NULL, 10);
        describe_self(s->guard, sizeof s->guard);
        status_read_versions(s);
        (void) watch_format(s->health, sizeof s->health);
}

/* systemd's own signals for what the operator asked (systemd(1) "SIGNALS"). */
static void signal_pid1(enum verb v, int sig, const char *accepted, char *text, size_t n) {
        snprintf(text, n, "%s", accepted);
        log_notice("control: %s: sending %s to PID 1", verb_to_string(v), signal_name(sig));
        if (kill(1, sig) < 0)
                snprintf(text, n, "error: cannot signal PID 1: %s\n", strerror(errno));
}

static enum verb_result exec_op(const char *arg, char *text, size_t n) {
        if (!arg[0]) {
                /* systemd serializes its state and re-executes itself */
                signal_pid1(VERB_EXEC, SIGTERM, "ok\nasked PID 1 to re-execute itself (SIGTERM)\n", text, n);
                return VERB_ANSWERED;
        }
        if (switch_pending()) {
                snprintf(text, n, "error: a switch is already under way\n");
                return VERB_ANSWERED;
        }
        /* Pending: answered when confirmed or undone. */
        return switch_begin(arg, text, n) ? VERB_LATER : VERB_ANSWERED;
}

static void shutdown_op(enum verb v, char *text, size_t n) {
        /* systemd: start reboot.target, poweroff.target, halt.target */
        if (v == VERB_REBOOT)
                signal_pid1(v, SIGRTMIN + 5, "ok\nasked PID 1 to reboot (SIGRTMIN+5)\n", text, n);
        else if (v == VERB_POWEROFF)
                signal_pid1(v, SIGRTMIN + 4, "ok\nasked PID 1 to power off (SIGRTMIN+4)\n", text, n);
        else
                signal_pid1(v, SIGRTMIN + 3, "ok\nasked PID 1 to halt (SIGRTMIN+3)\n", text, n);
}

static void takeover_op(char *text, size_t n) {
        int r = tracer_takeover(&tracer, "takeover requested by the operator");

        if (r < 0)
                snprintf(text, n, "error: cannot take over: %s\n",
                         r == -ENOTCONN ? "the guard is not tracing PID 1" : strerror(-r));
        else
                snprintf(text, n, "ok\ntaking PID 1 over\n");
}

/* `guard stop`: detach, so that strace or gdb can attach to PID 1. */
static void guard_stop_op(char *text, size_t n) {
        tracer_detach(&tracer);
        (void) copy_string(tracer.last_error, sizeof tracer.last_error, "detached on request");
        detached_on_request = true;
        log_notice("guard: detached from PID 1 on request (strace/gdb can attach now)");
        snprintf(text, n, "ok\ndetached from PID 1; 'initshimctl guard start' re-attaches\n");
}

/* PTRACE_SEIZE of PID 1 refused: say which of Yama, systemd 261+'s
 * RestrictFileSystemAccess= or another LSM is the likely cause, in status
 * ("NOT tracing PID 1: ...") and in the kernel log. */
static int attach_pid1(void) {
        char why[160];
        int r = tracer_attach(&tracer, 1);

        if (r != -EPERM)
                return r;
        compat_attach_eperm_explain(why, sizeof why);
        snprintf(tracer.last_error, sizeof tracer.last_error, "cannot trace PID 1: %s", why);
        log_error("guard: %s", tracer.last_error);
        return r;
}

static void guard_start_op(char *text, size_t n) {
        if (tracer.state != TRACER_DETACHED)
                snprintf(text, n, "ok\nalready tracing PID 1\n");
        else if (attach_pid1() < 0)
                snprintf(text, n, "error: %s\n", tracer.last_error);
        else {
                detached_on_request = false;
                log_notice("guard: attached to PID 1 on request");
                snprintf(text, n, "ok\ntracing PID 1\n");
        }
}

/* `upgrade` (or SIGNAL_GUARD_UPGRADE from rescue-mode PID 1): re-execute ourselves from
 * the installed binary, only from a steady state (upgrade.h). */
static bool upgrade_pending;
static char upgrade_build[INITSHIM_BUILD_MARKER_SIZE]; /* the installed binary's, once checked */

static int upgrade_refusal(char *why, size_t n) {
        if (in_initrd)
                return snprintf(why, n, "the guard is still in the initramfs"), -EBUSY;
        /* The watch over a fresh exec ends within its window (docs/ptrace.md):
         * an upgrade asked for meanwhile waits for it (upgrade_now). */
        if ((tracer.state != TRACER_RUNNING && tracer.state != TRACER_DETACHED &&
             tracer.state != TRACER_EXEC_FOLLOW) ||
            switch_pending())
                return snprintf(why, n, "busy with PID 1 (%s)", tracer_state_to_string(tracer.state)), -EBUSY;
        if (verbs_timeout_ms() >= 0)
                return snprintf(why, n, "a request is being worked on"), -EBUSY;
        /* A complete static initshim for this machine, or we keep running. */
        return initshim_check_binary(initshim_installed_path(), upgrade_build, sizeof upgrade_build, why, n);
}

static void upgrade_op(char *text, size_t n) {
        char why[192];

        if (upgrade_refusal(why, sizeof why) < 0) {
                snprintf(text, n, "error: cannot upgrade the guard now: %s\n", why);
                return;
        }
        upgrade_pending = true;
        snprintf(text, n, "ok\nupgrading the guard from initshim %s to %s (%s)\n", initshim_build(), upgrade_build,
                 initshim_installed_path());
}

static void upgrade_now(void) {
        struct guard_handover h = { .mode_since_ms = mode_since, .serve = server.wanted,
                                    .traced = tracer.state != TRACER_DETACHED };
        char why[192];
        int r;

        if (tracer.state == TRACER_EXEC_FOLLOW)
                return; /* still pending: the window closes within seconds */
        upgrade_pending = false;
        if (upgrade_refusal(why, sizeof why) < 0) {
                log_warning("guard: not upgrading: %s", why);
                return;
        }
        (void) copy_string(h.old_build, sizeof h.old_build, initshim_build());
        log_notice("guard: upgrading to %s (PID 1 stays traced across the execve)", initshim_installed_path());
        h.start_ns = now_ns();
        forget_pid1_version();
        ctl_server_stop(&server, 2000);
        r = guard_upgrade_exec(initshim_installed_path(), &h);
        log_errno(r, LOG_ERR, "guard: cannot execute %s; the running guard goes on", initshim_installed_path());
        server.wanted = h.serve;
        server.next_spawn_ms = 0;
        if (!h.serve)
                learn_pid1_version();
}

static void after_answer_op(void) {
        if (upgrade_pending)
                upgrade_now();
}

static int answer_op(const char *text) {
        return ctl_server_answer(&server, text);
}

/* The verbs as the guard carries them out, while systemd is PID 1. */
static const struct verb_ops guard_verbs = {
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

/* guard.pid is how rescue mode and initshimctl find us. Unwritten (/run
 * full, ENOSPC; EMFILE), it is retried from the loop, backing off from
 * PID_FILE_RETRY_MIN_MS to PID_FILE_RETRY_MAX_MS. */
#define PID_FILE_RETRY_MIN_MS 100
#define PID_FILE_RETRY_MAX_MS 2000
static uint64_t pid_file_retry_at_ms; /* 0: written, or nothing to write */
static unsigned pid_file_retry_ms;

static void write_pid_file(void) {
        char buf[32];
        int l = snprintf(buf, sizeof buf, "%d\n", (int) getpid());
        int r = write_file_atomic(GUARD_PID_FILE, buf, (size_t) l, 0600);

        if (r >= 0) {
                if (pid_file_retry_at_ms)
                        log_notice("guard: wrote " GUARD_PID_FILE " at last");
                pid_file_retry_at_ms = 0;
                pid_file_retry_ms = 0;
                return;
        }
        if (!pid_file_retry_at_ms)
                log_errno(r, LOG_WARNING, "cannot write " GUARD_PID_FILE "; retrying");
        pid_file_retry_ms = pid_file_retry_ms ? pid_file_retry_ms * 2 : PID_FILE_RETRY_MIN_MS;
        if (pid_file_retry_ms > PID_FILE_RETRY_MAX_MS)
                pid_file_retry_ms = PID_FILE_RETRY_MAX_MS;
        pid_file_retry_at_ms = now_ms() + pid_file_retry_ms;
}

static int pid_file_timeout_ms(void) {
        uint64_t now = now_ms();

        if (!pid_file_retry_at_ms)
                return -1;
        if (pid_file_retry_at_ms <= now) {
                write_pid_file();
                if (!pid_file_retry_at_ms)
                        return -1;
        }
        now = now_ms();
        return pid_file_retry_at_ms > now ? (int) (pid_file_retry_at_ms - now) : 0;
}

/* The guard runs for the machine's lifetime: keep only the pages of our
 * static binary it really uses resident. MADV_RANDOM turns off fault-around
 * (which maps 16 neighbours for each page touched); MADV_PAGEOUT drops
 * what start-up touched (only pages no other process maps: again once
 * PID 1 has exec'd away from initshim). Both are hints: errors are ignored. */
static void trim_resident_set(void) {
        static char maps[16384];
        char exe[256];
        ssize_t n;

        read_exe(getpid(), exe, sizeof exe);
        n = read_file("/proc/self/maps", maps, sizeof maps);
        for (char *line = maps; n > 0 && exe[0] && *line;) {
                char *end = strchr(line, '\n');
                unsigned long lo, hi;
                if (end)
                        *end = '\0';
                if (strstr(line, exe) && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
                        (void) madvise((void *) lo, hi - lo, MADV_RANDOM);
#ifdef MADV_PAGEOUT
                        (void) madvise((void *) lo, hi - lo, MADV_PAGEOUT);
#endif
                }
                if (!end)
                        break;
                line = end + 1;
        }
}

static void set_oom_score_adj(void) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

        /* The OOM killer must not take the guard: it is what saves PID 1. */
        if (fd < 0 || write_all(fd, "-1000", 5) < 0)
                log_errno(-errno, LOG_WARNING, "cannot set oom_score_adj");
        if (fd >= 0)
                close(fd);
}

/* Is PID 1 running our own binary (rescue mode)? */
static bool pid1_is_initshim(void) {
        struct stat a, b;

        return tracer.self_fd >= 0 && fstat(tracer.self_fd, &a) == 0 && stat("/proc/1/exe", &b) == 0 &&
               a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Has PID 1 switched root (systemd's switch_root(), klibc's run-init)? Then
 * re-root the guard into PID 1's root, so that /run/initshim, the config,
 * systemd's bus and the versions' paths mean to us what they mean to PID 1. */
static bool follow_pid1_root(void) {
        struct stat mine, its;
        int fd;

        if (fstatat(proc_fd, "1/root/", &its, 0) < 0 || stat("/", &mine) < 0)
                return false;
        if (its.st_dev == mine.st_dev && its.st_ino == mine.st_ino)
                return false;
        fd = openat(proc_fd, "1/root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fchdir(fd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
                log_errno(-errno, LOG_ERR, "guard: cannot follow PID 1 into its new root");
                if (fd >= 0)
                        close(fd);
                return false;
        }
        close(fd);
        return true;
}

/* In the real root at last: take up what a guard started there does. */
static void arrive_from_initrd(void) {
        in_initrd = false;
        log_notice("PID 1 switched root, the guard follows it");
        if (reload_config) {
                reload_config(&own_cfg);
                cfg = &own_cfg;
        }
        tracer.crash_timeout_ms = cfg->crash_timeout_ms;
        tracer.sockets_file = cfg->on_failure == ON_FAILURE_ADOPT ? PID1_SOCKETS_FILE : NULL;
        watch_init(cfg, &tracer);
        switch_init(cfg, &tracer, &server);
        if (ctl_setup_paths() == 0)
                write_pid_file();
        mode_since = now_ms();
        server.wanted = true;
        server.next_spawn_ms = 0;
}

/* The Prometheus textfile (docs/metrics.md), every METRICS_INTERVAL_MS and
 * at once after PID 1 exec'd or a count; in rescue mode too (PID 1 writes
 * nothing). */
static uint64_t metrics_next_ms;
static void write_metrics(void) {
        static char text[PROTO_REPLY_MAX];
        static struct status st;
        static pid_t zombies[METRICS_ZOMBIES_TRACKED];
        struct metrics m;
        size_t n, l;

        if (!metrics_take_counted() && now_ms() < metrics_next_ms)
                return;
        metrics_next_ms = now_ms() + METRICS_INTERVAL_MS;
        fill_status(&st);
        st.mode = pid1_is_initshim() ? MODE_RESCUE : MODE_NORMAL;
        n = list_zombie_children(1, zombies, ELEMENTSOF(zombies));
        n = n < ELEMENTSOF(zombies) ? n : ELEMENTSOF(zombies);
        sort_pids(zombies, n);
        metrics_guard_update(&m, tracer.stops, zombies, n, now_ms());
        l = metrics_format(&st, &m, text, sizeof text);
        (void) metrics_write_file(cfg->metrics_file, cfg->metrics_file_configured, text, l);
}

#define REEXEC_TEXT_FILE RUN_DIR "/reexec.text"
#define REEXEC_TEXT_MAX (4u << 20)

/* A systemd that PID 1 just became with --deserialize N reads its state from
 * fd N, a memfd its predecessor wrote (a daemon-reexec, or initshim's adopt).
 * Copy it to REEXEC_TEXT_FILE for the operator: docs/recovery.md compares a
 * real one with the text on-failure=adopt synthesises. /proc/1/fd/N opened
 * anew has its own offset, so systemd's reading is not disturbed; systemd
 * closes the fd once it has started up, and a copy that comes too late is
 * simply not made. Regular files only (no FIFO to block on). */
static void copy_pid1_serialization(void) {
        static char cmdline[4096], buf[4096];
        char path[64];
        struct stat st;
        ssize_t l = read_file("/proc/1/cmdline", cmdline, sizeof cmdline);
        int fd, out, n = l > 0 ? adopt_deserialize_fd_arg(cmdline, (size_t) l) : -ENOENT;
        size_t total = 0;
        int r = 0;

        if (n < 0)
                return;
        snprintf(path, sizeof path, "/proc/1/fd/%d", n);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                log_info("guard: PID 1's serialization (fd %d) not copied: %s", n, strerror(errno));
                return;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return;
        }
        out = open(REEXEC_TEXT_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0) {
                close(fd);
                return;
        }
        while (r == 0 && total < REEXEC_TEXT_MAX) {
                ssize_t got = read(fd, buf, sizeof buf);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0) {
                        r = got < 0 ? -errno : 1;
                        break;
                }
                r = write_all(out, buf, (size_t) got);
                total += (size_t) got;
        }
        close(fd);
        if (close(out) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(REEXEC_TEXT_FILE ".tmp", REEXEC_TEXT_FILE) == 0)
                log_info("guard: PID 1's serialization copied to " REEXEC_TEXT_FILE " (%zu bytes)", total);
        else
                (void) unlink(REEXEC_TEXT_FILE ".tmp");
}

static void on_pid1_exec(int event) {
        char exe[256];
        const char *base;

        metrics_next_ms = 0;
        if (event == TRACER_EVENT_TAKEN)
                metrics_count_takeover(tracer.reason, switch_pending());

        if (in_initrd && event == TRACER_EVENT_EXEC && follow_pid1_root())
                arrive_from_initrd();
        read_exe(1, exe, sizeof exe);
        if (in_initrd) {
                /* Nothing to ask an initramfs's init (it may be a script). */
                log_info("guard: PID 1 is now %s (initramfs)", exe[0] ? exe : "?");
                forget_pid1_version();
                return;
        }
        base = strrchr(exe, '/');
        base = base ? base + 1 : exe;
        if (strncmp(base, "systemd-shutdown", 16) == 0) {
                /* The end: systemd-shutdown kills everything and reboots. Let it. */
                log_notice("guard: PID 1 is %s: detaching and leaving the shutdown alone", exe);
                tracer_detach(&tracer);
                ctl_server_stop(&server, 1000);
                (void) unlink(GUARD_PID_FILE);
                _exit(0);
        }
        if (event == TRACER_EVENT_TAKEN || pid1_is_initshim()) {
                log_info("guard: PID 1 is initshim (rescue mode)");
                forget_pid1_version();
                watch_pid1_exec(true);
        } else {
                log_info("guard: PID 1 is now %s", exe);
                copy_pid1_serialization();
                learn_pid1_version();
                watch_pid1_exec(false);
                /* PID 1 no longer maps our binary: now its pages are ours
                 * alone, and a trim at start-up may have found them shared. */
                trim_resident_set();
        }
}

static void reap_and_trace(void) {
        int st;
        pid_t pid;

        while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
                if (pid == tracer.pid && tracer.state != TRACER_DETACHED) {
                        int ev = tracer_handle(&tracer, st);
                        if (ev == TRACER_EVENT_EXEC || ev == TRACER_EVENT_TAKEN)
                                on_pid1_exec(ev);
                        if (ev == TRACER_EVENT_SWITCHED)
                                on_pid1_exec(TRACER_EVENT_EXEC);
                        switch_on_tracer_event(ev);
                        continue;
                }
                if (watch_child_exited(pid, st) || verbs_child_exited(pid) ||
                    worker_child_exited(&pid1_version_worker, pid) || switch_child_exited(pid))
                        continue;
                (void) ctl_server_child_exited(&server, pid, st);
        }
}

/* Without a signalfd (EMFILE, ENOMEM) the guard goes on, waking this often
 * to reap, trace and retry: signals stay blocked and pending meanwhile. */
#define SIGNALFD_RETRY_MS 100

/* The signals the guard acts on arrive through a signalfd. */
static int block_guard_signals(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGNAL_GUARD_YIELD);
        sigaddset(&mask, SIGNAL_GUARD_RESUME);
        sigaddset(&mask, SIGNAL_GUARD_UPGRADE);
        sigaddset(&mask, SIGPIPE);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Started in the initramfs: hold what we need through the switch-root. */
static void prepare_initrd(const struct guard_options *o) {
        /* Before PID 1 goes on and unmounts /proc. */
        proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                log_errno(-errno, LOG_ERR, "guard: cannot hold /proc; it will not follow the switch-root");
        set_oom_score_adj();
        trim_resident_set();
        /* systemd kills what the initramfs left running when it switches
         * root, except processes whose argv[0] starts with '@'
         * (src/shared/killall.c, systemd.io/ROOT_STORAGE_DAEMONS). */
        if (o->argv0 && o->argv0[0])
                o->argv0[0] = '@';
}

/* Every guard, not only the initramfs's: systemd's soft-reboot (254+) and
 * systemd-shutdown kill every process except those whose argv[0] starts
 * with '@' (src/shared/killall.c). program_invocation_name is our argv[0]
 * itself, so /proc/self/cmdline shows the mark. */
static void mark_survivor(void) {
        if (program_invocation_name && program_invocation_name[0])
                program_invocation_name[0] = '@';
}

/* Attach to PID 1 first of all, then tell PID 1 (waiting in start_guard)
 * that it may go on. */
static void attach_and_report(const struct guard_options *o) {
        /* At boot PID 1 waits for this before it execs systemd, so we see
         * systemd from its first instruction. */
        int r = tracer_init(&tracer, environ);
        if (o->handover) {
                guard_upgrade_adopt(&tracer, r == 0 && o->handover->traced);
                detached_on_request = !o->handover->traced;
        } else if (r == 0)
                (void) attach_pid1();
        in_initrd = o->initrd;
        reload_config = o->reload_config;
        mark_survivor();
        if (in_initrd)
                prepare_initrd(o);
        else
                /* Findable before PID 1 goes on: if boot falls through to rescue
                 * mode at once, rescue mode must find us to take the FIFO over. */
                write_pid_file();
        if (o->ready_fd >= 0) {
                (void) !write(o->ready_fd, "1", 1);
                close(o->ready_fd);
        }
}

static void stop_guard(int sig) __attribute__((noreturn));
static void stop_guard(int sig) {
        log_notice("guard stopping on %s", signal_name(sig));
        tracer_detach(&tracer);
        ctl_server_stop(&server, 2000);
        (void) unlink(GUARD_PID_FILE);
        (void) unlink(GUARD_STATE_FILE);
        _exit(0);
}

static void handle_guard_signal(int sig) {
        if (sig == SIGNAL_GUARD_YIELD) {
                log_info("PID 1 is initshim: handing the control FIFO to it");
                ctl_server_stop(&server, 2000);
                /* Rescue mode without a takeover (a boot that found no
                 * systemd): nothing to health-check either. */
                watch_pid1_exec(true);
        } else if (sig == SIGNAL_GUARD_RESUME && !in_initrd) {
                log_info("PID 1 is systemd again: serving the control FIFO");
                mode_since = now_ms();
                server.wanted = true;
                server.next_spawn_ms = 0;
        } else if (sig == SIGNAL_GUARD_UPGRADE)
                upgrade_now(); /* rescue-mode PID 1 upgrades: follow it */
        else if (sig == SIGHUP)
                log_info("guard: ignoring SIGHUP");
        else if (sig == SIGTERM || sig == SIGINT)
                stop_guard(sig);
}

/* The nearest deadline of the parser respawn, the tracer, the health
 * checks, a version switch, the workers and the pid file; -1 if none. */
static int next_timeout_ms(void) {
        int t[8];

        /* In this order: tracer_tick() may act on the tracer's timers. */
        t[0] = ctl_server_timeout_ms(&server);
        t[1] = tracer_tick(&tracer);
        t[2] = watch_timeout_ms();
        t[3] = switch_timeout_ms();
        t[4] = verbs_timeout_ms();
        t[5] = worker_timeout_ms(&pid1_version_worker);
        t[6] = in_initrd ? -1 : (int) (metrics_next_ms > now_ms() ? metrics_next_ms - now_ms() : 0);
        t[7] = pid_file_timeout_ms();
        for (size_t i = 1; i < ELEMENTSOF(t); i++)
                if (t[i] >= 0 && (t[0] < 0 || t[i] < t[0]))
                        t[0] = t[i];
        return t[0];
}

/* Temporize, s6 style: never exit for want of a signalfd; retry it. */
static int retry_signalfd(int sfd) {
        static bool failing;

        if (sfd >= 0)
                return sfd;
        sfd = block_guard_signals();
        if (sfd < 0 && !failing)
                log_errno(-errno, LOG_CRIT, "guard: signalfd failed; going on, retrying every %d ms",
                          SIGNALFD_RETRY_MS);
        else if (sfd >= 0 && failing)
                log_notice("guard: signalfd works again");
        failing = sfd < 0;
        return sfd;
}

static int loop_timeout_ms(int sfd) {
        int t = next_timeout_ms();

        if (sfd < 0 && (t < 0 || t > SIGNALFD_RETRY_MS))
                t = SIGNALFD_RETRY_MS;
        return t;
}

static void guard_loop(int sfd) __attribute__((noreturn));
static void guard_loop(int sfd) {
        for (;;) {
                /* Signals, requests, health probes, then the workers' pipes:
                 * a worker's answer wakes us, nothing here waits for one. */
                struct pollfd p[6] = { { .fd = -1, .events = POLLIN },
                                       { .fd = -1, .events = POLLIN },
                                       { .fd = -1, .events = POLLIN },
                                       { .fd = verbs_fd(), .events = POLLIN },
                                       { .fd = worker_fd(&pid1_version_worker), .events = POLLIN },
                                       { .fd = switch_fd(), .events = POLLIN } };

                sfd = retry_signalfd(sfd);
                (void) ctl_server_start(&server);
                p[0].fd = sfd;
                p[1].fd = server.req_fd;
                p[2].fd = watch_fd();
                if (poll(p, ELEMENTSOF(p), loop_timeout_ms(sfd)) < 0 && errno != EINTR) {
                        log_errno(-errno, LOG_WARNING, "guard: poll");
                        (void) poll(NULL, 0, 100); /* temporize, s6 style */
                        continue;
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == sizeof si)
                                handle_guard_signal((int) si.ssi_signo);
                }
                /* Always: a tracee stop may come without a fresh SIGCHLD. */
                reap_and_trace();
                if (upgrade_pending)
                        upgrade_now(); /* deferred past the watch over a fresh exec */
                pid1_version_run();
                /* A request taken before a takeover is still ours to answer. */
                verbs_run(&guard_verbs);
                if (in_initrd)
                        continue;
                watch_run(p[2].fd >= 0 && (p[2].revents & (POLLIN | POLLHUP)));
                switch_run();
                publish_state();
                write_metrics();
                if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
                        struct request req;
                        if (ctl_server_receive(&server, &req) == 0)
                                verbs_handle(&guard_verbs, cfg, &req);
                }
        }
}

void guard_main(const struct config *c, const struct guard_options *o) {
        int sfd;

        cfg = c;
        mode_since = o->handover ? o->handover->mode_since_ms : now_ms();
        (void) prctl(PR_SET_NAME, GUARD_COMM);
        /* Our own session: when systemd (PID 1) gives up its controlling
         * terminal (a container's console), the kernel sends SIGHUP to its
         * foreground process group, which would otherwise include us. */
        (void) setsid();
        log_open(GUARD_COMM);
        /* Before we fork anything (the control parser, a prober): what we
         * fork is born in our cgroup, never in a freezable init.scope. */
        watch_leave_pid1_cgroup();
        sfd = block_guard_signals();
        attach_and_report(o);
        sfd = retry_signalfd(sfd); /* logs a failure */
        if (!in_initrd) {
                set_oom_score_adj();
                trim_resident_set();
        }
        ctl_server_init(&server);
        metrics_guard_init();
        server.wanted = o->serve && !in_initrd;
        tracer.crash_timeout_ms = c->crash_timeout_ms;
        tracer.sockets_file = c->on_failure == ON_FAILURE_ADOPT ? PID1_SOCKETS_FILE : NULL;
        watch_init(c, &tracer);
        switch_init(c, &tracer, &server);
        watch_pid1_exec(pid1_is_initshim());
        /* The report before the build: `initshimctl upgrade` waits for the
         * build, then prints the report (ctl/upgrade.c). */
        if (o->handover)
                guard_upgrade_report(o->handover, &tracer);
        initshim_publish_build(GUARD_VERSION_FILE);
        if (o->handover && !pid1_is_initshim())
                learn_pid1_version();
        log_info("guard started, %s PID 1", tracer.state == TRACER_DETACHED ? "NOT tracing" : "tracing");
        guard_loop(sfd);
}
