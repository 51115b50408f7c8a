#!/usr/bin/env bash
# Runs corpus kernels natively and compares them with the double-precision reference (reference.cpp).
#
#   check.sh vnni|cuda [files...]
#
# Without files: every tests/corpus/<dialect>/*.cpp (vnni) or *.cu (cuda). For each file the operator
# and shape come from its name, <op>_<d1>x<d2>...<ext>, in the order of the op's "params" in
# shapes.json. The file is compiled after the dialect's prelude into a shared library
#   vnni: g++ -march=icelake-server -O2 -shared -fPIC
#   cuda: nvcc -arch=native -Xcompiler -fPIC -shared   (-arch=sm_80 where native fails)
# and run by the checker, which prints PASS/FAIL per file; the last line is "N passed, M failed".
# Exit status: 0 if everything passed, 1 otherwise.
#
# Environment: CXX (default g++), NVCC (default nvcc), NVCC_ARCH (e.g. sm_90; default: native, then
# sm_80), CHECK_SEED (input seed), CHECK_VERBOSE=1 (compiler output and error margins),
# CHECK_TIMEOUT (seconds per kernel run, default 300).
set -u

here=$(cd "$(dirname "$0")" && pwd)
corpus=$(dirname "$here")
root=$(cd "$corpus/../.." && pwd)
shapes="$corpus/shapes.json"

usage() { echo "usage: $0 vnni|cuda [files...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
dialect=$1
shift
case "$dialect" in
    vnni) ext=cpp ;;
    cuda) ext=cu ;;
    *) usage ;;
esac
prelude="$root/bundles/org.xpiler.lang/dialects/$dialect/prelude.h"
[ -f "$prelude" ] || { echo "check.sh: missing prelude $prelude" >&2; exit 2; }

if [ $# -gt 0 ]; then
    files=("$@")
else
    shopt -s nullglob
    files=("$corpus/$dialect"/*."$ext")
    shopt -u nullglob
    [ ${#files[@]} -gt 0 ] || { echo "check.sh: no files in $corpus/$dialect" >&2; exit 2; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xpiler-native-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

CXX=${CXX:-g++}
NVCC=${NVCC:-nvcc}
verbose=${CHECK_VERBOSE:-}
run_timeout=${CHECK_TIMEOUT:-300}
seed_args=()
[ -n "${CHECK_SEED:-}" ] && seed_args=(--seed "$CHECK_SEED")
timeout_cmd=()
command -v timeout >/dev/null 2>&1 && timeout_cmd=(timeout "$run_timeout")

echo "building the checker"
if ! "$CXX" -O2 -std=c++17 -o "$work/check" "$here/reference.cpp" -ldl; then
    echo "check.sh: cannot build reference.cpp" >&2
    exit 2
fi

# The params of an op in shapes.json, comma-separated ("M,K,N"); empty if the op is not there.
shapes_flat=$(tr -d '\n\r' < "$shapes")
params_of() {
    printf '%s' "$shapes_flat" \
        | grep -o "\"$1\"[[:space:]]*:[[:space:]]*{[[:space:]]*\"params\"[[:space:]]*:[[:space:]]*\[[^]]*\]" \
        | head -n 1 | sed -e 's/.*\[//' -e 's/\]//' -e 's/[[:space:]"]//g'
}

cuda_arch=()
if [ "$dialect" = cuda ]; then
    if [ -n "${NVCC_ARCH:-}" ]; then
        cuda_arch=(-arch="$NVCC_ARCH")
    else
        printf '__global__ void probe() {}\n' > "$work/probe.cu"
        if "$NVCC" -arch=native -c "$work/probe.cu" -o "$work/probe.o" >/dev/null 2>&1; then
            cuda_arch=(-arch=native)
        else
            cuda_arch=(-arch=sm_80)
        fi
    fi
    echo "nvcc ${cuda_arch[*]}"
    if ! nvidia-smi -L >/dev/null 2>&1; then
        echo "warning: no GPU visible (nvidia-smi -L failed): the kernels will compile but not run" >&2
    fi
fi

passed=0
failed=0
for file in "${files[@]}"; do
    base=$(basename "$file")
    stem=${base%.*}
    op=${stem%_*}
    dims=${stem##*_}
    label="$op $dims"
    if [ "$stem" = "$op" ] || ! [[ "$dims" =~ ^[0-9]+(x[0-9]+)*$ ]]; then
        echo "FAIL $base: file name is not <op>_<d1>x<d2>...$ext"
        failed=$((failed + 1)); continue
    fi
    if [ ! -f "$file" ]; then
        echo "FAIL $label: no such file $file"
        failed=$((failed + 1)); continue
    fi
    params=$(params_of "$op")
    known=$("$work/check" --params "$op" 2>/dev/null)
    if [ -z "$params" ]; then
        echo "FAIL $label: operator '$op' is not in shapes.json"
        failed=$((failed + 1)); continue
    fi
    if [ "$params" != "$known" ]; then
        echo "FAIL $label: shapes.json params ($params) differ from the checker's (${known:-unknown op})"
        failed=$((failed + 1)); continue
    fi
    IFS=x read -r -a dim_list <<< "$dims"
    IFS=, read -r -a param_list <<< "$params"
    if [ ${#dim_list[@]} -ne ${#param_list[@]} ]; then
        echo "FAIL $label: $op takes ${#param_list[@]} dimensions ($params), the file name has ${#dim_list[@]}"
        failed=$((failed + 1)); continue
    fi

    lib="$work/$stem.so"
    log="$work/$stem.log"
    if [ "$dialect" = vnni ]; then
        cat "$prelude" "$file" > "$work/$stem.cpp"
        "$CXX" -march=icelake-server -O2 -shared -fPIC -o "$lib" "$work/$stem.cpp" > "$log" 2>&1
    else
        cat "$prelude" "$file" > "$work/$stem.cu"
        "$NVCC" "${cuda_arch[@]}" -Xcompiler -fPIC -shared -o "$lib" "$work/$stem.cu" > "$log" 2>&1
    fi
    status=$?
    if [ -n "$verbose" ] && [ -s "$log" ]; then sed 's/^/  | /' "$log"; fi
    if [ $status -ne 0 ]; then
        echo "FAIL $label: does not compile"
        sed 's/^/  | /' "$log" | head -n 20
        failed=$((failed + 1)); continue
    fi

    ${timeout_cmd[@]+"${timeout_cmd[@]}"} "$work/check" ${seed_args[@]+"${seed_args[@]}"} "$op" "${dim_list[@]}" "$lib"
    status=$?
    if [ $status -eq 0 ]; then
        passed=$((passed + 1))
    else
        [ $status -eq 124 ] && echo "FAIL $label: timed out after ${run_timeout}s"
        [ $status -ge 2 ] && [ $status -ne 124 ] && echo "FAIL $label: checker exited with status $status"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
