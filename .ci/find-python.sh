#!/usr/bin/env bash
# Print the path of the first Python >= 3.12 that actually runs.
#
# Order: $PEACESIM_PYTHON (if set), python3.13, python3.12, python3 on PATH;
# then pyenv-installed versions (oldest supported first (3.12 is what CI and developers test with)), via `pyenv` if it is on PATH,
# otherwise by globbing $PYENV_ROOT, ~/.pyenv and /root/.pyenv.
# pyenv shims exist on PATH even when no matching version is selected; they
# then print an error and exit non-zero, so every candidate is *run* (with its
# stderr silenced) rather than merely looked up.
set -u

ok() {
    "$1" -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1
}

found() {
    # Print the interpreter's real path (not a pyenv shim or bare name).
    local p
    p="$("$1" -c 'import sys; print(sys.executable)' 2>/dev/null)"
    if [ -z "$p" ]; then
        case "$1" in
            */*) p="$1" ;;
            *) p="$(command -v "$1")" ;;
        esac
    fi
    printf '%s\n' "$p"
    exit 0
}

try() {
    if [ -n "$1" ] && ok "$1"; then
        found "$1"
    fi
}

if [ -n "${PEACESIM_PYTHON:-}" ]; then
    try "$PEACESIM_PYTHON"
    echo "PEACESIM_PYTHON=$PEACESIM_PYTHON is not a working Python >= 3.12." >&2
    exit 1
fi

for name in python3.12 python3.13 python3; do
    try "$name"
done

# Keep only plain CPython versions 3.12+ (3.12.1, 3.13, 3.13.0t, ...), oldest supported first (3.12 is what CI and developers test with).
filter_versions() {
    grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?t?$' | sort -V
}

if command -v pyenv >/dev/null 2>&1; then
    root="$(pyenv root 2>/dev/null || true)"
    if [ -n "$root" ]; then
        for v in $(pyenv versions --bare 2>/dev/null | filter_versions); do
            try "$root/versions/$v/bin/python3"
        done
    fi
fi

for root in "${PYENV_ROOT:-}" "${HOME:-}/.pyenv" /root/.pyenv; do
    [ -n "$root" ] && [ -d "$root/versions" ] || continue
    for v in $(ls -1 "$root/versions" 2>/dev/null | filter_versions); do
        try "$root/versions/$v/bin/python3"
    done
done

echo 'PeaceSim needs Python >= 3.12; none found on PATH or in pyenv. Install one, e.g. `pyenv install 3.12`.' >&2
exit 1
