"""SQLModel tables and every query of the certificates service (its schema: "certificates").

``issued_certificates``: what the CSMS CA (or the V2G signer) signed, and the station's
answer to the CertificateSigned carrying it. ``installed_certificates``: each station's
certificate inventory as its answers tell it. ``revocations`` is a contract (migration 0002):
the router reads it at every profile-3 handshake; a row's serial is lowercase hex without
leading zeros (``pki.serial_hex``). The handlers' ports (``PgIssued``, ``PgInstalled``) query
as they go: SignCertificate and the certificate answers are rare, not a hot path. The
session functions below them serve the data API, the renewal sweep and revocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Column, Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from certificates.ca import HashData
from certificates.ports import REVOKED, InstalledCertificate, IssuedCertificate

SCHEMA = "certificates"


def _ts(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(sa.DateTime(timezone=True), **kw))


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSONB))


class IssuedRow(SQLModel, table=True):
    __tablename__ = "issued_certificates"
    __table_args__ = {"schema": SCHEMA}

    serial: str = Field(primary_key=True, max_length=64)
    station_id: str = Field(max_length=48, index=True)
    certificate_type: str = Field(max_length=32)
    subject: str = Field(max_length=512)
    not_before: datetime = _ts(nullable=False)
    not_after: datetime = _ts(nullable=False)
    issued_at: datetime = _ts(nullable=False)
    status: str = Field(max_length=16)
    pem: str = Field(sa_type=sa.Text)
    answer: dict[str, Any] | None = _json()
    answered_at: datetime | None = _ts()
    renewal_requested_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()
    revocation_reason: str | None = Field(default=None, max_length=64)


class InstalledRow(SQLModel, table=True):
    __tablename__ = "installed_certificates"
    __table_args__ = {"schema": SCHEMA}

    station_id: str = Field(primary_key=True, max_length=48)
    hash_algorithm: str = Field(primary_key=True, max_length=8)
    issuer_name_hash: str = Field(primary_key=True, max_length=128)
    issuer_key_hash: str = Field(primary_key=True, max_length=128)
    serial_number: str = Field(primary_key=True, max_length=40)
    certificate_type: str = Field(max_length=32)
    child_hashes: list[dict[str, Any]] | None = _json()
    updated_at: datetime = _ts(nullable=False)


class Revocation(SQLModel, table=True):
    """The contract table of migration 0002 (the router reads it)."""

    __tablename__ = "revocations"
    __table_args__ = {"schema": SCHEMA}

    serial: str = Field(primary_key=True, max_length=64)
    station_id: str | None = Field(default=None, max_length=48)
    reason: str | None = Field(default=None, max_length=64)
    revoked_at: datetime = _ts(nullable=False)


ISSUED = IssuedRow.__table__  # type: ignore[attr-defined]
INSTALLED = InstalledRow.__table__  # type: ignore[attr-defined]
REVOCATIONS = Revocation.__table__  # type: ignore[attr-defined]


@dataclass
class PgIssued:
    conn: AsyncConnection

    async def add(self, cert: IssuedCertificate) -> None:
        await self.conn.execute(
            insert(ISSUED)
            .values(
                serial=cert.serial,
                station_id=cert.station_id,
                certificate_type=cert.certificate_type,
                subject=cert.subject[:512],
                not_before=cert.not_before,
                not_after=cert.not_after,
                issued_at=cert.issued_at,
                status=cert.status,
                pem=cert.pem,
            )
            .on_conflict_do_nothing()
        )

    async def answered(
        self, station_id: str, serial: str, status: str, answer: dict[str, Any], at: datetime
    ) -> None:
        await self.conn.execute(
            ISSUED.update()
            .where(
                ISSUED.c.serial == serial,
                ISSUED.c.station_id == station_id,
                ISSUED.c.status != REVOKED,
            )
            .values(status=status, answer=answer, answered_at=at)
        )


def _hash_cols(h: HashData) -> dict[str, str]:
    return {
        "hash_algorithm": h.hash_algorithm,
        "issuer_name_hash": h.issuer_name_hash,
        "issuer_key_hash": h.issuer_key_hash,
        "serial_number": h.serial_number,
    }


@dataclass
class PgInstalled:
    conn: AsyncConnection

    async def add(
        self, station_id: str, certificate_type: str, hash: HashData, at: datetime
    ) -> None:
        stmt = insert(INSTALLED).values(
            station_id=station_id,
            certificate_type=certificate_type,
            child_hashes=[],
            updated_at=at,
            **_hash_cols(hash),
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[c.name for c in INSTALLED.primary_key.columns],
                set_={"certificate_type": certificate_type, "updated_at": at},
            )
        )

    async def remove(self, station_id: str, hash: HashData) -> None:
        await self.conn.execute(
            INSTALLED.delete().where(
                INSTALLED.c.station_id == station_id,
                *(INSTALLED.c[k] == v for k, v in _hash_cols(hash).items()),
            )
        )

    async def replace(
        self,
        station_id: str,
        types: list[str] | None,
        certs: list[InstalledCertificate],
        at: datetime,
    ) -> None:
        where = [INSTALLED.c.station_id == station_id]
        if types is not None:
            where.append(INSTALLED.c.certificate_type.in_(types))
        await self.conn.execute(INSTALLED.delete().where(*where))
        if certs:
            rows = {
                tuple(_hash_cols(c.hash).values()): {
                    "station_id": station_id,
                    "certificate_type": c.certificate_type,
                    "child_hashes": c.child_hashes,
                    "updated_at": at,
                    **_hash_cols(c.hash),
                }
                for c in certs
            }
            stmt = insert(INSTALLED).values(list(rows.values()))
            await self.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[c.name for c in INSTALLED.primary_key.columns],
                    set_={
                        "certificate_type": stmt.excluded.certificate_type,
                        "child_hashes": stmt.excluded.child_hashes,
                        "updated_at": at,
                    },
                )
            )


# --- renewal and revocation ---------------------------------------------------------------


async def claim_for_renewal(
    conn: AsyncConnection, now: datetime, within: timedelta, limit: int = 500
) -> list[tuple[str, str]]:
    """Station certificates (installed or issued, not revoked) expiring before ``now +
    within`` whose renewal was never asked: marked asked now (each is asked once; replicas
    skip each other's rows). Returns (serial, station id)."""
    claimed = (
        select(ISSUED.c.serial)
        .where(
            ISSUED.c.certificate_type == "ChargingStationCertificate",
            ISSUED.c.status.in_(["issued", "installed"]),
            ISSUED.c.not_after < now + within,
            ISSUED.c.renewal_requested_at.is_(None),
        )
        .order_by(ISSUED.c.not_after)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await conn.execute(
        ISSUED.update()
        .where(ISSUED.c.serial.in_(claimed))
        .values(renewal_requested_at=now)
        .returning(ISSUED.c.serial, ISSUED.c.station_id)
    )
    return [(r.serial, r.station_id) for r in rows]


async def count_expiring(conn: AsyncConnection, now: datetime, within: timedelta) -> int:
    n = await conn.scalar(
        select(func.count())
        .select_from(ISSUED)
        .where(
            ISSUED.c.status.in_(["issued", "installed"]),
            ISSUED.c.not_after < now + within,
        )
    )
    return int(n or 0)


async def revoke(session: AsyncSession, serial: str, reason: str, at: datetime) -> IssuedRow | None:
    """Revoke an issued certificate: a revocations row (kept once) and its status. None when
    the CSMS never issued ``serial``."""
    row = await session.get(IssuedRow, serial)
    if row is None:
        return None
    await (await session.connection()).execute(
        insert(REVOCATIONS)
        .values(serial=serial, station_id=row.station_id, reason=reason[:64], revoked_at=at)
        .on_conflict_do_nothing()
    )
    if row.status != REVOKED:
        row.status = REVOKED
        row.revoked_at = at
        row.revocation_reason = reason[:64]
        session.add(row)
    await session.commit()
    await session.refresh(row)
    return row


# --- the data API -------------------------------------------------------------------------


async def _page(
    session: AsyncSession, query: Any, offset: int, limit: int
) -> tuple[list[Any], int]:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.exec(query.offset(offset).limit(limit))).all()
    return list(rows), int(total or 0)


async def issued_page(
    session: AsyncSession,
    *,
    station_id: str | None,
    status: str | None,
    expiring_before: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[IssuedRow], int]:
    q = select(IssuedRow)
    if station_id is not None:
        q = q.where(IssuedRow.station_id == station_id)
    if status is not None:
        q = q.where(IssuedRow.status == status)
    if expiring_before is not None:
        q = q.where(col(IssuedRow.not_after) < expiring_before)
    q = q.order_by(col(IssuedRow.issued_at).desc(), col(IssuedRow.serial))
    return await _page(session, q, offset, limit)


async def get_issued(session: AsyncSession, serial: str) -> IssuedRow | None:
    return await session.get(IssuedRow, serial)


async def revocations_page(
    session: AsyncSession, *, station_id: str | None, offset: int, limit: int
) -> tuple[list[Revocation], int]:
    q = select(Revocation)
    if station_id is not None:
        q = q.where(Revocation.station_id == station_id)
    q = q.order_by(col(Revocation.revoked_at).desc(), col(Revocation.serial))
    return await _page(session, q, offset, limit)


async def installed_of(session: AsyncSession, station_id: str) -> list[InstalledRow]:
    q = (
        select(InstalledRow)
        .where(InstalledRow.station_id == station_id)
        .order_by(col(InstalledRow.certificate_type), col(InstalledRow.serial_number))
    )
    return list((await session.exec(q)).all())


def ports(conn: AsyncConnection) -> dict[str, Any]:
    """The certificates service's database ports (see csms_runtime.uow); ``app`` adds the CA,
    the OCSP client and the providers."""
    return {"issued": PgIssued(conn), "installed": PgInstalled(conn)}
