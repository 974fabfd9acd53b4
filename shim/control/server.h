/* Serving the control FIFO with privilege separation (OpenSMTPD style).
 *
 * The process that owns the control role (PID 1 in rescue mode, the guard
 * while systemd is PID 1) never reads the FIFO itself: it forks a parser
 * process that opens the FIFO, takes the ownership lock, and then enters a
 * sandbox (empty chroot, an unprivileged uid, no capabilities, no_new_privs,
 * only its four fds, a seccomp allowlist that lets it read the FIFO and its
 * owner's acks and write to its owner, nothing else). It reads lines,
 * validates them and passes struct ctl_msg to its owner over a pipe, one at
 * a time: it reads the next line only after the owner's ack.
 *
 * The owner answers the client itself: it opens the reply FIFO the parser
 * named, after checking it again (ctl_reply_open), so the parser opens
 * nothing at all. A crashed or killed parser is logged and replaced
 * (rate-limited); its owner is never harmed. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/protocol.h"

/* The parser's identity in its sandbox (nobody/nogroup unless built with
 * other values). */
#ifndef CTL_PARSER_UID
#define CTL_PARSER_UID 65534
#endif
#ifndef CTL_PARSER_GID
#define CTL_PARSER_GID 65534
#endif

/* What a parser tells its owner about one line. */
enum ctl_msg_kind {
        CTL_MSG_REQUEST = 1, /* a valid request: the owner answers it */
        CTL_MSG_REFUSED,     /* invalid, with a valid reply name: the owner answers "error: reason" */
        CTL_MSG_LOG,         /* something to log: a dropped line, why the parser gives up */
};

struct ctl_msg {
        uint32_t kind;
        struct request req;
        char reason[160]; /* REFUSED, LOG: printable ASCII, NUL-terminated */
};
/* The owner's one-byte answer to each message: "read the next line". */
#define CTL_ACK 'A'

struct ctl_server {
        pid_t parser;             /* 0 when none runs */
        int req_fd;               /* owner reads struct ctl_msg here (-1 when none) */
        int rep_fd;               /* owner acks each message here */
        bool wanted;              /* should a parser run? */
        uint64_t next_spawn_ms;   /* rate limit for respawns */
        uint64_t parser_since_ms; /* when the running parser was started */
        unsigned crashes;         /* consecutive quick deaths */
        int hold_fd;              /* keeps the FIFO (and any queued request) alive between parsers */
        /* The request handed to the owner and not answered yet (at most one). */
        char pending[PROTO_NAME_MAX + 1];
        uint64_t pending_deadline_ms;
};

/* Also opens a holding fd on the FIFO (never read here): while any owner
 * holds one, requests written between two parsers wait in the pipe instead of
 * being refused or lost. */
void ctl_server_init(struct ctl_server *s);
/* Ensure a parser runs (if wanted, the rate limit allows, and no answer is
 * owed: a parser reads nothing while its owner works on a request). Also
 * answers a request the owner left unanswered past its deadline. */
int ctl_server_start(struct ctl_server *s);
/* Read one message; 0 with a request the caller must answer with
 * ctl_server_answer(), -EAGAIN if none (refusals and log lines are handled
 * here), other -errno if the parser misbehaved (it is then killed). */
int ctl_server_receive(struct ctl_server *s, struct request *req);
/* Answer the pending request: write text to its client's reply FIFO (never
 * blocking) and let the parser read the next line. */
int ctl_server_answer(struct ctl_server *s, const char *text);
/* Tell the parser to finish the line it is on and exit; requests it hands
 * over meanwhile are answered "error: retry:". Returns within timeout_ms:
 * SIGKILL after three quarters of it, and a parser not reaped by then is
 * left to the caller's reaper. Unread requests stay in the FIFO for the next
 * owner; a pending request stays ours to answer. */
void ctl_server_stop(struct ctl_server *s, uint64_t timeout_ms);
/* In a process forked from an owner (that does not exec): drop the owner's
 * parser state and close our copies of its fds, without signalling the
 * parser, which is not ours. */
void ctl_server_forget(struct ctl_server *s);
/* The same for every fd: close all but 0-2 and keep_fd, the log's included
 * (log_open() reopens it). The guard's start path calls it. */
void ctl_forget_inherited_fds(int keep_fd);
/* Called by the owner's reaper for every exited child; true if it was the parser. */
bool ctl_server_child_exited(struct ctl_server *s, pid_t pid, int wstatus);
/* Milliseconds until ctl_server_start() has something to do (a respawn, an
 * overdue answer), or -1 if nothing is pending. */
int ctl_server_timeout_ms(const struct ctl_server *s);

/* Open the client's reply FIFO NAME in dir_fd for writing, never blocking:
 * NAME must be a valid reply name, fstatat() must show a FIFO owned by
 * owner, and the opened fd the same FIFO. -ENXIO: no reader (the client is
 * gone); -EPERM: not such a FIFO. Exported for tests. */
int ctl_reply_open(int dir_fd, const char *name, uid_t owner);

/* Create RUN_DIR (0700), the FIFO (0600), the reply directory and the
 * parser's empty root, refusing anything that is not what we made:
 * symlinks, wrong types, wrong owners. */
int ctl_setup_paths(void);

/* The parser process body (exported for tests). Never returns. */
void ctl_parser_main(int req_w, int rep_r) __attribute__((noreturn));

/* The parser's sandbox, in two layers (exported for tests). */
struct ctl_sandbox {
        const char *root; /* empty root-owned directory to chroot into */
        uid_t uid;
        gid_t gid;
        int fifo_fd;  /* may be read */
        int ack_fd;   /* may be read */
        int msg_fd;   /* may be written */
        int lock_fd;  /* kept open (it holds the lock), nothing else */
};
/* Close every other fd (0-2 too), chroot, drop to uid/gid with no
 * supplementary groups and no capabilities, set no_new_privs and the
 * parent-death signal. On failure *step (if step) names what failed. */
int ctl_sandbox_confine(const struct ctl_sandbox *sb, const char **step);
/* The seccomp allowlist: read on fifo_fd and ack_fd, write on msg_fd,
 * ppoll, the clock, signal return and exit. Anything else kills the
 * process. */
int ctl_sandbox_filter(const struct ctl_sandbox *sb, const char **step);
/* The BPF program ctl_sandbox_filter installs, into prog (cap entries):
 * its length, or -ENOBUFS, -EBADF. */
struct sock_filter;
int ctl_sandbox_program(const struct ctl_sandbox *sb, struct sock_filter *prog, size_t cap);
/* Both. */
int ctl_sandbox_enter(const struct ctl_sandbox *sb, const char **step);
