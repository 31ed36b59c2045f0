#!/usr/bin/python3
"""What an ORM sees of lane_google: SQLAlchemy reflects schema lane_google.

Usage: orm_reflect.py HOST PORT DBNAME
Prints one line per fact ("table ...", "fk ...", "enum ...", "orm ...")
for test/t/002_orm_reflect.pl to compare; exits non-zero on any error.
"""
import enum
import sys

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

host, port, dbname = sys.argv[1:4]
engine = sa.create_engine(
    sa.engine.URL.create("postgresql+psycopg2", username="postgres",
                         database=dbname, query={"host": host, "port": port}))

meta = sa.MetaData(schema="lane_google")
meta.reflect(bind=engine)

for name in sorted(meta.tables):
    t = meta.tables[name]
    pk = t.primary_key.columns
    print("table %s pk=%s" % (
        t.name, ",".join("%s:%s" % (c.name, type(c.type).__name__) for c in pk)))

for name in sorted(meta.tables):
    t = meta.tables[name]
    for fk in sorted(t.foreign_keys, key=lambda f: f.parent.name):
        print("fk %s.%s:%s -> %s ondelete=%s" % (
            t.name, fk.parent.name, type(fk.parent.type).__name__,
            fk.target_fullname, (fk.ondelete or "").upper()))

for name in sorted(meta.tables):
    for c in meta.tables[name].columns:
        if isinstance(c.type, sa.Enum):
            print("enum %s.%s %s(%s)" % (meta.tables[name].name, c.name,
                                         c.type.name, ",".join(c.type.enums)))


# The application maps enums with Python enum classes whose member names are
# upper case; values_callable makes SQLAlchemy store the values, the labels.
class UserRole(enum.Enum):
    ADMIN = "admin"
    MANAGER = "manager"
    ANALYST = "analyst"
    VIEWER = "viewer"


users = meta.tables["lane_google.users"]
role = sa.Enum(UserRole, name="user_role", schema="lane_google",
               values_callable=lambda e: [m.value for m in e], create_type=False)
with engine.begin() as conn:
    new_id = conn.execute(
        users.insert().values(email="orm@example.com", username="orm",
                              password_hash="x", salt="s", first_name="O",
                              last_name="Rm", role="analyst")
        .returning(users.c.id)).scalar_one()
    print("orm insert users id version=%s" % str(new_id)[14])
    got = conn.execute(
        sa.select(sa.cast(users.c.role, sa.Text).label("r")).where(users.c.id == new_id)).scalar_one()
    print("orm insert users role label=%s" % got)
    typed = sa.Table("users", sa.MetaData(), sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
                     sa.Column("role", role), schema="lane_google")
    r = conn.execute(sa.select(typed.c.role).where(typed.c.id == new_id)).scalar_one()
    print("orm values_callable read=%s" % r.name)
    conn.execute(typed.update().where(typed.c.id == new_id).values(role=UserRole.MANAGER))
    got = conn.execute(
        sa.select(sa.cast(users.c.role, sa.Text)).where(users.c.id == new_id)).scalar_one()
    print("orm values_callable wrote=%s" % got)
    conn.execute(users.delete().where(users.c.id == new_id))
