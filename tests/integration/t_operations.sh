# docs/operations.md: every command of the operator's guide is run by a test.
# Each ```sh block is marked by the comment line before it:
#   <!-- test: run boot -->  its lines run here, in a scratch root with
#                            update-grub/update-initramfs stand-ins (t_bootctl.sh)
#   <!-- test: FILE -->      each line appears verbatim in FILE, a test that runs it
# No namespace needed.

GUIDE=docs/operations.md

# guide_blocks DOC: "MARK<TAB>BLOCK#<TAB>LINE" per command line; MARK is
# "-" for a block without a mark.
guide_blocks() {
        awk '
        /^[ \t]*```sh[ \t]*$/ { inside = 1; block++; mark = "-"
                if (match(prev, /<!-- test: [^>]* -->/)) mark = substr(prev, RSTART + 11, RLENGTH - 15)
                next }
        inside && /^[ \t]*```[ \t]*$/ { inside = 0; next }
        inside { line = $0; sub(/^[ \t]+/, "", line); sub(/[ \t]+#.*$/, "", line)
                 if (line != "" && line !~ /^#/) printf "%s\t%d\t%s\n", mark, block, line; next }
        /[^ \t]/ { prev = $0 }
        ' "$1"
}

# runs_command FILE LINE: FILE has LINE as a whole command: at a line's start
# (or in $(...)), then the line's end, a pipe, a redirection, && or ||.
runs_command() {
        local re
        re=$(printf '%s' "$2" | sed 's/[][\.*^$/+?(){}|]/\\&/g')
        grep -qE -- "(^[[:space:]]*|\\$\()$re([[:space:]]*($|[|>&;)]|2>))" "$1"
}

# check_guide DOC: the marks are kept (fails, saying which line, if not).
check_guide() {
        local mark block line n=0
        while IFS=$'\t' read -r mark block line; do
                n=$((n + 1))
                case $mark in
                -) echo "block $block has no '<!-- test: ... -->' mark: $line"; return 1 ;;
                "run boot") ;;
                *) [ -f "$mark" ] || { echo "block $block: no test file $mark"; return 1; }
                   runs_command "$mark" "$line" || { echo "block $block: '$line' is not in $mark"; return 1; } ;;
                esac
        done < <(guide_blocks "$1")
        [ "$n" -gt 0 ] || { echo "no command found in $1"; return 1; }
}

test_operations_guide_commands_are_in_their_tests() {
        out=$(check_guide "$GUIDE") || fail "$out"
}

# The checker itself: an unmarked block, and a line its test does not run, fail.
test_operations_guide_checker_catches_untested_commands() {
        T=$(mktemp -d /tmp/initshim-ops.XXXXXX)
        printf '%s\n' 'Text.' '' '```sh' 'initshimctl status' '```' > "$T/unmarked.md"
        out=$(check_guide "$T/unmarked.md") && fail "unmarked block accepted"
        [[ $out == *"no '<!-- test"* ]] || fail "unmarked: $out"
        printf '%s\n' '<!-- test: tests/e2e/scenarios/journal-252.sh -->' '```sh' 'initshimctl frobnicate' '```' > "$T/untested.md"
        out=$(check_guide "$T/untested.md") && fail "untested command accepted"
        [[ $out == *"'initshimctl frobnicate' is not in"* ]] || fail "untested: $out"
        rm -rf "$T"
}

# The "run boot" blocks, in the guide's order: enable, then disable.
test_operations_guide_boot_commands_run() {
        . tests/integration/t_bootctl.sh
        boot_root
        initshimctl() { INITSHIM_BOOT_ROOT=$R PATH="$T/bin:$PATH" "$CTL" "$@"; }
        local mark block line last=0 blocks=0
        while IFS=$'\t' read -r mark block line; do
                [ "$mark" = "run boot" ] || continue
                [ "$block" = "$last" ] || blocks=$((blocks + 1))
                last=$block
                out=$(eval "$line" 2>&1) || fail "'$line' failed: $out"
                case $line in
                "initshimctl boot enable") [[ $(normal_entry) == *"init=/sbin/initshim"* ]] || fail "not enabled: $(normal_entry)" ;;
                "initshimctl boot disable") [[ $(normal_entry) != *initshim* ]] || fail "not disabled: $(normal_entry)" ;;
                esac
        done < <(guide_blocks "$GUIDE")
        [ "$blocks" -eq 2 ] || fail "expected the roll-out's and the back-out's blocks, ran $blocks"
        rm -rf "$T"
}
