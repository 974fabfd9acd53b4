#!/bin/bash
# dracut module of initshim (installed to /usr/lib/dracut/modules.d/90initshim/).
# Puts initshim, initshimctl and the config into the initramfs, so that
# rdinit=/sbin/initshim makes initshim the very first process: it forks its
# guard and execs the initramfs's own /init, which is systemd in a dracut
# initramfs (docs/boot.md). Harmless without rdinit=.

# Included whenever initshim is installed, like the initramfs-tools hook.
check() {
    require_binaries /sbin/initshim /sbin/initshimctl || return 1
    return 0
}

depends() {
    return 0
}

install() {
    # Static binaries: no libraries to follow.
    inst_simple /sbin/initshim /sbin/initshim
    inst_simple /sbin/initshimctl /sbin/initshimctl
    mkdir -p "${initdir}/etc"
    {
        [[ -r /etc/initshim.conf ]] && cat /etc/initshim.conf
        echo
        echo "# Added by dracut module 90initshim: in the initramfs, initshim"
        echo "# execs the initramfs's own init (only while / is the initramfs)."
        echo "initrd-init = /init"
    } >"${initdir}/etc/initshim.conf"
    chmod 0644 "${initdir}/etc/initshim.conf"
}
