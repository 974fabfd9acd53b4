/* Slow work off the main loop (issue 13, "never block"): PID 1 and the guard
 * fork a worker that computes a text result (a preflight, a versions report)
 * and writes it to a pipe. The owner polls the pipe in its main loop, reads
 * without blocking, and SIGKILLs the worker at its deadline; its own reaper
 * reaps it and tells worker_child_exited(). Static storage, no allocation. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WORKER_RESULT_MAX 4096

struct worker {
        pid_t pid;            /* the running worker, 0 once reaped */
        int fd;               /* result pipe, -1 when none */
        bool busy;            /* started, result not taken yet */
        bool timed_out;       /* killed at its deadline: result may be partial */
        uint64_t deadline_ms;
        size_t len;
        char result[WORKER_RESULT_MAX]; /* NUL-terminated once complete */
};

/* In the worker: write at most n bytes of result to out, return the length. */
typedef size_t (*worker_fn)(const void *arg, char *out, size_t n);

#define WORKER_INIT { .pid = 0, .fd = -1 }

/* Fork a worker running fn(arg); -EBUSY if w already works, other -errno if
 * the fork or pipe failed (the caller answers an error: nothing started). */
int worker_start(struct worker *w, worker_fn fn, const void *arg, uint64_t timeout_ms);
/* Read what the worker wrote, never blocking; at the deadline kill it.
 * true when the result is complete (EOF or deadline): w->result then holds
 * it, and the caller takes it with worker_done(). */
bool worker_poll(struct worker *w);
/* The result was taken: w may start again. */
void worker_done(struct worker *w);
/* For the owner's poll(): the fd (-1 if none) and ms to the deadline (-1). */
int worker_fd(const struct worker *w);
int worker_timeout_ms(const struct worker *w);
/* The owner's reaper reaped pid: true if it was this worker. */
bool worker_child_exited(struct worker *w, pid_t pid);
