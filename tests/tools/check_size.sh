#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No C source or header over 800 lines (docs/CODE_STYLE.md rule 1); generated files, which
# say so in their first lines, are exempt.
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
while IFS= read -r f; do
  n=$(wc -l <"$f")
  if [ "$n" -gt 800 ] && ! head -5 "$f" | grep -qi 'generated'; then
    echo "check_size: $f has $n lines (limit 800): split it by responsibility"
    status=1
  fi
done < <(git ls-files '*.c' '*.h')
exit $status
