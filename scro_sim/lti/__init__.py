"""LTI 1.3 for course platforms (Moodle, Open edX): launch, grade passback (AGS) and deep linking.

``config`` reads the set-up file (``$SCRO_SIM_LTI_CONFIG``), ``launch`` checks launches and
signs learners in, ``deeplink`` lets a teacher choose an exercise, ``passback`` posts grades,
``server`` is the HTTP endpoint ``scro-sim lti-serve`` runs.  The database side (nonces,
tickets, accounts, line items) is in :mod:`scro_sim.store.lti`.  Set-up: docs/lti.md.
"""

from __future__ import annotations

from .config import CONFIG_ENV, LtiConfig, LtiError, Platform, configured, load_config

__all__ = ["CONFIG_ENV", "LtiConfig", "LtiError", "Platform", "configured", "load_config"]
