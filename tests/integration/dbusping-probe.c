/* dbusping-probe PATH [TIMEOUT_MS [COUNT]]: Peer.Ping a D-Bus peer-to-peer
 * socket (normally /run/systemd/private) with shim/health/dbusping.c.
 * dbusping-probe PATH TIMEOUT_MS --state: read PID 1's SystemState instead,
 * with dbus_get_string_property(); --property NAME reads another string
 * property of org.freedesktop.systemd1.Manager. Prints "ok VALUE RTT_US"
 * (plus " skipped N") or the error line below; exit 0 on a value, else 1.
 *
 * Prints "ok RTT_US" (plus " skipped N" when other messages came first) or
 * "error: ERRNO-NAME: reason (after TOTAL_US us)" for the last ping. With
 * COUNT > 1 it pings COUNT times in a row in this one process and first prints
 *   count N ok K failed F fds BEFORE AFTER skipped S max_rtt_us M
 * where BEFORE/AFTER are this process's open fds around the whole run: equal
 * when no ping left a socket behind, on any path. Exit 0 if every ping was
 * answered, 1 otherwise, 2 on bad usage. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/dbusping.h"

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;
        if (!d)
                return -1;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the DIR's own fd */
}

static int parse_u64(const char *s, unsigned long long *v) {
        char *end;
        errno = 0;
        *v = strtoull(s, &end, 10);
        return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

static void print_error(int r, const struct dbus_ping_result *res) {
        printf("error: %s: %s (after %llu us)\n", strerrorname_np(-r) ?: "?", res->error,
               (unsigned long long) res->total_us);
}

/* --state / --property NAME */
static int property(const char *path, unsigned long long timeout, const char *name) {
        struct dbus_ping_result res;
        char value[256];
        int r = dbus_get_string_property(path, timeout, DBUS_SYSTEMD_MANAGER_INTERFACE, name, value,
                                         sizeof value, &res);
        if (r < 0) {
                print_error(r, &res);
                return 1;
        }
        printf("ok %s %llu", value, (unsigned long long) res.rtt_us);
        if (res.skipped)
                printf(" skipped %u", res.skipped);
        printf("\n");
        return 0;
}

int main(int argc, char **argv) {
        unsigned long long timeout = 5000, count = 1, ok = 0, failed = 0, skipped = 0, max_rtt = 0;
        struct dbus_ping_result res;
        int r = 0;

        if (argc >= 4 && argv[3][0] == '-') {
                bool state = argc == 4 && strcmp(argv[3], "--state") == 0;
                bool prop = argc == 5 && strcmp(argv[3], "--property") == 0;
                if (parse_u64(argv[2], &timeout) < 0 || (!state && !prop)) {
                        fprintf(stderr, "usage: %s PATH TIMEOUT_MS --state | --property NAME\n", argv[0]);
                        return 2;
                }
                return property(argv[1], timeout, state ? "SystemState" : argv[4]);
        }
        if (argc < 2 || argc > 4 || (argc > 2 && parse_u64(argv[2], &timeout) < 0) ||
            (argc > 3 && (parse_u64(argv[3], &count) < 0 || count == 0))) {
                fprintf(stderr, "usage: %s PATH [TIMEOUT_MS [COUNT]]\n"
                                "       %s PATH TIMEOUT_MS --state | --property NAME\n", argv[0], argv[0]);
                return 2;
        }
        int before = count_fds();
        for (unsigned long long i = 0; i < count; i++) {
                r = dbus_ping(argv[1], timeout, &res);
                skipped += res.skipped;
                if (r < 0)
                        failed++;
                else {
                        ok++;
                        if (res.rtt_us > max_rtt)
                                max_rtt = res.rtt_us;
                }
        }
        int after = count_fds();
        if (count > 1)
                printf("count %llu ok %llu failed %llu fds %d %d skipped %llu max_rtt_us %llu\n",
                       count, ok, failed, before, after, skipped, max_rtt);
        if (r < 0)
                print_error(r, &res);
        else if (res.skipped)
                printf("ok %llu skipped %u\n", (unsigned long long) res.rtt_us, res.skipped);
        else
                printf("ok %llu\n", (unsigned long long) res.rtt_us);
        return failed ? 1 : 0;
}
