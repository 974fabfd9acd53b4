/* The control protocol (docs/protocol.md).
 *
 * A client creates a FIFO /run/initshim/reply/NAME (0600), opens it for
 * reading, and writes one line to /run/initshim/control in a single write():
 *
 *     \nNAME VERB [ARGUMENT]\n
 *
 * At most PROTO_LINE_MAX bytes including the final newline (less than
 * PIPE_BUF, so the kernel delivers it whole and never interleaves two
 * clients). The leading newline ends whatever unfinished bytes another writer
 * left in the pipe: they become a line of their own, which is dropped, instead
 * of being glued to this request. Empty lines are ignored. The server answers
 * on the reply FIFO with "ok" or "error: REASON" on the first line, then the
 * body, then closes it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUN_DIR "/run/initshim"
#define CONTROL_FIFO RUN_DIR "/control"
#define CONTROL_LOCK RUN_DIR "/control.lock"
/* The guard's copies of a crashed PID 1's listening sockets (ptrace/sockets.h) */
#define PID1_SOCKETS_FILE RUN_DIR "/pid1-sockets"
#define REPLY_DIR RUN_DIR "/reply"
#define STATUS_FILE RUN_DIR "/status"
#define GUARD_PID_FILE RUN_DIR "/guard.pid"
#define GUARD_STATE_FILE RUN_DIR "/guard.state"
#define BOOT_ARGV_FILE RUN_DIR "/boot.argv"
#define BOOT_ENV_FILE RUN_DIR "/boot.env"
#define BOOT_VERSION_FILE RUN_DIR "/boot-version"
#define LAST_TAKEOVER_FILE RUN_DIR "/last-takeover"
#define LAST_SWITCH_FILE RUN_DIR "/last-switch"
#define GUARD_VERSION_FILE RUN_DIR "/guard-version" /* the running guard's initshim_build() */
#define LAST_UPGRADE_FILE RUN_DIR "/last-upgrade"
#define PID1_VERSION_FILE RUN_DIR "/pid1-version" /* rescue-mode PID 1's initshim_build() */
/* The parser's root: an empty root-owned directory it is chrooted into. */
#define CTL_EMPTY_DIR RUN_DIR "/empty"

#define PROTO_LINE_MAX 512
#define PROTO_NAME_MAX 64
#define PROTO_ARG_MAX 256
#define PROTO_REPLY_MAX 4000
/* An answer starting with this was not acted on: send the request again. */
#define PROTO_RETRY "error: retry: "

enum verb {
        VERB_PING,
        VERB_STATUS,
        VERB_EXEC,
        VERB_REBOOT,
        VERB_POWEROFF,
        VERB_HALT,
        VERB_TAKEOVER,
        VERB_GUARD,
        VERB_VERSIONS,
        VERB_UPGRADE,
        _VERB_MAX,
};

struct request {
        char reply[PROTO_NAME_MAX + 1];
        enum verb verb;
        char arg[PROTO_ARG_MAX];
};

/* The answer a server sends back through the parser process. */
struct reply {
        uint32_t len;
        char text[PROTO_REPLY_MAX];
};

const char *verb_to_string(enum verb v);
bool reply_name_valid(const char *name, size_t len);
/* Parse one line (without its newline). On error returns negative errno,
 * writes a reason to err, and fills req->reply when the name was valid so the
 * caller can still answer. A pure function of its input (no I/O, no global
 * state): the fuzzing harnesses call it as it is. */
int request_parse(const char *line, size_t len, struct request *req, char *err, size_t errlen);
/* Format a request for the client, "\nNAME VERB [ARG]\n", to be sent with
 * one write(); returns its length or -E2BIG. buf needs PROTO_LINE_MAX + 2
 * bytes for the longest request. */
int request_format(char *buf, size_t n, const char *reply, const char *verb, const char *arg);
