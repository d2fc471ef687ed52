#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain what to install and exit 1.
# Why: Mesa 3.5 needs Python >= 3.12, and on our machines `python3` is 3.11 while 3.12/3.13
# live under pyenv without being selected, so `python3.12` on PATH may be a shim that fails.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${NEGSIM_PYTHON:-}" ] && candidates+=("$NEGSIM_PYTHON")
for v in python3.12 python3.13 python3 python; do
  p=$(command -v "$v" 2>/dev/null) && candidates+=("$p")
done
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for d in $(ls -d "$root"/versions/3.1[2-9]* 2>/dev/null | sort -V); do
    candidates+=("$d/bin/python3")
  done
fi
for d in $(ls -d "$HOME"/.pyenv/versions/3.1[2-9]* /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9] 2>/dev/null | sort -rV); do
  [ -d "$d" ] && candidates+=("$d/bin/python3") || candidates+=("$d")
done
for c in "${candidates[@]}"; do
  if [ -x "$c" ] && ok "$c"; then
    "$c" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
cat >&2 <<'MSG'
negsim needs Python >= 3.12 (Mesa 3.5 requires it) and none was found.
Install one of:
  - Debian/Ubuntu:  apt-get install python3.12 python3.12-venv   (or python3.13)
  - pyenv:          pyenv install 3.12
  - macOS:          brew install python@3.12
or point NEGSIM_PYTHON at an existing interpreter, e.g. NEGSIM_PYTHON=/opt/py312/bin/python3 make run
MSG
exit 1
