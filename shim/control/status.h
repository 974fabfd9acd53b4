/* What `initshimctl status` shows and /run/initshim/status holds. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


enum mode {
        MODE_NORMAL, /* systemd (or another init) is PID 1, the guard serves */
        MODE_RESCUE, /* initshim is PID 1 again */
};

struct status {
        enum mode mode;
        char pid1_exe[256];
        char pid1_version[128];
        uint64_t mode_since_ms; /* CLOCK_MONOTONIC at the start of this mode */
        uint64_t now_ms;
        char last_takeover[256]; /* reason, "" if none */
        char last_switch[320];   /* outcome of the last version switch, "" if none */
        unsigned zombies;        /* zombie children of PID 1 right now */
        char guard_version[64];  /* the running guard's initshim build, "" if unknown */
        char last_upgrade[192];  /* the last live upgrade of initshim, "" if none */
        char installed[96];      /* the installed binary's build, "" if none or refused (version.h) */
        char guard[256];         /* "running (pid N), tracing PID 1, ...", "not running", ... */
        uint64_t boot_exec_us;   /* initshim start -> exec of systemd, 0 if unknown */
        char watchdog[256];      /* rescue mode's hardware watchdog, "" when not told */
        char health[2048];       /* "check-NAME: level: reason" and "history: ..." lines */
};

const char *mode_to_string(enum mode m);
/* The last switch's outcome (LAST_SWITCH_FILE) into s->last_switch. */
void status_read_last_switch(struct status *s);
/* The running guard's version and the last live upgrade (their files), and
 * the installed binary's build: checked again only when stat() says the
 * file changed (initshim_check_binary reads its headers and data). */
void status_read_versions(struct status *s);
/* Both return the length written, truncating safely. */
size_t status_format_text(const struct status *s, char *buf, size_t n);
size_t status_format_json(const struct status *s, char *buf, size_t n);
/* Does a running initshim (the guard; PID 1 in rescue mode) run another
 * build than the installed one? false when nothing usable is installed. */
bool status_build_mismatch(const struct status *s);
