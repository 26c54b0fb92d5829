"""MA_Unified_Strat: the moving-average crossover of the original signal bot."""

from __future__ import annotations

from collections.abc import Mapping

from framework.errors import ParameterError
from framework.indicators import EMA, SMA, WMA, Indicator
from framework.params import Param
from framework.strategy import Bar, Crossing, Signal, Strategy, Use, crossing, use

__all__ = ["MAUnifiedStrategy", "MA_Unified_Strat"]

_AVERAGES: dict[str, type[Indicator]] = {"sma": SMA, "ema": EMA, "wma": WMA}


class MAUnifiedStrategy(Strategy):
    """Fast/slow moving-average crossover (``ma_unified``).

    Rule, evaluated on each closed bar with exact comparisons:

    - **BUY** when the fast average crosses above the slow one: fast > slow on
      this bar, and on the last earlier bar where they differed, fast < slow.
    - **SELL** when it crosses below: the mirror image.
    - Equality (fast == slow) is not a cross and does not change the side, so a
      touch followed by a return to the same side gives no signal, while
      below → equal → above gives one BUY on the bar where fast is above.
    - No signal until both averages are warm (``slow`` bars for SMA/WMA/EMA).

    SMA and WMA are compared exactly as fractions of integer tick sums; EMA values
    are compared as the floats both paths compute identically.

    Parameters
    ----------
    fast, slow : int
        Periods of the two averages; ``fast < slow``.
    kind : {"sma", "ema", "wma"}
        The kind of both averages.
    price : {"close", "open", "high", "low", "hl2", "hlc3", "ohlc4"}
        The price the averages read.

    Examples
    --------
    >>> MAUnifiedStrategy(fast=20, slow=100, kind="ema")
    ma_unified(fast=20, slow=100, kind='ema', price='close')
    >>> MAUnifiedStrategy(fast=200, slow=50)
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: ma_unified: fast (200) must be less than slow (50)
    """

    name = "ma_unified"
    # The help states the rule `check` enforces across the two: `parity strategies` shows it.
    fast = Param(50, "fast average period; less than slow", minimum=1)
    slow = Param(200, "slow average period; more than fast", minimum=2)
    kind = Param("sma", "average kind", choices=("sma", "ema", "wma"))
    price = Param(
        "close", "price field", choices=("close", "open", "high", "low", "hl2", "hlc3", "ohlc4")
    )

    def check(self) -> None:
        """Require ``fast < slow``."""
        if self.fast >= self.slow:
            raise ParameterError(
                f"{self.name}: fast ({self.fast}) must be less than slow ({self.slow})"
            )

    def indicators(self) -> Mapping[str, Use | Crossing]:
        """Two averages of one kind on one price, and their crossing."""
        average = _AVERAGES[self.kind]
        return {
            "fast": use(average, self.fast, price=self.price),
            "slow": use(average, self.slow, price=self.price),
            "cross": crossing("fast", "slow"),
        }

    def decide(self, bar: Bar) -> Signal | None:
        """BUY on a cross above, SELL on a cross below, nothing otherwise."""
        crossed = bar["cross"]
        if crossed == 1:
            return Signal.buy("fast crossed above slow")
        if crossed == -1:
            return Signal.sell("fast crossed below slow")
        return None


#: The seed project's name for the same strategy.
MA_Unified_Strat = MAUnifiedStrategy
