"""Evidence from the real world: conflict event data (ACLED, UCDP GED) and peacekeeping
deployments (Geo-PKO) read, selected and summarised into the statistics the model reports,
so that they can serve as calibration targets and validation patterns (docs/data.md).

Data in, data out; no model code here. Errors in the data or the request are
:class:`DataError` (a ``ValueError``), one line each.
"""

from sim.evidence.deployments import read_deployments, select_deployments, summarise_deployments
from sim.evidence.eventdata import (
    AdminDistricts,
    BoxDistricts,
    district_ids,
    monthly,
    months_of,
    read_acled,
    read_events,
    read_ucdp_ged,
    select,
    summarise,
)
from sim.evidence.report import FORMATS, format_summary, summarise_file
from sim.evidence.tables import Box, DataError, Region, parse_region

__all__ = [
    "FORMATS", "AdminDistricts", "Box", "BoxDistricts", "DataError", "Region", "district_ids",
    "format_summary", "monthly", "months_of", "parse_region", "read_acled", "read_deployments",
    "read_events", "read_ucdp_ged", "select", "select_deployments", "summarise",
    "summarise_deployments", "summarise_file",
]
