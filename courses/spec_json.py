"""Specs as JSON for the database (ItemVersion.spec, ConceptMisconception.spec).

Only the fields that take part in equality are stored: source positions (file, line) are
authoring details of one file, not of the item.
"""

import json
from dataclasses import fields

from courses.specs import ItemSpec, Match, MisconceptionSpec, ParamSpec


def _stored(spec) -> dict:
    return {f.name: getattr(spec, f.name) for f in fields(spec) if f.compare}


def match_to_json(match: Match | None):
    if match is None:
        return None
    value = list(match.value) if isinstance(match.value, tuple) else match.value
    return {"kind": match.kind, "value": value}


def match_from_json(data) -> Match | None:
    if data is None:
        return None
    value = tuple(data["value"]) if isinstance(data["value"], list) else data["value"]
    return Match(kind=data["kind"], value=value)


def misconception_to_json(spec: MisconceptionSpec) -> dict:
    data = _stored(spec)
    data["match"] = match_to_json(spec.match)
    return data


def misconception_from_json(data: dict) -> MisconceptionSpec:
    return MisconceptionSpec(**{**data, "match": match_from_json(data.get("match"))})


def item_to_json(spec: ItemSpec) -> dict:
    data = _stored(spec)
    data["params"] = [_stored(p) for p in spec.params]
    data["misconceptions"] = [misconception_to_json(m) for m in spec.misconceptions]
    # Through JSON once, so the result compares equal to what the database gives back
    # (tuples become lists at every depth).
    return json.loads(json.dumps(data))


def item_from_json(data: dict) -> ItemSpec:
    values = dict(data)
    values["params"] = tuple(
        ParamSpec(**{**p, "choices": tuple(p.get("choices", ()))}) for p in data.get("params", ())
    )
    values["misconceptions"] = tuple(misconception_from_json(m) for m in data.get("misconceptions", ()))
    values["derived"] = tuple(tuple(pair) for pair in data.get("derived", ()))
    for name in ("answers", "choices", "units", "variables", "hints", "constraints"):
        values[name] = tuple(data.get(name, ()))
    return ItemSpec(**values)
