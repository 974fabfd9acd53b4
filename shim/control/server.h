/* Serving the control FIFO with privilege separation (OpenSMTPD style).
 *
 * The process that owns the control role (PID 1 in rescue mode, the guard
 * while systemd is PID 1) never reads the FIFO itself: it forks a parser
 * process that opens the FIFO, takes the ownership lock, installs a seccomp
 * allowlist and from then on only reads lines, validates them and passes
 * struct request to its parent over a pipe. The parent answers with struct
 * reply; the parser writes it to the client's reply FIFO. A crashed or killed
 * parser is logged and replaced (rate-limited); its parent is never harmed. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/protocol.h"

struct ctl_server {
        pid_t parser;          /* 0 when none runs */
        int req_fd;            /* parent reads requests here (-1 when none) */
        int rep_fd;            /* parent writes replies here */
        bool wanted;           /* should a parser run? */
        uint64_t next_spawn_ms; /* rate limit for respawns */
        unsigned crashes;
        int hold_fd;           /* keeps the FIFO (and any queued request) alive between parsers */
};

/* Also opens a holding fd on the FIFO (never read here): while any owner
 * holds one, requests written between two parsers wait in the pipe instead of
 * being refused or lost. */
void ctl_server_init(struct ctl_server *s);
/* Ensure a parser runs (if wanted and the rate limit allows). */
int ctl_server_start(struct ctl_server *s);
/* Read one request; 0 on success, -EAGAIN if none, other -errno if the
 * parser misbehaved (it is then killed). */
int ctl_server_receive(struct ctl_server *s, struct request *req);
int ctl_server_answer(struct ctl_server *s, const char *text);
/* Tell the parser to finish the line it is on and exit; wait at most
 * timeout_ms (reaping it), then SIGKILL. Unread requests stay in the FIFO for
 * the next owner. */
void ctl_server_stop(struct ctl_server *s, uint64_t timeout_ms);
/* Called by the owner's reaper for every exited child; true if it was the parser. */
bool ctl_server_child_exited(struct ctl_server *s, pid_t pid, int wstatus);
/* Milliseconds until the next respawn is allowed, or -1 if nothing is pending. */
int ctl_server_timeout_ms(const struct ctl_server *s);

/* Create RUN_DIR (0700), the FIFO (0600) and the reply directory, refusing
 * anything that is not what we made: symlinks, wrong types, wrong owners. */
int ctl_setup_paths(void);
/* The parser process body (exported for tests). Never returns. */
void ctl_parser_main(int req_w, int rep_r) __attribute__((noreturn));
/* The seccomp allowlist for the parser; exported for tests. */
int ctl_parser_sandbox(void);
