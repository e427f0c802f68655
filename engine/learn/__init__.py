"""The learned likelihood (issue #14): a calibrated chance to convert, learned from won
and lost contacts, with the factors behind it, and rule points fitted from outcomes.

``examples`` says which contacts teach (won positive; lost or disqualified negative)
and what was known of each before its outcome was set; ``sources`` reads the values a
model may learn from (fields, tags, custom fields, activities with the rules' decay);
``features`` turns them into levels and bins decided on the training part only;
``leakage`` decides what must never be learned from; ``logistic`` and ``calibrate``
fit the model; ``validate`` measures it on held-out contacts; ``train`` runs it all;
``model_file`` saves and loads the readable model; ``score`` gives every contact its
likelihood and factors; ``fit_rules`` proposes new whole points for today's rules.
Built on ``engine.rules``, ``engine.model`` and ``engine.files``; numpy only.
"""
