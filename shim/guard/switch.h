/* `initshimctl exec VERSION` while systemd is healthy: switch PID 1 to
 * another systemd binary with its state kept, verify the new one answers,
 * roll back if it does not (docs/versions.md). Runs in the guard; the
 * request is answered only when the switch is confirmed or undone. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"
#include "control/server.h"
#include "ptrace/tracer.h"

void switch_init(const struct config *c, struct tracer *t, struct ctl_server *s);
/* Start a switch. false: refused, answer in text; true: pending, the
 * answer comes later through the control server. */
bool switch_begin(const char *arg, char *text, size_t n);
bool switch_pending(void);
/* The tracer reported ev (TRACER_EVENT_*). */
void switch_on_tracer_event(int ev);
/* Timers and verification; call every loop. */
void switch_run(void);
int switch_timeout_ms(void);
/* The preflight worker's pipe for the guard's poll (-1: none), and its
 * reaper's hook: true if pid was that worker. */
int switch_fd(void);
bool switch_child_exited(pid_t pid);
