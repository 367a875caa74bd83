"""
A campaign: many rows, one HeyGen video each. The budget checked before anything is paid
(:mod:`~heygen_provider.campaign.budget`), what became of each row (:mod:`~heygen_provider.campaign.outcomes`),
the summary page and text (:mod:`~heygen_provider.campaign.summary`), a person's review before publishing
(:mod:`~heygen_provider.campaign.review`), and the tasks a campaign DAG is built from
(:mod:`~heygen_provider.campaign.tasks`).
"""
