/* A stand-in for systemd and systemd-executor in the bundle tests
 * (test_bundle.c): `--version` prints the first line of ARGV0.says, or
 * "systemd 262 (says)". Built twice: plainly, and with the RUNPATH
 * "$ORIGIN/." that makes a binary a bundle's (says-version-origin). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
        char path[4096], line[256] = "systemd 262 (says)\n";
        FILE *f;

        if (argc != 2 || strcmp(argv[1], "--version") != 0)
                return 2;
        snprintf(path, sizeof path, "%s.says", argv[0]);
        f = fopen(path, "re");
        if (f) {
                if (!fgets(line, sizeof line, f))
                        line[0] = '\0';
                fclose(f);
        }
        fputs(line, stdout);
        return 0;
}
