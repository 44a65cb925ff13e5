"""Prints one line about a `plinth data drift --format json` report read from stdin."""
import json
import sys

report = json.load(sys.stdin)
drifted = [f"{name} ({col['test']})" for name, col in report["columns"].items() if col["drifted"]]
print(f"  drift next month vs this month: {len(drifted)} of {len(report['columns'])} columns "
      f"drifted: {', '.join(drifted) or 'none'} (report: plinth-data/churn-drift.html)")
