/* dbusping-probe PATH [TIMEOUT_MS] [COUNT]: Peer.Ping a D-Bus peer-to-peer
 * socket (normally /run/systemd/private) with shim/dbusping.c.
 * Prints "ok RTT_US" (and "skipped N" when signals came first) or
 * "error: ERRNO-NAME: reason" and exits 0 or 1. With COUNT > 1 it pings COUNT
 * times in a row (stopping at the first failure), then prints the open fd
 * count before and after ("fds BEFORE AFTER") so a test can see leaks. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbusping.h"

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

int main(int argc, char **argv) {
        unsigned long long timeout = 5000, count = 1;
        struct dbus_ping_result res;
        int r = 0, before, after;

        if (argc < 2 || argc > 4 || (argc > 2 && parse_u64(argv[2], &timeout) < 0) ||
            (argc > 3 && (parse_u64(argv[3], &count) < 0 || count == 0))) {
                fprintf(stderr, "usage: %s PATH [TIMEOUT_MS] [COUNT]\n", argv[0]);
                return 2;
        }
        before = count_fds();
        for (unsigned long long i = 0; i < count; i++) {
                r = dbus_ping(argv[1], timeout, &res);
                if (r < 0)
                        break;
        }
        after = count_fds();
        if (r < 0)
                printf("error: %s: %s (after %llu us)\n", strerrorname_np(-r) ?: "?", res.error,
                       (unsigned long long) res.total_us);
        else if (res.skipped)
                printf("ok %llu skipped %u\n", (unsigned long long) res.rtt_us, res.skipped);
        else
                printf("ok %llu\n", (unsigned long long) res.rtt_us);
        if (count > 1)
                printf("fds %d %d\n", before, after);
        return r < 0 ? 1 : 0;
}
