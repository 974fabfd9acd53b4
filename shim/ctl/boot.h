/* initshimctl boot enable [init|rdinit] | disable | status: whether the
 * host's next boots go through initshim, via GRUB's drop-in directory
 * (initshimctl(8), docs/packaging.md). */
#pragma once

/* argv[0] is the word after "boot". Returns the exit code: 0 done,
 * 1 refused or failed (the reason printed), 2 usage. */
int boot_command(int argc, char **argv);
