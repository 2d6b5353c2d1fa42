# bench/common/args.sh: the command line of bench/run.sh and bench/sgemm/run.sh,
# sourced by both:  [--quick] [BUILD_DIR]  and  -h/--help.
#
#   bench_parse_args SCRIPT HELP_LAST ARGS...
#
# sets `quick` ("--quick" or "") and `build` (an absolute path; default
# $repo/build-bench, so `repo` must be set); --help prints lines 2..HELP_LAST
# of SCRIPT without their "# " and exits 0; an unknown flag exits 2.
bench_parse_args() {
  local script=$1 help_last=$2 arg
  shift 2
  quick=""
  build="$repo/build-bench"
  for arg in "$@"; do
    case "$arg" in
    --quick) quick="--quick" ;;
    -h | --help)
      sed -n "2,${help_last}p" "$script" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "run.sh: unknown flag $arg" >&2
      exit 2
      ;;
    *) build=$(realpath -m "$arg") ;;
    esac
  done
}
