"""What the headless commands print: the stable JSON shapes and their text forms.

Everything printed goes through one of three functions built on
``funnel.engine.text``: ``safe`` (text, tabs and newlines kept), ``safe_line`` (one
line: errors and warnings) and ``dumps`` (JSON), so stored text, whoever typed it,
never drives the terminal.
"""

from __future__ import annotations

import json
from typing import Any

from funnel.engine.transfer.exporter import contact_document
from funnel.engine.errors import Conflict
from funnel.engine.model import FIELDS
from funnel.engine.text import json_visible, visible
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.facade import EditResult, Workspace


def safe(value: Any) -> str:
    """Contact text for a terminal: control and bidi characters shown, never executed."""
    return visible("" if value is None else str(value), keep="\t\n")


def safe_line(value: Any) -> str:
    """Like ``safe`` but one line: a newline shows as ``\\x0a`` (an error is one line)."""
    return visible("" if value is None else str(value))


def dumps(data: Any) -> str:
    """``data`` as indented JSON, readable (not ASCII-only) yet safe on a terminal."""
    return json_visible(json.dumps(data, ensure_ascii=False, indent=2))


def contact_json(workspace: Workspace, contact_id: int) -> dict[str, Any]:
    """The shape ``funnel export --format json`` writes for each contact, too."""
    document = workspace.get(contact_id)
    return contact_document(contact_id, document, workspace.classification(contact_id))


def edit_json(result: EditResult) -> dict[str, Any]:
    return {
        "id": result.contact_id,
        "changed": {name: {"from": old, "to": new} for name, (old, new) in result.changed.items()},
        "before": result.before.to_dict(),
        "after": result.after.to_dict(),
    }


def rules_json(rules: Rules) -> dict[str, Any]:
    return {
        "name": rules.name,
        "source": rules.source,
        "stages": [{"id": s.id, "label": s.label, "when": s.when.text if s.when else None,
                    "next_action": s.next_action, "rotting_days": s.rotting_days,
                    "exit": s.is_exit} for s in rules.stages + rules.exits],
        "fit": [{"id": r.id, "label": r.label, "points": r.points,
                 "when": r.when.text if r.when else None} for r in rules.fit],
        "engagement": [{"id": r.id, "label": r.label, "points": r.points,
                        "activity": r.activity, "max": r.maximum,
                        "when": r.when.text if r.when else None} for r in rules.engagement],
        "half_life_days": rules.half_life_days,
        "grades": {str(grade): bar for grade, bar in rules.grades},
    }


def _table(counts: dict[str, int], total: int) -> list[str]:
    width = max((len(key) for key in counts), default=0)
    lines = []
    for key, count in counts.items():
        share = f"{100 * count / total:5.1f}%" if total else "     -"
        lines.append(f"  {key:<{width}}  {count:>7}  {share}")
    return lines


def stats_text(stats: dict[str, Any]) -> str:
    total = stats["total"]
    lines = [f"{total} contacts (rules: {stats['rules']})", "", "stages"]
    lines += _table(stats["stages"], total)
    lines += ["", "temperatures"] + _table(stats["temperatures"], total)
    lines += ["", "grades"] + _table(stats["grades"], total)
    lines += ["", "lead types"] + _table(stats["lead_types"], total)
    lines += ["", f"rotting {stats['rotting']}, overdue follow-ups {stats['overdue']}, "
              f"unanswered {stats.get('unanswered', 0)}"]
    return "\n".join(lines)


def card_text(data: dict[str, Any]) -> str:
    c = data["classification"]
    f = data["fields"]
    lines = [f"#{data['id']}  {safe(f['name'] or '(no name)')}  {safe(f['company'] or '')}",
             f"stage {c['stage']}{' (pinned)' if c['manual'] else ''}   score {c['score']}"
             f" (fit {c['fit']}, engagement {c['engagement']})   grade {c['grade']}"
             f"   {c['temperature']}   type {c['lead_type'] or '-'}"
             f"{'   ROTTING' if c['rotting'] else ''}{'   OVERDUE' if c['overdue'] else ''}"
             f"{'   UNANSWERED' if c.get('unanswered') else ''}",
             f"why this stage: {safe(c['stage_reason'])}",
             f"next action: {safe(c['next_action'])}", "", "fields"]
    for name, value in f.items():
        if value not in (None, [], ""):
            shown = ", ".join(value) if isinstance(value, list) else value
            lines.append(f"  {FIELDS[name].label:<22} {safe(shown)}")
    lines += ["", "score"]
    for item in c["explanation"]:
        lines.append(f"  {item['points']:+4d}  {safe(item['label'])}  [{item['rule']}]")
    lines.append(f"  ----\n  {c['raw_score']:4d}  total before clamping to 0-100")
    if data["custom"]:
        lines += ["", "custom fields"]
        width = min(30, max(len(key) for key in data["custom"]))
        for key, value in data["custom"].items():
            lines.append(f"  {safe(key):<{width}} {safe(value)}")
    lines += ["", f"activities ({len(data['activities'])})"]
    for activity in data["activities"][-10:]:
        count = f" x{activity['count']}" if activity.get("count", 1) != 1 else ""
        outcome = f" ({activity['outcome'].replace('_', ' ')})" if activity.get("outcome") else ""
        lines.append(f"  {activity['at'][:10]}  {activity['kind']}{count}{outcome}")
        lines += [f"      {safe(line)}" for line in (activity.get("note") or "").splitlines()
                  if not activity["note"].startswith("import: ")]  # logged notes only
    lines += ["", "history"]
    for record in data["history"]:
        what = record.get("field") or record["kind"]
        change = (f" {safe(_shown(record.get('from')))} -> {safe(_shown(record.get('to')))}"
                  if "from" in record else "")
        why = f"  ({safe(record['why'])})" if record.get("why") else ""
        lines.append(f"  {record['at']}  {safe(record['by'])}: {what}{change}{why}")
    return "\n".join(lines)


def _shown(value: Any) -> Any:
    return "-" if value in (None, "", []) else value


def edit_text(data: dict[str, Any]) -> str:
    before, after = data["before"], data["after"]
    if not data["changed"] and before["stage"] == after["stage"]:
        return f"#{data['id']}: nothing changed"
    lines = [f"#{data['id']}:"]
    for name, change in data["changed"].items():
        lines.append(f"  {name}: {safe(_shown(change['from']))} -> {safe(_shown(change['to']))}")
    for key in ("stage", "score", "grade", "temperature", "lead_type"):
        if before[key] != after[key]:
            lines.append(f"  {key}: {before[key]} -> {after[key]}")
    return "\n".join(lines)


def rules_text(data: dict[str, Any]) -> str:
    lines = [f"rules {data['name']} from {data['source']}", "", "stages"]
    for stage in data["stages"]:
        kind = "exit " if stage["exit"] else ""
        lines.append(f"  {kind}{stage['id']:<14} when {stage['when'] or '(set by hand)'}")
    lines += ["", "fit"]
    lines += [f"  {r['points']:+5g}  {r['id']:<34} {r['when']}" for r in data["fit"]]
    lines += ["", f"engagement (half-life {data['half_life_days']:g} days)"]
    for r in data["engagement"]:
        what = f"per {r['activity']} (max {r['max']:g})" if r["activity"] else f"when {r['when']}"
        lines.append(f"  {r['points']:+5g}  {r['id']:<34} {what}")
    lines += ["", "grades " + ", ".join(f"{g}: >= {bar:g}" for g, bar in data["grades"].items())]
    return "\n".join(lines)


def conflict_json(conflict: Conflict) -> dict[str, Any]:
    """A refused edit (exit 3), for scripts: each field, what was expected, what is
    stored now and who stored it when."""
    return {"conflict": {
        "id": conflict.contact_id,
        "clashes": [{"field": clash.field, "expected": clash.seen, "now": clash.theirs,
                     "yours": clash.mine, "by": clash.by, "at": clash.at}
                    for clash in conflict.clashes]}}
