# Shared set-up of the integration tests: $1 is the hpsearch binary, $2 the source tree.
set -euo pipefail
HPSEARCH=$1
SOURCE_DIR=$2
# Tests run as root in CI containers with 2 cores: allow both for Open MPI.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$SOURCE_DIR"

fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs python3 on the JSON summary of a database: check_summary DB 'python statements using s'
check_summary() {
  "$HPSEARCH" summarize "$1" --format json > "$WORK/summary.json"
  python3 - "$WORK/summary.json" <<PY
import json, math, sys
s = json.load(open(sys.argv[1]))
$2
PY
}

# start_local_cluster slurm|oar PACKAGES: starts the local scheduler with tools/cluster/start-NAME.sh,
# or fails with its output. ctest -j 2 may run both batch tests at once, and both start scripts may
# install packages: apt allows one at a time, so the starts take turns (-o: the daemons they start
# do not keep the lock).
start_local_cluster() {
  local begin=$SECONDS
  flock -o -w 300 /tmp/hpsearch-cluster-start.lock bash "tools/cluster/start-$1.sh" > "$WORK/start-$1.log" 2>&1 || {
    cat "$WORK/start-$1.log" >&2
    fail "tools/cluster/start-$1.sh could not start $1 (its output is above): this test needs root, and Debian 12's $2, which the script installs with apt"
  }
  echo "$1 ready after $((SECONDS - begin)) s"
}
