"""A toy objective for `plinth tune`: reads its params from --name=value args, "trains" for ten
steps printing the loss as `plinth-metric` lines (so the median pruner can stop it early) and
prints the final objective. Any language can do the same; MLFLOW_RUN_ID names the trial's run
if the command wants to log more with the mlflow client."""
import argparse
import time

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=int, required=True)
parser.add_argument("--shape", choices=["bowl", "ridge"], required=True)
args = parser.parse_args()

target = (args.x - 2) ** 2 + (args.y + 1) ** 2 + (0 if args.shape == "bowl" else 3)
loss = target + 10.0
for step in range(10):
    loss = target + 10.0 / (step + 1)  # converges towards the target
    print(f"plinth-metric loss={loss} step={step}", flush=True)
    time.sleep(0.05)
print(f"plinth-objective value={loss}", flush=True)
