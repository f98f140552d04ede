# Sourced by the scripts: make sure .venv exists with Outpost and the given extras installed.
# Usage: ensure_venv "" | ensure_venv "[test]"
ensure_venv() {
  local extras="$1" python="" candidate
  for candidate in python3 python3.13 python3.12 python3.11; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
  if [ -z "$python" ]; then
    echo "Outpost needs Python 3.11 or newer" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
  fi
  # Reinstall only when the project's requirements changed since the last install.
  local stamp=".venv/.outpost-installed${extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    # (pip's notes about this machine's optional local package folders are noise.)
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}" \
      2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    touch "$stamp"
  fi
}
