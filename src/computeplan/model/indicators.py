"""The indicators a plan reports, each with its unit and label: one table for every view.

Names are those of ``result.json`` (``indicators``); the terminal, the CSV/Parquet
tables, the HTML report and the sweep columns all take labels and units from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Indicator:
    name: str
    unit: str
    label: str


INDICATORS: dict[str, Indicator] = {i.name: i for i in (
    Indicator("fleet_pue", "", "fleet PUE"),
    Indicator("ece_gflops_per_w", "GFLOPS/W", "effective compute efficiency"),
    Indicator("energy_kwh", "kWh", "facility energy"),
    Indicator("cost", "currency", "electricity cost"),
    Indicator("carbon_t", "t CO2", "carbon"),
    Indicator("renewable_share", "share", "renewable share"),
    Indicator("served_tflops", "TFLOPS", "served demand"),
    Indicator("unserved_tflops", "TFLOPS", "unserved demand"),
    Indicator("output_per_kwh", "value/kWh", "economic output per kWh"),
    Indicator("it_kw", "kW", "IT power"),
    Indicator("facility_kw", "kW", "facility power"),
    Indicator("servers_beyond_need", "servers", "servers powered beyond need"),
    Indicator("beyond_need_energy_kwh", "kWh", "energy of servers beyond need"),
    Indicator("server_utilisation", "share", "server utilisation (busy / installed)"),
    Indicator("capex_per_year", "currency/year", "annual capital cost of what is built"),
    Indicator("embodied_carbon_t", "t CO2e/year", "annualised embodied carbon of new servers"),
)}

#: ``objective.name`` in result.json for each objective, and its unit.
OBJECTIVE_NAMES = {"energy": "energy_kwh", "cost": "cost", "carbon": "carbon_kg"}
OBJECTIVE_UNITS = {"energy_kwh": "kWh", "cost": "currency", "carbon_kg": "kg CO2"}


def unit(name: str) -> str:
    ind = INDICATORS.get(name)
    return ind.unit if ind is not None else OBJECTIVE_UNITS.get(name, "")


def label(name: str) -> str:
    ind = INDICATORS.get(name)
    return ind.label if ind is not None else name
