"""Write tests/expected/<stem>.ipynb: each notebook executed at its smoke parameters, keeping the
outputs of the cells tagged ``nbval-check-output`` only (the summaries ``make test`` compares).

    .venv/bin/python tests/expected/refresh.py build/smoke/executed/*.ipynb
"""

import json
import sys
from pathlib import Path

CHECKED = "nbval-check-output"


def keep_checked_outputs(notebook: dict) -> dict:
    for cell in notebook["cells"]:
        cell.get("metadata", {}).pop("papermill", None)       # run times: not part of a result
        if cell["cell_type"] != "code":
            continue
        if CHECKED not in cell.get("metadata", {}).get("tags", []):
            cell["outputs"] = []
        cell["outputs"] = [output for output in cell["outputs"]      # warnings are not results
                           if not (output["output_type"] == "stream" and output["name"] == "stderr")]
        # nbval compares only cells that ran: keep a count where outputs are kept
        cell["execution_count"] = cell["execution_count"] if cell["outputs"] else None
        cell["metadata"].pop("execution", None)
        cell["metadata"].pop("papermill", None)
    notebook["metadata"].pop("papermill", None)
    return notebook


if __name__ == "__main__":
    for executed in map(Path, sys.argv[1:]):
        notebook = keep_checked_outputs(json.loads(executed.read_text()))
        target = Path(__file__).parent / executed.name
        target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {target}")
