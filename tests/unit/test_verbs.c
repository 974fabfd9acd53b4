/* The control verbs: one implementation, the owner's ops for what differs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "control/verbs.h"

static char answered[PROTO_REPLY_MAX];
static unsigned n_answers, n_after, n_fill, n_start, n_stop;
static enum verb last_shutdown = _VERB_MAX;
static char last_exec_arg[PROTO_ARG_MAX];
static enum verb_result exec_result;

static void fill(struct status *s) {
        memset(s, 0, sizeof *s);
        s->mode = MODE_RESCUE;
        snprintf(s->guard, sizeof s->guard, "not running");
        n_fill++;
}
static enum verb_result exec_op(const char *arg, char *text, size_t n) {
        snprintf(last_exec_arg, sizeof last_exec_arg, "%s", arg);
        snprintf(text, n, "ok\nexec\n");
        return exec_result;
}
static void shutdown_op(enum verb v, char *text, size_t n) {
        last_shutdown = v;
        snprintf(text, n, "ok\n%s\n", verb_to_string(v));
}
static void start_op(char *text, size_t n) {
        n_start++;
        snprintf(text, n, "ok\nstarted\n");
}
static void stop_op(char *text, size_t n) {
        n_stop++;
        snprintf(text, n, "ok\nstopped\n");
}
static int answer_op(const char *text) {
        snprintf(answered, sizeof answered, "%s", text);
        n_answers++;
        return 0;
}
static void after_op(void) {
        /* The client must have its answer before the owner acts on it. */
        assert_int_equal(n_answers, n_after + 1);
        n_after++;
}

static const struct verb_ops full = {
        .fill_status = fill,
        .exec = exec_op,
        .shutdown = shutdown_op,
        .guard_start = start_op,
        .guard_stop = stop_op,
        .answer = answer_op,
        .after_answer = after_op,
};

static int reset(void **state) {
        (void) state;
        answered[0] = last_exec_arg[0] = '\0';
        n_answers = n_after = n_fill = n_start = n_stop = 0;
        last_shutdown = _VERB_MAX;
        exec_result = VERB_ANSWERED;
        return 0;
}

static void handle(const struct verb_ops *ops, enum verb v, const char *arg) {
        struct request req = { .verb = v };
        snprintf(req.arg, sizeof req.arg, "%s", arg);
        verbs_handle(ops, NULL, &req);
}

static void test_ping(void **state) {
        (void) state;
        handle(&full, VERB_PING, "");
        assert_string_equal(answered, "ok\npong\n");
        assert_int_equal(n_after, 1);
}

static void test_status_uses_the_owners_fill(void **state) {
        (void) state;
        handle(&full, VERB_STATUS, "");
        assert_int_equal(n_fill, 1);
        assert_true(strncmp(answered, "ok\nmode: rescue\n", 16) == 0);
        assert_non_null(strstr(answered, "guard: not running\n"));
        handle(&full, VERB_STATUS, "json");
        assert_true(strncmp(answered, "ok\n{\"mode\":\"rescue\",", 20) == 0);
        /* The owner's status as Prometheus text (docs/metrics.md). */
        handle(&full, VERB_STATUS, "prometheus");
        assert_int_equal(n_fill, 3);
        assert_true(strncmp(answered, "ok\n# HELP initshim_build_info ", 30) == 0);
        assert_non_null(strstr(answered, "\ninitshim_mode{mode=\"rescue\"} 1\n"));
}

static void test_status_refuses_other_arguments(void **state) {
        (void) state;
        handle(&full, VERB_STATUS, "yaml");
        assert_string_equal(answered, "error: status takes no argument but 'json' or 'prometheus'\n");
        assert_int_equal(n_fill, 0);
}

static void test_guard_argument_is_checked_once_for_both_modes(void **state) {
        (void) state;
        handle(&full, VERB_GUARD, "restart");
        assert_string_equal(answered, "error: 'guard' takes start or stop\n");
        assert_int_equal(n_start + n_stop, 0);
        handle(&full, VERB_GUARD, "start");
        assert_string_equal(answered, "ok\nstarted\n");
        handle(&full, VERB_GUARD, "stop");
        assert_string_equal(answered, "ok\nstopped\n");
        assert_int_equal(n_start, 1);
        assert_int_equal(n_stop, 1);
}

static void test_shutdown_verbs_reach_the_owner(void **state) {
        (void) state;
        handle(&full, VERB_POWEROFF, "");
        assert_int_equal(last_shutdown, VERB_POWEROFF);
        assert_string_equal(answered, "ok\npoweroff\n");
        handle(&full, VERB_HALT, "");
        assert_int_equal(last_shutdown, VERB_HALT);
}

static void test_exec_answered_later_sends_nothing_now(void **state) {
        (void) state;
        exec_result = VERB_LATER;
        handle(&full, VERB_EXEC, "254");
        assert_string_equal(last_exec_arg, "254");
        assert_int_equal(n_answers, 0);
        assert_int_equal(n_after, 0);
}

static void test_missing_op_is_unsupported(void **state) {
        static const struct verb_ops bare = { .answer = answer_op };
        (void) state;
        handle(&bare, VERB_TAKEOVER, "");
        assert_string_equal(answered, "error: unsupported\n");
        handle(&bare, VERB_GUARD, "start");
        assert_string_equal(answered, "error: unsupported\n");
        handle(&bare, VERB_REBOOT, "");
        assert_string_equal(answered, "error: unsupported\n");
        handle(&bare, _VERB_MAX, "");
        assert_string_equal(answered, "error: unsupported\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_ping, reset),
                cmocka_unit_test_setup(test_status_uses_the_owners_fill, reset),
                cmocka_unit_test_setup(test_status_refuses_other_arguments, reset),
                cmocka_unit_test_setup(test_guard_argument_is_checked_once_for_both_modes, reset),
                cmocka_unit_test_setup(test_shutdown_verbs_reach_the_owner, reset),
                cmocka_unit_test_setup(test_exec_answered_later_sends_nothing_now, reset),
                cmocka_unit_test_setup(test_missing_op_is_unsupported, reset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
