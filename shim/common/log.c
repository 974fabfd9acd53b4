#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int kmsg_fd = -1;
static bool to_console;
static bool to_stderr;
static char log_ident[32] = "initshim";

void log_open(const char *ident) {
        if (ident)
                (void) copy_string(log_ident, sizeof log_ident, ident);
        /* INITSHIM_LOG=stderr mirrors everything to stderr: for tests and
         * debugging in a namespace, where kmsg is the host's. */
        const char *e = getenv("INITSHIM_LOG");
        if (e && strcmp(e, "stderr") == 0)
                to_stderr = true;
        if (kmsg_fd >= 0)
                return;
        kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

void log_set_console(bool on) {
        to_console = on;
}

void log_set_stderr(bool on) {
        to_stderr = on;
}

void log_close(void) {
        if (kmsg_fd >= 0)
                (void) close(kmsg_fd);
        kmsg_fd = -1;
}

static void emit(int prio, const char *fmt, va_list ap, int err, bool console) {
        /* Static buffer: no allocation, and one write per line keeps kmsg
         * records whole. Saves errno so logging never disturbs callers. */
        static char line[1024];
        int saved = errno;
        int n, m;

        n = snprintf(line, sizeof line, "<%d>%s[%d]: ", LOG_DAEMON | prio, log_ident, (int) getpid());
        if (n < 0)
                n = 0;
        m = vsnprintf(line + n, sizeof line - (size_t) n, fmt, ap);
        if (m < 0)
                m = 0;
        n += m;
        if (n > (int) sizeof line - 40)
                n = (int) sizeof line - 40;
        if (err != 0)
                n += snprintf(line + n, sizeof line - (size_t) n, ": %s", strerror(err));
        line[n++] = '\n';

        if (kmsg_fd >= 0)
                (void) !write(kmsg_fd, line, (size_t) n);
        /* The "<N>" prefix is for kmsg only; humans get the rest. */
        const char *human = strchr(line, '>') + 1;
        size_t hl = (size_t) n - (size_t) (human - line);
        if (to_console || console) {
                int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
                if (fd >= 0) {
                        (void) !write(fd, human, hl);
                        close(fd);
                }
        }
        if (to_stderr || kmsg_fd < 0)
                (void) !write(STDERR_FILENO, human, hl);
        errno = saved;
}

void log_msg(int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap, 0, false);
        va_end(ap);
}

int log_errno(int err, int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap, err < 0 ? -err : err, false);
        va_end(ap);
        return err;
}

void log_console(int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap, 0, true);
        va_end(ap);
}

int log_console_errno(int err, int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap, err < 0 ? -err : err, true);
        va_end(ap);
        return err;
}
