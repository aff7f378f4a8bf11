"""Routing: delivery between agencies with signed evidence, and the route inside an agency.

Pure rules only (no database): :mod:`~edoc.routing.flow` (the in-agency state machine),
:mod:`~edoc.routing.due` (due dates from urgency in working days),
:mod:`~edoc.routing.delivery` (consignments, their states and evidence records, send checks),
:mod:`~edoc.routing.seals` (detached CMS signatures by agency seals, checked offline).
"""
