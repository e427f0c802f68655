"""The Scoring tab's model section as Content, from a saved model (plain functions).

What the learned likelihood is worth next to the rules: AUC and Brier of both on the
same held-out contacts, a reliability chart (predicted vs observed per tenth, drawn
with block characters) with the lift of each tenth, the heaviest weights, when and on
what it was trained, whether it is leaky; and the last fit of the rules' points.
Feature names and levels come from the contacts (custom fields): shown literally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.content import Content

from funnel.engine.rules.ruleset import Rules
from funnel.tui.widgets.text import literal

if TYPE_CHECKING:  # numpy comes with the model, loaded only when there is one
    from funnel.engine.learn.fit_rules import FitRulesResult
    from funnel.engine.learn.model_file import Model

EIGHTHS = " ▏▎▍▌▋▊▉"
WEIGHTS_SHOWN = 8
AFTER_CONTACT = "after the sales contact"


def heading(text: str) -> Content:
    return Content.styled(text, "bold $accent")


def bar(fraction: float, cells: int) -> str:
    """``fraction`` (0-1) of ``cells`` as full and eighth blocks, padded to ``cells``."""
    eighths = round(max(0.0, min(1.0, fraction)) * cells * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part else "")
    return text + " " * (cells - len(text))


def _figure(value: Any, digits: int = 3) -> str:
    return f"{float(value):.{digits}f}" if isinstance(value, (int, float)) else "–"


def trained(model: Model, rules: Rules) -> list[Content]:
    """When and on what it was trained, and whether it is leaky."""
    on = model.trained_on
    when = model.trained_at.replace("T", " ").replace("Z", " UTC") or "an unknown time"
    lines = [heading("Learned likelihood"),
             Content(f"trained {when} on {on.get('contacts', 0):,} contacts: "
                     f"{on.get('positives', 0):,} won, {on.get('negatives', 0):,} lost")]
    where = Content.styled("from ", "dim") + Content(literal(on.get("db") or "?"))
    if on.get("rules"):
        where += Content.styled(" under rules ", "dim") + Content(literal(on["rules"]))
        if on.get("rules_fingerprint") and on["rules_fingerprint"] != rules.fingerprint:
            where += Content.styled(" (changed since)", "$warning")
    lines.append(where)
    after = [item for item in model.excluded if AFTER_CONTACT in item.why]
    if model.uses_after_contact:
        lines.append(Content.styled("LEAKY: learned from after-contact data; its figures "
                                    "overstate how it ranks new leads", "bold $error"))
    else:
        lines.append(Content.styled("not leaky: ", "$success") + Content(
            f"{len(after)} source{'s' if len(after) != 1 else ''} recorded after contact "
            "left out" if after else "no source is marked as recorded after contact"))
    return lines


def figures(validation: dict[str, Any]) -> list[Content]:
    """AUC and Brier of the model and of the rules' score on the same held-out contacts."""
    if not validation.get("auc"):
        return [heading("Held-out figures"),
                Content.styled("this model file holds no held-out figures: run funnel "
                               "learn again to measure it", "$warning")]
    lines = [heading("Held-out figures"),
             Content(f"{validation.get('holdout', 0):,} contacts held out "
                     f"({literal(validation.get('split', '?'))}), trained on "
                     f"{validation.get('train', 0):,}"),
             Content.styled(f"  {'':<14}{'AUC':>7}{'Brier':>8}", "bold"),
             Content(f"  {'model':<14}{_figure(validation['auc']):>7}"
                     f"{_figure(validation.get('brier')):>8}")]
    rules_auc, rules_brier = validation.get("baseline_auc"), validation.get("baseline_brier")
    line = Content(f"  {'rules score':<14}{_figure(rules_auc):>7}{_figure(rules_brier):>8}")
    if rules_auc is None:
        line += Content.styled("  not measured when it was trained", "dim")
    elif rules_brier is None:
        line += Content.styled("  (no Brier in this model file)", "dim")
    else:
        line += Content.styled("  (Brier of score/100)", "dim")
    lines.append(line)
    lines.append(Content.styled("  AUC: the chance a converter ranks above a non-converter "
                                "(0.5: a coin)", "dim"))
    lines.append(Content.styled("  Brier: the mean squared error of the chance (lower is "
                                "better)", "dim"))
    return lines


def reliability(deciles: list[dict[str, Any]], width: int) -> list[Content]:
    """Predicted vs observed per tenth of held-out contacts, as bars, with the lift."""
    if not deciles:
        return []
    cells = max(8, min(30, (width - 36) // 2))
    total = sum(int(item["contacts"]) for item in deciles) or 1
    overall = sum(float(item["observed"]) * int(item["contacts"]) for item in deciles) / total
    lines = [heading("Reliability per tenth (1 = lowest likelihood) and lift"),
             Content.styled(f" {'tenth':>5}  {'predicted':<{cells + 7}}"
                            f"{'observed':<{cells + 7}}{'lift':>6}", "bold")]
    for item in deciles:
        predicted, observed = float(item["predicted"]), float(item["observed"])
        lift = observed / overall if overall else 0.0
        lines.append(Content(f" {int(item['tenth']):>5}  ")
                     + Content.styled(bar(predicted, cells), "$secondary")
                     + Content(f"{100 * predicted:>5.1f}% ")
                     + Content.styled(bar(observed, cells), "$accent")
                     + Content(f"{100 * observed:>5.1f}% ")
                     + Content.styled(f"{lift:>5.2f}×", "bold" if lift >= 1 else "dim"))
    lines.append(Content.styled(f"  calibrated when the two bars match; lift: the tenth's "
                                f"rate over the average ({100 * overall:.0f}%)", "dim"))
    return lines


def weights(model: Model, count: int = WEIGHTS_SHOWN) -> list[Content]:
    """The heaviest weights: the levels that move the log-odds most, either way."""
    found = []
    for feature in model.features:
        for level, weight in zip(feature.labels, feature.weights):
            joint = " has " if feature.kind == "tags" else " = "
            found.append((weight, literal(feature.source) + joint + literal(level)))
    found.sort(key=lambda item: -abs(item[0]))
    lines = [heading(f"Heaviest weights (log-odds, of {len(found):,} in "
                     f"{len(model.features)} features)")]
    for weight, what in found[:count]:
        lines.append(Content.styled(f"  {weight:>+6.2f}  ", "bold $success" if weight > 0
                                    else "bold $error") + Content(what))
    return lines


def left_out(model: Model) -> list[Content]:
    """What the leakage guard kept out, beyond the fields never read."""
    shown = [item for item in model.excluded
             if AFTER_CONTACT in item.why or "separates" in item.why]
    if not shown:
        return []
    return [heading("Left out (leakage guard)")] + [
        Content("  " + literal(item.feature)) + Content.styled(f": {literal(item.why)}", "dim")
        for item in shown]


def fitted(result: FitRulesResult | None, progress: str) -> list[Content]:
    """The last fit of the rules' points, or how to make one."""
    lines = [heading("Rules' points fitted from outcomes")]
    if progress:
        return lines + [Content.styled(progress, "italic")]
    if result is None:
        return lines + [Content("f fits the points of the fit and engagement rules to the "
                                "won and lost contacts: a draft, previewed, saved only by "
                                "ctrl+s (R reverts)")]
    lines.append(Content(f"held-out AUC: today's points {result.today_auc:.3f}, proposed "
                         f"{result.proposed_auc:.3f} ({result.holdout:,} contacts, "
                         f"{literal(result.split)})"))
    changed = [item for item in result.proposals if item.proposed != item.today]
    for item in changed:
        change = f"{item.today:+g} → {item.proposed:+d}"
        lines.append(Content.styled(f"  {change:>11}  ", "bold")
                     + Content(f"{literal(item.rule.id):<28}") + Content.styled(item.why, "dim"))
    if not changed:
        lines.append(Content.styled("  every rule keeps its points", "dim"))
    return lines


def model_report(model: Model | None, problem: str, rules: Rules, width: int,
                 fit_result: FitRulesResult | None = None, fit_progress: str = "") -> Content:
    """The whole section, ``width`` cells wide."""
    try:
        lines = _model_lines(model, problem, rules, width)
    except (ValueError, TypeError, KeyError, AttributeError) as error:  # a hand-edited file
        lines = [heading("Learned likelihood"), Content.styled(
            f"the model file's figures cannot be read ({literal(error)}): run funnel learn "
            "again", "$error")]
    lines += [Content("")] + fitted(fit_result, fit_progress)
    return Content("\n").join(lines)


def _model_lines(model: Model | None, problem: str, rules: Rules, width: int
                 ) -> list[Content]:
    if problem:
        lines = [heading("Learned likelihood"), Content.styled(literal(problem), "$error")]
    elif model is None:
        lines = [heading("Learned likelihood"),
                 Content("no model for this database yet: funnel learn trains one from"),
                 Content("the won and lost contacts and saves it beside the database")]
    else:
        lines = trained(model, rules) + [Content("")] + figures(model.validation)
        chart = reliability(model.validation.get("deciles") or [], width)
        lines += ([Content("")] + chart if chart else []) + [Content("")] + weights(model)
        excluded = left_out(model)
        lines += [Content("")] + excluded if excluded else []
    return lines
