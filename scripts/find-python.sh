#!/usr/bin/env sh
# Prints the path of a working Python 3.10 interpreter (Rasa 3.6 needs < 3.11).
# Looks on PATH first, then in pyenv's versions folder (where the shim may be inactive).
for candidate in "${PYTHON310:-}" python3.10 \
    $(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r) \
    /usr/bin/python3.10 /usr/local/bin/python3.10; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
echo "find-python: no working Python 3.10 found (install it, or set PYTHON310=/path/to/python3.10)" >&2
exit 1
