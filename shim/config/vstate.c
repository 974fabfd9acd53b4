#include "config/vstate.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BAD_FILE "bad-versions"
#define BOOTS_FILE "boot-failures"
#define LAST_GOOD_FILE "last-good"

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

/* The files are "KEY\tVALUE\n" lines, KEY a binary's path. Finds KEY in
 * buf (modified) and returns its value, or NULL. */
static const char *lookup(char *buf, const char *key) {
        size_t kl = strlen(key);

        for (char *line = buf; *line;) {
                char *end = strchr(line, '\n');
                if (end)
                        *end = '\0';
                if (strncmp(line, key, kl) == 0 && line[kl] == '\t')
                        return line + kl + 1;
                if (!end)
                        break;
                line = end + 1;
        }
        return NULL;
}

/* KEY's value in file: the persistent copy first (it is about reboots),
 * then this boot's. */
static const char *find(const char *file, const char *key) {
        static char buf[8192];
        const char *dirs[2] = { dir_persistent, dir_volatile };
        char p[256];

        for (int d = 0; d < 2; d++) {
                path_in(p, sizeof p, dirs[d], file);
                if (read_file(p, buf, sizeof buf) > 0) {
                        const char *v = lookup(buf, key);
                        if (v)
                                return v;
                }
        }
        return NULL;
}

/* Rewrite file in dir without KEY's line, then with "KEY\tvalue" if value. */
static int rewrite(const char *dir, const char *file, const char *key, const char *value) {
        static char in[8192], out[8192];
        char p[256];
        size_t len = 0, kl = strlen(key);
        ssize_t n;

        path_in(p, sizeof p, dir, file);
        n = read_file(p, in, sizeof in);
        for (char *line = in; n > 0 && *line;) {
                char *end = strchr(line, '\n');
                if (end)
                        *end = '\0';
                if (!(strncmp(line, key, kl) == 0 && line[kl] == '\t') && line[0])
                        len += (size_t) snprintf(out + len, sizeof out - len, "%s\n", line);
                if (!end || len >= sizeof out)
                        break;
                line = end + 1;
        }
        if (value && len < sizeof out)
                len += (size_t) snprintf(out + len, sizeof out - len, "%s\t%s\n", key, value);
        if (len >= sizeof out)
                len = sizeof out - 1;
        return write_file_atomic(p, out, len, 0644);
}

bool vstate_is_bad(const char *path, char *reason, size_t n) {
        const char *v = find(BAD_FILE, path);

        if (v && reason)
                (void) copy_string(reason, n, v);
        return v != NULL;
}

int vstate_mark_bad(const char *path, const char *reason) {
        char clean[160];

        (void) copy_string(clean, sizeof clean, reason);
        for (char *c = clean; *c; c++)
                if (*c == '\n' || *c == '\t')
                        *c = ' ';
        int r = rewrite(write_dir(), BAD_FILE, path, clean);
        if (r < 0)
                return log_errno(r, LOG_ERR, "cannot record %s as bad", path);
        log_warning("marked %s bad: %s", path, clean);
        return 0;
}

void vstate_clear_bad(const char *path) {
        const char *dirs[2] = { dir_persistent, dir_volatile };

        for (int d = 0; d < 2; d++)
                if (vstate_is_bad(path, NULL, 0))
                        (void) rewrite(dirs[d], BAD_FILE, path, NULL);
}

int vstate_set_last_good(const char *path) {
        char p[256];
        path_in(p, sizeof p, write_dir(), LAST_GOOD_FILE);
        return write_file_atomic(p, path, strlen(path), 0644);
}

void vstate_last_good(char *buf, size_t n) {
        char p[256];
        const char *dirs[2] = { dir_volatile, dir_persistent }; /* this boot's first */

        buf[0] = '\0';
        for (int d = 0; d < 2; d++) {
                path_in(p, sizeof p, dirs[d], LAST_GOOD_FILE);
                if (read_first_line(p, buf, n) > 0)
                        return;
        }
}

unsigned vstate_boot_failures(const char *path) {
        const char *v = find(BOOTS_FILE, path);
        return v ? (unsigned) strtoul(v, NULL, 10) : 0;
}

int vstate_set_boot_failures(const char *path, unsigned count) {
        char v[16];

        snprintf(v, sizeof v, "%u", count);
        return rewrite(write_dir(), BOOTS_FILE, path, count ? v : NULL);
}
