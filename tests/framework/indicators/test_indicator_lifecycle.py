"""A state machine drives update / save / restart / reset sequences against a plain model.

The model is the batch twin over every input fed since the last reset: after each
step, `get` must read exactly the model's last ``lookback + 1`` values.
"""

from __future__ import annotations

import numpy as np
from _indicator_testkit import configurations, inputs_for, series
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from framework.indicators import Indicator


class IndicatorLifecycle(RuleBasedStateMachine):
    indicator: Indicator
    rows: list[tuple[int, ...]]

    @initialize(indicator=configurations())
    def start(self, indicator: Indicator) -> None:
        self.indicator = indicator
        self.rows = []

    @rule(data=st.data())
    def feed_a_chunk(self, data: st.DataObject) -> None:
        base = data.draw(series(self.indicator.limit.bound, 1, 25), label="chunk")
        for row in zip(
            *(column.tolist() for column in inputs_for(self.indicator, base)), strict=True
        ):
            self.indicator.update(*row)
            self.rows.append(row)

    @rule()
    def restart_from_a_snapshot(self) -> None:
        self.indicator = Indicator.restore(self.indicator.snapshot())

    @rule()
    def restore_into_the_configured_indicator(self) -> None:
        configured = type(self.indicator)(**self.indicator.params())
        self.indicator = configured.restore_like(self.indicator.snapshot())

    @rule()
    def reset(self) -> None:
        self.indicator.reset()
        self.rows = []

    @invariant()
    def reads_match_the_model(self) -> None:
        columns = [np.array(column, dtype=np.int64) for column in zip(*self.rows, strict=True)]
        if not columns:
            columns = [np.zeros(0, dtype=np.int64)] * len(self.indicator.inputs)
        model = self.indicator.batch(*columns)
        for ago in range(self.indicator.lookback + 1):
            for name in self.indicator.outputs:
                value = self.indicator.get(ago, name)
                expected = model[name][-1 - ago] if ago < len(self.rows) else np.nan
                assert (value is None and np.isnan(expected)) or value == expected, (ago, name)


IndicatorLifecycle.TestCase.settings = settings(deadline=None, stateful_step_count=30)
TestIndicatorLifecycle = IndicatorLifecycle.TestCase
