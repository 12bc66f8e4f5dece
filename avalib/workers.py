"""One Dask cluster for a whole run of several notebooks, so that no worker idles while another
notebook has units waiting:

    python -m avalib.workers local:2 -- make -j6 notebooks PROFILE=default

starts the cluster that the scheduler names (``local:N`` or ``slurm:N``, ``avalib.fanout.cluster``),
runs the command with ``$AVALIB_SCHEDULER`` set to the cluster's address, so every notebook the
command runs submits its units to the same workers (a notebook's sweep that ends with one unit
left no longer holds the other worker idle: the next notebook's units take it), and closes the
cluster when the command ends; the exit status is the command's. A scheduler that is already an
address or a scheduler file is passed on as it is."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from avalib import fanout


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m avalib.workers", description=__doc__.split("\n\n")[0])
    parser.add_argument("scheduler", help="local:N, slurm:N, tcp://host:port or a scheduler file")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    arguments = parser.parse_args(argv)
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("no command given: python -m avalib.workers SCHEDULER -- COMMAND ...")
    try:
        scheduler = fanout.resolve_scheduler(arguments.scheduler)
    except ValueError as error:
        print(f"avalib.workers: {error}", file=sys.stderr)
        return 2
    if not scheduler.startswith(("local:", "slurm:")):
        return subprocess.call(command, env={**os.environ, fanout.SCHEDULER_VARIABLE: scheduler})
    with fanout.cluster(scheduler) as started:
        print(f"avalib.workers: {scheduler} at {started.scheduler_address} for: {' '.join(command)}",
              flush=True)
        return subprocess.call(command, env={**os.environ,
                                             fanout.SCHEDULER_VARIABLE: started.scheduler_address})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
