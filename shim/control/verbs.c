#include "control/verbs.h"
#include "common/util.h"
#include "control/metrics.h"
#include "versions/preflight.h"
#include "versions/versions.h"
#include "versions/worker.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef enum verb_result (*verb_handler)(const struct verb_ops *ops, const struct config *c,
                                         const struct request *req, char *text, size_t n);

static enum verb_result unsupported(char *text, size_t n) {
        snprintf(text, n, "error: unsupported\n");
        return VERB_ANSWERED;
}

static enum verb_result verb_ping(const struct verb_ops *ops, const struct config *c, const struct request *req,
                                  char *text, size_t n) {
        (void) ops, (void) c, (void) req;
        snprintf(text, n, "ok\npong\n");
        return VERB_ANSWERED;
}

static enum verb_result verb_status(const struct verb_ops *ops, const struct config *c, const struct request *req,
                                    char *text, size_t n) {
        static struct status st;
        static struct metrics m;
        (void) c;

        if (req->arg[0] && strcmp(req->arg, "json") != 0 && strcmp(req->arg, "prometheus") != 0) {
                snprintf(text, n, "error: status takes no argument but 'json' or 'prometheus'\n");
                return VERB_ANSWERED;
        }
        if (!ops->fill_status)
                return unsupported(text, n);
        ops->fill_status(&st);
        memcpy(text, "ok\n", 3);
        if (strcmp(req->arg, "prometheus") == 0) {
                /* The same text as the guard's metrics file (docs/metrics.md). */
                metrics_collect(&m);
                metrics_format(&st, &m, text + 3, n - 3);
        } else if (req->arg[0])
                status_format_json(&st, text + 3, n - 3);
        else
                status_format_text(&st, text + 3, n - 3);
        return VERB_ANSWERED;
}

/* `versions` runs a preflight per version: in a worker, answered when it
 * finishes (verbs_run), so that the main loop goes on meanwhile. */
static struct worker versions_worker = WORKER_INIT;
static const struct config *versions_config;

static size_t versions_work(const void *arg, char *out, size_t n) {
        memcpy(out, "ok\n", 3);
        return 3 + versions_report(arg, out + 3, n - 3);
}

static enum verb_result verb_versions(const struct verb_ops *ops, const struct config *c, const struct request *req,
                                      char *text, size_t n) {
        /* Each version's preflight, a margin, and the plain systemd= one. */
        uint64_t timeout = (uint64_t) (c->n_versions + 1) * PREFLIGHT_WORKER_MS + 1000;
        int r;
        (void) ops, (void) req;

        versions_config = c;
        r = worker_start(&versions_worker, versions_work, c, timeout);
        if (r < 0) {
                snprintf(text, n, "error: cannot check the versions now: %s\n", strerror(-r));
                return VERB_ANSWERED;
        }
        return VERB_LATER;
}

void verbs_run(const struct verb_ops *ops) {
        static char text[PROTO_REPLY_MAX];

        if (!worker_poll(&versions_worker))
                return;
        if (versions_worker.timed_out || strncmp(versions_worker.result, "ok\n", 3) != 0)
                snprintf(text, sizeof text, "error: the versions check did not finish within %llu s\n",
                         (unsigned long long) (((uint64_t) (versions_config->n_versions + 1) * PREFLIGHT_WORKER_MS +
                                                1000) / 1000));
        else
                (void) copy_string(text, sizeof text, versions_worker.result);
        worker_done(&versions_worker);
        (void) ops->answer(text);
}

int verbs_fd(void) {
        return worker_fd(&versions_worker);
}

int verbs_timeout_ms(void) {
        return worker_timeout_ms(&versions_worker);
}

bool verbs_child_exited(pid_t pid) {
        return worker_child_exited(&versions_worker, pid);
}

static enum verb_result verb_exec(const struct verb_ops *ops, const struct config *c, const struct request *req,
                                  char *text, size_t n) {
        (void) c;
        if (!ops->exec)
                return unsupported(text, n);
        return ops->exec(req->arg, text, n);
}

static enum verb_result verb_shutdown(const struct verb_ops *ops, const struct config *c, const struct request *req,
                                      char *text, size_t n) {
        (void) c;
        if (!ops->shutdown)
                return unsupported(text, n);
        ops->shutdown(req->verb, text, n);
        return VERB_ANSWERED;
}

static enum verb_result verb_takeover(const struct verb_ops *ops, const struct config *c, const struct request *req,
                                      char *text, size_t n) {
        (void) c, (void) req;
        if (!ops->takeover)
                return unsupported(text, n);
        ops->takeover(text, n);
        return VERB_ANSWERED;
}

static enum verb_result verb_guard(const struct verb_ops *ops, const struct config *c, const struct request *req,
                                   char *text, size_t n) {
        void (*op)(char *, size_t) = NULL;
        (void) c;

        if (strcmp(req->arg, "start") == 0)
                op = ops->guard_start;
        else if (strcmp(req->arg, "stop") == 0)
                op = ops->guard_stop;
        else {
                snprintf(text, n, "error: 'guard' takes start or stop\n");
                return VERB_ANSWERED;
        }
        if (!op)
                return unsupported(text, n);
        op(text, n);
        return VERB_ANSWERED;
}

static enum verb_result verb_upgrade(const struct verb_ops *ops, const struct config *c, const struct request *req,
                                     char *text, size_t n) {
        (void) c, (void) req;
        if (!ops->upgrade)
                return unsupported(text, n);
        ops->upgrade(text, n);
        return VERB_ANSWERED;
}

static const verb_handler handlers[_VERB_MAX] = {
        [VERB_PING] = verb_ping,         [VERB_STATUS] = verb_status,     [VERB_VERSIONS] = verb_versions,
        [VERB_EXEC] = verb_exec,         [VERB_REBOOT] = verb_shutdown,   [VERB_POWEROFF] = verb_shutdown,
        [VERB_HALT] = verb_shutdown,     [VERB_TAKEOVER] = verb_takeover, [VERB_GUARD] = verb_guard,
        [VERB_UPGRADE] = verb_upgrade,
};

enum verb_result verbs_answer(const struct verb_ops *ops, const struct config *c, const struct request *req,
                              char *text, size_t n) {
        if ((unsigned) req->verb >= _VERB_MAX || !handlers[req->verb])
                return unsupported(text, n);
        return handlers[req->verb](ops, c, req, text, n);
}

void verbs_handle(const struct verb_ops *ops, const struct config *c, const struct request *req) {
        static char text[PROTO_REPLY_MAX];

        if (verbs_answer(ops, c, req, text, sizeof text) == VERB_LATER)
                return;
        (void) ops->answer(text);
        if (ops->after_answer)
                ops->after_answer();
}
