/* The boot path: from the kernel (or a container runtime, or an initramfs)
 * to systemd, in well under a millisecond. Mount what is missing, read the
 * config, set up /run/initshim, fork the guard, exec systemd with the
 * kernel's argv and environment untouched. Never returns: if no systemd can
 * be executed, PID 1 stays here in rescue mode. */
#include "ctlserver.h"
#include "guard.h"
#include "log.h"
#include "pid1.h"
#include "protocol.h"
#include "util.h"
#include "vstate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_mountpoint(const char *path) {
        struct stat a, b;
        char parent[64];

        if (stat(path, &a) < 0)
                return false;
        snprintf(parent, sizeof parent, "%s/..", path);
        if (stat(parent, &b) < 0)
                return false;
        return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

static void mount_if_missing(const char *what, const char *where, const char *type, unsigned long flags,
                             const char *opts, mode_t mode) {
        if (is_mountpoint(where))
                return;
        if (mkdir(where, mode) < 0 && errno != EEXIST)
                return;
        /* Same flags and options as systemd's mount-setup.c, so that systemd
         * finds them acceptable and leaves them alone. */
        if (mount(what, where, type, flags, opts) < 0)
                log_errno(-errno, LOG_WARNING, "cannot mount %s on %s", type, where);
}

void ensure_api_filesystems(void) {
        mount_if_missing("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, 0555);
        mount_if_missing("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,size=4m", 0755);
        mount_if_missing("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
                         "mode=0755,size=20%,nr_inodes=800k", 0755);
}

static void report_config_problem(const char *source, unsigned line, const char *msg) {
        /* Always on the console too: a typo must be visible, never fatal. */
        log_set_console(true);
        if (line)
                log_warning("%s:%u: %s (using defaults)", source, line, msg);
        else
                log_warning("%s: %s (using defaults)", source, msg);
        log_set_console(false);
}

void load_config(struct config *c) {
        static char cmdline[4096];
        const char *path = getenv("INITSHIM_CONF");

        config_init(c);
        (void) config_load_file(c, path && path[0] ? path : CONFIG_FILE_DEFAULT, report_config_problem);
        if (read_file("/proc/cmdline", cmdline, sizeof cmdline) >= 0)
                (void) config_apply_cmdline(c, cmdline, report_config_problem);
        log_set_console(c->console);
}

/* NUL-separated list, for rescue mode to start systemd again as the kernel did. */
static void save_list(const char *path, char **list) {
        static char buf[65536];
        size_t len = 0;

        for (; list && *list; list++) {
                size_t l = strlen(*list) + 1;
                if (len + l > sizeof buf)
                        break;
                memcpy(buf + len, *list, l);
                len += l;
        }
        int r = write_file_atomic(path, buf, len, 0600);
        if (r < 0)
                log_errno(r, LOG_WARNING, "cannot save %s", path);
}

pid_t start_guard(const struct config *c, bool serve) {
        struct guard_options o = { .ready_fd = -1, .serve = serve };
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return log_errno(-errno, LOG_ERR, "cannot start the guard; PID 1 runs unguarded");
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]), close(p[1]);
                return log_errno(r, LOG_ERR, "cannot fork the guard; PID 1 runs unguarded");
        }
        if (pid == 0) {
                close(p[0]);
                o.ready_fd = p[1];
                guard_main(c, &o);
        }
        close(p[1]);
        /* Wait (bounded) until the guard traces us, so that it follows systemd
         * from its first instruction. */
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        char b;
        int r;
        while ((r = poll(&pfd, 1, 2000)) < 0 && errno == EINTR)
                ;
        if (r <= 0 || read(p[0], &b, 1) != 1)
                log_warning("guard did not report in time; going on without waiting");
        close(p[0]);
        return pid;
}

void boot_main(int argc, char **argv, char **envp, uint64_t start_ns) {
        static struct config cfg;
        struct candidate cand[CONFIG_CANDIDATES_MAX];
        size_t n;
        (void) argc;

        ensure_api_filesystems();
        log_open("initshim");
        load_config(&cfg);
        save_core_pattern();
        if (ctl_setup_paths() == 0) {
                save_list(BOOT_ARGV_FILE, argv + 1);
                save_list(BOOT_ENV_FILE, envp);
        }
        if (cfg.guard)
                (void) start_guard(&cfg, true);

        n = config_boot_candidates(&cfg, cand, ELEMENTSOF(cand));
        vstate_set_dirs(cfg.state_dir, VSTATE_DIR_VOLATILE);
        for (size_t i = 0; i < n; i++) {
                char us[32];
                unsigned fails;

                /* Boot counting: a version that did not become healthy in its
                 * last boot-tries boots is skipped (unless forced, or last). */
                if (cfg.boot_tries && !cfg.forced_version[0] && i + 1 < n &&
                    (fails = vstate_boot_failures(cand[i].path)) >= cfg.boot_tries) {
                        log_set_console(true);
                        log_warning("skipping %s (%s): it did not become healthy in its last %u boots", cand[i].path,
                                    cand[i].why, fails);
                        log_set_console(cfg.console);
                        continue;
                }
                uint64_t t = (now_ns() - start_ns) / 1000;
                int l = snprintf(us, sizeof us, "%llu\n", (unsigned long long) t);

                if (access(cand[i].path, X_OK) < 0) {
                        log_errno(-errno, LOG_ERR, "cannot execute %s (%s)", cand[i].path, cand[i].why);
                        continue;
                }
                (void) write_file_atomic(RUN_DIR "/boot-exec-us", us, (size_t) l, 0600);
                (void) write_file_atomic(BOOT_VERSION_FILE, cand[i].path, strlen(cand[i].path), 0644);
                log_info("executing %s (%s), %llu us after start", cand[i].path, cand[i].why,
                         (unsigned long long) t);
                argv[0] = (char *) cand[i].path;
                execve(cand[i].path, argv, envp);
                log_errno(-errno, LOG_ERR, "cannot execute %s (%s)", cand[i].path, cand[i].why);
        }
        log_set_console(true);
        log_crit("no systemd could be executed; staying PID 1 in rescue mode");
        rescue_main("boot: no systemd could be executed", &cfg);
}
