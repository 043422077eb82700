"""RESULTS/sessions.csv: one line per `python -m keras_gan.experiment` session over a results folder
(when it started, its wall-clock minutes, how many runs it trained, whether the classifier was
cached, whether it finished), which the report sums into how long the results took to make."""

import os

from keras_gan.runs import folder as run_folder

SESSION_FIELDS = ("started", "minutes", "trained", "classifier_cached", "finished")


def append(results: str, session: dict) -> None:
    """Adds `session` (a dict of SESSION_FIELDS) to RESULTS/sessions.csv."""
    path = os.path.join(results, "sessions.csv")
    os.makedirs(results, exist_ok=True)
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write(",".join(SESSION_FIELDS) + "\n")
        f.write(",".join(f"{session[k]:.2f}" if k == "minutes" else str(session[k]) for k in SESSION_FIELDS) + "\n")


def read(results: str) -> list[dict]:
    """The rows of RESULTS/sessions.csv: every session over these results, oldest first."""
    return [{"started": r["started"], "minutes": r["minutes"], "trained": int(r["trained"]),
             "classifier_cached": r["classifier_cached"] == "True", "finished": r["finished"] == "True"}
            for r in run_folder.read_csv(os.path.join(results, "sessions.csv"), ("minutes", "trained"),
                                         "mend or delete its damaged lines (they only record how long each session "
                                         "took)")]
