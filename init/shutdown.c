/* Shutting down from rescue mode. On a host, systemd-shutdown does it best
 * (kills everything, unmounts, detaches loop/DM/swap, reboot(2)), so we exec
 * it when it is there and runnable. In a container it must not run: it would
 * detach the host's loop devices and swap unless it knows it is in a
 * container, so there (and when it is missing) we use our own sequence,
 * which touches nothing outside our PID namespace. */
#include "common/log.h"
#include "pid1.h"
#include "watchdog.h"
#include "versions/preflight.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const shutdown_paths[] = {
        "/lib/systemd/systemd-shutdown",
        "/usr/lib/systemd/systemd-shutdown",
};

bool in_container(void) {
        char buf[256], *p;
        const char *e = getenv("container");

        if (e && e[0])
                return true;
        if (access("/run/systemd/container", F_OK) == 0)
                return true;
        /* The initial PID namespace has kernel threads: PID 2 is kthreadd,
         * child of PID 0. A container's PID namespace has none. */
        if (read_file("/proc/2/stat", buf, sizeof buf) < 0)
                return true;
        p = strrchr(buf, ')');
        return !(strstr(buf, "(kthreadd)") && p && strncmp(p, ") S 0 ", 6) == 0);
}

/* Reap until no process is left or the deadline passes; true if none is.
 * In a container that includes processes that are not our children
 * (entered with nsenter or `docker exec`: their parent is outside), which
 * kill(-1, 0) still finds; on a host it would find kernel threads. */
static bool reap_until(uint64_t deadline, bool container) {
        for (;;) {
                int st;
                pid_t p = waitpid(-1, &st, WNOHANG);
                if (p < 0 && errno == ECHILD && (!container || (kill(-1, 0) < 0 && errno == ESRCH)))
                        return true;
                if (p > 0)
                        continue;
                if (now_ms() >= deadline)
                        return false;
                (void) poll(NULL, 0, 10);
        }
}

static void own_sequence(const struct config *c, bool container) {
        log_notice("stopping all processes (SIGTERM, up to %llu ms)", (unsigned long long) c->shutdown_timeout_ms);
        (void) kill(-1, SIGTERM);
        (void) kill(-1, SIGCONT);
        if (!reap_until(now_ms() + c->shutdown_timeout_ms, container)) {
                log_notice("killing remaining processes (SIGKILL)");
                (void) kill(-1, SIGKILL);
                (void) reap_until(now_ms() + 5000, container);
        }
        sync();
        /* Remounting / read-only changes the superblock, which a container
         * shares with its host: only on a host. */
        if (!container && mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
                log_errno(-errno, LOG_WARNING, "cannot remount / read-only");
}

void pid1_shutdown(enum pid1_action a, const struct config *c) {
        bool container = in_container();
        const char *verb;
        int cmd;

        switch (a) {
        case ACTION_REBOOT:
        case ACTION_REBOOT_NOW:
                verb = "reboot", cmd = RB_AUTOBOOT;
                break;
        case ACTION_POWEROFF:
        case ACTION_POWEROFF_NOW:
                verb = "poweroff", cmd = RB_POWER_OFF;
                break;
        case ACTION_HALT:
        case ACTION_HALT_NOW:
                verb = "halt", cmd = RB_HALT_SYSTEM;
                break;
        default:
                return;
        }
        bool immediate = a == ACTION_REBOOT_NOW || a == ACTION_POWEROFF_NOW || a == ACTION_HALT_NOW;

        log_notice("%s%s%s", immediate ? "immediate " : "", verb, container ? " (container)" : "");
        watchdog_prepare_shutdown(cmd == RB_AUTOBOOT);
        if (!immediate) {
                for (size_t i = 0; !container && i < ELEMENTSOF(shutdown_paths); i++) {
                        char why[128];
                        if (preflight_file(shutdown_paths[i], why, sizeof why) < 0)
                                continue;
                        log_notice("executing %s %s", shutdown_paths[i], verb);
                        log_close();
                        char *const argv[] = { (char *) "systemd-shutdown", (char *) verb, NULL };
                        execve(shutdown_paths[i], argv, watchdog_shutdown_env(environ));
                        log_open(NULL);
                        log_errno(-errno, LOG_ERR, "cannot execute %s, using initshim's own sequence",
                                  shutdown_paths[i]);
                }
                own_sequence(c, container);
        }
        sync();
        /* In a PID namespace this ends the namespace's init (us): the parent
         * sees SIGHUP for reboot, SIGINT for halt/poweroff. */
        if (reboot(cmd) < 0) {
                log_errno(-errno, LOG_CRIT, "reboot(%s) failed, staying in rescue mode", verb);
                watchdog_resume();
        }
}
