"""Which department (担当課) a resident's callback request goes to.

The procedure the conversation was about decides; without one, the topic the resident typed is matched
against the catalog (「介護保険のことで相談したい」 → 介護保険課). No match leaves the request unrouted
(担当課未設定), for any clerk to pick up.
"""

from __future__ import annotations

from bot.knowledge.catalog import Catalog, Department


def department_for(catalog: Catalog, procedure_id: str | None, topic: str | None) -> Department | None:
    """The department of the procedure, else of the best catalog match of ``topic``, else None."""
    if procedure_id:
        department = catalog.department_of(procedure_id)
        if department is not None:
            return department
    matches = catalog.match(topic, top_k=1) if topic else []
    return catalog.department_of(matches[0][0]) if matches else None
