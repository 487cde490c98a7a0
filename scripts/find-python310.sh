#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 needs it), or explain what to install.
set -euo pipefail
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for d in "$root"/versions/3.10*; do [ -x "$d/bin/python" ] && candidates+=("$d/bin/python"); done
fi
for c in python3.10; do command -v "$c" >/dev/null 2>&1 && candidates+=("$(command -v "$c")"); done
for py in "${candidates[@]}"; do
  if "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
    echo "$py"; exit 0
  fi
done
echo "Python 3.10 was not found: install it (for example 'pyenv install 3.10.13') and run the command again; Rasa 3.6 runs only on Python 3.10." >&2
exit 1
