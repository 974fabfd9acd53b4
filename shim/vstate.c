#include "vstate.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir_persistent = VSTATE_DIR_PERSISTENT;
static const char *dir_volatile = VSTATE_DIR_VOLATILE;

void vstate_set_dirs(const char *persistent, const char *volatile_dir) {
        dir_persistent = persistent;
        dir_volatile = volatile_dir;
}

/* Where to write: the persistent directory if we can create it. */
static const char *write_dir(void) {
        if (mkdir(dir_persistent, 0755) == 0 || errno == EEXIST)
                if (access(dir_persistent, W_OK) == 0)
                        return dir_persistent;
        return dir_volatile;
}

static void path_in(char *buf, size_t n, const char *dir, const char *name) {
        snprintf(buf, n, "%s/%s", dir, name);
}

/* The bad list of one directory into buf ("PATH\tREASON\n" lines). */
static ssize_t read_list(const char *dir, char *buf, size_t n) {
        char p[256];
        path_in(p, sizeof p, dir, "bad-versions");
        return read_file(p, buf, n);
}

bool vstate_is_bad(const char *path, char *reason, size_t n) {
        static char buf[8192];
        const char *dirs[2] = { dir_persistent, dir_volatile };
        size_t pl = strlen(path);

        for (int d = 0; d < 2; d++) {
                if (read_list(dirs[d], buf, sizeof buf) <= 0)
                        continue;
                for (char *line = buf; *line;) {
                        char *end = strchr(line, '\n');
                        if (end)
                                *end = '\0';
                        if (strncmp(line, path, pl) == 0 && line[pl] == '\t') {
                                if (reason)
                                        (void) copy_string(reason, n, line + pl + 1);
                                return true;
                        }
                        if (!end)
                                break;
                        line = end + 1;
                }
        }
        return false;
}

static int rewrite_without(const char *dir, const char *path, const char *add_reason) {
        static char in[8192], out[8192];
        char p[256];
        size_t len = 0, pl = strlen(path);
        ssize_t n = read_list(dir, in, sizeof in);

        for (char *line = in; n > 0 && *line;) {
                char *end = strchr(line, '\n');
                if (end)
                        *end = '\0';
                if (!(strncmp(line, path, pl) == 0 && line[pl] == '\t') && line[0])
                        len += (size_t) snprintf(out + len, sizeof out - len, "%s\n", line);
                if (!end || len >= sizeof out)
                        break;
                line = end + 1;
        }
        if (add_reason && len < sizeof out)
                len += (size_t) snprintf(out + len, sizeof out - len, "%s\t%s\n", path, add_reason);
        if (len >= sizeof out)
                len = sizeof out - 1;
        path_in(p, sizeof p, dir, "bad-versions");
        return write_file_atomic(p, out, len, 0644);
}

int vstate_mark_bad(const char *path, const char *reason) {
        char clean[160];

        (void) copy_string(clean, sizeof clean, reason);
        for (char *c = clean; *c; c++)
                if (*c == '\n' || *c == '\t')
                        *c = ' ';
        int r = rewrite_without(write_dir(), path, clean);
        if (r < 0)
                return log_errno(r, LOG_ERR, "cannot record %s as bad", path);
        log_warning("marked %s bad: %s", path, clean);
        return 0;
}

void vstate_clear_bad(const char *path) {
        const char *dirs[2] = { dir_persistent, dir_volatile };
        for (int d = 0; d < 2; d++)
                if (vstate_is_bad(path, NULL, 0))
                        (void) rewrite_without(dirs[d], path, NULL);
}

int vstate_set_last_good(const char *path) {
        char p[256];
        path_in(p, sizeof p, write_dir(), "last-good");
        return write_file_atomic(p, path, strlen(path), 0644);
}

void vstate_last_good(char *buf, size_t n) {
        char p[256];
        const char *dirs[2] = { dir_volatile, dir_persistent }; /* this boot's first */

        buf[0] = '\0';
        for (int d = 0; d < 2; d++) {
                path_in(p, sizeof p, dirs[d], "last-good");
                if (read_file(p, buf, n) > 0) {
                        buf[strcspn(buf, "\n")] = '\0';
                        return;
                }
        }
}
