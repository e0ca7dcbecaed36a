# Shared by the launchers in this folder: decides which Python runs the
# language host, a dynamic provider or a policy pack. Sourced, not executed,
# and POSIX sh only, since the engine starts plugins with the system shell.
# Names start with `sp_` because sh has no local variables.

# Prints the nearest directory at or above $PWD that holds a Pulumi.yaml, or
# nothing. The engine starts plugins in the program's own folder, which lies
# below the project root when Pulumi.yaml says `main: some/dir`, while the
# `virtualenv` option is relative to the project root.
sp_project_root() {
  sp_dir=$PWD
  while :; do
    if [ -f "$sp_dir/Pulumi.yaml" ] || [ -f "$sp_dir/Pulumi.yml" ]; then
      printf '%s\n' "$sp_dir"
      return 0
    fi
    [ "$sp_dir" = / ] && return 0
    sp_dir=$(dirname "$sp_dir")
  done
}

# Prints the `virtualenv` runtime option of the Pulumi.yaml in folder "$1", or
# nothing. A line-based read, not a YAML parser: the key appears nowhere else
# in a Pulumi.yaml, and a wrong guess only changes which Python starts the
# language host, never which one runs the program.
sp_project_virtualenv() {
  sed -n 's/^[[:space:]]*virtualenv:[[:space:]]*//p' "$1/Pulumi.yaml" 2>/dev/null |
    head -n 1 |
    sed -e 's/[[:space:]]#.*$//' -e 's/[[:space:]]*$//' -e "s/^[\"']//" -e "s/[\"']$//"
}

# Prints the absolute path of virtualenv "$1". A relative path is tried
# against $PWD first, then against the project root.
sp_resolve_venv() {
  sp_venv=${1%/}
  case $sp_venv in
    /*) printf '%s\n' "$sp_venv"; return 0 ;;
  esac
  if [ -x "$PWD/$sp_venv/bin/python" ]; then
    printf '%s\n' "$PWD/$sp_venv"
    return 0
  fi
  sp_root=$(sp_project_root)
  if [ -n "$sp_root" ] && [ -x "$sp_root/$sp_venv/bin/python" ]; then
    printf '%s\n' "$sp_root/$sp_venv"
    return 0
  fi
  printf '%s\n' "$PWD/$sp_venv"
}

# Sets PYTHON to the interpreter of virtualenv "$1". With a second argument
# "activate", also puts the virtualenv first on PATH, as `activate` would, for
# the subprocesses a provider starts. Fails with instructions when the
# virtualenv is missing: nothing here creates one, so that runs stay offline.
sp_use_venv() {
  sp_venv=$(sp_resolve_venv "$1")
  if [ ! -x "$sp_venv/bin/python" ]; then
    echo "The virtualenv '$1' (resolved to $sp_venv) has no bin/python." >&2
    echo "Create it and install the program's dependencies into it, e.g.:" >&2
    echo "    python3 -m venv $sp_venv && $sp_venv/bin/pip install -e ." >&2
    return 1
  fi
  PYTHON=$sp_venv/bin/python
  if [ "${2:-}" = activate ]; then
    PATH=$sp_venv/bin:$PATH
    VIRTUAL_ENV=$sp_venv
    export PATH VIRTUAL_ENV
    unset PYTHONHOME
  fi
}

# Sets PYTHON to $PULUMI_PYTHON_CMD when that is set, else to python3.
sp_use_ambient_python() {
  PYTHON=${PULUMI_PYTHON_CMD:-python3}
}
