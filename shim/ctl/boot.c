/* initshimctl boot: opt a host in and out of booting through initshim.
 *
 * The only switch is GRUB's drop-in /etc/default/grub.d/initshim.cfg, which
 * update-grub reads after /etc/default/grub: enabled, it appends the words to
 * GRUB_CMDLINE_LINUX_DEFAULT (the normal entries; the "recovery mode" entries
 * keep booting without initshim). This command writes the whole file, then
 * runs update-grub; for rdinit= it first regenerates every initramfs so that
 * each kernel's has initshim in it. The Debian package's prerm runs
 * `boot disable`, which refuses (exit 1) while grub.cfg still boots with
 * initshim: the package is not removed under a boot entry that needs it.
 *
 * INITSHIM_BOOT_ROOT prefixes every file path (tests); the programs run are
 * found in PATH. */
#include "ctl/boot.h"
#include "common/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOOT_DROPIN "/etc/default/grub.d/initshim.cfg"
#define BOOT_GRUB_CFG "/boot/grub/grub.cfg"
#define BOOT_INITSHIM "/sbin/initshim"
#define BOOT_FILE_MAX 4096
#define BOOT_PATH_MAX 4096

enum boot_state { BOOT_DISABLED, BOOT_INIT, BOOT_RDINIT, BOOT_HAND_EDITED };

/* The kernel's last init= wins: these words come after /etc/default/grub's. */
static const char *const boot_words[] = {
        [BOOT_INIT] = "init=" BOOT_INITSHIM,
        [BOOT_RDINIT] = "rdinit=" BOOT_INITSHIM " init=" BOOT_INITSHIM,
};

#define BOOT_LINE_START "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT "

static const char boot_header[] =
        "# initshim: kernel command line words for GRUB's normal boot entries.\n"
        "# Written by `initshimctl boot enable|disable` (initshimctl(8)), which\n"
        "# rewrites the whole file and runs update-grub: use it, not an editor.\n"
        "# update-grub reads this file after /etc/default/grub. The \"recovery\n"
        "# mode\" entries use GRUB_CMDLINE_LINUX only: they boot without initshim.\n"
        "# Removing the initshim package disables it first.\n";

static char boot_root[BOOT_PATH_MAX];

/* PATH under INITSHIM_BOOT_ROOT. */
static const char *boot_path(char *buf, size_t len, const char *path) {
        if (snprintf(buf, len, "%s%s", boot_root, path) >= (int) len)
                return NULL;
        return buf;
}

/* --- the drop-in file ----------------------------------------------------- */

static int render(enum boot_state state, char *buf, size_t len) {
        int n;

        if (state == BOOT_DISABLED)
                n = snprintf(buf, len,
                             "%s#\n# Disabled: the host boots without initshim; `initshimctl boot enable`\n"
                             "# (init=) or `initshimctl boot enable rdinit` turns it on.\n"
                             "#" BOOT_LINE_START "%s\"\n",
                             boot_header, boot_words[BOOT_INIT]);
        else
                n = snprintf(buf, len, "%s#\n# Enabled: `initshimctl boot disable` turns it off.\n" BOOT_LINE_START "%s\"\n",
                             boot_header, boot_words[state]);
        return n < 0 || (size_t) n >= len ? -ENOBUFS : n;
}

/* Which of our renderings the file is: its one uncommented line decides;
 * none is disabled, anything else is somebody's edit. */
static enum boot_state parse_dropin(char *text) {
        enum boot_state state = BOOT_DISABLED;
        char *save = NULL;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line = strip(line);
                if (!line[0] || line[0] == '#')
                        continue;
                if (state != BOOT_DISABLED)
                        return BOOT_HAND_EDITED;
                state = BOOT_HAND_EDITED;
                for (enum boot_state s = BOOT_INIT; s <= BOOT_RDINIT; s++) {
                        size_t l = strlen(BOOT_LINE_START);
                        if (strncmp(line, BOOT_LINE_START, l) == 0 && strncmp(line + l, boot_words[s], strlen(boot_words[s])) == 0 &&
                            strcmp(line + l + strlen(boot_words[s]), "\"") == 0)
                                state = s;
                }
                if (state == BOOT_HAND_EDITED)
                        return state;
        }
        return state;
}

/* The drop-in's state; text gets its content ("" when absent). */
static int read_dropin(char *text, size_t len, enum boot_state *ret) {
        char path[BOOT_PATH_MAX], copy[BOOT_FILE_MAX];
        ssize_t n;

        if (!boot_path(path, sizeof path, BOOT_DROPIN))
                return -ENAMETOOLONG;
        n = read_file(path, text, len);
        if (n == -ENOENT) {
                text[0] = '\0';
                *ret = BOOT_DISABLED;
                return 0;
        }
        if (n < 0)
                return (int) n;
        if ((size_t) n >= len - 1) {
                *ret = BOOT_HAND_EDITED; /* longer than anything we write */
                return 0;
        }
        memcpy(copy, text, (size_t) n + 1);
        *ret = parse_dropin(copy);
        return 0;
}

/* Write text as the drop-in (NULL: remove it), creating /etc/default/grub.d. */
static int write_dropin(const char *text) {
        char path[BOOT_PATH_MAX], dir[BOOT_PATH_MAX];

        if (!boot_path(path, sizeof path, BOOT_DROPIN) || !boot_path(dir, sizeof dir, "/etc/default/grub.d"))
                return -ENAMETOOLONG;
        if (!text)
                return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return write_file_atomic(path, text, strlen(text), 0644);
}

/* --- what boots ------------------------------------------------------------ */

/* A word init=…/initshim or rdinit=…/initshim in a blank-separated line. */
static bool mentions_initshim(const char *line) {
        const char *p = line;

        while (*p) {
                size_t l;
                p += strspn(p, " \t\n");
                l = strcspn(p, " \t\n");
                const char *eq = memchr(p, '=', l);
                if (eq && ((eq - p == 4 && strncmp(p, "init", 4) == 0) || (eq - p == 6 && strncmp(p, "rdinit", 6) == 0)) &&
                    l >= 9 && strncmp(p + l - 9, "/initshim", 9) == 0)
                        return true;
                p += l;
        }
        return false;
}

/* How many lines of FILE mention initshim as init; -errno if unreadable. */
static int count_initshim_lines(const char *file, char *first, size_t first_len) {
        char path[BOOT_PATH_MAX];
        char *line = NULL;
        size_t cap = 0;
        int n = 0;

        if (!boot_path(path, sizeof path, file))
                return -ENAMETOOLONG;
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        while (getline(&line, &cap, f) >= 0) {
                if (!mentions_initshim(line))
                        continue;
                if (n++ == 0 && first)
                        (void) copy_string(first, first_len, strip(line));
        }
        free(line);
        fclose(f);
        return n;
}

/* --- programs -------------------------------------------------------------- */

/* NAME's full path in PATH, or -ENOENT. */
static int find_program(const char *name, char *buf, size_t len) {
        const char *path = getenv("PATH");

        if (!path || !path[0])
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        while (*path) {
                size_t l = strcspn(path, ":");
                if (l > 0 && snprintf(buf, len, "%.*s/%s", (int) l, path, name) < (int) len && access(buf, X_OK) == 0)
                        return 0;
                path += l;
                path += *path == ':';
        }
        return -ENOENT;
}

/* Run argv[0] (a full path) with our stdio; its exit status, or -errno. */
static int run_program(char *const argv[]) {
        int st;
        pid_t pid;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execv(argv[0], argv);
                fprintf(stderr, "initshimctl: cannot execute %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs update-grub if the host has it. Returns 1 if it ran and succeeded,
 * 0 if there is none, -EIO if it failed. */
static int update_grub(void) {
        char prog[BOOT_PATH_MAX];

        if (find_program("update-grub", prog, sizeof prog) < 0) {
                printf("update-grub not found: no GRUB configuration was regenerated; a boot loader other than GRUB\n"
                       "needs the words of %s on its kernel command line by hand\n",
                       BOOT_DROPIN);
                return 0;
        }
        printf("running %s\n", prog);
        int r = run_program((char *[]) { prog, NULL });
        if (r != 0) {
                fprintf(stderr, "initshimctl: update-grub failed (%s %d)\n", r < 0 ? "error" : "exit status", r < 0 ? -r : r);
                return -EIO;
        }
        return 1;
}

/* Every installed kernel's initramfs regenerated with initshim's hook or
 * module in it (rdinit= runs it from there). */
static int regenerate_initramfs(void) {
        char prog[BOOT_PATH_MAX];
        int r;

        if (find_program("update-initramfs", prog, sizeof prog) == 0) {
                printf("running %s -u -k all\n", prog);
                r = run_program((char *[]) { prog, "-u", "-k", "all", NULL });
        } else if (find_program("dracut", prog, sizeof prog) == 0) {
                printf("running %s --force --regenerate-all\n", prog);
                r = run_program((char *[]) { prog, "--force", "--regenerate-all", NULL });
        } else {
                fprintf(stderr, "initshimctl: neither update-initramfs nor dracut found: rdinit= needs initshim in the "
                                "initramfs; nothing changed\n");
                return -ENOENT;
        }
        if (r != 0) {
                fprintf(stderr, "initshimctl: regenerating the initramfs failed (%s %d); nothing changed\n",
                        r < 0 ? "error" : "exit status", r < 0 ? -r : r);
                return -EIO;
        }
        return 0;
}

/* --- the commands ---------------------------------------------------------- */

static const char *state_name(enum boot_state s) {
        switch (s) {
        case BOOT_DISABLED:
                return "disabled";
        case BOOT_INIT:
                return "enabled (init=" BOOT_INITSHIM ")";
        case BOOT_RDINIT:
                return "enabled (rdinit=" BOOT_INITSHIM " init=" BOOT_INITSHIM ")";
        default:
                return "edited by hand (not what initshimctl writes)";
        }
}

/* A grub.cfg that boots with initshim although the drop-in says disabled
 * (the words are in /etc/default/grub, or update-grub did not run). */
static int check_grub_cfg_clean(void) {
        char first[256] = "";
        int n = count_initshim_lines(BOOT_GRUB_CFG, first, sizeof first);

        if (n <= 0)
                return 0; /* none, or no grub.cfg: nothing boots with it from here */
        fprintf(stderr,
                "initshimctl: %s still has %d boot entr%s with initshim as init, e.g.:\n  %s\n"
                "remove init=/rdinit= from /etc/default/grub (or wherever they come from) and run update-grub\n",
                BOOT_GRUB_CFG, n, n == 1 ? "y" : "ies", first);
        return -EEXIST;
}

static int boot_enable(enum boot_state want) {
        char path[BOOT_PATH_MAX], old[BOOT_FILE_MAX], text[BOOT_FILE_MAX];
        enum boot_state was;
        int r;

        if (!boot_path(path, sizeof path, BOOT_INITSHIM) || access(path, X_OK) < 0) {
                fprintf(stderr, "initshimctl: %s is not installed: nothing changed\n", BOOT_INITSHIM);
                return 1;
        }
        r = read_dropin(old, sizeof old, &was);
        if (r < 0) {
                fprintf(stderr, "initshimctl: cannot read %s: %s\n", BOOT_DROPIN, strerror(-r));
                return 1;
        }
        if (was == BOOT_HAND_EDITED) {
                fprintf(stderr, "initshimctl: %s was edited by hand: nothing changed (`initshimctl boot disable` "
                                "sets it aside and rewrites it)\n", BOOT_DROPIN);
                return 1;
        }
        /* Before the boot loader names rdinit=, the initramfs must have it. */
        if (want == BOOT_RDINIT && regenerate_initramfs() < 0)
                return 1;
        r = render(want, text, sizeof text);
        if (r >= 0)
                r = write_dropin(text);
        if (r < 0) {
                fprintf(stderr, "initshimctl: cannot write %s: %s\n", BOOT_DROPIN, strerror(-r));
                return 1;
        }
        r = update_grub();
        if (r < 0) {
                /* grub.cfg is as it was (update-grub replaces it only when done): so is the drop-in. */
                (void) write_dropin(old[0] ? old : NULL);
                fprintf(stderr, "initshimctl: %s restored: nothing changed\n", BOOT_DROPIN);
                return 1;
        }
        printf("%s: %s; %s %s (`initshimctl boot disable` undoes it)\n", BOOT_DROPIN, state_name(want),
               r > 0 ? "the next boot runs with" : "GRUB's next update-grub adds", boot_words[want]);
        return 0;
}

/* Keeps somebody's edit of the drop-in, whole, beside it, where update-grub
 * does not read it (only *.cfg). */
static int set_aside(void) {
        char path[BOOT_PATH_MAX], aside[BOOT_PATH_MAX];

        if (!boot_path(path, sizeof path, BOOT_DROPIN) || !boot_path(aside, sizeof aside, BOOT_DROPIN ".edited"))
                return -ENAMETOOLONG;
        if (rename(path, aside) < 0)
                return -errno;
        printf("the hand-edited %s is kept as %s.edited\n", BOOT_DROPIN, BOOT_DROPIN);
        return 0;
}

static int boot_disable(void) {
        char old[BOOT_FILE_MAX], text[BOOT_FILE_MAX];
        enum boot_state was;
        int r = read_dropin(old, sizeof old, &was);

        if (r < 0) {
                fprintf(stderr, "initshimctl: cannot read %s: %s\n", BOOT_DROPIN, strerror(-r));
                return 1;
        }
        if (was == BOOT_HAND_EDITED && set_aside() < 0) {
                fprintf(stderr, "initshimctl: cannot keep a copy of the hand-edited %s: nothing changed\n", BOOT_DROPIN);
                return 1;
        }
        r = render(BOOT_DISABLED, text, sizeof text);
        if (r >= 0 && strcmp(old, text) != 0)
                r = write_dropin(text);
        if (r < 0) {
                fprintf(stderr, "initshimctl: cannot write %s: %s\n", BOOT_DROPIN, strerror(-r));
                return 1;
        }
        if (was != BOOT_DISABLED && update_grub() < 0) {
                fprintf(stderr, "initshimctl: %s is disabled, but grub.cfg is not regenerated yet: run update-grub\n",
                        BOOT_DROPIN);
                return 1;
        }
        if (check_grub_cfg_clean() < 0)
                return 1;
        printf("%s: disabled; the next boot starts without initshim\n", BOOT_DROPIN);
        return 0;
}

static int boot_status(void) {
        char text[BOOT_FILE_MAX];
        enum boot_state state;
        int r = read_dropin(text, sizeof text, &state), n;

        if (r < 0)
                printf("config: unreadable %s: %s\n", BOOT_DROPIN, strerror(-r));
        else
                printf("config: %s%s (%s)\n", state_name(state), text[0] ? "" : ", no file", BOOT_DROPIN);
        n = count_initshim_lines(BOOT_GRUB_CFG, NULL, 0);
        if (n < 0)
                printf("grub: no %s (%s)\n", BOOT_GRUB_CFG, strerror(-n));
        else
                printf("grub: %d boot entr%s with initshim as init in %s\n", n, n == 1 ? "y" : "ies", BOOT_GRUB_CFG);
        n = count_initshim_lines("/proc/cmdline", NULL, 0);
        printf("this boot: %s\n", n > 0 ? "booted with initshim as init (/proc/cmdline)" : "booted without initshim");
        return 0;
}

static int boot_usage(void) {
        fprintf(stderr, "usage: initshimctl boot enable [init|rdinit] | disable | status\n");
        return 2;
}

int boot_command(int argc, char **argv) {
        const char *root = getenv("INITSHIM_BOOT_ROOT");

        if (root && copy_string(boot_root, sizeof boot_root, root) < 0)
                return boot_usage();
        if (argc < 1)
                return boot_usage();
        if (strcmp(argv[0], "enable") == 0 && argc <= 2) {
                const char *how = argc == 2 ? argv[1] : "init";
                if (strcmp(how, "init") == 0)
                        return boot_enable(BOOT_INIT);
                if (strcmp(how, "rdinit") == 0)
                        return boot_enable(BOOT_RDINIT);
                return boot_usage();
        }
        if (argc != 1)
                return boot_usage();
        if (strcmp(argv[0], "disable") == 0)
                return boot_disable();
        if (strcmp(argv[0], "status") == 0)
                return boot_status();
        return boot_usage();
}
