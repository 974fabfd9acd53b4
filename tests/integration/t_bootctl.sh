# initshimctl boot enable|disable|status: the GRUB drop-in, update-grub and
# the initramfs, in a scratch root (INITSHIM_BOOT_ROOT) with stand-ins for
# update-grub and update-initramfs first in PATH. No namespace needed.
#
# The update-grub stand-in does what grub-mkconfig does with the command
# line: it sources /etc/default/grub, then /etc/default/grub.d/*.cfg, and
# writes a normal entry (GRUB_CMDLINE_LINUX + GRUB_CMDLINE_LINUX_DEFAULT) and
# a recovery entry (GRUB_CMDLINE_LINUX only) to /boot/grub/grub.cfg. So the
# tests assert what the next boot's kernel command line would be.

boot_root() {
        T=$(mktemp -d /tmp/initshim-bootctl.XXXXXX)
        R=$T/root
        mkdir -p "$R/sbin" "$R/proc" "$R/etc/default" "$R/boot/grub" "$T/bin"
        : > "$T/log"
        install -m 0755 "$INITSHIM" "$R/sbin/initshim"
        echo "BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet" > "$R/proc/cmdline"
        printf 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n' > "$R/etc/default/grub"
        cat > "$T/bin/update-grub" <<'EOF'
#!/bin/sh
echo update-grub >> "$INITSHIM_BOOT_ROOT/../calls"
[ -n "${FAIL_UPDATE_GRUB:-}" ] && exit 1
. "$INITSHIM_BOOT_ROOT/etc/default/grub"
for x in "$INITSHIM_BOOT_ROOT"/etc/default/grub.d/*.cfg; do [ -e "$x" ] && . "$x"; done
{
        echo "linux /vmlinuz root=/dev/vda ro $GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT"
        echo "linux /vmlinuz root=/dev/vda ro single $GRUB_CMDLINE_LINUX"
} > "$INITSHIM_BOOT_ROOT/boot/grub/grub.cfg"
EOF
        cat > "$T/bin/update-initramfs" <<'EOF'
#!/bin/sh
echo "update-initramfs $*" >> "$INITSHIM_BOOT_ROOT/../calls"
[ -z "${FAIL_UPDATE_INITRAMFS:-}" ]
EOF
        chmod 0755 "$T/bin/update-grub" "$T/bin/update-initramfs"
        grub_mkconfig
        : > "$T/calls"
}

grub_mkconfig() { INITSHIM_BOOT_ROOT=$R "$T/bin/update-grub"; }
bctl() { INITSHIM_BOOT_ROOT=$R PATH="$T/bin:$PATH" "$CTL" boot "$@"; }
normal_entry() { sed -n 1p "$R/boot/grub/grub.cfg"; }
recovery_entry() { sed -n 2p "$R/boot/grub/grub.cfg"; }
dropin() { cat "$R/etc/default/grub.d/initshim.cfg" 2>/dev/null; }

test_bootctl_enable_puts_initshim_on_the_normal_entry_only() {
        boot_root
        out=$(bctl enable 2>&1) || fail "enable: $out"
        [ "$(normal_entry)" = "linux /vmlinuz root=/dev/vda ro  quiet init=/sbin/initshim" ] ||
                fail "normal entry: $(normal_entry)"
        [ "$(recovery_entry)" = "linux /vmlinuz root=/dev/vda ro single " ] || fail "recovery entry: $(recovery_entry)"
        [ "$(cat "$T/calls")" = update-grub ] || fail "programs run: $(cat "$T/calls")"
        bctl status | grep -qx "config: enabled (init=/sbin/initshim) (/etc/default/grub.d/initshim.cfg)" ||
                fail "status: $(bctl status)"
        bctl status | grep -qx "grub: 1 boot entry with initshim as init in /boot/grub/grub.cfg" ||
                fail "status: $(bctl status)"
}

test_bootctl_disable_gives_back_the_plain_command_line() {
        boot_root
        before=$(normal_entry)
        bctl enable >/dev/null 2>&1 || fail "enable failed"
        out=$(bctl disable 2>&1) || fail "disable: $out"
        [ "$(normal_entry)" = "$before" ] || fail "normal entry after disable: $(normal_entry) (before: $before)"
        [ "$(cat "$T/calls")" = "update-grub
update-grub" ] || fail "programs run: $(cat "$T/calls")"
        # The file stays, commented out: what an operator finds in grub.d.
        dropin | grep -q '^#GRUB_CMDLINE_LINUX_DEFAULT=' || fail "drop-in: $(dropin)"
        # Disabling again changes nothing and does not run update-grub.
        bctl disable >/dev/null 2>&1 || fail "second disable failed"
        [ "$(grep -c update-grub "$T/calls")" = 2 ] || fail "programs run: $(cat "$T/calls")"
}

test_bootctl_rdinit_regenerates_every_initramfs_before_grub() {
        boot_root
        out=$(bctl enable rdinit 2>&1) || fail "enable rdinit: $out"
        [ "$(cat "$T/calls")" = "update-initramfs -u -k all
update-grub" ] || fail "programs run, in order: $(cat "$T/calls")"
        [ "$(normal_entry)" = "linux /vmlinuz root=/dev/vda ro  quiet rdinit=/sbin/initshim init=/sbin/initshim" ] ||
                fail "normal entry: $(normal_entry)"
}

test_bootctl_failed_step_changes_nothing() {
        boot_root
        before=$(normal_entry)
        FAIL_UPDATE_INITRAMFS=1 bctl enable rdinit >/dev/null 2>&1 && fail "enable rdinit succeeded without an initramfs"
        [ -z "$(dropin)" ] || fail "drop-in written although the initramfs failed: $(dropin)"
        grep -q update-grub "$T/calls" && fail "update-grub ran although the initramfs failed"
        bctl disable >/dev/null 2>&1 || fail "disable failed"
        old=$(dropin)
        FAIL_UPDATE_GRUB=1 bctl enable >/dev/null 2>&1 && fail "enable succeeded although update-grub failed"
        [ "$(dropin)" = "$old" ] || fail "drop-in not restored after update-grub failed: $(dropin)"
        [ "$(normal_entry)" = "$before" ] || fail "normal entry: $(normal_entry)"
        # Without an installed initshim, enable refuses before anything.
        rm "$R/sbin/initshim"
        out=$(bctl enable 2>&1) && fail "enable succeeded without /sbin/initshim"
        echo "$out" | grep -q "/sbin/initshim is not installed" || fail "answer: $out"
        [ "$(dropin)" = "$old" ] || fail "drop-in changed: $(dropin)"
}

test_bootctl_disable_refuses_while_grub_still_boots_initshim() {
        boot_root
        # The words come from /etc/default/grub, not from the drop-in (the
        # way README's manual steps set it up): the package's prerm must not
        # remove initshim under that entry.
        printf 'GRUB_CMDLINE_LINUX_DEFAULT="quiet init=/sbin/initshim"\n' > "$R/etc/default/grub"
        grub_mkconfig
        out=$(bctl disable 2>&1) && fail "disable succeeded while grub.cfg boots initshim: $out"
        echo "$out" | grep -q "grub.cfg still has 1 boot entry with initshim as init" || fail "answer: $out"
        printf 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n' > "$R/etc/default/grub"
        grub_mkconfig
        out=$(bctl disable 2>&1) || fail "disable: $out"
}

test_bootctl_hand_edited_dropin() {
        boot_root
        mkdir -p "$R/etc/default/grub.d"
        echo 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT init=/sbin/initshim console=ttyS0"' \
                > "$R/etc/default/grub.d/initshim.cfg"
        edited=$(dropin)
        bctl status | grep -q "^config: edited by hand" || fail "status: $(bctl status)"
        bctl enable >/dev/null 2>&1 && fail "enable overwrote a hand-edited drop-in"
        [ "$(dropin)" = "$edited" ] || fail "drop-in changed: $(dropin)"
        out=$(bctl disable 2>&1) || fail "disable: $out"
        [ "$(cat "$R/etc/default/grub.d/initshim.cfg.edited")" = "$edited" ] || fail "the edit was not kept aside"
        bctl status | grep -q "^config: disabled" || fail "status: $(bctl status)"
}

test_bootctl_usage() {
        boot_root
        for args in "" "enable initrd" "disable now" "frobnicate"; do
                # shellcheck disable=SC2086 # the words are the arguments
                bctl $args >/dev/null 2>&1
                rc=$?
                [ $rc = 2 ] || fail "initshimctl boot $args: exit status $rc, expected 2"
        done
        [ -z "$(dropin)" ] || fail "a usage error wrote the drop-in"
}
