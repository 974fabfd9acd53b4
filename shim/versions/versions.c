#include "versions/versions.h"
#include "versions/preflight.h"
#include "config/vstate.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool same_file(const char *a, const char *b) {
        struct stat x, y;
        return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static size_t one(const struct config *c, const char *name, const char *path, char *buf, size_t n) {
        char version[128], why[256], roles[96] = "";
        int r = preflight_run(path, PREFLIGHT_TIMEOUT_MS, version, sizeof version, why, sizeof why);

        if (strcmp(name, c->default_version) == 0)
                strcat(roles, " default");
        if (strcmp(name, c->fallback_version) == 0)
                strcat(roles, " fallback");
        if (strcmp(name, c->forced_version) == 0)
                strcat(roles, " forced");
        if (same_file(path, "/proc/1/exe"))
                strcat(roles, " running");
        char extra[200] = "";
        unsigned fails = vstate_boot_failures(path);
        char bad[160];
        if (fails)
                snprintf(extra, sizeof extra, "; %u boot%s without reaching healthy", fails, fails == 1 ? "" : "s");
        if (vstate_is_bad(path, bad, sizeof bad))
                snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "; marked bad: %s", bad);
        int l = snprintf(buf, n, "%-12s %-40s %s: %s%s%s%s%s\n", name, path, r == 0 ? "ok" : "refused",
                         r == 0 ? version : why, roles[0] ? " [" : "", roles[0] ? roles + 1 : "", roles[0] ? "]" : "",
                         extra);
        return l < 0 ? 0 : (size_t) l < n ? (size_t) l : n;
}

size_t versions_report(const struct config *c, char *buf, size_t n) {
        size_t len = 0;
        bool plain_listed = false;

        for (size_t i = 0; i < c->n_versions && len < n; i++) {
                len += one(c, c->versions[i].name, c->versions[i].path, buf + len, n - len);
                plain_listed = plain_listed || strcmp(c->versions[i].path, c->systemd) == 0;
        }
        if (!plain_listed && len < n)
                len += one(c, "(systemd=)", c->systemd, buf + len, n - len);
        if (len >= n)
                len = n - 1;
        return len;
}
