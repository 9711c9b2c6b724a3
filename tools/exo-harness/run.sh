#!/bin/sh
# Run Exo 1.0.0's tests against a knit source tree: run.sh <knit>/src <tag>
# (run.sh exo <tag>: against Exo itself, the exo-lang installed for $PYTHON).
# Writes $EXO_SUITE/<tag>.xml (junit) and $EXO_SUITE/dump-<tag>/ (what knit printed
# where a golden file differs); then `python table.py <tag>`.
#   EXO_SUITE  where Exo is checked out and results go (default /tmp/exo-suite)
#   EXO_GIT    a git directory holding Exo's tag v1.0.0 (default: clone Exo's repository)
#   PYTHON     a Python with knit's dependencies, pytest and pytest-xdist (default python3)
#   JOBS       pytest-xdist workers (default 2)
set -eu
tag=$2
alias="-p exo_alias"
path="$(dirname "$(realpath "$0")"):$(realpath "$1")"
[ "$1" = exo ] && alias= path=
suite=${EXO_SUITE:-/tmp/exo-suite}
mkdir -p "$suite"

if [ ! -d "$suite/exo/tests" ]; then
    if [ -z "${EXO_GIT:-}" ]; then
        git clone -q --bare --depth 1 --branch v1.0.0 https://github.com/exo-lang/exo "$suite/exo.git"
        EXO_GIT=$suite/exo.git
    fi
    # Through an index, leaving out what the repository lacks (a partial mirror has
    # no blob for a large image, none has the benchmark submodule's commit).
    export GIT_DIR="$EXO_GIT" GIT_INDEX_FILE="$suite/index"
    git read-tree v1.0.0
    git ls-files -s | awk '{print $2}' | git cat-file --batch-check | awk '$2 == "missing" {print $1}' >"$suite/missing"
    git ls-files -s | grep -F -f "$suite/missing" | cut -f2 | xargs -r git update-index --force-remove
    git checkout-index -a --prefix="$suite/exo/"
    rm -f "$GIT_INDEX_FILE" "$suite/missing"
    unset GIT_DIR GIT_INDEX_FILE
fi

rm -rf "$suite/dump-$tag"
cd "$suite/exo"
start=$(date +%s)
GOLDEN_DUMP="$suite/dump-$tag" KNIT_CACHE_DIR="$suite/cache" PYTHONPATH="$path" \
    "${PYTHON:-python3}" -m pytest $alias -o pythonpath= -p no:cacheprovider \
    -q -n "${JOBS:-2}" --junitxml="$suite/$tag.xml" tests >"$suite/$tag.log" 2>&1 || true
echo "$tag: $(tail -1 "$suite/$tag.log") ($(($(date +%s) - start)) s, load $(cut -d' ' -f1-3 /proc/loadavg))"
