#!/usr/bin/env bash
# All the tests: the workspace's unit, integration and doc tests (every
# feature on), then the pipeline's unsafe code under Miri and loom. It
# installs what it needs (nightly Miri) itself.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (workspace, all features)"
cargo test --workspace --all-features

echo "== unsafe code under Miri and loom"
bash scripts/check-unsafe.sh
