"""Writes the demo's churn data as CSV: plinth-data/churn.csv (this month's customers) and
plinth-data/churn-next.csv (next month's, whose support calls and charges have shifted), from
the same generator the quickstart trains on."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from quickstart import churn_data  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else "plinth-data")
out.mkdir(exist_ok=True)
x, y = churn_data(4000, seed=100)
x.assign(churned=y).to_csv(out / "churn.csv", index_label="customer_id")
nxt, y2 = churn_data(4000, seed=300)
nxt["support_calls"] = nxt["support_calls"] + 1          # a new ticketing system counts more
nxt["monthly_charges"] = (nxt["monthly_charges"] * 1.08).round(2)  # a price rise
nxt.assign(churned=y2).to_csv(out / "churn-next.csv", index_label="customer_id")
print(f"wrote {out / 'churn.csv'} and {out / 'churn-next.csv'}")
