/* What initshim remembers about systemd versions: which are bad (failed
 * after a switch or at boot), and which ran well last (docs/versions.md).
 * Kept in /var/lib/initshim when it is writable (it survives a reboot and
 * is readable before / is remounted read-write), else in /run/initshim. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define VSTATE_DIR_PERSISTENT "/var/lib/initshim"
#define VSTATE_DIR_VOLATILE "/run/initshim"

int vstate_mark_bad(const char *path, const char *reason);
bool vstate_is_bad(const char *path, char *reason, size_t n);
void vstate_clear_bad(const char *path);
int vstate_set_last_good(const char *path);
/* "" if none. */
void vstate_last_good(char *buf, size_t n);
/* Boots in a row that did not reach "healthy", per binary. */
unsigned vstate_boot_failures(const char *path);
int vstate_set_boot_failures(const char *path, unsigned n);
/* For tests: use another pair of directories. */
void vstate_set_dirs(const char *persistent, const char *volatile_dir);
