/* Unit files read as systemd reads them, for on-failure=adopt's discovery
 * (a worker: it may allocate). Only what discovery needs: one section's
 * key=value settings of a unit's fragment and drop-ins, in systemd's
 * order, so that the last assignment wins as it does for systemd. */
#pragma once

/* Called for each KEY=VALUE of the section, blanks stripped, in order. */
typedef void (*unit_setting_fn)(const char *key, const char *value, void *data);

/* Read unit NAME ("a-b.socket") from dirs (highest priority first, NULL
 * terminated): the fragment from the first directory holding it (a
 * regular file, not empty, not a link to /dev/null or to another name;
 * an instance a@b.service falls back to its template a@.service), then
 * the drop-ins: *.conf of NAME.d/ (and the template's), of the dash prefixes' a-.socket.d/
 * and of TYPE.d/ (socket.d/), the first file of each name by priority, in
 * name order. 0; -ENOENT (no fragment, masked or an alias); -EINVAL (a
 * line continued with a backslash: not handled); -E2BIG (too many
 * drop-ins); or -errno. */
int unit_file_read(const char *const *dirs, const char *name, const char *section, unit_setting_fn fn, void *data);
