#!/usr/bin/env bash
# The observer page in a real headless Chromium: installs Debian's
# chromium-headless-shell (apt) and Python Playwright (pip) if they are
# missing, builds the `observer` example, and runs
# crates/troupe-observer/tests/browser/observer_page.py against it, which
# starts the example on 127.0.0.1:0 and checks the page: the supervision
# tree, a mailbox that fills, a restart count that rises, kill refused
# without the token and done with it. Saves a screenshot of the page to
# $SCREENSHOT (default: target/browser-test/observer.png).
#
#   bash scripts/browser-test.sh
#
# Playwright drives the system's Chromium through `executable_path`: its
# own browser download (`playwright install`) is never run.
set -euo pipefail
cd "$(dirname "$0")/.."

PLAYWRIGHT_VERSION="${PLAYWRIGHT_VERSION:-1.65.2}"
SCREENSHOT="${SCREENSHOT:-target/browser-test/observer.png}"

find_chromium() {
    local c
    for c in chromium-headless-shell /usr/lib/chromium/chromium-headless-shell \
             /usr/lib/chromium-headless-shell/chromium-headless-shell; do
        if command -v "$c" > /dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

if ! chromium="$(find_chromium)"; then
    echo "browser-test: installing Debian package chromium-headless-shell (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium-headless-shell > /dev/null
    chromium="$(find_chromium)" || {
        echo "browser-test: chromium-headless-shell installed, but its binary was not found" >&2
        dpkg -L chromium-headless-shell | grep -i headless >&2 || true
        exit 1
    }
fi
echo "browser-test: chromium at $chromium ($("$chromium" --version 2>/dev/null || echo 'version unknown'))"

if ! python3 -c 'import playwright' > /dev/null 2>&1; then
    echo "browser-test: installing Python package playwright==$PLAYWRIGHT_VERSION (pip)"
    python3 -m pip install -q --disable-pip-version-check "playwright==$PLAYWRIGHT_VERSION"
fi

# The workspace's default members with every feature: the same build as the
# README's test command (`cargo test --all-features`), so nothing is
# compiled twice.
cargo build -q --all-features --example observer
target_dir="$(cargo metadata -q --no-deps --format-version 1 |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target_dir/debug/examples/observer"

mkdir -p "$(dirname "$SCREENSHOT")"
python3 crates/troupe-observer/tests/browser/observer_page.py \
    --example "$bin" --chromium "$chromium" --screenshot "$SCREENSHOT"
