"""Human case numbers: YYYYMMDD + a 5-digit counter that restarts every day (2026112500001).

Why two implementations: the number is taken inside the intake transaction, and a counter
row (`CaseSequence`) updated there stays locked until that transaction commits. On
PostgreSQL that made every intake wait for the one before it (measured: the counter UPDATE
was the top wait event with 16 concurrent clients, docs/BENCHMARKS.md).

* PostgreSQL: one database SEQUENCE per day (`cases_case_no_YYYYMMDD`). `nextval` never
  blocks and is not rolled back, so a failed intake leaves a gap in that day's numbers —
  numbers stay unique and ordered, they are not guaranteed gapless. The day's sequence is
  created by the first intake of the day (DDL in a savepoint; a concurrent creator loses,
  rolls back to the savepoint and reads the winner's). It starts after that day's
  `CaseSequence.last`, so switching engines' code paths mid-day never repeats a number.
* SQLite: one upsert `... RETURNING` on `CaseSequence`. SQLite serialises writers anyway
  (BEGIN IMMEDIATE), so a row counter costs nothing extra there and stays gapless.
"""

from __future__ import annotations

import datetime as dt

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from civicgrid.core.fastsql import kept_cursor

SEQUENCE_PREFIX = "cases_case_no_"


def next_number(now: dt.datetime) -> str:
    """The next number of the local day of `now`; unique on both engines under concurrency."""
    return next_numbers(now, 1)[0]


def next_numbers(now: dt.datetime, count: int) -> list[str]:
    """`count` new numbers of the local day of `now`, ascending (one statement on either
    engine, for the intake's group commit)."""
    day = timezone.localdate(now)
    if connection.vendor == "postgresql":
        values = _pg_next(day, count)
    else:
        last = _counter_next(day, count)
        values = list(range(last - count + 1, last + 1))
    return [number_text(day, value) for value in values]


def _counter_next(day: dt.date, count: int) -> int:
    """One statement: create the day's row or move it on by `count`, and read the new last."""
    with kept_cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_casesequence (day, last) VALUES (%s, %s) "
            "ON CONFLICT (day) DO UPDATE SET last = cases_casesequence.last + %s "
            "RETURNING last",
            [day.isoformat(), count, count],
        )
        return int(cursor.fetchone()[0])


def _pg_next(day: dt.date, count: int) -> list[int]:
    """nextval of the day's sequence `count` times, ascending. NULL from to_regclass means
    the day's sequence does not exist yet: it is created and drawn from again."""
    name = day_sequence(day)
    sql = "SELECT nextval(to_regclass(%s)) FROM generate_series(1, %s)"
    with kept_cursor() as cursor:
        for _ in range(3):
            cursor.execute(sql, [name, count])
            rows = cursor.fetchall()
            if rows[0][0] is not None:
                return sorted(int(row[0]) for row in rows)
            _pg_create(cursor, name, day)
    raise DatabaseError(f"could not create case number sequence {name}")


def day_sequence(day: dt.date) -> str:
    """PostgreSQL: the name of the day's number sequence (for a statement that draws from it
    itself, services/intake_write.py)."""
    return f"{SEQUENCE_PREFIX}{day:%Y%m%d}"


def number_text(day: dt.date, value: int) -> str:
    return f"{day:%Y%m%d}{value:05d}"


def day_sequence_create(day: dt.date) -> None:
    """PostgreSQL: create the day's sequence if it does not exist yet (the first intake of a
    day, which found no sequence to draw from)."""
    with kept_cursor() as cursor:
        _pg_create(cursor, day_sequence(day), day)


def _pg_create(cursor, name: str, day: dt.date) -> None:
    """Create the day's sequence, starting after any number the row counter already gave."""
    cursor.execute("SELECT last FROM cases_casesequence WHERE day = %s", [day])
    row = cursor.fetchone()
    start = (int(row[0]) if row else 0) + 1
    try:
        with transaction.atomic():
            cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}" START WITH {start:d}')
    except DatabaseError:
        pass  # created concurrently by another intake: the retry's nextval finds it
