"""Benchmark for the trainers: which `min_margin` should the second opinion use?

`bot.understanding.second_opinion.SecondOpinionClassifier` replaces DIET's reading with the
linear model's when the linear model's best score beats its second by `min_margin`, and
makes the bot ask when the two disagree by less. This bench reads the held-apart NLU tests
(tests/nlu, the tuning set: the margin is chosen there) and the team's evaluation set
(bench/eval, the check) once with the trained NLU model of config.yml (the one
bench/judgement.py caches), takes each message's reading as it was before the second
opinion, and gives it the second opinion again for each margin in MARGINS. Prints, per margin
and set: right behaviour %, wrong confident answers % and out-of-scope handled %, scored as
bench/judgement.py scores them; the margin to choose is the one with the most right
behaviour on tests/nlu whose wrong confident answers stay at or under 1%.

Run with `.venv/bin/python bench/margins.py` after bench/judgement.py (it trains the model when
none is cached). Nothing here is asserted.
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

PROJECT = Path(__file__).resolve().parents[1]
for path in (PROJECT, PROJECT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import judgement  # noqa: E402

from bot.understanding.behaviour import EXPECTED_BEHAVIOURS, SCOPE, behaviour_of  # noqa: E402

if TYPE_CHECKING:
    from bot.understanding.second_opinion import LinearReader

MARGINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
WRONG_CONFIDENT_BAR = 1.0


def tuning_set() -> list[judgement.EvalMessage]:
    """tests/nlu as evaluation messages: the out_of_scope examples are scope messages."""
    from rasa.shared.nlu.training_data.loading import load_data

    messages = []
    for language in judgement.LANGUAGES:
        data = load_data(str(PROJECT / "tests" / "nlu" / f"test_nlu_{language}.yml"))
        for example in data.intent_examples:
            intent = example.get("intent")
            if intent == "out_of_scope":
                messages.append(judgement.EvalMessage(example.get("text"), SCOPE, None, (),
                                                      language))
            elif behaviour_of(intent) in EXPECTED_BEHAVIOURS:
                messages.append(judgement.EvalMessage(example.get("text"),
                                                      behaviour_of(intent), intent, (),
                                                      language))
    return messages


def readings_before(model: Path, texts: list[str]) -> list[dict]:
    """Each text's reading as the pipeline had it before the second opinion."""
    from bot.understanding.second_opinion import SECOND_OPINION
    from bot.understanding.unfamiliar_text import UNFAMILIAR

    readings = []
    for text, parsed in zip(texts, judgement.parse_whole(model, texts), strict=True):
        opinion = parsed.get(SECOND_OPINION) or {}
        readings.append({"text": text,
                         "intent": opinion.get("was") or (parsed.get("intent") or {}).get("name"),
                         "unfamiliar": bool(parsed.get(UNFAMILIAR))})
    return readings


def model_reader(model: Path) -> LinearReader:
    """The linear model the trained model itself holds (fitted at its training)."""
    import joblib

    from bot.understanding.second_opinion import MODEL_FILE, LinearReader

    with tarfile.open(model) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith(f"/{MODEL_FILE}"))
        return LinearReader(joblib.load(archive.extractfile(member)))


def reread(readings: list[dict], reader: LinearReader, margin: float) -> list[str | None]:
    """The final intents with the second opinion at `margin` (the same component code)."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.understanding.second_opinion import SecondOpinionClassifier
    from bot.understanding.unfamiliar_text import UNFAMILIAR

    component = SecondOpinionClassifier({"min_margin": margin}, None, None,  # type: ignore[arg-type]
                                        reader)
    messages = [Message(data={"text": r["text"], "intent": {"name": r["intent"]},
                              UNFAMILIAR: r["unfamiliar"] or None}) for r in readings]
    component.process(messages)
    return [(message.get("intent") or {}).get("name") for message in messages]


def main() -> None:
    config_text = (PROJECT / "config.yml").read_text(encoding="utf-8")
    if not any(str(step.get("name", "")).endswith("SecondOpinionClassifier")
               for step in yaml.safe_load(config_text)["pipeline"]):
        raise SystemExit("config.yml has no SecondOpinionClassifier")
    model, _ = judgement.trained_model(config_text)
    sets = {"tests/nlu": tuning_set(),
            "bench/eval": [m for lang in judgement.LANGUAGES
                           for m in judgement.load_eval_set()[lang]]}
    before = {name: readings_before(model, [m.text for m in messages])
              for name, messages in sets.items()}
    reader = model_reader(model)
    print(f"{'margin':>6}  " + "  ".join(f"{name:>30}" for name in sets))
    print(f"{'':>6}  " + "  ".join(f"{'right  wrong conf.  oos handled':>30}" for _ in sets))
    chosen = None
    for margin in MARGINS:
        row = []
        for name, messages in sets.items():
            finals = reread(before[name], reader, margin)
            figures = judgement.score(zip(messages, finals, strict=True))
            row.append(f"{figures['right_behaviour_pct']:>5.1f}%  "
                       f"{figures['wrong_confident_answers_pct']:>9.1f}%  "
                       f"{figures['out_of_scope_handled_pct'] or 0:>10.1f}%")
            if name == "tests/nlu" and \
                    figures["wrong_confident_answers_pct"] <= WRONG_CONFIDENT_BAR and \
                    (chosen is None or figures["right_behaviour_pct"] > chosen[1]):
                chosen = (margin, figures["right_behaviour_pct"])
        print(f"{margin:>6.1f}  " + "  ".join(f"{cell:>30}" for cell in row))
    if chosen:
        print(f"most right behaviour on tests/nlu with wrong confident answers <= "
              f"{WRONG_CONFIDENT_BAR}%: min_margin {chosen[0]}")


if __name__ == "__main__":
    main()
