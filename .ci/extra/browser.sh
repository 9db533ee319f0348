#!/usr/bin/env bash
# The observer's page in a real headless Chromium (Debian's
# chromium-headless-shell, driven by Python Playwright): the tree, a
# mailbox that fills, a restart count that rises, kill with and without
# the bearer token. Installs both if missing, and says so first.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/browser-test.sh
