"""``./dev bench [name ...]``: run benchmarks, write ``bench/results/<name>.md``."""

import os
import sys

from bench import catalog, console, gateway, image, metrics, orders, reservations, user

BENCHMARKS = {
    "user": user.main,
    "catalog": catalog.main,
    "reservations": reservations.main,
    "orders": orders.main,
    "gateway": gateway.main,
    "image": image.main,
    "metrics": metrics.main,
    "console": console.main,
}


def main() -> None:
    duration = float(os.environ.get("BENCH_SECONDS", "5"))
    for name in sys.argv[1:] or list(BENCHMARKS):
        sys.stdout.write(BENCHMARKS[name](duration) + "\n")


if __name__ == "__main__":
    main()
