"""Customers' rights over their data: find, export and erase what is held about a person.

* `bot.privacy.holdings`: which table holds what about a conversation (and which hold
  nothing about customers), the one map export, erasure and retention all follow.
* `bot.privacy.subject`: from what an admin names (a PSID, a web chat id, an e-mail address
  or an order number) to the conversations it is about.
* `bot.privacy.customer_data`: export them as one JSON document, or erase them in one
  transaction with an audit entry that keeps only the id's hash.
* `bot.privacy.retention`: erase what is older than the brand's `retention_days`.

No Rasa import and no desk import: the desk's pages, its CLI (`nightdesk customer`) and
`nightdesk up` use it, and hand it the audit log. Rasa's conversations are
read and erased in its tracker store's ``events`` table, in the same database as ours.
"""
