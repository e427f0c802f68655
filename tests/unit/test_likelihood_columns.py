"""The learned likelihood over the columns (issues #13, #14): every contact scored
without parsing a document gives the per-document answer, and the filter
``likely>=N`` and the ``likely`` sort read it."""

from __future__ import annotations

import numpy as np
import pytest

from funnel.engine.errors import FunnelError
from funnel.engine.learn.score import score_contacts
from funnel.engine.workspace.facade import Workspace
from funnel.tui.cli.main import main
from learn_support import write_leads, write_mapping


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A database of 1,200 plan leads (custom fields) and the model learned from them."""
    folder = tmp_path_factory.mktemp("likely")
    write_leads(folder / "leads.csv", 1200)
    write_mapping(folder / "map.yaml")
    db = folder / "leads.json"
    assert main(["import", str(folder / "leads.csv"), "--db", str(db), "--map",
                 str(folder / "map.yaml")]) == 0
    assert main(["learn", "--db", str(db)]) == 0
    return db


def test_scoring_over_columns_is_scoring_the_documents(trained):
    with Workspace.open(trained) as workspace:
        model = workspace.likelihood_model()
        assert model is not None
        columns = workspace.likelihoods(model)
        documents = score_contacts(model, workspace.documents(), workspace.now())
        assert columns.ids == documents.ids
        assert np.allclose(columns.likelihood, documents.likelihood, rtol=0, atol=1e-12)
        assert columns.factors(7) == documents.factors(7)


def test_the_likely_filter_and_sort(trained):
    with Workspace.open(trained) as workspace:
        model = workspace.likelihood_model()
        scored = workspace.likelihoods(model)
        chance = dict(zip(scored.ids, scored.likelihood.tolist()))
        likely = workspace.select("likely>=60", "likely")
        assert sorted(likely) == sorted(i for i, value in chance.items() if value >= 0.6)
        assert 0 < len(likely) < len(chance)
        values = [chance[contact_id] for contact_id in likely]
        assert values == sorted(values, reverse=True)


def test_without_a_model_the_likely_filter_says_how_to_make_one(tmp_path):
    with Workspace.open(tmp_path / "empty.json") as workspace:
        workspace.add({"name": "Ann", "email": "ann@example.com"})
        with pytest.raises(FunnelError, match="run funnel learn"):
            workspace.select("likely>=60")


def test_rules_can_read_the_likelihood(trained, tmp_path):
    """A temperature rule on ``likelihood`` (the learned chance in %): the column path and
    the per-contact path agree, and contacts without a chance never match it."""
    from funnel.engine.rules.loading import load_rules, presets_dir

    text = (presets_dir() / "default.yaml").read_text().replace(
        "    - temperature: hot\n      when: bant >= 3\n",
        "    - temperature: hot\n      when: likelihood >= 60\n", 1)
    assert "likelihood >= 60" in text
    (tmp_path / "rules.yaml").write_text(text)
    rules = load_rules(str(tmp_path / "rules.yaml"))
    assert rules.reads_likelihood
    with Workspace.open(trained, rules) as workspace:
        everyone = workspace.classify_all()
        chance = {contact_id: workspace.likelihood_of(contact_id)
                  for contact_id in workspace.ids()}
        hot = {contact_id for contact_id in workspace.ids()
               if everyone[contact_id].temperature == "hot"}
        assert hot == {contact_id for contact_id, value in chance.items() if value >= 0.6}
        assert 0 < len(hot) < len(chance)
        for contact_id in workspace.ids()[:200]:
            one = workspace.classification(contact_id)
            assert one.temperature == everyone[contact_id].temperature
            assert one.score == everyone[contact_id].score
        assert workspace.stats()["temperatures"]["hot"] == len(hot)
    (trained.parent / (trained.name + ".model.json")).rename(tmp_path / "away.json")
    try:
        with Workspace.open(trained, rules) as workspace:  # no model: no chance, not hot
            assert workspace.stats()["temperatures"]["hot"] == 0
            assert workspace.classification(workspace.ids()[0]).temperature != "hot"
    finally:
        (tmp_path / "away.json").rename(trained.parent / (trained.name + ".model.json"))
