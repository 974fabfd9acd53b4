/* A candidate whose --version prints a systemd-like line, closes stdout and
 * never exits: preflight must bound the whole run, not only the output. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
        fputs("systemd 999 (slow)\n", stdout);
        fflush(stdout);
        close(STDOUT_FILENO);
        for (;;)
                pause();
}
