/* The boot path: from the kernel (or a container runtime, or an initramfs)
 * to systemd, in well under a millisecond. Mount what is missing, read the
 * config, set up /run/initshim, fork the guard, exec systemd with the
 * kernel's argv and environment untouched. Never returns: if no systemd can
 * be executed, PID 1 stays here in rescue mode. */
#include "control/server.h"
#include "guard/spawn.h"
#include "config/load.h"
#include "common/log.h"
#include "pid1.h"
#include "control/protocol.h"
#include "common/util.h"
#include "config/vstate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* API file systems this process mounted (bit per entry of api_mounts[]). */
static unsigned mounted_here;

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

/* Same flags and options as systemd's mount-setup.c, so that systemd finds
 * them acceptable and leaves them alone. */
static const struct {
        const char *what, *where, *type, *opts;
        unsigned long flags;
        mode_t mode;
} api_mounts[] = {
        { "proc", "/proc", "proc", NULL, MS_NOSUID | MS_NOEXEC | MS_NODEV, 0555 },
        { "devtmpfs", "/dev", "devtmpfs", "mode=0755,size=4m", MS_NOSUID | MS_STRICTATIME, 0755 },
        { "tmpfs", "/run", "tmpfs", "mode=0755,size=20%,nr_inodes=800k", MS_NOSUID | MS_NODEV | MS_STRICTATIME, 0755 },
};

/* Mounts the first n API file systems that are missing. */
static void mount_missing(size_t n) {
        for (size_t i = 0; i < n && i < ELEMENTSOF(api_mounts); i++) {
                if (is_mountpoint(api_mounts[i].where))
                        continue;
                if (mkdir(api_mounts[i].where, api_mounts[i].mode) < 0 && errno != EEXIST)
                        continue;
                if (mount(api_mounts[i].what, api_mounts[i].where, api_mounts[i].type, api_mounts[i].flags,
                          api_mounts[i].opts) < 0)
                        log_errno(-errno, LOG_WARNING, "cannot mount %s on %s", api_mounts[i].type,
                                  api_mounts[i].where);
                else
                        mounted_here |= 1u << i;
        }
}

void ensure_api_filesystems(void) {
        mount_missing(ELEMENTSOF(api_mounts));
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

/* Is / still the initramfs (rootfs is a ramfs or a tmpfs)? */
static bool root_is_initramfs(void) {
        struct statfs s;

        return statfs("/", &s) == 0 && (s.f_type == RAMFS_MAGIC || s.f_type == TMPFS_MAGIC);
}

/* Traced already by a guard: initshim booted as rdinit= forked it in the
 * initramfs and it followed PID 1 here (init=/sbin/initshim). */
static bool already_guarded(void) {
        char status[2048], path[64], comm[32];
        const char *t = read_proc_status_field(getpid(), "TracerPid", status, sizeof status);
        long tracer = t ? strtol(t, NULL, 10) : 0;

        if (tracer <= 1)
                return false;
        snprintf(path, sizeof path, "/proc/%ld/comm", tracer);
        return read_first_line(path, comm, sizeof comm) > 0 && strcmp(comm, GUARD_COMM) == 0;
}

/* rdinit=/sbin/initshim in an initramfs made with our hook or dracut module
 * (initrd-init = /init): fork the guard, then hand PID 1 to the initramfs's
 * own init, which mounts the real root and switches to it. The guard follows
 * PID 1 through the switch-root (guard.c) and serves the control FIFO from
 * the real root. Returns only if that init cannot be executed. */
static void initrd_stage(const struct config *c, char **argv, char **envp) {
        pid_t g = -1;

        if (c->guard)
                g = start_guard_with(c, &(struct guard_options){
                                                .ready_fd = -1,
                                                .initrd = true,
                                                .argv0 = argv[0],
                                                .reload_config = load_config });
        /* Leave the initramfs as its init expects it: initramfs-tools' /init
         * mounts /proc, /dev and /run itself and moves them to the real root;
         * ours would stay behind, stacked underneath. The guard holds what it
         * needs of them open. */
        for (size_t i = 0; i < ELEMENTSOF(api_mounts); i++)
                if ((mounted_here & (1u << i)) && umount2(api_mounts[i].where, MNT_DETACH) < 0)
                        log_errno(-errno, LOG_WARNING, "cannot unmount %s", api_mounts[i].where);
        if (g > 0)
                log_notice("initrd stage: guard %d attached, executing %s", (int) g, c->initrd_init);
        else
                log_warning("initrd stage: executing %s unguarded", c->initrd_init);
        argv[0] = (char *) c->initrd_init;
        execve(c->initrd_init, argv, envp);
        log_console_errno(-errno, LOG_ERR, "initrd stage: cannot execute %s; booting systemd from the initramfs",
                          c->initrd_init);
        /* That guard waits for a switch-root that will not come: replace it
         * with one that serves at once (killing a tracer detaches it). */
        if (g > 0 && kill(g, SIGKILL) == 0)
                for (int tick = 0; tick < 100 && waitpid(g, NULL, WNOHANG) == 0; tick++)
                        (void) poll(NULL, 0, 10); /* at most 1 s: a tracer in D state must not stall boot */
        mount_missing(ELEMENTSOF(api_mounts));
}

/* Try each boot candidate in turn; returns only if none could be executed. */
static void exec_systemd_candidates(const struct config *cfg, char **argv, char **envp, uint64_t start_ns) {
        struct candidate cand[CONFIG_CANDIDATES_MAX];
        size_t n = config_boot_candidates(cfg, cand, ELEMENTSOF(cand));

        vstate_set_dirs(cfg->state_dir, VSTATE_DIR_VOLATILE);
        for (size_t i = 0; i < n; i++) {
                char us[32];
                unsigned fails;

                /* Boot counting: a version that did not become healthy in its
                 * last boot-tries boots is skipped (unless forced, or last). */
                if (cfg->boot_tries && !cfg->forced_version[0] && i + 1 < n &&
                    (fails = vstate_boot_failures(cand[i].path)) >= cfg->boot_tries) {
                        log_console(LOG_WARNING, "skipping %s (%s): it did not become healthy in its last %u boots",
                                    cand[i].path, cand[i].why, fails);
                        continue;
                }
                uint64_t t = (now_ns() - start_ns) / 1000;
                int l = snprintf(us, sizeof us, "%llu\n", (unsigned long long) t);

                if (access(cand[i].path, X_OK) < 0) {
                        /* On the console: the operator must see why the boot
                         * took a fallback. */
                        log_console_errno(-errno, LOG_ERR, "cannot execute %s (%s)%s", cand[i].path, cand[i].why,
                                          i + 1 < n ? ", trying the next candidate" : "");
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
}

void boot_main(int argc, char **argv, char **envp, uint64_t start_ns) {
        static struct config cfg;
        bool guarded;
        (void) argc;

        /* /proc and /dev first: the config may come from the kernel command
         * line, and the log goes to /dev/kmsg. */
        mount_missing(2);
        log_open("initshim");
        load_config(&cfg);
        if (cfg.initrd_init[0] && root_is_initramfs()) {
                guarded = false;
                initrd_stage(&cfg, argv, envp);
        } else {
                ensure_api_filesystems();
                guarded = already_guarded();
        }
        save_core_pattern();
        if (ctl_setup_paths() == 0) {
                save_list(BOOT_ARGV_FILE, argv + 1);
                save_list(BOOT_ENV_FILE, envp);
        }
        if (guarded)
                log_info("the guard started in the initramfs traces PID 1 already");
        else if (cfg.guard)
                (void) start_guard(&cfg, true);
        exec_systemd_candidates(&cfg, argv, envp, start_ns);
        /* Everything from here to rescue mode's start on the console too:
         * the operator must see why this boot did not reach systemd. */
        log_set_console(true);
        log_crit("no systemd could be executed; staying PID 1 in rescue mode");
        rescue_main("boot: no systemd could be executed", &cfg, NULL);
}
