"""Former home of the simulators, kept so that existing imports keep working.

The simulators now live in :mod:`superpose.llm.simulators`, one file per kind.
"""

from superpose.llm.simulators.all_at_once import (
    AllAtOnceSimulator,
    NumeralReadout,
    numeral_readout,
    numeral_token_ids,
)
from superpose.llm.simulators.base import SimulationError, Simulator, expected_values
from superpose.llm.simulators.chat_numbers import ChatNumbersSimulator
from superpose.llm.simulators.contrast import ContrastSimulator

__all__ = ["AllAtOnceSimulator", "ChatNumbersSimulator", "ContrastSimulator", "NumeralReadout",
           "SimulationError", "Simulator", "expected_values", "numeral_readout",
           "numeral_token_ids"]
