#!/usr/bin/env bash
# Copies the benchmark data `muse eval` reads into its cache (the default of --data-dir):
#   Scripts/eval/copy-data.sh [SOURCE]
# SOURCE defaults to ../shared/data/eval beside the checkout (formats in its README). Nothing is
# fetched from a hub: the data sets are third-party files under their own licences (listed there).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source_dir="${1:-$root/../shared/data/eval}"
cache="${MUSE_CACHE_DIR:-$HOME/.cache/muse}/eval"
[ -d "$source_dir" ] || { echo "copy-data: $source_dir is not a folder (pass the eval data folder)" >&2; exit 1; }
for d in arc hellaswag mmlu mmlu-pro-sample truthfulqa halueval; do
  [ -d "$source_dir/$d" ] || { echo "copy-data: $source_dir/$d is missing" >&2; exit 1; }
done
mkdir -p "$cache"
cp -R "$source_dir"/. "$cache"/
echo "copied $source_dir into $cache"
