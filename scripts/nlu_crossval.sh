#!/usr/bin/env bash
# Cross-validate the NLU (dialogs/config.yml on dialogs/data/nlu) and keep the report under reports/.
# Usage: scripts/nlu_crossval.sh [folds]   (default 5; about one training per fold)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FOLDS="${1:-5}"
OUT="$ROOT/reports/nlu-crossval"
mkdir -p "$OUT"
cd "$ROOT/dialogs"
"$ROOT/.venv-rasa/bin/rasa" test nlu \
  --nlu data/nlu \
  --config config.yml \
  --cross-validation --folds "$FOLDS" \
  --out "$OUT" 2>&1 | tee "$OUT/run.log" | grep -E "accuracy|F1-score|precision" || true
"$ROOT/.venv/bin/python" - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
report = out / "intent_report.json"
if not report.exists():
    sys.exit(f"no intent report in {out}: see {out / 'run.log'}")
data = json.loads(report.read_text())
lines = ["| intent | precision | recall | f1 | support |", "| --- | ---: | ---: | ---: | ---: |"]
for name, row in sorted(data.items()):
    if isinstance(row, dict) and "support" in row:
        lines.append(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1-score']:.3f} | {row['support']} |")
summary = out / "summary.md"
summary.write_text("# NLU cross-validation (test folds)\n\n" + "\n".join(lines) + "\n")
print(f"accuracy {data.get('accuracy', float('nan')):.3f}; summary: {summary}")
PY
