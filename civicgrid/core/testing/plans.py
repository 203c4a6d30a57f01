"""Query-plan probes for index tests, on both engines."""

from __future__ import annotations

import re

from django.db import connection


def index_names(table: str) -> set[str]:
    with connection.cursor() as cur:
        return set(connection.introspection.get_constraints(cur, table))


def plan_with_index(qs, index: str) -> str:
    """The plan of `qs`: on SQLite forced onto `index` (an error if the index cannot serve
    the query), on PostgreSQL the generic plan with sequential scans priced out."""
    sql, params = qs.query.get_compiler(using="default").as_sql()
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            table = f'FROM "{qs.model._meta.db_table}"'
            cur.execute(
                "EXPLAIN QUERY PLAN " + sql.replace(table, f'{table} INDEXED BY "{index}"', 1),
                params,
            )
            return " ".join(str(row[-1]) for row in cur.fetchall())
        numbered = iter(range(1, len(params) + 1))
        # %s becomes $1, $2 …; a literal %% (LIKE patterns) is sent unparsed, so back to %
        prepared = re.sub(
            "%%|%s", lambda m: "%" if m.group() == "%%" else f"${next(numbered)}", sql
        )
        cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("PREPARE plan_probe AS " + prepared)
        args = ", ".join(["%s"] * len(params))
        probe = f"EXPLAIN EXECUTE plan_probe({args})" if params else "EXPLAIN EXECUTE plan_probe"
        cur.execute(connection.ops.compose_sql(probe, params))  # literals: typed by PREPARE
        plan = " ".join(row[0] for row in cur.fetchall())
        cur.execute("DEALLOCATE plan_probe")
        return plan
