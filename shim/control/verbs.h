/* The control verbs (docs/protocol.md), each implemented once, answered by
 * whichever process owns the control FIFO: the guard while systemd is PID 1,
 * PID 1 itself in rescue mode. The owner supplies struct verb_ops for the
 * parts that genuinely differ between the two; a NULL op answers
 * "unsupported". Adding a verb touches protocol.c (its name) and the table
 * in verbs.c, plus an op here if what it does depends on the mode. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"
#include "control/protocol.h"
#include "control/status.h"

enum verb_result {
        VERB_ANSWERED, /* text holds the answer: send it now */
        VERB_LATER,    /* the owner answers later (a version switch under way) */
};

struct verb_ops {
        /* status: this mode's view of PID 1, the guard and the machine. */
        void (*fill_status)(struct status *s);
        /* exec [VERSION|PATH]: start it (or accept to, see after_answer). */
        enum verb_result (*exec)(const char *arg, char *text, size_t n);
        /* reboot, poweroff, halt (v says which). */
        void (*shutdown)(enum verb v, char *text, size_t n);
        void (*takeover)(char *text, size_t n);
        void (*guard_start)(char *text, size_t n);
        void (*guard_stop)(char *text, size_t n);
        /* upgrade: move to the installed binary (docs/design.md "Live
         * upgrade"); the move itself happens in after_answer. */
        void (*upgrade)(char *text, size_t n);
        /* Send text to the client. */
        int (*answer)(const char *text);
        /* Called once the answer went out: carry out what an op accepted
         * but must not do before the client has its answer (rescue mode
         * execs systemd or shuts down). May be NULL. */
        void (*after_answer)(void);
};

/* Answer req into text (without sending it). */
enum verb_result verbs_answer(const struct verb_ops *ops, const struct config *c, const struct request *req,
                              char *text, size_t n);
/* Answer req, send the answer through ops->answer, then ops->after_answer. */
void verbs_handle(const struct verb_ops *ops, const struct config *c, const struct request *req);

/* Verbs answered later by a worker (`versions`): the owner's main loop polls
 * verbs_fd() for POLLIN, wakes within verbs_timeout_ms() (-1: none), calls
 * verbs_run() every turn (it answers through ops->answer once the worker is
 * done, or killed at its deadline), and its reaper calls verbs_child_exited(). */
void verbs_run(const struct verb_ops *ops);
int verbs_fd(void);
int verbs_timeout_ms(void);
bool verbs_child_exited(pid_t pid);
