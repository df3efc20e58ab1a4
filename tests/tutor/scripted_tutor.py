"""A stand-in tutor model for tests that need one to speak predictably: it does what the real
model is trained to do (adapt the prompt's authored candidate to the learner), word by word,
so the study page's streaming, guards, storage and fallbacks can be driven without training a
model. Loaded through RAMP_TUTOR_MODEL_LOADER="tests.tutor.scripted_tutor.ScriptedTutor".

Special learner words steer it: "REVEAL <text>" makes it say <text> (to test the reveal guard),
"HANG" makes it stall (to test the time budget)."""

import re
import time


def _line(system: str, label: str) -> str:
    m = re.search(rf"^{label}: (.*)$", system, re.M)
    return m.group(1) if m else ""


class ScriptedTutor:
    def __init__(self, path="", *, name="scripted"):
        self.path, self.name = path, name

    def compose(self, dialogue: dict) -> str:
        system = dialogue["messages"][0]["content"]
        learner = dialogue["messages"][-1]["content"]
        if learner.startswith("REVEAL "):
            return learner[len("REVEAL ") :]
        probe, hint, material = _line(system, "Probe"), _line(system, "Hint"), _line(system, "Material")
        task = dialogue["task"]
        if task == "respond_to_mistake" and len(dialogue["messages"]) > 2 and hint:
            return f"Thanks. Here's a hint: {hint}"
        if task == "respond_to_mistake":
            return (
                f"You wrote {learner}. {probe}"
                if probe
                else f"How did you get {learner}? Walk me through it."
            )
        if task == "hint":
            return f"Here's a hint: {hint}"
        return f"From the material: {material}" if material else "Could you say more about what you mean?"

    def reply(self, dialogue: dict, *, max_tokens: int = 64, seed: int = 0, temperature: float = 0.0):
        if dialogue["messages"][-1]["content"] == "HANG":
            time.sleep(30)
        words = self.compose(dialogue).split(" ")
        for i, word in enumerate(words[:max_tokens]):
            time.sleep(0.01)
            yield (word if i == 0 else " " + word), False
        if len(words) <= max_tokens:
            yield "", True
