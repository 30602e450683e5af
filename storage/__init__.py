"""Persistence for ResolutionFlow: SQLAlchemy 2 async over SQLite (embedded) or PostgreSQL.

Entry points for bootstrap: `storage.db.make_engine`, `storage.db.upgrade`, `storage.db.is_current`,
`storage.db.ping`, and `storage.uow.SqlUnitOfWorkFactory(engine)` (core's UnitOfWorkFactory).
"""
