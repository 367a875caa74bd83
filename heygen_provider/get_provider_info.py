"""Provider metadata, which Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from heygen_provider import __version__
from heygen_provider.connection_form import CONNECTION_EXTRA_FIELDS, UI_FIELD_BEHAVIOUR


def get_provider_info() -> dict[str, Any]:
    """
    Describe this provider to Airflow.

    Airflow 3.2+ renders the connection form from ``ui-field-behaviour`` and ``conn-fields`` without
    importing the hook; Airflow 3.1 calls :meth:`HeyGenHook.get_ui_field_behaviour` instead. Both read the
    same constants from :mod:`heygen_provider.connection_form`.
    """
    return {
        "package-name": "airflow-provider-heygen",
        "name": "HeyGen",
        "description": "`HeyGen <https://www.heygen.com/>`__ avatar video generation.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "HeyGen",
                "external-doc-url": "https://docs.heygen.com/",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "HeyGen", "python-modules": ["heygen_provider.hooks.heygen"]}],
        "operators": [
            {
                "integration-name": "HeyGen",
                "python-modules": [
                    "heygen_provider.operators.heygen",
                    "heygen_provider.operators.template",
                    "heygen_provider.operators.download",
                ],
            }
        ],
        "sensors": [{"integration-name": "HeyGen", "python-modules": ["heygen_provider.sensors.heygen"]}],
        "triggers": [{"integration-name": "HeyGen", "python-modules": ["heygen_provider.triggers.heygen"]}],
        "connection-types": [
            {
                "connection-type": "heygen",
                "hook-class-name": "heygen_provider.hooks.heygen.HeyGenHook",
                "hook-name": "HeyGen",
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": CONNECTION_EXTRA_FIELDS,
            }
        ],
        "config": {
            "heygen": {
                "description": "Settings of the HeyGen provider.",
                "options": {
                    "freeze_triggerer_heap": {
                        "description": (
                            "Freeze the garbage collector's heap in triggerer processes while HeyGen "
                            "triggers wait, so that full collections no longer walk every waiting "
                            "trigger's objects (a stall of about a second at 10,000 triggers). A choice "
                            "for the whole triggerer process; see the deployment guide."
                        ),
                        "version_added": __version__,
                        "type": "boolean",
                        "example": "True",
                        "default": "False",
                    }
                },
            }
        },
        "extra-links": [
            "heygen_provider.links.heygen.HeyGenVideoLink",
            "heygen_provider.links.heygen.StoredVideoLink",
            "heygen_provider.links.heygen.CampaignSummaryLink",
        ],
    }
