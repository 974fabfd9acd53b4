#include "control/status.h"
#include "control/protocol.h"
#include "common/util.h"
#include "common/version.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <dirent.h>

const char *mode_to_string(enum mode m) {
        switch (m) {
        case MODE_NORMAL:
                return "normal";
        case MODE_RESCUE:
                return "rescue";
        }
        return "?";
}

/* The installed binary's build, kept while its stat() is unchanged. */
static void read_installed(char *out, size_t n) {
        static struct stat seen;
        static bool valid;
        static char build[INITSHIM_BUILD_MARKER_SIZE];
        const char *path = initshim_installed_path();
        char why[192];
        struct stat st;

        if (stat(path, &st) < 0) {
                valid = false;
                out[0] = '\0';
                return;
        }
        if (!valid || st.st_dev != seen.st_dev || st.st_ino != seen.st_ino || st.st_size != seen.st_size ||
            st.st_mtim.tv_sec != seen.st_mtim.tv_sec || st.st_mtim.tv_nsec != seen.st_mtim.tv_nsec ||
            st.st_mode != seen.st_mode || st.st_uid != seen.st_uid) {
                if (initshim_check_binary(path, build, sizeof build, why, sizeof why) < 0)
                        build[0] = '\0';
                seen = st;
                valid = true;
        }
        (void) copy_string(out, n, build);
}

void status_read_versions(struct status *s) {
        if (read_first_line(GUARD_VERSION_FILE, s->guard_version, sizeof s->guard_version) <= 0)
                s->guard_version[0] = '\0';
        if (read_first_line(LAST_UPGRADE_FILE, s->last_upgrade, sizeof s->last_upgrade) <= 0)
                s->last_upgrade[0] = '\0';
        read_installed(s->installed, sizeof s->installed);
}

bool status_build_mismatch(const struct status *s) {
        static const char prefix[] = "initshim ";

        if (!s->installed[0])
                return false;
        if (s->guard_version[0] && strcmp(s->guard_version, s->installed) != 0)
                return true;
        return s->mode == MODE_RESCUE && strncmp(s->pid1_version, prefix, sizeof prefix - 1) == 0 &&
               strcmp(s->pid1_version + sizeof prefix - 1, s->installed) != 0;
}

void status_read_last_switch(struct status *s) {
        if (read_first_line(LAST_SWITCH_FILE, s->last_switch, sizeof s->last_switch) <= 0)
                s->last_switch[0] = '\0';
}


/* JSON string escaping for the few free-text fields. */
static void put_json_string(struct text_out *o, const char *key, const char *v, bool comma) {
        text_put(o, "\"%s\":\"", key);
        for (; *v; v++) {
                unsigned char ch = (unsigned char) *v;
                if (ch == '"' || ch == '\\')
                        text_put(o, "\\%c", ch);
                else if (ch < 0x20 || ch > 0x7e)
                        text_put(o, "\\u%04x", ch);
                else
                        text_put(o, "%c", ch);
        }
        text_put(o, "\"%s", comma ? "," : "");
}

size_t status_format_text(const struct status *s, char *buf, size_t n) {
        struct text_out o = { buf, n, 0, false };
        uint64_t since = s->now_ms >= s->mode_since_ms ? s->now_ms - s->mode_since_ms : 0;

        if (n)
                buf[0] = '\0';
        text_put(&o, "mode: %s\n", mode_to_string(s->mode));
        text_put(&o, "mode-since: %llu.%03llus ago\n", (unsigned long long) (since / 1000),
            (unsigned long long) (since % 1000));
        text_put(&o, "pid1: %s\n", s->pid1_exe[0] ? s->pid1_exe : "unknown");
        text_put(&o, "pid1-version: %s\n", s->pid1_version[0] ? s->pid1_version : "unknown");
        text_put(&o, "last-takeover: %s\n", s->last_takeover[0] ? s->last_takeover : "none");
        text_put(&o, "last-switch: %s\n", s->last_switch[0] ? s->last_switch : "none");
        text_put(&o, "zombies: %u\n", s->zombies);
        text_put(&o, "guard: %s\n", s->guard[0] ? s->guard : "unknown");
        text_put(&o, "guard-version: %s\n", s->guard_version[0] ? s->guard_version : "unknown");
        if (s->last_upgrade[0])
                text_put(&o, "last-upgrade: %s\n", s->last_upgrade);
        if (s->watchdog[0])
                text_put(&o, "watchdog: %s\n", s->watchdog);
        if (s->boot_exec_us)
                text_put(&o, "boot-exec: %llu us\n", (unsigned long long) s->boot_exec_us);
        if (s->health[0])
                text_put(&o, "%s", s->health);
        return o.len;
}

size_t status_format_json(const struct status *s, char *buf, size_t n) {
        struct text_out o = { buf, n, 0, false };
        uint64_t since = s->now_ms >= s->mode_since_ms ? s->now_ms - s->mode_since_ms : 0;

        if (n)
                buf[0] = '\0';
        text_put(&o, "{");
        put_json_string(&o, "mode", mode_to_string(s->mode), true);
        text_put(&o, "\"mode_since_ms\":%llu,", (unsigned long long) since);
        put_json_string(&o, "pid1", s->pid1_exe, true);
        put_json_string(&o, "pid1_version", s->pid1_version, true);
        put_json_string(&o, "last_takeover", s->last_takeover, true);
        put_json_string(&o, "last_switch", s->last_switch, true);
        text_put(&o, "\"zombies\":%u,", s->zombies);
        put_json_string(&o, "guard", s->guard, true);
        put_json_string(&o, "guard_version", s->guard_version, true);
        put_json_string(&o, "last_upgrade", s->last_upgrade, true);
        put_json_string(&o, "watchdog", s->watchdog, true);
        text_put(&o, "\"boot_exec_us\":%llu,", (unsigned long long) s->boot_exec_us);
        put_json_string(&o, "health", s->health, false);
        text_put(&o, "}\n");
        return o.len;
}
