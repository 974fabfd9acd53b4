/* Rescue mode feeds the hardware watchdog systemd armed; see watchdog.h. */
#include "watchdog.h"

#include "common/log.h"
#include "common/util.h"
#include "config/sdwatchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* A failed open (EBUSY: someone else holds it; EMFILE, ENOMEM) is retried. */
#define WATCHDOG_RETRY_MS 5000
#define SHUTDOWN_ENV_MAX 256

static struct {
        struct sd_watchdog sd;
        bool wanted;                  /* systemd armed it: ours to feed */
        int fd;
        char device[CONFIG_PATH_MAX];
        unsigned timeout_s;           /* 0: unknown */
        uint64_t interval_ms, last_ping_ms, next_open_ms;
        bool ping_failing;
        char why[192];                /* status when no device is held */
} wd = { .fd = -1, .why = "not looked for yet" };

uint64_t watchdog_interval_ms(unsigned timeout_s) {
        return timeout_s ? (uint64_t) timeout_s * 1000 / 2 : 1000;
}

uint64_t watchdog_due_in_ms(uint64_t now, uint64_t last_ping, uint64_t interval) {
        if (now < last_ping) /* cannot happen with CLOCK_MONOTONIC; be safe */
                return 0;
        return now - last_ping >= interval ? 0 : interval - (now - last_ping);
}

static void ping(void) {
        static const char keepalive = 'k'; /* any byte but 'V' is a ping */

        if (ioctl(wd.fd, WDIOC_KEEPALIVE, 0) < 0 && write(wd.fd, &keepalive, 1) != 1) {
                if (!wd.ping_failing)
                        log_errno(-errno, LOG_ERR, "watchdog: cannot ping %s", wd.device);
                wd.ping_failing = true;
        } else
                wd.ping_failing = false;
        wd.last_ping_ms = now_ms();
}

/* The timeout the device runs with: the driver's word, else sysfs's, else
 * systemd's configuration, else unknown (then pinged every second). */
static unsigned learn_timeout(unsigned sysfs_timeout_s) {
        int t = 0;

        if (ioctl(wd.fd, WDIOC_GETTIMEOUT, &t) == 0 && t > 0)
                return (unsigned) t;
        if (sysfs_timeout_s)
                return sysfs_timeout_s;
        if (wd.sd.runtime_ms && wd.sd.runtime_ms != SD_WATCHDOG_DEFAULT)
                return (unsigned) ((wd.sd.runtime_ms + 999) / 1000);
        return 0;
}

static void open_device(void) {
        unsigned sysfs_timeout = 0;

        /* Opening a watchdog starts it: only ever a device systemd armed. */
        wd.fd = open(wd.device, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (wd.fd < 0) {
                int r = -errno;
                snprintf(wd.why, sizeof wd.why, "%s armed by systemd, cannot open it: %s; retrying", wd.device,
                         strerror(-r));
                log_errno(r, LOG_ERR, "watchdog: cannot open %s, retrying in %d s", wd.device,
                          WATCHDOG_RETRY_MS / 1000);
                wd.next_open_ms = now_ms() + WATCHDOG_RETRY_MS;
                return;
        }
        (void) hw_watchdog_state(wd.device, &sysfs_timeout);
        wd.timeout_s = learn_timeout(sysfs_timeout);
        wd.interval_ms = watchdog_interval_ms(wd.timeout_s);
        ping();
        char line[256];
        watchdog_describe(line, sizeof line);
        log_console(LOG_NOTICE, "watchdog: took over %s (armed by systemd)", line);
}

/* systemd's order: its WatchdogDevice=, else /dev/watchdog0 then /dev/watchdog. */
static size_t candidate_devices(const struct config *c, const char **out) {
        if (c->watchdog == WATCHDOG_DEVICE) {
                out[0] = c->watchdog_device;
                return 1;
        }
        if (wd.sd.device[0] && strcmp(wd.sd.device, "/dev/watchdog") != 0 &&
            strcmp(wd.sd.device, "/dev/watchdog0") != 0) {
                out[0] = wd.sd.device;
                return 1;
        }
        out[0] = "/dev/watchdog0";
        out[1] = "/dev/watchdog";
        return 2;
}

/* The first existing candidate decides: armed (sysfs "active", or, where
 * sysfs does not say, systemd configured a runtime watchdog) or not. */
static void choose_device(const struct config *c) {
        const char *cand[2];
        size_t n = candidate_devices(c, cand);

        snprintf(wd.why, sizeof wd.why, "none (no %s)", cand[0]);
        for (size_t i = 0; i < n; i++) {
                int state = hw_watchdog_state(cand[i], NULL);
                if (state == -ENOENT && access(cand[i], F_OK) < 0)
                        continue;
                if (state == 1 || (state == -ENOENT && wd.sd.runtime_ms != 0)) {
                        wd.wanted = true;
                        (void) copy_string(wd.device, sizeof wd.device, cand[i]);
                } else if (state == 0)
                        snprintf(wd.why, sizeof wd.why, "none armed (%s is inactive)", cand[i]);
                else
                        snprintf(wd.why, sizeof wd.why, "none (%s: %s)", cand[i], strerror(-state));
                return;
        }
}

void watchdog_takeover(const struct config *c) {
        wd.wanted = false;
        if (c->watchdog == WATCHDOG_OFF) {
                snprintf(wd.why, sizeof wd.why, "off (initshim.conf)");
                return;
        }
        sd_watchdog_load(&wd.sd, "");
        choose_device(c);
        if (wd.wanted)
                open_device();
}

void watchdog_feed(void) {
        uint64_t now;

        if (!wd.wanted)
                return;
        now = now_ms();
        if (wd.fd < 0) {
                if (now >= wd.next_open_ms)
                        open_device();
                return;
        }
        if (watchdog_due_in_ms(now, wd.last_ping_ms, wd.interval_ms) == 0)
                ping();
}

int watchdog_poll_timeout_ms(void) {
        uint64_t now = now_ms(), t;

        if (!wd.wanted)
                return -1;
        if (wd.fd < 0)
                t = wd.next_open_ms > now ? wd.next_open_ms - now : 0;
        else
                t = watchdog_due_in_ms(now, wd.last_ping_ms, wd.interval_ms);
        return t > 60000 ? 60000 : (int) t;
}

/* Disarm and close: the magic 'V', then close, which stops the device
 * (a driver without the magic close stops on close anyway). Not systemd's
 * order (WDIOS_DISABLECARD first): the kernel clears the device's "magic
 * seen" flag only when it stops an *active* device at close
 * (drivers/watchdog/watchdog_dev.c, watchdog_release), so after a disable
 * the flag outlives us, and the next PID 1's crash, closing its fd without
 * the magic, would stop the watchdog it armed (seen in watchdog-crash-252).
 * WDIOS_DISABLECARD only when the magic cannot be written. */
static void disarm(void) {
        int flags = WDIOS_DISABLECARD;
        static const char magic = 'V';
        ssize_t n;

        while ((n = write(wd.fd, &magic, 1)) < 0 && errno == EINTR)
                ;
        if (n != 1)
                (void) ioctl(wd.fd, WDIOC_SETOPTIONS, &flags);
        (void) close(wd.fd);
        wd.fd = -1;
}

void watchdog_handover(void) {
        if (wd.fd < 0)
                return;
        disarm();
        snprintf(wd.why, sizeof wd.why, "%s disarmed and closed", wd.device);
        log_notice("watchdog: %s disarmed and closed for the next PID 1", wd.device);
}

void watchdog_resume(void) {
        if (wd.wanted && wd.fd < 0) {
                log_notice("watchdog: taking %s back", wd.device);
                open_device();
        }
}

/* systemd's RebootWatchdogSec=: the timeout systemd-shutdown keeps feeding. */
static void set_reboot_timeout(void) {
        int sec;

        if (wd.sd.reboot_ms == SD_WATCHDOG_DEFAULT)
                return; /* keep the programmed one */
        sec = wd.sd.reboot_ms / 1000 >= INT32_MAX ? INT32_MAX : (int) ((wd.sd.reboot_ms + 999) / 1000);
        if (ioctl(wd.fd, WDIOC_SETTIMEOUT, &sec) < 0)
                log_errno(-errno, LOG_WARNING, "watchdog: cannot set %s's timeout to %d s, keeping %u s", wd.device,
                          sec, wd.timeout_s);
        else
                wd.timeout_s = (unsigned) sec; /* the driver's rounding */
        wd.interval_ms = watchdog_interval_ms(wd.timeout_s);
        ping();
}

void watchdog_prepare_shutdown(bool reboot) {
        if (wd.fd < 0)
                return;
        if (reboot && wd.sd.reboot_ms != 0) {
                set_reboot_timeout();
                log_notice("watchdog: %s stays armed through the reboot (timeout %u s)", wd.device, wd.timeout_s);
                return;
        }
        disarm();
        snprintf(wd.why, sizeof wd.why, "%s disarmed for %s", wd.device, reboot ? "the reboot" : "the shutdown");
        log_notice("watchdog: %s disarmed for %s", wd.device, reboot ? "the reboot (RebootWatchdogSec=0)" : "the shutdown");
}

char *const *watchdog_shutdown_env(char *const *envp) {
        static char usec_var[48], device_var[CONFIG_PATH_MAX + 20];
        static char *env[SHUTDOWN_ENV_MAX + 3];
        size_t n = 0;

        if (wd.fd < 0)
                return envp;
        for (; envp && *envp && n < SHUTDOWN_ENV_MAX; envp++)
                if (strncmp(*envp, "WATCHDOG_USEC=", 14) != 0 && strncmp(*envp, "WATCHDOG_DEVICE=", 16) != 0)
                        env[n++] = *envp;
        snprintf(usec_var, sizeof usec_var, "WATCHDOG_USEC=%llu", (unsigned long long) wd.timeout_s * 1000000ULL);
        snprintf(device_var, sizeof device_var, "WATCHDOG_DEVICE=%s", wd.device);
        env[n++] = usec_var;
        env[n++] = device_var;
        env[n] = NULL;
        return env;
}

void watchdog_describe(char *buf, size_t n) {
        if (wd.fd < 0) {
                (void) copy_string(buf, n, wd.why);
                return;
        }
        snprintf(buf, n, "%s, fed every %llu.%llu s (timeout %u s)%s", wd.device,
                 (unsigned long long) (wd.interval_ms / 1000), (unsigned long long) (wd.interval_ms % 1000 / 100),
                 wd.timeout_s, wd.ping_failing ? ", pings FAILING" : "");
}
