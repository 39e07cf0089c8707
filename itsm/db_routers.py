"""The database router used when a read replica is configured (`DATABASE_REPLICA_URL`): every write goes to the
primary, reads go where `itsm.replica` says (the replica only inside a replica scope, and only while it answers)."""

from __future__ import annotations

from . import replica


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        return replica.read_alias(model)

    def db_for_write(self, model, **hints):
        replica.note_write(model)
        return replica.PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same rows: a ticket read from the replica may point at a person read from the primary.
        aliases = {replica.PRIMARY, replica.REPLICA}
        return True if obj1._state.db in aliases and obj2._state.db in aliases else None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica replays the primary's WAL: the schema reaches it that way, and it refuses writes.
        return False if db == replica.REPLICA else None
