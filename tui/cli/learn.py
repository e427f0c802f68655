"""``funnel learn``: train the likelihood model from won and lost contacts, or fit the
rules' points from them (``--fit-rules``); and the likelihood that ``show --json``
and ``stats --json`` add when a model was saved beside the database.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from funnel.engine.errors import FunnelError

from funnel.tui.cli import output as cli_output

if TYPE_CHECKING:  # the engine's learning (numpy) is imported when a command needs it
    from funnel.engine.learn.fit_rules import FitRulesResult
    from funnel.engine.rules.ruleset import Rules
    from funnel.engine.workspace.facade import Workspace


def add_command(commands: Any, common: argparse.ArgumentParser) -> None:
    learn_ = commands.add_parser(
        "learn", parents=[common], help="train the likelihood model from won and lost "
        "contacts (saved beside the database), or fit the rules' points (--fit-rules)")
    learn_.add_argument("--json", action="store_true")
    learn_.add_argument("--use-after-contact", action="store_true",
                        help="also learn from what was recorded after the sales contact "
                        "(leaky: the figures then overstate how it ranks new leads)")
    learn_.add_argument("--fit-rules", action="store_true",
                        help="propose new whole points for the fit and engagement rules")
    learn_.add_argument("--save", action="store_true",
                        help="with --fit-rules: write the proposed points to your rules file")


def run(args: argparse.Namespace, db: Path, rules: Rules, rules_target: Path) -> int:
    from funnel.engine.learn.model_file import model_path, save_model
    from funnel.engine.learn.train import learn
    from funnel.engine.workspace.facade import Workspace

    if args.save and not args.fit_rules:
        raise FunnelError("learn: --save goes with --fit-rules (the model is always saved)")
    with Workspace.open(db, rules, create=False) as workspace:
        now = workspace.now()
        if args.fit_rules:
            return _fit_rules(args, workspace, rules, rules_target)
        model, report = learn(workspace.documents, rules, now,
                              use_after_contact=args.use_after_contact,
                              trained_on={"db": str(Path(db).resolve())})
    path = save_model(model, model_path(db))
    report["model"] = str(path)
    report["saved"] = ("retrained on every contact with an outcome after validation; the "
                       "figures are the held-out model's")
    for warning in report["warnings"]:
        print(f"funnel: warning: {cli_output.safe_line(warning)}", file=sys.stderr)
    if args.json:
        print(cli_output.dumps(report))
    else:
        print(learn_text(report))
    return 0


def learn_text(report: dict[str, Any]) -> str:
    baseline = report.get("baseline_auc")
    lines = [f"learned from {report['positives'] + report['negatives']:,} contacts "
             f"({report['positives']:,} won, {report['negatives']:,} lost or disqualified)",
             f"held out {report['holdout']:,} ({report['split']}), trained on "
             f"{report['train']:,}",
             f"  model AUC {report['auc']:.3f}   Brier {report['brier']:.3f}"
             + (f"   rules' score AUC {baseline:.3f} on the same contacts"
                if baseline is not None else ""),
             "", "  tenth  contacts  predicted  observed"]
    for tenth in report["deciles"]:
        lines.append(f"  {tenth['tenth']:5d}  {tenth['contacts']:8,d}  "
                     f"{100 * tenth['predicted']:8.1f}%  {100 * tenth['observed']:7.1f}%")
    after = [item for item in report["excluded"] if "after_contact" in item["why"]
             or "separates" in item["why"]]
    if after:
        lines += ["", "left out:"] + [f"  {cli_output.safe_line(item['feature'])}: "
                                      f"{item['why']}" for item in after]
    if report.get("leaky"):
        lines += ["", "LEAKY: this model uses after-contact data"]
    lines += ["", f"model saved to {cli_output.safe_line(report['model'])} "
              f"({report['saved']})"]
    return "\n".join(lines)


def _fit_rules(args: argparse.Namespace, workspace: Workspace, rules: Rules,
               target: Path) -> int:
    from funnel.engine.learn.fit_rules import fit_rules
    from funnel.engine.rules.saving import file_fingerprint, save_rules

    expect = rules.fingerprint if Path(rules.source).resolve() == target.resolve() \
        else file_fingerprint(target)
    result = fit_rules(workspace.documents, rules, workspace.now(),
                       use_after_contact=args.use_after_contact)
    data: dict[str, Any] = result.to_dict()
    today, proposed = workspace.stats(), workspace.preview_rules(result.rules)
    data["counts"] = {name: {"grades": counts.get("grades"),
                             "temperatures": counts.get("temperatures")}
                      for name, counts in (("today", today), ("proposed", proposed))}
    data["saved"] = None
    if args.save:
        save_rules(result.text, target, expect=expect)
        data["saved"] = str(target)
    if args.json:
        print(cli_output.dumps(data))
    else:
        print(fit_rules_text(result, data))
    return 0


def fit_rules_text(result: FitRulesResult, data: dict[str, Any]) -> str:
    lines = [f"held-out AUC: today's points {result.today_auc:.3f}, proposed "
             f"{result.proposed_auc:.3f}  ({result.holdout:,} contacts, {result.split})", ""]
    for proposal in result.proposals:
        change = f"{proposal.today:+g} -> {proposal.proposed:+d}"
        lines.append(f"  {change:>12}  {proposal.rule.id:<32} {proposal.why}")
    for family in ("grades", "temperatures"):
        today = data["counts"]["today"][family] or {}
        proposed = data["counts"]["proposed"][family] or {}
        lines.append("")
        lines.append(f"{family}: " + ", ".join(f"{key} {today.get(key, 0)} -> "
                                                f"{proposed.get(key, 0)}" for key in
                                                sorted(set(today) | set(proposed))))
    lines.append("")
    lines.append(f"saved to {data['saved']}" if data["saved"] else
                 "nothing written (add --save to write these points to your rules file)")
    return "\n".join(lines)


# -- the likelihood in show and stats --------------------------------------------
def show_json(workspace: Workspace, contact_id: int) -> dict[str, Any]:
    """``show``'s contact, with ``likelihood`` and ``factors`` in the classification
    when a model was learned for this database."""
    data = cli_output.contact_json(workspace, contact_id)
    model = workspace.likelihood_model()
    if model is not None:
        likelihood, factors = workspace.likelihood(contact_id, model)
        data["classification"]["likelihood"] = round(likelihood, 4)
        data["classification"]["factors"] = factors
    return data


def stats_json(workspace: Workspace, as_json: bool) -> dict[str, Any]:
    """``stats``, with ``likelihood_tenths`` (contacts per tenth of likelihood) in the
    JSON when a model was learned for this database."""
    stats = workspace.stats()
    model = workspace.likelihood_model() if as_json else None
    if model is None:
        return stats
    from funnel.engine.learn.score import tenths

    return {**stats, "likelihood_tenths": tenths(workspace.likelihoods(model).likelihood)}
